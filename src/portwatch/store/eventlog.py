"""The append-only, hash-chained event log.

Record ``n`` stores ``hash_n = H(hash_{n-1} | n | recorded_at | kind | subject |
body)`` with ``hash_0`` = 64 zeros; the ``log_head`` row holds the last id and hash.
``H`` is SHA-256, or HMAC-SHA256 under the anchor's key when the database has an
anchor (``portwatch.store.anchor``): then nobody without the key can recompute the
chain after an edit. Editing, deleting, inserting or reordering any record breaks the
chain, which ``check_chain`` finds and names. Appends take the head row's lock, so
concurrent writers serialise.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, func, insert, select, update

from portwatch.domain.errors import AuditError
from portwatch.store.bulk import bulk_insert
from portwatch.store.schema import event_log, log_head

GENESIS_HASH = "0" * 64
ANCHOR_INFO = "portwatch_anchor_key"  # conn.info key: the anchor key of this transaction
HEAD_INFO = "portwatch_appended_head"  # conn.info key: the head after this transaction


class LogRecord(NamedTuple):
    """One record to append: a kind (``seal.message``, ``custody.alert``...), the thing
    it is about, and its body (a JSON text or a raw message line)."""

    kind: str
    subject: str | None
    body: str


@dataclass(frozen=True, slots=True)
class AuditReport:
    """What an audit checked, and every inconsistency it found."""

    records: int
    head_hash: str
    problems: tuple[str, ...] = field(default=())
    anchored: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def hasher(key: bytes | None) -> Callable[[str], str]:
    """The chain's hash function: SHA-256, or HMAC-SHA256 under ``key``."""
    if key is None:
        return lambda text: hashlib.sha256(text.encode("utf-8")).hexdigest()
    base = hmac.new(key, digestmod=hashlib.sha256)

    def keyed(text: str) -> str:
        h = base.copy()
        h.update(text.encode("utf-8"))
        return h.hexdigest()

    return keyed


def record_hash(prev_hash: str, record_id: int, recorded_at: str, rec: LogRecord,
                key: bytes | None = None) -> str:
    """The chained hash of one record."""
    text = f"{prev_hash}|{record_id}|{recorded_at}|{rec.kind}|{rec.subject or ''}|{rec.body}"
    return hasher(key)(text)


def ensure_head(conn: Connection) -> None:
    """Create the head row of an empty log."""
    if conn.execute(select(log_head.c.id)).first() is None:
        conn.execute(insert(log_head).values(id=1, last_id=0, last_hash=GENESIS_HASH))


# built once: every write of the service reads and moves the head
_HEAD = select(log_head.c.last_id, log_head.c.last_hash).where(log_head.c.id == 1)
_HEAD_LOCKED = _HEAD.with_for_update()
_MOVE_HEAD = (update(log_head).where(log_head.c.id == 1)
              .values(last_id=bindparam("b_last_id"), last_hash=bindparam("b_last_hash")))
_LOCKED_INFO = "portwatch_locked_head"  # conn.info: (transaction, head) while locked


def head(conn: Connection, lock: bool = False) -> tuple[int, str]:
    """The log's last id and hash (``lock``: hold the head row until the transaction
    ends, so that no other writer appends meanwhile). Once locked in a transaction,
    the head is known until it ends, and is not read again."""
    txn = conn.get_transaction()
    if lock:
        known = conn.info.get(_LOCKED_INFO)
        if known is not None and txn is not None and known[0] is txn:
            return known[1]
    row = conn.execute(_HEAD_LOCKED if lock else _HEAD).first()
    found = (0, GENESIS_HASH) if row is None else (int(row[0]), str(row[1]))
    if lock and txn is not None:
        conn.info[_LOCKED_INFO] = (txn, found)
    return found


def append(conn: Connection, records: Sequence[LogRecord], recorded_at: str) -> list[int]:
    """Append records inside the caller's transaction; return their ids."""
    if not records:
        return []
    last_id, prev = head(conn, lock=True)
    rows = []
    h = hasher(conn.info.get(ANCHOR_INFO))
    # record_hash, inlined: this loop runs once per ingested message
    for rid, (kind, subject, body) in enumerate(records, start=last_id + 1):
        new = h(f"{prev}|{rid}|{recorded_at}|{kind}|{subject or ''}|{body}")
        rows.append((rid, recorded_at, kind, subject, body, prev, new))
        prev = new
    ids = list(range(last_id + 1, last_id + 1 + len(records)))
    bulk_insert(conn, event_log, rows)
    conn.execute(_MOVE_HEAD, {"b_last_id": ids[-1], "b_last_hash": prev})
    conn.info[_LOCKED_INFO] = (conn.get_transaction(), (ids[-1], prev))
    conn.info[HEAD_INFO] = (ids[-1], prev, last_id + 1)
    return ids


def row_problem(r: Any, key: bytes | None, keyed_from: int) -> str | None:
    """Why one stored record does not match its own hash, or ``None``."""
    rec = LogRecord(r.kind, r.subject, r.body)
    used = key if key is not None and r.id >= keyed_from else None
    if record_hash(r.prev_hash, r.id, r.recorded_at, rec, used) != r.hash:
        return f"event log: record {r.id} ({r.kind}) was altered"
    return None


def check_chain(conn: Connection, key: bytes | None = None, keyed_from: int = 1,
                chunk: int = 5_000) -> AuditReport:
    """Walk the whole chain; every inconsistency is one line of ``problems``."""
    last_id, head_hash = head(conn)
    problems: list[str] = []
    prev, expected_id = GENESIS_HASH, 1
    h_plain, h_key = hasher(None), hasher(key)
    while True:
        rows = conn.execute(
            select(event_log).where(event_log.c.id >= expected_id).order_by(event_log.c.id)
            .limit(chunk)
        ).all()
        if not rows:
            break
        for r in rows:
            if r.id != expected_id:
                problems.append(f"event log: record {expected_id} is missing (next is {r.id})")
            if r.prev_hash != prev:
                problems.append(f"event log: record {r.id} does not follow record {r.id - 1}")
            h = h_key if key is not None and r.id >= keyed_from else h_plain
            text = f"{r.prev_hash}|{r.id}|{r.recorded_at}|{r.kind}|{r.subject or ''}|{r.body}"
            if h(text) != r.hash:
                problems.append(f"event log: record {r.id} ({r.kind}) was altered")
            prev, expected_id = r.hash, r.id + 1
            if len(problems) > 50:
                break
        if len(problems) > 50:
            problems.append("event log: more problems not listed")
            break
    count = conn.execute(select(func.count()).select_from(event_log)).scalar_one()
    heads = conn.execute(select(func.count()).select_from(log_head)).scalar_one()
    if heads != 1:
        problems.append(f"log_head: {heads} rows, must be exactly 1")
    end = expected_id - 1
    if count != end and not problems:
        problems.append(f"event log: {count - end} record(s) outside the chain")
    if end != last_id or prev != head_hash:
        problems.append(
            f"event log: head says record {last_id} but the chain ends at record {end}"
        )
    return AuditReport(records=end, head_hash=prev, problems=tuple(problems),
                       anchored=key is not None)


def audit(conn: Connection, chunk: int = 5_000) -> AuditReport:
    """Walk the whole (unkeyed) chain; raise ``AuditError`` at the first inconsistency."""
    report = check_chain(conn, chunk=chunk)
    if report.problems:
        raise AuditError(report.problems[0])
    return report


__all__ = [
    "ANCHOR_INFO",
    "AuditError",
    "GENESIS_HASH",
    "HEAD_INFO",
    "AuditReport",
    "LogRecord",
    "append",
    "audit",
    "check_chain",
    "ensure_head",
    "head",
    "hasher",
    "record_hash",
    "row_problem",
]
