"""Queries and writes of the chain of custody over the shared tables.

Works in plain values and domain types only, so the store does not depend on the
custody package; every write happens inside a caller's transaction and is mirrored
by a record in the event log.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, select, update

from portwatch.domain.custody import Alert, AlertKind, Severity
from portwatch.store.bulk import bulk_insert
from portwatch.store.schema import (
    alerts,
    custody_verdicts,
    event_log,
    log_head,
    parties,
    rejections,
    seal_messages,
    seals,
    shipments,
)


def party_document(conn: Connection, party_id: str) -> str | None:
    return conn.execute(
        select(parties.c.document).where(parties.c.party_id == party_id)
    ).scalar_one_or_none()


def put_party(conn: Connection, party_id: str, document: str, log_id: int) -> None:
    if party_document(conn, party_id) is None:
        conn.execute(insert(parties).values(party_id=party_id, document=document, log_id=log_id))
    else:
        conn.execute(
            update(parties)
            .where(parties.c.party_id == party_id)
            .values(document=document, log_id=log_id)
        )


def seal_key(conn: Connection, seal_id: str) -> str | None:
    return conn.execute(
        select(seals.c.public_key).where(seals.c.seal_id == seal_id)
    ).scalar_one_or_none()


def seal_row(conn: Connection, seal_id: str) -> Any | None:
    return conn.execute(select(seals).where(seals.c.seal_id == seal_id)).first()


def revoke_seal(conn: Connection, seal_id: str, at_ms: int, after_seq: int, log_id: int) -> None:
    conn.execute(update(seals).where(seals.c.seal_id == seal_id).values(
        revoked_at_ms=at_ms, revoked_after_seq=after_seq, revoked_log_id=log_id))


def add_seal(conn: Connection, seal_id: str, public_key: str, log_id: int) -> None:
    conn.execute(insert(seals).values(seal_id=seal_id, public_key=public_key, log_id=log_id,
                                      revoked_at_ms=None, revoked_after_seq=None,
                                      revoked_log_id=None))


def shipment_row(conn: Connection, shipment_id: str) -> Any | None:
    return conn.execute(
        select(shipments).where(shipments.c.shipment_id == shipment_id)
    ).first()


def shipment_rows(conn: Connection) -> list[Any]:
    return list(conn.execute(select(shipments).order_by(shipments.c.log_id)).all())


def _chunks(items: Iterable[str], size: int = 500) -> Iterable[list[str]]:
    items = sorted(set(items))
    for i in range(0, len(items), size):
        yield items[i : i + size]


def shipment_rows_in(conn: Connection, shipment_ids: Iterable[str]) -> list[Any]:
    """The rows of those of ``shipment_ids`` that are registered (one query a chunk)."""
    out: list[Any] = []
    for chunk in _chunks(shipment_ids):
        out += conn.execute(select(shipments).where(shipments.c.shipment_id.in_(chunk))).all()
    return out


def bindings_of_seals(conn: Connection, seal_ids: Iterable[str]) -> dict[str, list[str]]:
    """Shipments bound to each seal, oldest registration first."""
    out: dict[str, list[str]] = {}
    for chunk in _chunks(seal_ids):
        rows = conn.execute(select(shipments.c.seal_id, shipments.c.shipment_id)
                            .where(shipments.c.seal_id.in_(chunk))
                            .order_by(shipments.c.log_id)).all()
        for r in rows:
            out.setdefault(r.seal_id, []).append(r.shipment_id)
    return out


def max_seqs(conn: Connection, seal_ids: Iterable[str]) -> dict[str, int]:
    """The highest stored sequence number of each seal that has messages."""
    out: dict[str, int] = {}
    for chunk in _chunks(seal_ids):
        rows = conn.execute(select(seal_messages.c.seal_id, func.max(seal_messages.c.seq))
                            .where(seal_messages.c.seal_id.in_(chunk))
                            .group_by(seal_messages.c.seal_id)).all()
        out.update({r[0]: int(r[1]) for r in rows})
    return out


def log_records_in(conn: Connection, subjects: Iterable[str], kinds: Sequence[str]
                   ) -> dict[str, list[Any]]:
    """The event-log records of ``kinds`` about each of ``subjects``, oldest first."""
    out: dict[str, list[Any]] = {}
    for chunk in _chunks(subjects):
        rows = conn.execute(select(event_log).where(and_(event_log.c.subject.in_(chunk),
                                                         event_log.c.kind.in_(list(kinds))))
                            .order_by(event_log.c.id)).all()
        for r in rows:
            out.setdefault(r.subject, []).append(r)
    return out


def shipments_of_seal(conn: Connection, seal_id: str) -> list[Any]:
    """Shipments bound to a seal, oldest registration first."""
    return list(
        conn.execute(
            select(shipments).where(shipments.c.seal_id == seal_id).order_by(shipments.c.log_id)
        ).all()
    )


def add_shipment(
    conn: Connection, shipment_id: str, seal_id: str, document: str, log_id: int,
    port_code: str | None = None,
) -> None:
    conn.execute(
        insert(shipments).values(
            shipment_id=shipment_id,
            seal_id=seal_id,
            document=document,
            log_id=log_id,
            state="registered",
            armed_seq=None,
            armed_at_ms=None,
            last_seq=-1,
            port_code=port_code,
        )
    )


def update_progress(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Update state, arming and last seq of shipments (``shipment_id`` in each row)."""
    if not rows:
        return
    stmt = (
        update(shipments)
        .where(shipments.c.shipment_id == bindparam("b_shipment_id"))
        .values(
            state=bindparam("b_state"),
            armed_seq=bindparam("b_armed_seq"),
            armed_at_ms=bindparam("b_armed_at_ms"),
            last_seq=bindparam("b_last_seq"),
        )
    )
    conn.execute(stmt, [{f"b_{k}": v for k, v in row.items()} for row in rows])


def stored_seqs(conn: Connection, seal_id: str, lo: int, hi: int) -> dict[int, str]:
    """``seq -> digest`` of the seal's stored messages with ``lo <= seq <= hi``."""
    rows = conn.execute(
        select(seal_messages.c.seq, seal_messages.c.digest).where(
            and_(
                seal_messages.c.seal_id == seal_id,
                seal_messages.c.seq >= lo,
                seal_messages.c.seq <= hi,
            )
        )
    )
    return {int(r.seq): r.digest for r in rows}


def max_seq(conn: Connection, seal_id: str) -> int:
    """The highest stored sequence number of a seal (-1 when none)."""
    value = conn.execute(
        select(func.max(seal_messages.c.seq)).where(seal_messages.c.seal_id == seal_id)
    ).scalar_one_or_none()
    return -1 if value is None else int(value)


def stored_digests(
    conn: Connection, keys: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], str]:
    """``(seal_id, seq) -> digest`` of those of ``keys`` already stored."""
    wanted = set(keys)
    if not wanted:
        return {}
    seal_ids = sorted({k[0] for k in wanted})
    lo, hi = min(k[1] for k in wanted), max(k[1] for k in wanted)
    found: dict[tuple[str, int], str] = {}
    # one range query per chunk of seals (cheap to compile, unlike a long tuple IN)
    for i in range(0, len(seal_ids), 200):
        rows = conn.execute(
            select(seal_messages.c.seal_id, seal_messages.c.seq, seal_messages.c.digest).where(
                and_(
                    seal_messages.c.seal_id.in_(seal_ids[i : i + 200]),
                    seal_messages.c.seq >= lo,
                    seal_messages.c.seq <= hi,
                )
            )
        )
        for r in rows:
            key = (r.seal_id, int(r.seq))
            if key in wanted:
                found[key] = r.digest
    return found


def add_messages(conn: Connection, rows: Sequence[tuple[str, int, str, int, str, int]]) -> None:
    """Index accepted messages: (seal_id, seq, shipment_id, at_ms, digest, log_id)."""
    bulk_insert(conn, seal_messages, rows)


def message_lines(conn: Connection, shipment_id: str) -> list[str]:
    """The lines of a shipment's accepted messages, straight from the event log (so an
    edit of the ``seal_messages`` index cannot hide one), in the order stored."""
    rows = conn.execute(
        select(event_log.c.body)
        .where(and_(event_log.c.subject == shipment_id, event_log.c.kind == "seal.message"))
        .order_by(event_log.c.id)
    )
    return [r.body for r in rows]


def log_records(conn: Connection, subject: str) -> list[Any]:
    """Every event-log record about ``subject`` (a shipment, a seal, a party), oldest
    first, with its chain fields."""
    return list(conn.execute(
        select(event_log).where(event_log.c.subject == subject).order_by(event_log.c.id)
    ).all())


def message_count(conn: Connection, shipment_id: str) -> int:
    return len(
        conn.execute(
            select(seal_messages.c.seq).where(seal_messages.c.shipment_id == shipment_id)
        ).all()
    )


def existing_alert_ids(conn: Connection, ids: Iterable[str]) -> set[str]:
    wanted = list(set(ids))
    found: set[str] = set()
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        found.update(
            conn.execute(select(alerts.c.alert_id).where(alerts.c.alert_id.in_(chunk))).scalars()
        )
    return found


def add_alerts(
    conn: Connection, items: Sequence[Alert], sources: Sequence[str], log_ids: Sequence[int]
) -> None:
    rows = [
        {
            "alert_id": a.alert_id,
            "shipment_id": a.shipment_id,
            "seal_id": a.seal_id,
            "kind": a.kind.value,
            "severity": a.severity.value,
            "at": None if a.at is None else a.at.isoformat(),
            "seq": a.seq,
            "lat": a.lat,
            "lon": a.lon,
            "detail": a.detail,
            "after_border": a.after_border,
            "source": source,
            "log_id": log_id,
        }
        for a, source, log_id in zip(items, sources, log_ids, strict=True)
    ]
    if rows:
        conn.execute(insert(alerts), rows)


def known_rejections(conn: Connection, ids: Iterable[str]) -> set[str]:
    """Those of ``ids`` (rejection ids) already recorded."""
    wanted = list(set(ids))
    found: set[str] = set()
    for i in range(0, len(wanted), 500):
        found.update(conn.execute(
            select(rejections.c.rejection_id)
            .where(rejections.c.rejection_id.in_(wanted[i : i + 500]))
        ).scalars())
    return found


def add_rejections(
    conn: Connection, rows: Sequence[tuple[str, str, str | None, str, int]]
) -> None:
    """Record rejected lines: (rejection_id, digest, shipment_id, kind, log_id)."""
    bulk_insert(conn, rejections, rows)


def remove_alerts(conn: Connection, ids: Iterable[str]) -> None:
    wanted = list(ids)
    for i in range(0, len(wanted), 500):
        conn.execute(delete(alerts).where(alerts.c.alert_id.in_(wanted[i : i + 500])))


def _alert(row: Any) -> Alert:
    return Alert(
        alert_id=row.alert_id,
        kind=AlertKind(row.kind),
        severity=Severity(row.severity),
        at=None if row.at is None else datetime.fromisoformat(row.at),
        shipment_id=row.shipment_id,
        seal_id=row.seal_id,
        seq=row.seq,
        lat=row.lat,
        lon=row.lon,
        detail=row.detail,
        after_border=bool(row.after_border),
    )


def security_alerts_of(conn: Connection, shipment_ids: Iterable[str]) -> dict[str, list[Alert]]:
    """The alerts of the verifier and the registry (not the monitor's) on each shipment."""
    found: dict[str, list[Alert]] = {}
    for chunk in _chunks(shipment_ids):
        q = (select(alerts).where(alerts.c.shipment_id.in_(chunk),
                                  alerts.c.source != "monitor")
             .order_by(alerts.c.log_id, alerts.c.alert_id))
        for r in conn.execute(q):
            found.setdefault(r.shipment_id, []).append(_alert(r))
    return found


# ---------------------------------------------------------------- verdict rows
_LAST_CUSTODY_RECORD = (
    select(event_log.c.id)
    .where(event_log.c.subject == bindparam("s"), ~event_log.c.kind.startswith("service."))
    .order_by(event_log.c.id.desc()).limit(1)
)


def _last_about(subject: Any) -> Any:
    return (select(event_log.c.id)
            .where(event_log.c.subject == subject, ~event_log.c.kind.startswith("service."))
            .order_by(event_log.c.id.desc()).limit(1).scalar_subquery())


# one round trip for everything a verdict read from its row checks
_VERDICT_ROW = (
    select(custody_verdicts, shipments.c.document.label("shipment_document"),
           shipments.c.seal_id,
           _last_about(shipments.c.shipment_id).label("last_about_shipment"),
           _last_about(shipments.c.seal_id).label("last_about_seal"),
           select(log_head.c.last_id).where(log_head.c.id == 1).scalar_subquery()
           .label("head_id"))
    .select_from(shipments.outerjoin(
        custody_verdicts, custody_verdicts.c.shipment_id == shipments.c.shipment_id))
    .where(shipments.c.shipment_id == bindparam("sid"))
)


def last_custody_record(conn: Connection, subjects: Iterable[str]) -> int:
    """The id of the last log record about any of ``subjects`` that is not a service
    record (0 when there is none)."""
    top = 0
    for subject in subjects:
        found = conn.execute(_LAST_CUSTODY_RECORD, {"s": subject}).scalar_one_or_none()
        top = max(top, int(found or 0))
    return top


def verdict_row(conn: Connection, shipment_id: str) -> Any | None:
    """The shipment's index row (``shipment_document``, ``seal_id``) with its verdict
    row's columns (``None`` when it has no verdict row), the ids of the last record
    about the shipment and about its seal that are not service records
    (``last_about_shipment``, ``last_about_seal``) and the log head's (``head_id``);
    ``None`` when not registered."""
    return conn.execute(_VERDICT_ROW, {"sid": shipment_id}).first()


def put_verdicts(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Replace the verdict rows of the shipments in ``rows``."""
    if not rows:
        return
    ids = [r["shipment_id"] for r in rows]
    for chunk in _chunks(ids):
        conn.execute(delete(custody_verdicts).where(custody_verdicts.c.shipment_id.in_(chunk)))
    conn.execute(insert(custody_verdicts), list(rows))


def shipments_without_verdict(conn: Connection) -> list[str]:
    """Registered shipments that have no verdict row (registered before there were any)."""
    q = (select(shipments.c.shipment_id)
         .select_from(shipments.outerjoin(
             custody_verdicts, custody_verdicts.c.shipment_id == shipments.c.shipment_id))
         .where(custody_verdicts.c.shipment_id.is_(None)))
    return list(conn.execute(q).scalars())


def alerts_of(
    conn: Connection,
    shipment_id: str | None = None,
    source: str | None = None,
    unattributed: bool = False,
) -> list[Alert]:
    """Alerts, oldest log record first, filtered by shipment and source."""
    q = select(alerts).order_by(alerts.c.log_id, alerts.c.alert_id)
    if shipment_id is not None:
        q = q.where(alerts.c.shipment_id == shipment_id)
    if unattributed:
        q = q.where(alerts.c.shipment_id.is_(None))
    if source is not None:
        q = q.where(alerts.c.source == source)
    return [_alert(r) for r in conn.execute(q)]


__all__ = [
    "add_alerts",
    "last_custody_record",
    "put_verdicts",
    "security_alerts_of",
    "shipments_without_verdict",
    "verdict_row",
    "bindings_of_seals",
    "log_records_in",
    "max_seqs",
    "shipment_rows_in",
    "add_rejections",
    "add_messages",
    "add_seal",
    "add_shipment",
    "alerts_of",
    "existing_alert_ids",
    "known_rejections",
    "message_count",
    "max_seq",
    "log_records",
    "message_lines",
    "party_document",
    "put_party",
    "remove_alerts",
    "revoke_seal",
    "seal_key",
    "seal_row",
    "shipment_row",
    "shipment_rows",
    "shipments_of_seal",
    "stored_digests",
    "stored_seqs",
    "update_progress",
]
