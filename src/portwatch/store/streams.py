"""Parallel hash chains ("streams") beside the event log, for records that need no
order among themselves: the lane decisions of concurrent arrivals.

Every record of the event log extends its one head, so two writers never append at
the same time: on PostgreSQL the second waits for the first's commit to reach the disk.
A stream is a chain of its own, with its own head row (``stream_heads``): a writer
locks only the head of the stream it appends to, so writers on different streams
commit side by side and their flushes to disk overlap.

Record ``seq`` of stream ``s`` stores ``hash = H(prev_hash | s.seq | recorded_at |
kind | subject | body)`` with the first ``prev_hash`` = 64 zeros, where ``H`` is the
event log's (SHA-256, or HMAC-SHA256 under the anchor's key). The stream number is
inside the hash, so a record copied into another stream, or to another place in its
own, no longer matches; editing, deleting, inserting or reordering breaks the chain as
in the event log, and ``check_streams`` names the record. With an anchor, the head of
every stream written in a transaction is checkpointed after the commit, as the event
log's is, so truncating a stream is found too.

The migration that made the streams (``0005``) created ``MAX_STREAMS`` head rows at the
genesis hash; a head row that is missing or added is itself a problem.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select, update

from portwatch.store import batch
from portwatch.store.bulk import bulk_insert, pipelined, values_statement
from portwatch.store.eventlog import ANCHOR_INFO, GENESIS_HASH, LogRecord, hasher
from portwatch.store.schema import stream_heads, stream_log

MAX_STREAMS = 16
STREAMS_INFO = "portwatch_appended_streams"
"""conn.info key: {stream: (last_seq, last_hash, first_new)} appended in this transaction."""

HEAD_LOCKED = (select(stream_heads.c.last_seq, stream_heads.c.last_hash)
               .where(stream_heads.c.stream == bindparam("s")).with_for_update())
"""A stream's head (parameter ``s``), locked until the transaction ends."""
_MOVE_HEAD = (update(stream_heads).where(stream_heads.c.stream == bindparam("b_stream"))
              .values(last_seq=bindparam("b_seq"), last_hash=bindparam("b_hash")))
_MOVE_HEAD_PG = "UPDATE stream_heads SET last_seq = %s, last_hash = %s WHERE stream = %s"

Rows = tuple[Table, Sequence[tuple[Any, ...]]]
"""Rows of a table (tuples in column order) to insert with the records."""


def record_text(prev_hash: str, stream: int, seq: int, recorded_at: str, kind: str,
                subject: str | None, body: str) -> str:
    """The text a stream record's hash is taken over."""
    return f"{prev_hash}|{stream}.{seq}|{recorded_at}|{kind}|{subject or ''}|{body}"


def append(conn: Connection, stream: int, records: Sequence[LogRecord], recorded_at: str,
           with_rows: Callable[[list[int]], Rows] | None = None,
           head: tuple[Any, ...] | None = None) -> list[int]:
    """Append records to ``stream`` inside the caller's transaction (holding that
    stream's head until it ends); return their sequence numbers. ``with_rows`` gives,
    from those numbers, rows of another table to insert with them (on PostgreSQL the
    records, the head and those rows go in one round trip; in a batched transaction,
    ``portwatch.store.batch``, with its ``COMMIT``). ``head``: the stream's head row as
    ``HEAD_LOCKED`` read it in this transaction (locked), if the caller read it."""
    if not 1 <= stream <= MAX_STREAMS:
        raise ValueError(f"stream {stream}: must be in 1..{MAX_STREAMS}")
    if not records:
        return []
    row = conn.execute(HEAD_LOCKED, {"s": stream}).first() if head is None else head
    if row is None:
        raise ValueError(f"stream {stream}: no head row (database not migrated to 0005)")
    last, prev = int(row[0]), str(row[1])
    h = hasher(conn.info.get(ANCHOR_INFO))
    rows = []
    for seq, (kind, subject, body) in enumerate(records, start=last + 1):
        new = h(record_text(prev, stream, seq, recorded_at, kind, subject, body))
        rows.append((stream, seq, recorded_at, kind, subject, body, prev, new))
        prev = new
    end = last + len(records)
    seqs = list(range(last + 1, end + 1))
    extra = None if with_rows is None else with_rows(seqs)
    deferred = batch.active(conn)
    if deferred is not None:
        deferred.defer(*values_statement(stream_log, rows))
        deferred.defer(_MOVE_HEAD_PG, (end, prev, stream))
        if extra is not None and extra[1]:
            deferred.defer(*values_statement(*extra))
    elif pipelined(conn, max(len(rows), 0 if extra is None else len(extra[1]))):
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.pipeline(), raw.cursor() as cur:
            cur.execute(*values_statement(stream_log, rows))
            cur.execute(_MOVE_HEAD_PG, (end, prev, stream))
            if extra is not None and extra[1]:
                cur.execute(*values_statement(*extra))
    else:
        bulk_insert(conn, stream_log, rows)
        conn.execute(_MOVE_HEAD, {"b_stream": stream, "b_seq": end, "b_hash": prev})
        if extra is not None:
            bulk_insert(conn, *extra)
    appended: dict[int, tuple[int, str, int]] = conn.info.setdefault(STREAMS_INFO, {})
    first = appended[stream][2] if stream in appended else last + 1
    appended[stream] = (end, prev, first)
    return seqs


def heads(conn: Connection) -> dict[int, tuple[int, str]]:
    """Every stream's head: stream -> (last seq, last hash)."""
    rows = conn.execute(select(stream_heads).order_by(stream_heads.c.stream)).all()
    return {int(r.stream): (int(r.last_seq), str(r.last_hash)) for r in rows}


def check_streams(conn: Connection, key: bytes | None = None,
                  keyed_from: dict[int, int] | None = None,
                  chunk: int = 5_000) -> tuple[int, list[str]]:
    """Walk every stream's chain against its head; (records, problem lines).
    ``keyed_from``: per stream, the first record hashed under ``key`` (default 1)."""
    problems: list[str] = []
    found = heads(conn)
    for s in sorted(set(found) - set(range(1, MAX_STREAMS + 1))):
        problems.append(f"stream_heads: stream {s} is not one of 1..{MAX_STREAMS}")
    for s in range(1, MAX_STREAMS + 1):
        if s not in found:
            problems.append(f"stream_heads: the head of stream {s} is missing")
    strays = conn.execute(select(stream_log.c.stream).distinct().where(
        (stream_log.c.stream < 1) | (stream_log.c.stream > MAX_STREAMS))).scalars().all()
    for s in strays:
        problems.append(f"stream_log: records in stream {s}, which is not one of "
                        f"1..{MAX_STREAMS}")
    total = 0
    for s in sorted(set(range(1, MAX_STREAMS + 1)) | set(found)):
        end, prev, lines = _walk(conn, s, key, (keyed_from or {}).get(s, 1), chunk)
        total += end
        problems += lines
        if s in found and (found[s][0] != end or found[s][1] != prev):
            problems.append(f"stream {s}: head says record {found[s][0]} but the chain "
                            f"ends at record {end}")
        if len(problems) > 50:
            problems.append("streams: more problems not listed")
            break
    return total, problems


def _walk(conn: Connection, stream: int, key: bytes | None, keyed_from: int,
          chunk: int) -> tuple[int, str, list[str]]:
    """One stream's chain: (last seq reached, its hash, problems)."""
    problems: list[str] = []
    prev, expected = GENESIS_HASH, 1
    h_plain, h_key = hasher(None), hasher(key)
    while len(problems) <= 50:
        rows: Sequence[Any] = conn.execute(
            select(stream_log).where(stream_log.c.stream == stream,
                                     stream_log.c.seq >= expected)
            .order_by(stream_log.c.seq).limit(chunk)).all()
        if not rows:
            break
        for r in rows:
            where = f"stream {stream}: record {r.seq}"
            if r.seq != expected:
                problems.append(f"stream {stream}: record {expected} is missing "
                                f"(next is {r.seq})")
            if r.prev_hash != prev:
                problems.append(f"{where} does not follow record {r.seq - 1}")
            h = h_key if key is not None and r.seq >= keyed_from else h_plain
            text = record_text(r.prev_hash, stream, r.seq, r.recorded_at, r.kind, r.subject,
                               r.body)
            if h(text) != r.hash:
                problems.append(f"{where} ({r.kind}, {r.subject}) was altered")
            prev, expected = r.hash, r.seq + 1
    return expected - 1, prev, problems


__all__ = ["HEAD_LOCKED", "MAX_STREAMS", "STREAMS_INFO", "append", "check_streams", "heads",
           "record_text"]
