"""The audit of the custody store: the event log's chain and anchor, then every index
table rebuilt from the log and compared row by row, each difference named."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, select

from portwatch.custody import verdict_row as vr
from portwatch.custody.envelope import decode_line
from portwatch.custody.ledger import (
    SealLedger,
    ShipmentLedger,
    alert_from_json,
    rejection_id,
)
from portwatch.custody.monitor import ShipmentMonitor
from portwatch.custody.registry import Shipment
from portwatch.custody.thresholds import Thresholds
from portwatch.domain.custody import Alert
from portwatch.store import custody_store as cs
from portwatch.store.database import Database
from portwatch.store.eventlog import AuditReport
from portwatch.store.schema import (
    alerts,
    custody_verdicts,
    event_log,
    parties,
    rejections,
    seal_messages,
    seals,
    shipments,
)

_SOURCE = {"custody.alert": "monitor", "custody.rejection": "verifier",
           "custody.security": "registry"}
_MAX_PROBLEMS = 200


def alert_row(a: Alert, source: str, log_id: int) -> tuple[Any, ...]:
    """An alert as its ``alerts`` row (in column order)."""
    return (a.alert_id, a.shipment_id, a.seal_id, a.kind.value, a.severity.value,
            None if a.at is None else a.at.isoformat(), a.seq, a.lat, a.lon, a.detail,
            bool(a.after_border), source, log_id)


@dataclass
class _Expected:
    """Every index table as the log says it should be: key -> row (column order)."""

    seals: dict[Any, tuple[Any, ...]] = field(default_factory=dict)
    parties: dict[Any, tuple[Any, ...]] = field(default_factory=dict)
    shipments: dict[Any, list[Any]] = field(default_factory=dict)
    seal_messages: dict[Any, tuple[Any, ...]] = field(default_factory=dict)
    alerts: dict[Any, tuple[Any, ...]] = field(default_factory=dict)
    rejections: dict[Any, tuple[Any, ...]] = field(default_factory=dict)
    messages: dict[str, list[Any]] = field(default_factory=dict)
    security: dict[str, dict[str, Alert]] = field(default_factory=dict)
    """Security alerts by shipment, the first of each id (as the alerts index keeps)."""
    last_record: dict[str, int] = field(default_factory=dict)
    """The last record about each subject that is not a service record."""
    verdicts: dict[Any, tuple[Any, ...]] = field(default_factory=dict)


def _apply(exp: _Expected, r: Any) -> None:
    """One log record's effect on the index tables."""
    kind = r.kind
    if r.subject is not None and not kind.startswith("service."):
        exp.last_record[r.subject] = r.id
    if kind == "seal.message":
        m = decode_line(r.body)
        exp.seal_messages[(m.seal_id, m.seq)] = (m.seal_id, m.seq, m.shipment_id, m.at_ms,
                                                 m.digest, r.id)
        exp.messages.setdefault(m.shipment_id, []).append(m)
        return
    if kind == "custody.alert_retracted":
        exp.alerts.pop(json.loads(r.body)["alert_id"], None)
        return
    body = json.loads(r.body)
    if kind == "registry.seal":
        exp.seals[body["seal_id"]] = (body["seal_id"], body["public_key"], r.id, None, None,
                                      None)
    elif kind == "registry.revocation":
        row = exp.seals.get(body["seal_id"])
        if row is not None:
            exp.seals[body["seal_id"]] = (*row[:3], body["revoked_at_ms"], body["after_seq"],
                                          r.id)
    elif kind == "registry.party":
        exp.parties[r.subject] = (r.subject, r.body, r.id)
    elif kind == "registry.shipment":
        exp.shipments[r.subject] = [r.subject, body["seal"]["seal_id"], r.body, r.id,
                                    "registered", None, None, -1]
    elif kind == "custody.alert":
        a = alert_from_json(body)
        exp.alerts.setdefault(a.alert_id, alert_row(a, "monitor", r.id))
    elif kind in ("custody.rejection", "custody.security"):
        a = alert_from_json(body["alert"])
        exp.alerts.setdefault(a.alert_id, alert_row(a, _SOURCE[kind], r.id))
        if a.shipment_id is not None:
            exp.security.setdefault(a.shipment_id, {}).setdefault(a.alert_id, a)
        for digest in body.get("digests", [body.get("digest")] if "digest" in body else []):
            rid = rejection_id(digest, r.subject)
            exp.rejections[rid] = (rid, digest, r.subject, body["reason"], r.id)


def _expected(conn: Connection, thresholds: Thresholds,
              parse: Callable[[str, str], Shipment], key: bytes | None) -> _Expected:
    exp = _Expected()
    last = 0
    while True:
        rows = conn.execute(select(event_log).where(event_log.c.id > last)
                            .order_by(event_log.c.id).limit(5_000)).all()
        if not rows:
            break
        for r in rows:
            _apply(exp, r)
        last = rows[-1].id
    for sid, row in exp.shipments.items():
        msgs = sorted(exp.messages.get(sid, []), key=lambda m: m.seq)
        shipment = parse(row[2], sid)
        row.append(shipment.route.port_code)
        mon = ShipmentMonitor(sid, shipment.route, thresholds)
        if msgs:
            mon.feed(msgs)
            row[4:8] = [mon.state.value, mon.armed_seq, mon.armed_at_ms, mon.last_seq]
        seal_id = row[1]
        seal = exp.seals.get(seal_id)
        security = [a for a in exp.security.get(sid, {}).values()
                    if a.alert_id in exp.alerts and exp.alerts[a.alert_id][-2] != "monitor"]
        inputs = vr.inputs_of(sid, vr.document_sha256(row[2]), mon, security,
                              None if seal is None else seal[3])
        log_id = max(exp.last_record.get(sid, 0), exp.last_record.get(seal_id, 0))
        exp.verdicts[sid] = vr.row_tuple(inputs, log_id, key)
    return exp


def _compare(name: str, table: Table, expected: dict[Any, Any], conn: Connection,
             keys: int = 1) -> list[str]:
    cols = [c.name for c in table.columns]
    actual = {tuple(r[:keys]) if keys > 1 else r[0]: tuple(r)
              for r in conn.execute(select(table))}
    problems = []
    for key in sorted(set(expected) | set(actual), key=str):
        want, got = expected.get(key), actual.get(key)
        if got is None:
            problems.append(f"{name}: row {key} is missing (the log has it)")
        elif want is None:
            problems.append(f"{name}: row {key} is not in the log (inserted)")
        else:
            diff = [c for c, w, g in zip(cols, want, got, strict=True) if _norm(w) != _norm(g)]
            if diff:
                problems.append(f"{name}: row {key} differs from the log in "
                                f"{', '.join(diff)}")
    return problems


def _norm(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def audit_store(db: Database, thresholds: Thresholds,
                parse: Callable[[str, str], Shipment]) -> AuditReport:
    """The chain and anchor (``Database.check``), then every custody index table
    against the log; every inconsistency is one line of ``problems``."""
    chain = db.check()
    problems = list(chain.problems)
    with db.reading() as conn:
        if not problems:
            exp = _expected(conn, thresholds, parse, db.key)
            problems += _compare("seals", seals, exp.seals, conn)
            problems += _compare("parties", parties, exp.parties, conn)
            problems += _compare("shipments", shipments,
                                 {k: tuple(v) for k, v in exp.shipments.items()}, conn)
            problems += _compare("seal_messages", seal_messages, exp.seal_messages, conn, 2)
            problems += _compare("alerts", alerts, exp.alerts, conn)
            problems += _compare("rejections", rejections, exp.rejections, conn)
            problems += _compare("custody_verdicts", custody_verdicts, exp.verdicts, conn)
    if len(problems) > _MAX_PROBLEMS:
        problems = [*problems[:_MAX_PROBLEMS], f"... {len(problems) - _MAX_PROBLEMS} more"]
    return AuditReport(chain.records, chain.head_hash, tuple(problems), chain.anchored)


def index_problems(conn: Connection, shipment: Shipment, mon: ShipmentMonitor,
                   derived: list[Alert], led: ShipmentLedger, seal: SealLedger) -> list[str]:
    """Where the index tables a query would read disagree with the log, for one
    shipment (a cheap subset of ``audit_store``). ``derived`` is unused: the alerts
    index is held against the alerts the log records, which do not depend on the
    reader's thresholds."""
    del derived
    sid = shipment.shipment_id
    problems = []
    stored = {a.alert_id: (a.kind.value, a.severity.value) for a in cs.alerts_of(conn, sid)}
    wanted = led.logged
    if stored != wanted:
        problems.append(f"alerts of {sid} differ from the log "
                        f"({len(set(stored) ^ set(wanted))} alert(s) added or missing)")
    rows = conn.execute(select(seal_messages.c.seq, seal_messages.c.digest)
                        .where(seal_messages.c.shipment_id == sid)).all()
    if {(int(r.seq), r.digest) for r in rows} != {(m.seq, m.digest) for m in led.messages}:
        problems.append(f"seal_messages of {sid} differ from the log")
    row = cs.shipment_row(conn, sid)
    if row is None or (row.seal_id, row.state, int(row.last_seq)) != (
            shipment.seal.seal_id, mon.state.value, mon.last_seq):
        problems.append(f"shipments row of {sid} differs from the log")
    srow = cs.seal_row(conn, shipment.seal.seal_id)
    if srow is None or (srow.public_key, srow.revoked_at_ms) != (seal.public_key,
                                                                 seal.revoked_at_ms):
        problems.append(f"seals row of {shipment.seal.seal_id} differs from the log")
    return problems


__all__ = ["alert_row", "audit_store", "index_problems"]
