"""An arrival's decision: gather the inputs (custody verdict, enrollment, hour, queue,
active policy, a random draw) and ask ``portwatch.engine.decide_lane``; store the
decision with the policy version that made it."""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from portwatch.custody.registry import Shipment, shipment_from_mapping
from portwatch.domain.custody import PartyRole
from portwatch.domain.errors import NotFoundError
from portwatch.engine import decide_lane
from portwatch.service import policies as pol
from portwatch.service.state import ServiceState
from portwatch.store import custody_store as cs
from portwatch.store import service_store as ss
from portwatch.targeting.policy import Policy


@dataclass(frozen=True, slots=True)
class Arrival:
    mode: str
    plate: str
    driver_card: str | None
    shipment_id: str | None
    port_code: str
    lane: str = "general"
    risk: float = 0.0
    alert: bool = False


@dataclass(frozen=True, slots=True)
class Made:
    decision_id: str
    decided_at: datetime
    lane: str
    referral: bool
    reason: str
    policy_version: int
    custody: str
    enrolled: bool


def _shipment(state: ServiceState, shipment_id: str) -> Shipment:
    cache = state.shipments
    if shipment_id not in cache:
        with state.db.reading() as conn:
            row = cs.shipment_row(conn, shipment_id)
        if row is None:
            raise NotFoundError(f"shipment_id: shipment {shipment_id} is not registered")
        cache[shipment_id] = shipment_from_mapping(json.loads(row.document),
                                                   f"stored {shipment_id}")
    shipment: Shipment = cache[shipment_id]
    return shipment


def enrolled(shipment: Shipment, driver_card: str | None) -> bool:
    """Eligible for the trusted-shipper lane, and driven by the enrolled driver whose
    card is presented."""
    cards = {p.card_id for p in shipment.parties if p.role is PartyRole.DRIVER}
    return not shipment.eligibility_problems() and driver_card in cards


def queue_since(state: ServiceState, now: datetime) -> str:
    """Referrals since this instant count towards the secondary queue."""
    return (now - timedelta(hours=state.settings.secondary_horizon_h)).isoformat()


@dataclass(eq=False)
class _Job:
    """One arrival waiting for its decision to be committed."""

    arrival: Arrival
    who: str
    now: datetime
    custody: str
    enrolled: bool
    u: float
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    made: Made | None = None
    error: BaseException | None = None


class GroupCommit:
    """Commits the decisions of concurrent arrivals together, one transaction (and so
    one flush to disk) for all the arrivals that came while the previous group was
    being committed.

    Every write appends to the one hash-chained log and so holds its head until it
    commits: writers go one at a time, and on PostgreSQL a commit waits for its flush
    to disk (about 5 ms here), which alone caps one-at-a-time decisions near 200/s.
    In a group, each decision still has its audit record in the same transaction as
    the decision, and a request is answered only after its group has committed.

    The first arrival to find no group being written leads: it takes every arrival
    pending, writes and commits them, answers them, and hands the lead to the
    oldest arrival that came meanwhile (so no request waits behind more than one
    group besides its own).
    """

    def __init__(self, max_group: int = 256) -> None:
        self.max_group = max_group
        self._lock = threading.Lock()
        self._pending: list[_Job] = []
        self._leading = False

    def run(self, state: ServiceState, job: _Job) -> Made:
        with self._lock:
            self._pending.append(job)
            lead = not self._leading
            self._leading = True
        if not lead:
            job.done.wait()
            if not job.lead:
                return _result(job)
        with self._lock:
            group = self._pending[: self.max_group]
            del self._pending[: self.max_group]
        _write_group(state, group)
        with self._lock:
            if self._pending:
                nxt = self._pending[0]
                nxt.lead = True
                nxt.done.set()
            else:
                self._leading = False
        for other in group:
            if other is not job:
                other.lead = False
                other.done.set()
        return _result(job)


def _result(job: _Job) -> Made:
    if job.error is not None:
        raise job.error
    assert job.made is not None
    return job.made


def _write_group(state: ServiceState, group: list[_Job]) -> None:
    """Decide and store every job of ``group`` in one transaction; a failure fails
    them all (nothing of the group is stored)."""
    try:
        made: list[tuple[_Job, Made, dict[str, object]]] = []
        with state.write() as conn:
            version, policy = pol.active(state, conn)
            for job in group:
                made.append(_decide_one(state, conn, job, version, policy))
            at = max(job.now for job in group).isoformat()
            ids = ss.audits(conn, at, [(job.who, "arrival.decide", m.decision_id,
                                        {k: v for k, v in row.items() if k != "decided_by"})
                                       for job, m, row in made])
            ss.add_decisions(conn, [{**row, "log_id": log_id}
                                    for (_, _, row), log_id in zip(made, ids, strict=True)])
    except BaseException as exc:  # noqa: BLE001 - handed to every waiting request
        for job in group:
            job.error = exc
        return
    state.metrics.decision_groups.observe(len(made))
    for job, m, _ in made:
        job.made = m
        state.metrics.decisions.labels(m.lane).inc()


def _decide_one(state: ServiceState, conn: Connection, job: _Job, version: int,
                policy: Policy) -> tuple[_Job, Made, dict[str, object]]:
    arrival, now = job.arrival, job.now
    hour = now.astimezone(ZoneInfo(state.settings.port_timezone)).hour
    # decisions earlier in this group are in this transaction, so they count here
    d = decide_lane(policy=policy, mode=arrival.mode, lane=arrival.lane, hour=hour,
                    custody=job.custody, risk=arrival.risk, enrolled=job.enrolled,
                    in_secondary=ss.in_secondary(conn, arrival.port_code,
                                                 queue_since(state, now)),
                    secondary_capacity=state.settings.secondary_capacity, u=job.u,
                    alert=arrival.alert)
    referral = d.lane.value in ("secondary", "full_search")
    decision_id = "D-" + secrets.token_hex(8)
    row: dict[str, object] = {
        "decision_id": decision_id, "decided_at": now.isoformat(),
        "port_code": arrival.port_code, "mode": arrival.mode, "plate": arrival.plate,
        "driver_card": arrival.driver_card, "shipment_id": arrival.shipment_id,
        "custody": job.custody, "lane": d.lane.value, "referral": referral,
        "reason": d.reason, "policy_version": version, "u": job.u, "decided_by": job.who}
    return job, Made(decision_id, now, d.lane.value, referral, d.reason, version,
                     job.custody, job.enrolled), row


def decide(state: ServiceState, arrival: Arrival, who: str) -> Made:
    """Decide, store and audit one arrival's lane (committed with the arrivals that
    came at the same time, see ``GroupCommit``)."""
    now = state.clock()
    custody, is_enrolled = "none", False
    if arrival.shipment_id is not None:
        shipment = _shipment(state, arrival.shipment_id)
        # the verdict reads its row (or the log) on its own connection: no lock needed
        verdict = state.custody.verdict(arrival.shipment_id, as_of=now)
        custody = verdict.verdict.value
        is_enrolled = enrolled(shipment, arrival.driver_card)
    job = _Job(arrival, who, now, custody, is_enrolled, state.draw())
    return state.decisions.run(state, job)


__all__ = ["Arrival", "GroupCommit", "Made", "decide", "enrolled"]
