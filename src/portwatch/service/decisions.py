"""An arrival's decision: gather the inputs (custody verdict, enrollment, hour, queue,
active policy, a random draw) and ask ``portwatch.engine.decide_lane``; store the
decision with the policy version that made it."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from portwatch.custody.registry import Shipment, shipment_from_mapping
from portwatch.domain.custody import PartyRole
from portwatch.engine import decide_lane
from portwatch.engine.decide import R_CUSTODY_BROKEN, REASONS
from portwatch.service import policies as pol
from portwatch.service.state import ServiceState
from portwatch.store import custody_store as cs
from portwatch.store import service_store as ss
from portwatch.store.streams import MAX_STREAMS
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


NOT_DECLARED = "shipment not declared for this port"
"""Why an arrival naming a shipment not declared for its port (another port's, or none
registered) is judged as a diversion (custody ``broken``)."""


def undeclared_reason(engine_reason: str) -> str:
    """The reason of a decision on a shipment not declared for the port: the engine's
    ``custody broken`` explained, or, where the policy does not send broken custody to a
    full search, what it did with the note appended (every one fits the 64 characters
    of a stored reason)."""
    if engine_reason == REASONS[R_CUSTODY_BROKEN]:
        return f"{engine_reason}: {NOT_DECLARED}"
    return f"{engine_reason}; not declared for this port"


def _declared(state: ServiceState, shipment_id: str, port_code: str) -> Shipment | None:
    """The shipment when it is declared for ``port_code`` (its route's port, or the
    service's own when the route names none); ``None`` for another port's shipment
    and for an unknown id alike, so that the answer tells the caller nothing of it."""
    cache = state.shipments
    if shipment_id not in cache:
        with state.db.reading() as conn:
            row = cs.shipment_row(conn, shipment_id)
        if row is None:
            return None
        cache[shipment_id] = shipment_from_mapping(json.loads(row.document),
                                                   f"stored {shipment_id}")
    shipment: Shipment = cache[shipment_id]
    if state.settings.owning_port(shipment.route.port_code) != port_code:
        return None
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
    declared: bool
    """False for a shipment not declared for the arrival's port (``NOT_DECLARED``)."""
    queued_at: float = field(default_factory=time.perf_counter)
    """When it asked for its group (perf_counter s), for the 'wait' stage metric."""
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    made: Made | None = None
    error: BaseException | None = None


@dataclass(eq=False)
class _Lane:
    """One audit stream's queue: the arrivals waiting for its next group."""

    stream: int
    pending: list[_Job] = field(default_factory=list)
    leading: bool = False


class GroupCommit:
    """Commits the decisions of concurrent arrivals in groups, each group in one
    transaction (one flush to disk) on one of ``streams`` parallel audit chains
    (``portwatch.store.streams``).

    A decision's audit record extends a stream, not the event log: groups on different
    streams lock different heads, so their commits (and their waits for the disk)
    overlap instead of queueing behind each other. An arrival that finds a stream with
    no group being written leads a group there at once; when every stream is busy it
    joins the shortest queue, and the oldest arrival of that queue leads the stream's
    next group (so no request waits behind more than one group besides its own). Each
    decision still has its audit record in its own group's transaction, and a request
    is answered only after that transaction has committed.

    The secondary queue every decision reads counts the referrals committed at the
    port (one query per group and port, at the group's start, outside any lock of this
    process, over the horizon of the group's earliest arrival), plus, under ``_lock``,
    the referrals this process has decided and not yet committed (``_inflight``, its
    own group's earlier ones included) and those it committed after the query's count
    was taken (``_committed`` then and now): so two groups never both take the last
    free place in secondary, and a referral is never missed. One that commits between
    the count's snapshot and the query is counted twice for that one group: the count
    errs high. Referrals in flight at another service instance are not seen until they
    commit.
    """

    def __init__(self, streams: int = 1, max_group: int = 256) -> None:
        if not 1 <= streams <= MAX_STREAMS:
            raise ValueError(f"decision streams: must be in 1..{MAX_STREAMS}, got {streams}")
        self.max_group = max_group
        self._lock = threading.Lock()
        self._lanes = [_Lane(s) for s in range(1, streams + 1)]
        self._inflight: Counter[str] = Counter()
        self._committed: Counter[str] = Counter()

    def run(self, state: ServiceState, job: _Job) -> Made:
        with self._lock:
            lane = next((x for x in self._lanes if not x.leading), None)
            if lane is None:
                lane = min(self._lanes, key=lambda x: len(x.pending))
            lane.pending.append(job)
            lead = not lane.leading
            lane.leading = True
        if not lead:
            job.done.wait()
            if not job.lead:
                return _result(job)
        with self._lock:
            group = lane.pending[: self.max_group]
            del lane.pending[: self.max_group]
        _write_group(state, self, lane.stream, group)
        with self._lock:
            if lane.pending:
                nxt = lane.pending[0]
                nxt.lead = True
                nxt.done.set()
            else:
                lane.leading = False
        for other in group:
            if other is not job:
                other.lead = False
                other.done.set()
        return _result(job)

    def inflight(self, port_code: str) -> int:
        """Referrals at the port decided by this process and not yet committed."""
        with self._lock:
            return self._inflight[port_code]

    def committed(self, port_code: str) -> int:
        """Referrals at the port this process has committed (a running count)."""
        with self._lock:
            return self._committed[port_code]

    def _settle(self, referred: Counter[str], committed: bool) -> None:
        """A group's referrals leave ``_inflight``: into ``_committed``, or gone."""
        with self._lock:
            for port, n in referred.items():
                self._inflight[port] -= n
                if self._inflight[port] <= 0:
                    del self._inflight[port]
                if committed:
                    self._committed[port] += n


def _result(job: _Job) -> Made:
    if job.error is not None:
        raise job.error
    assert job.made is not None
    return job.made


def _write_group(state: ServiceState, gc: GroupCommit, stream: int, group: list[_Job]) -> None:
    """Decide and store every job of ``group`` in one transaction, their audit records
    on ``stream``; a failure fails them all (nothing of the group is stored). On
    PostgreSQL the transaction is batched (``portwatch.store.batch``): its reads go with
    its ``BEGIN`` and its writes with its ``COMMIT``, two round trips in all."""
    referred: Counter[str] = Counter()
    committed = False
    t = [time.perf_counter()]  # group start, decided, appended, committed
    try:
        made: list[tuple[_Job, Made, dict[str, object]]] = []
        with state.write_decisions() as conn:
            since: dict[str, str] = {}
            for job in group:  # the earliest arrival's horizon: the count errs high
                port, at = job.arrival.port_code, queue_since(state, job.now)
                since[port] = min(since.get(port, at), at)
            # before the query: what commits after it is added to its count below
            seen = {port: gc.committed(port) for port in since}
            version, queued, head = ss.group_inputs(conn, since, stream)
            version, policy = pol.active_as(state, conn, version)
            for job in group:
                port = job.arrival.port_code
                made.append(_decide_one(state, gc, job, version, policy,
                                        queued[port], seen[port], referred))
            t.append(time.perf_counter())
            at = max(job.now for job in group).isoformat()
            # the records and the decision rows that name them go together (one round
            # trip on PostgreSQL, with the commit)
            ss.stream_audits(conn, stream, at, [
                (job.who, "arrival.decide", m.decision_id,
                 {k: v for k, v in row.items() if k != "decided_by"})
                for job, m, row in made], lambda seqs: ss.decision_rows_in_order(
                    [{**row, "log_id": seq, "log_stream": stream}
                     for (_, _, row), seq in zip(made, seqs, strict=True)]), head)
            t.append(time.perf_counter())
        committed = True
        t.append(time.perf_counter())
    except BaseException as exc:  # noqa: BLE001 - handed to every waiting request
        for job in group:
            job.error = exc
        return
    finally:
        gc._settle(referred, committed)
    state.metrics.decision_groups.observe(len(made))
    stage = state.metrics.decision_stage
    for job, m, _ in made:
        job.made = m
        state.metrics.decisions.labels(m.lane).inc()
        stage.labels("wait").observe(t[0] - job.queued_at)
        for name, begin, end in zip(("decide", "append", "commit"), t, t[1:], strict=False):
            stage.labels(name).observe(end - begin)


def _decide_one(state: ServiceState, gc: GroupCommit, job: _Job, version: int,
                policy: Policy, queued: int, seen: int, referred: Counter[str],
                ) -> tuple[_Job, Made, dict[str, object]]:
    """Decide one arrival of a group: ``queued`` referrals in secondary at its port by
    the group's query, ``seen`` the process's committed count taken before that query;
    a referral joins ``referred`` and the process's in-flight count (see
    ``GroupCommit``)."""
    arrival, now = job.arrival, job.now
    port = arrival.port_code
    hour = now.astimezone(ZoneInfo(state.settings.port_timezone)).hour
    with gc._lock:
        pending = gc._inflight[port] + gc._committed[port] - seen
        d = decide_lane(policy=policy, mode=arrival.mode, lane=arrival.lane, hour=hour,
                        custody=job.custody, risk=arrival.risk, enrolled=job.enrolled,
                        in_secondary=queued + pending,
                        secondary_capacity=state.settings.secondary_capacity, u=job.u,
                        alert=arrival.alert)
        if d.lane.value in ("secondary", "full_search"):
            gc._inflight[port] += 1
            referred[port] += 1
    referral = d.lane.value in ("secondary", "full_search")
    reason = d.reason
    if not job.declared:
        reason = undeclared_reason(reason)
    decision_id = "D-" + secrets.token_hex(8)
    row: dict[str, object] = {
        "decision_id": decision_id, "decided_at": now.isoformat(),
        "port_code": arrival.port_code, "mode": arrival.mode, "plate": arrival.plate,
        "driver_card": arrival.driver_card, "shipment_id": arrival.shipment_id,
        "custody": job.custody, "lane": d.lane.value, "referral": referral,
        "reason": reason, "policy_version": version, "u": job.u, "decided_by": job.who}
    return job, Made(decision_id, now, d.lane.value, referral, reason, version,
                     job.custody, job.enrolled), row


def decide(state: ServiceState, arrival: Arrival, who: str) -> Made:
    """Decide, store and audit one arrival's lane (committed with the arrivals that
    came at the same time, see ``GroupCommit``).

    A shipment not declared for the arrival's port (another port's, or an id nobody
    registered) is a diversion: its custody is ``broken``, as a diversion alert makes
    the verdict, without reading that shipment's verdict, alerts or enrollment, and the
    reason says why (``NOT_DECLARED``)."""
    now = state.clock()
    custody, is_enrolled, declared = "none", False, True
    if arrival.shipment_id is not None:
        shipment = _declared(state, arrival.shipment_id, arrival.port_code)
        if shipment is None:
            custody, declared = "broken", False
        else:
            # the verdict reads its row (or the log) on its own connection: no lock needed
            verdict = state.custody.verdict(arrival.shipment_id, as_of=now)
            custody = verdict.verdict.value
            is_enrolled = enrolled(shipment, arrival.driver_card)
    job = _Job(arrival, who, now, custody, is_enrolled, state.draw(), declared)
    return state.decisions.run(state, job)


__all__ = ["NOT_DECLARED", "Arrival", "GroupCommit", "Made", "decide", "enrolled",
           "undeclared_reason"]
