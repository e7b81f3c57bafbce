"""``portwatch serve --replay SCENARIO``: drive the live service from the digital twin
in accelerated time, so a newcomer sees the whole system working on one machine.

Simulated time runs ``speed`` times faster than the wall clock, from the start of the
custody trips (2025-06-02 14:00 UTC); the service's own clock is the simulated one, so
the custody rules judge silence and timestamps in that time. Each tick feeds:

- the signed messages of sealed trucks (the custody trip generator: clean trips and
  one trip of every attack) whose device time has come, through the same ingestion as
  ``POST /v1/telemetry``;
- an arrival at the port for each conveyance of the scenario's day (the twin's
  legitimate traffic: mode, primary lane, and its risk scored from its advance
  information by the port's learned model, ``twin.study.riskmodel.port_risk_lookup``,
  through the twin's own ``score_traffic``) and for each sealed truck once its seal
  reports it at the border (no advance record: risk 0, its custody verdict speaks for
  it), decided by the live engine as ``POST /v1/arrivals`` is;
- an inspection after each referral, the scenario's mean secondary service time of its
  mode later, with nothing found (the replay has no loads to find), so the secondary
  queue drains. Its capacity is the scenario's bays and queue slots
  (``secondary_capacity``).

With no policy active, the replay activates one that reads the risk score: refer the
crossings at or above the threshold that refers about ``REPLAY_REFERRAL_SHARE`` of the
clean traffic (``threshold_for_share``, as ``portwatch compare`` sets its risk policy).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from portwatch.custody.envelope import parse_at
from portwatch.custody.registry import shipment_from_mapping
from portwatch.custody.tripgen import DEFAULT_START, Attack, SimulatedTrip, simulate_trip
from portwatch.service.auth import Principal, Role
from portwatch.service.decisions import Arrival, decide
from portwatch.service.state import ServiceState
from portwatch.targeting.policy import LANE_ORDER, MODE_ORDER, Policy

INSPECTION_AFTER = timedelta(minutes=20)  # assumed where the scenario has no service time
CLEAN_TRIPS = 24  # most enrolled trucks are honest; every attack appears once
REPLAY_REFERRAL_SHARE = 0.05


@dataclass
class ReplayClock:
    """Simulated UTC time. ``target()`` is ``start`` plus ``speed`` times the wall time
    since creation; the clock itself (``now``) is where the feed has got to, so the
    service never judges a seal silent only because the replay fell behind."""

    speed: float
    start: datetime = DEFAULT_START
    wall0: float = field(default_factory=time.monotonic)
    now: datetime = DEFAULT_START

    def target(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self.wall0) * self.speed)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class _Pending:
    at: datetime
    kind: str
    payload: object


class Replay:
    """The feed of one replay; ``step(now)`` does everything due by ``now``."""

    def __init__(self, state: ServiceState, scenario: str, seed: int = 2026,
                 start: datetime = DEFAULT_START) -> None:
        from portwatch.twin import draw_legit, load_scenario
        from portwatch.twin.process.traffic import score_traffic
        from portwatch.twin.study.riskmodel import port_risk_lookup, threshold_for_share

        self.state = state
        self.who = Principal("replay", Role.ADMIN, "replay", port_code=state.settings.port_code)
        rng = np.random.default_rng(seed)
        compiled = load_scenario(scenario)
        self.inspect_after = {
            MODE_ORDER[m].value: INSPECTION_AFTER if d is None else timedelta(seconds=d.mean_s)
            for m, d in enumerate(compiled.secondary_service)}
        # the port's own model (trained once per scenario, fixed seed): the twin's
        # traffic carries no score of its own, the kernel scores it the same way
        lookup = port_risk_lookup(compiled)
        self.risk_threshold = threshold_for_share(compiled, lookup, REPLAY_REFERRAL_SHARE)
        day = score_traffic(compiled, draw_legit(compiled, 0, rng), lookup)
        # the twin's day starts at midnight; the replay starts at ``start``
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        self.events: list[_Pending] = []
        for t_s, mode, lane, risk in zip(day.arrive_at_s, day.mode, day.lane, day.risk,
                                         strict=True):
            at = midnight + timedelta(seconds=float(t_s))
            if at >= start:
                self.events.append(_Pending(at, "arrival", Arrival(
                    MODE_ORDER[int(mode)].value, f"TW{len(self.events):06d}", None, None,
                    state.settings.port_code, LANE_ORDER[int(lane)], float(risk))))
        attacks = [Attack.NONE] * CLEAN_TRIPS + [a for a in Attack if a is not Attack.NONE]
        self.trips: list[SimulatedTrip] = [
            simulate_trip(np.random.default_rng([seed, k]), a, trip_no=k, start_at=start)
            for k, a in enumerate(attacks)]
        for t in self.trips:
            for line in t.lines:
                i = line.find('"at":"')
                at = datetime.fromtimestamp(parse_at(line[i + 6 : i + 30]) / 1000, UTC)
                self.events.append(_Pending(at, "line", line))
        self.events.sort(key=lambda e: e.at)
        self.next = 0
        self.waiting = {t.shipment_id: t for t in self.trips}  # sealed trucks not yet arrived
        self.inspect: list[tuple[datetime, str]] = []
        self.decisions = 0

    def setup(self) -> None:
        """Enroll the sealed trucks and make sure a policy is active."""
        from portwatch.service import policies as pol
        from portwatch.store import service_store as ss

        with self.state.custody_lock:
            for t in self.trips:
                self.state.custody.register(shipment_from_mapping(t.shipment))
        with self.state.write() as conn:
            if ss.active_version(conn) is None:
                at = self.state.clock().isoformat()
                policy = Policy.risk_based(min(1.0, self.risk_threshold),
                                           name="replay-risk-5pct")
                v = ss.next_policy_version(conn)
                log_id = ss.audit(conn, at, self.who.who, "policy.create", str(v), {})
                ss.add_policy(conn, {"version": v, "name": policy.name, "created_at": at,
                                     "document": pol.canonical(policy),
                                     "created_by": self.who.who, "log_id": log_id})
                log_id = ss.audit(conn, at, self.who.who, "policy.activate", str(v), {})
                ss.add_activation(conn, {"version": v, "action": "activate",
                                         "activated_at": at, "activated_by": self.who.who,
                                         "log_id": log_id})

    def step(self, now: datetime) -> None:
        from portwatch.service.routes.inspections import InspectionIn, record
        from portwatch.service.routes.telemetry import ingest

        lines: list[str] = []
        while self.next < len(self.events) and self.events[self.next].at <= now:
            e = self.events[self.next]
            self.next += 1
            if e.kind == "line":
                lines.append(str(e.payload))
            else:
                assert isinstance(e.payload, Arrival)
                self._decide(e.payload, now)
        if lines:
            ingest(self.state, lines, self.who.who, "replay")
        for sid in list(self.waiting):
            with self.state.custody_lock:
                state = self.state.custody.status(sid, as_of=now).state.value
            if state in ("at_border", "crossed", "delivered"):
                t = self.waiting.pop(sid)
                card = next(p["card_id"] for p in t.shipment["parties"] if p["role"] == "driver")
                self._decide(Arrival("truck", f"SEALED-{sid[-6:]}", card, sid,
                                     self.state.settings.port_code, "express"), now)
        due = [d for at, d in self.inspect if at <= now]
        self.inspect = [(at, d) for at, d in self.inspect if at > now]
        for decision_id in due:
            record(self.state, InspectionIn(port_code=self.state.settings.port_code,
                                            decision_id=decision_id, action="secondary",
                                            outcome="nothing_found"), self.who)

    def _decide(self, arrival: Arrival, now: datetime) -> None:
        made = decide(self.state, arrival, self.who.who)
        self.decisions += 1
        if made.referral:
            after = self.inspect_after.get(arrival.mode, INSPECTION_AFTER)
            self.inspect.append((now + after, made.decision_id))

    def run(self, clock: ReplayClock, stop: threading.Event, tick_s: float = 0.5) -> None:
        """Move the clock to its target and feed everything due by then, until ``stop``
        is set or the day is replayed."""
        self.setup()
        while not stop.is_set() and (self.next < len(self.events) or self.inspect):
            # the clock moves first: a message stamped up to the target is not "future"
            clock.now = clock.target()
            self.step(clock.now)
            stop.wait(tick_s)


def secondary_capacity(scenario: str) -> int:
    """Conveyances the scenario's secondary holds at once: bays and queue slots."""
    from portwatch.twin import load_scenario

    compiled = load_scenario(scenario)
    return int(compiled.bays + compiled.queue_slots)


__all__ = ["Replay", "ReplayClock", "secondary_capacity"]
