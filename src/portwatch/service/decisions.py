"""An arrival's decision: gather the inputs (custody verdict, enrollment, hour, queue,
active policy, a random draw) and ask ``portwatch.engine.decide_lane``; store the
decision with the policy version that made it."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from portwatch.custody.registry import Shipment, shipment_from_mapping
from portwatch.domain.custody import PartyRole
from portwatch.domain.errors import NotFoundError
from portwatch.engine import decide_lane
from portwatch.service import policies as pol
from portwatch.service.state import ServiceState
from portwatch.store import custody_store as cs
from portwatch.store import service_store as ss


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


def decide(state: ServiceState, arrival: Arrival, who: str) -> Made:
    """Decide, store and audit one arrival's lane."""
    now = state.clock()
    custody, is_enrolled = "none", False
    if arrival.shipment_id is not None:
        shipment = _shipment(state, arrival.shipment_id)
        with state.custody_lock:
            verdict = state.custody.verdict(arrival.shipment_id, as_of=now)
        custody = verdict.verdict.value
        is_enrolled = enrolled(shipment, arrival.driver_card)
    hour = now.astimezone(ZoneInfo(state.settings.port_timezone)).hour
    u = state.draw()
    decision_id = "D-" + secrets.token_hex(8)
    at = now.isoformat()
    with state.write() as conn:
        version, policy = pol.active(state, conn)
        d = decide_lane(policy=policy, mode=arrival.mode, lane=arrival.lane, hour=hour,
                        custody=custody, risk=arrival.risk, enrolled=is_enrolled,
                        in_secondary=ss.in_secondary(conn, arrival.port_code,
                                                     queue_since(state, now)),
                        secondary_capacity=state.settings.secondary_capacity, u=u,
                        alert=arrival.alert)
        referral = d.lane.value in ("secondary", "full_search")
        row = {"decision_id": decision_id, "decided_at": at, "port_code": arrival.port_code,
               "mode": arrival.mode, "plate": arrival.plate, "driver_card": arrival.driver_card,
               "shipment_id": arrival.shipment_id, "custody": custody, "lane": d.lane.value,
               "referral": referral, "reason": d.reason, "policy_version": version, "u": u,
               "decided_by": who}
        log_id = ss.audit(conn, at, who, "arrival.decide", decision_id,
                          {k: v for k, v in row.items() if k != "decided_by"})
        ss.add_decision(conn, {**row, "log_id": log_id})
    state.metrics.decisions.labels(d.lane.value).inc()
    return Made(decision_id, now, d.lane.value, referral, d.reason, version, custody,
                is_enrolled)


__all__ = ["Arrival", "Made", "decide", "enrolled"]
