"""Each shipment's verdict kept current during ingestion.

What a verdict is judged from (custody state, alerts, last position, the latest fix
at the crossing, a revoked seal key) is kept in one ``custody_verdicts`` row per
shipment, rewritten in the same transaction as the log records that change it, by
the one ``Ingestor`` that both ``portwatch custody ingest`` and the service use. The
parts that depend on the time of asking (a silent seal, a stale crossing fix) are
judged when the verdict is read, by the same functions as a verdict rebuilt from the
log, so both give the same answer.

A reader trusts the row only when its MAC verifies (keyed with the anchor's key when
the database has one), no log record about the shipment or its seal is newer than
the row, the shipment's document is the one it was judged on and the log head is not
behind the anchor; otherwise the verdict is rebuilt from the log. ``custody audit``
rebuilds every row from the log and names each that differs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from portwatch.custody.envelope import format_at, to_ms
from portwatch.custody.ledger import alert_from_json
from portwatch.custody.monitor import ShipmentMonitor, silence_alert
from portwatch.custody.registry import Shipment
from portwatch.custody.thresholds import Thresholds
from portwatch.custody.verdict import decide
from portwatch.domain.custody import Alert, CustodyState, CustodyVerdict
from portwatch.store.eventlog import hasher


@dataclass(frozen=True, slots=True)
class VerdictInputs:
    """What a shipment's verdict is judged from, as of its last log record."""

    shipment_id: str
    state: CustodyState
    armed_seq: int | None
    armed_at_ms: int | None
    crossed_at_ms: int | None
    crossing_fix_at_ms: int | None
    last_position: tuple[int, int, float, float] | None
    """(seq, at_ms, lat, lon) of the last position of any accuracy."""
    revoked_at_ms: int | None
    alerts: tuple[Alert, ...]
    document_sha256: str
    """SHA-256 of the shipment's registered document (canonical JSON text)."""


def document_sha256(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def _order(a: Alert) -> tuple[str, int, str]:
    return (a.at.isoformat() if a.at else "", a.seq if a.seq is not None else -1, a.alert_id)


def inputs_of(shipment_id: str, document_sha: str, mon: ShipmentMonitor,
              security: Iterable[Alert], revoked_at_ms: int | None) -> VerdictInputs:
    """The inputs from a shipment's monitor, the security alerts raised on it and its
    seal's revocation (``document_sha``: ``document_sha256`` of its registered
    document). A security alert is after the border when its device time is past the
    crossing, not when it happened to arrive."""
    crossed = mon.crossed_at_ms
    sec = [replace(a, after_border=crossed is not None and a.at is not None
                   and to_ms(a.at) >= crossed) for a in security]
    return VerdictInputs(
        shipment_id=shipment_id, state=mon.state, armed_seq=mon.armed_seq,
        armed_at_ms=mon.armed_at_ms, crossed_at_ms=crossed,
        crossing_fix_at_ms=mon.crossing_fix_at_ms, last_position=mon.last_position,
        revoked_at_ms=revoked_at_ms,
        alerts=tuple(sorted([*mon.alerts.values(), *sec], key=_order)),
        document_sha256=document_sha)


def concerns(shipment: Shipment, v: VerdictInputs, th: Thresholds, when: datetime) -> list[str]:
    """What keeps a shipment out of the express lane besides its alerts: a revoked
    seal key, no fresh position near the crossing."""
    found = []
    if v.revoked_at_ms is not None:
        found.append(f"seal {shipment.seal.seal_id}: key revoked as of "
                     f"{format_at(v.revoked_at_ms)}")
    if th.require_border_fix and v.armed_seq is not None:
        crossing = shipment.route.crossing.name
        seen = v.crossing_fix_at_ms
        if v.state in (CustodyState.CROSSED, CustodyState.DELIVERED):
            if seen is None:
                found.append(f"the seal never reported a usable fix near {crossing} "
                             "(crossing)")
        elif seen is None or (to_ms(when) - seen) / 1000 > th.border_fix_max_age_s:
            found.append(f"no usable position near {crossing} (crossing) in the "
                         f"{th.border_fix_max_age_s:.0f} s before "
                         f"{when.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z")
    return found


def judge(shipment: Shipment, v: VerdictInputs, th: Thresholds, when: datetime,
          integrity: Iterable[str] = ()) -> CustodyVerdict:
    """The verdict as of ``when``: the stored inputs, a derived ``signal_lost`` alert
    for a seal silent too long up to ``when``, and ``concerns``."""
    silence = silence_alert(v.shipment_id, th, v.state, v.armed_seq, v.armed_at_ms,
                            v.last_position, when)
    alerts = v.alerts if silence is None else (*v.alerts, silence)
    return decide(shipment, v.state, alerts, [*integrity, *concerns(shipment, v, th, when)])


def _document(v: VerdictInputs) -> str:
    return json.dumps({
        "state": v.state.value, "armed_seq": v.armed_seq, "armed_at_ms": v.armed_at_ms,
        "crossed_at_ms": v.crossed_at_ms, "crossing_fix_at_ms": v.crossing_fix_at_ms,
        "last_position": None if v.last_position is None else list(v.last_position),
        "revoked_at_ms": v.revoked_at_ms, "alerts": [a.to_json() for a in v.alerts],
        "document_sha256": v.document_sha256,
    }, sort_keys=True, separators=(",", ":"))


def _mac(key: bytes | None, shipment_id: str, log_id: int, state: str, document: str) -> str:
    return hasher(key)(f"custody_verdicts|{shipment_id}|{log_id}|{state}|{document}")


def to_row(v: VerdictInputs, log_id: int, key: bytes | None) -> dict[str, Any]:
    """The ``custody_verdicts`` row of ``v`` as of log record ``log_id``."""
    doc = _document(v)
    return {"shipment_id": v.shipment_id, "log_id": log_id, "state": v.state.value,
            "document": doc, "mac": _mac(key, v.shipment_id, log_id, v.state.value, doc)}


def from_row(row: Any, key: bytes | None) -> VerdictInputs | None:
    """The inputs of a stored row, or ``None`` when its MAC does not verify."""
    if row.mac != _mac(key, row.shipment_id, int(row.log_id), row.state, row.document):
        return None
    d = json.loads(row.document)
    last = d["last_position"]
    return VerdictInputs(
        shipment_id=row.shipment_id, state=CustodyState(d["state"]),
        armed_seq=d["armed_seq"], armed_at_ms=d["armed_at_ms"],
        crossed_at_ms=d["crossed_at_ms"], crossing_fix_at_ms=d["crossing_fix_at_ms"],
        last_position=None if last is None else (int(last[0]), int(last[1]),
                                                 float(last[2]), float(last[3])),
        revoked_at_ms=d["revoked_at_ms"],
        alerts=tuple(alert_from_json(a) for a in d["alerts"]),
        document_sha256=d["document_sha256"])


def row_tuple(v: VerdictInputs, log_id: int, key: bytes | None) -> tuple[Any, ...]:
    """``to_row`` in column order (what the audit compares)."""
    r = to_row(v, log_id, key)
    return (r["shipment_id"], r["log_id"], r["state"], r["document"], r["mac"])


__all__ = ["VerdictInputs", "concerns", "document_sha256", "from_row", "inputs_of", "judge",
           "row_tuple", "to_row"]
