"""What the hash-chained event log says about the chain of custody.

The verdict is derived from here, never from the index tables (``shipments``,
``seal_messages``, ``alerts``, ...), which only serve queries; ``audit`` rebuilds every
index table from the log and names each row that differs. Each record read is checked
against its own chained hash (an HMAC under the anchor's key when the database has
one), so an edited record cannot feed a verdict unnoticed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from portwatch.custody.envelope import SealMessage, decode_line
from portwatch.domain.custody import Alert, AlertKind, Severity
from portwatch.store import custody_store as cs
from portwatch.store.eventlog import head, row_problem
from portwatch.store.schema import event_log

SECURITY_RECORDS = ("custody.rejection", "custody.security")


def alert_from_json(doc: dict[str, Any]) -> Alert:
    """An ``Alert`` from its ``to_json`` form."""
    at = doc.get("at")
    return Alert(
        alert_id=str(doc["alert_id"]),
        kind=AlertKind(doc["kind"]),
        severity=Severity(doc["severity"]),
        at=None if at is None else datetime.fromisoformat(str(at).replace("Z", "+00:00")),
        shipment_id=doc.get("shipment_id"),
        seal_id=doc.get("seal_id"),
        seq=doc.get("seq"),
        lat=doc.get("lat"),
        lon=doc.get("lon"),
        detail=str(doc.get("detail", "")),
        after_border=bool(doc.get("after_border", False)),
    )


@dataclass
class SealLedger:
    """A seal's registration and revocation, as the log records them."""

    seal_id: str
    public_key: str | None = None
    revoked_at_ms: int | None = None
    revoked_after_seq: int | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class ShipmentLedger:
    """A shipment's records in the log: its document, its accepted messages, and the
    security alerts raised on it."""

    shipment_id: str
    document: str | None = None
    messages: list[SealMessage] = field(default_factory=list)
    security: dict[str, Alert] = field(default_factory=dict)
    logged: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Every alert the log holds on the shipment now (raised, not retracted): id ->
    (kind, severity), what the ``alerts`` index must hold."""
    last_record_id: int = 0
    problems: list[str] = field(default_factory=list)


def seal_ledger(conn: Connection, seal_id: str, key: bytes | None, keyed_from: int
                ) -> SealLedger:
    """The seal's registration and revocation records, each checked against its hash."""
    return seal_ledger_from(seal_id, cs.log_records(conn, seal_id), key, keyed_from)


def seal_ledger_from(seal_id: str, records: list[Any], key: bytes | None, keyed_from: int
                     ) -> SealLedger:
    """``seal_ledger`` from the seal's records already read (oldest first)."""
    led = SealLedger(seal_id)
    for r in records:
        if r.kind not in ("registry.seal", "registry.revocation"):
            continue
        bad = row_problem(r, key, keyed_from)
        if bad:
            led.problems.append(bad)
            continue
        body = json.loads(r.body)
        if r.kind == "registry.seal" and led.public_key is None:
            led.public_key = body["public_key"]
        elif r.kind == "registry.revocation":
            led.revoked_at_ms, led.revoked_after_seq = body["revoked_at_ms"], body["after_seq"]
    return led


def shipment_ledger(conn: Connection, shipment_id: str, key: bytes | None, keyed_from: int
                    ) -> ShipmentLedger:
    """The shipment's records, each checked against its hash; messages in seq order."""
    led = ShipmentLedger(shipment_id)
    for r in cs.log_records(conn, shipment_id):
        bad = row_problem(r, key, keyed_from)
        if bad:
            led.problems.append(bad)
            continue
        led.last_record_id = r.id
        if r.kind == "registry.shipment" and led.document is None:
            led.document = r.body
        elif r.kind == "seal.message":
            led.messages.append(decode_line(r.body))
        elif r.kind in SECURITY_RECORDS:
            alert = alert_from_json(json.loads(r.body)["alert"])
            led.security.setdefault(alert.alert_id, alert)
            led.logged.setdefault(alert.alert_id, (alert.kind.value, alert.severity.value))
        elif r.kind == "custody.alert":
            doc = json.loads(r.body)
            led.logged.setdefault(doc["alert_id"], (doc["kind"], doc["severity"]))
        elif r.kind == "custody.alert_retracted":
            led.logged.pop(json.loads(r.body)["alert_id"], None)
    led.messages.sort(key=lambda m: m.seq)
    return led


def log_whole(conn: Connection, anchor_head: tuple[int, str] | None) -> list[str]:
    """Cheap checks that the log is whole: no record deleted or added past the head,
    and the head not behind the anchor's last checkpoint."""
    last_id, _ = head(conn)
    count, top = conn.execute(
        select(func.count(), func.max(event_log.c.id)).select_from(event_log)).one()
    problems = []
    if count != last_id or (top or 0) != last_id:
        problems.append(f"event log: {count} record(s) up to id {top or 0}, head says {last_id}")
    if anchor_head is not None and anchor_head[0] > last_id:
        problems.append(f"event log truncated or rolled back: the anchor names record "
                        f"{anchor_head[0]}, the head is {last_id}")
    return problems


def rejection_id(digest: str, shipment_id: str | None) -> str:
    """The identity of a rejected line held against a shipment (or none)."""
    return hashlib.sha256(f"{digest}|{shipment_id or ''}".encode()).hexdigest()


__all__ = [
    "SECURITY_RECORDS",
    "SealLedger",
    "ShipmentLedger",
    "alert_from_json",
    "log_whole",
    "rejection_id",
    "seal_ledger",
    "seal_ledger_from",
    "shipment_ledger",
]
