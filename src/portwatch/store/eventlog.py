"""The append-only, hash-chained event log.

Record ``n`` stores ``hash_n = SHA-256(hash_{n-1} | n | recorded_at | kind | subject |
body)`` with ``hash_0`` = 64 zeros; the ``log_head`` row holds the last id and hash.
Editing, deleting, inserting or reordering any record breaks the chain, which
``audit`` finds. Appends take the head row's lock, so concurrent writers serialise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import Connection, func, insert, select, update

from portwatch.domain.errors import AuditError
from portwatch.store.bulk import bulk_insert
from portwatch.store.schema import event_log, log_head

GENESIS_HASH = "0" * 64


class LogRecord(NamedTuple):
    """One record to append: a kind (``seal.message``, ``custody.alert``...), the thing
    it is about, and its body (a JSON text or a raw message line)."""

    kind: str
    subject: str | None
    body: str


@dataclass(frozen=True, slots=True)
class AuditReport:
    """What ``audit`` checked."""

    records: int
    head_hash: str


def record_hash(prev_hash: str, record_id: int, recorded_at: str, rec: LogRecord) -> str:
    """The chained hash of one record."""
    text = f"{prev_hash}|{record_id}|{recorded_at}|{rec.kind}|{rec.subject or ''}|{rec.body}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ensure_head(conn: Connection) -> None:
    """Create the head row of an empty log."""
    if conn.execute(select(log_head.c.id)).first() is None:
        conn.execute(insert(log_head).values(id=1, last_id=0, last_hash=GENESIS_HASH))


def append(conn: Connection, records: Sequence[LogRecord], recorded_at: str) -> list[int]:
    """Append records inside the caller's transaction; return their ids."""
    if not records:
        return []
    head = conn.execute(
        select(log_head.c.last_id, log_head.c.last_hash).where(log_head.c.id == 1).with_for_update()
    ).one()
    last_id, prev = int(head.last_id), head.last_hash
    rows = []
    sha256 = hashlib.sha256
    # record_hash, inlined: this loop runs once per ingested message
    for rid, (kind, subject, body) in enumerate(records, start=last_id + 1):
        text = f"{prev}|{rid}|{recorded_at}|{kind}|{subject or ''}|{body}"
        h = sha256(text.encode("utf-8")).hexdigest()
        rows.append((rid, recorded_at, kind, subject, body, prev, h))
        prev = h
    ids = list(range(last_id + 1, last_id + 1 + len(records)))
    bulk_insert(conn, event_log, rows)
    conn.execute(
        update(log_head).where(log_head.c.id == 1).values(last_id=ids[-1], last_hash=prev)
    )
    return ids


def audit(conn: Connection, chunk: int = 5_000) -> AuditReport:
    """Walk the whole chain; raise ``AuditError`` at the first inconsistency."""
    head = conn.execute(select(log_head.c.last_id, log_head.c.last_hash)).first()
    last_id, head_hash = (0, GENESIS_HASH) if head is None else (int(head[0]), head[1])
    prev, expected_id = GENESIS_HASH, 1
    while True:
        rows = conn.execute(
            select(event_log)
            .where(event_log.c.id >= expected_id)
            .order_by(event_log.c.id)
            .limit(chunk)
        ).all()
        if not rows:
            break
        for r in rows:
            if r.id != expected_id:
                raise AuditError(f"event log: record {expected_id} is missing (next is {r.id})")
            if r.prev_hash != prev:
                raise AuditError(f"event log: record {r.id} does not follow record {r.id - 1}")
            rec = LogRecord(r.kind, r.subject, r.body)
            if record_hash(prev, r.id, r.recorded_at, rec) != r.hash:
                raise AuditError(f"event log: record {r.id} ({r.kind}) was altered")
            prev, expected_id = r.hash, expected_id + 1
    count = expected_id - 1
    total = conn.execute(select(func.count()).select_from(event_log)).scalar_one()
    if total != count:
        raise AuditError(f"event log: {total - count} record(s) outside the chain")
    if count != last_id or prev != head_hash:
        raise AuditError(
            f"event log: head says record {last_id} but the chain ends at record {count}"
        )
    return AuditReport(records=count, head_hash=prev)


__all__ = ["GENESIS_HASH", "AuditReport", "LogRecord", "append", "audit", "ensure_head"]
