"""A database handle: migrates the schema to the current one (Alembic) and runs
transactions that fail as ``StoreError`` with one readable line; with an anchor,
keys the event log's chain and checkpoints its head outside the database after
every commit."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event, select
from sqlalchemy.exc import SQLAlchemyError

from portwatch.domain.errors import StoreError
from portwatch.store import batch, eventlog, migrate, streams
from portwatch.store.anchor import Anchor, Checkpoint
from portwatch.store.connection import (
    describe_failure,
    open_engine,
    open_read_engine,
    safe_name,
)
from portwatch.store.schema import event_log, stream_log

CHECKPOINT_EVERY_S = 1.0
"""How often a background checkpointer copies a SQLite file's write-ahead log into the
database (``Database.checkpoint_in_background``)."""

log = logging.getLogger(__name__)


class _Checkpointer(threading.Thread):
    """Runs ``PRAGMA wal_checkpoint(PASSIVE)`` on a SQLite file every ``interval_s`` on
    its own connection, off any request's path. PASSIVE never waits for a lock and
    never makes a reader or writer wait: it copies what no reader still needs, and a
    later round copies the rest."""

    def __init__(self, path: str, interval_s: float) -> None:
        super().__init__(name="sqlite-checkpoint", daemon=True)
        self.path = path
        self.interval_s = interval_s
        self.stopping = threading.Event()

        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()

    def once(self) -> tuple[int, int, int]:
        """One round: (busy, frames in the log, frames checkpointed), as SQLite
        reports them."""
        with self._lock:
            busy, frames, copied = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(busy), int(frames), int(copied)

    def run(self) -> None:
        try:
            while not self.stopping.wait(self.interval_s):
                try:
                    self.once()
                except sqlite3.Error as exc:  # the next round retries; commits are safe
                    log.warning("WAL checkpoint of %s failed: %s", self.path, exc)
        finally:
            with self._lock:
                self._conn.close()


class Database:
    """One portwatch database (SQLite file, in-memory SQLite, or PostgreSQL URL), with
    an optional ``Anchor`` (key and checkpoint files outside the database)."""

    def __init__(self, db: str | Path, anchor: Anchor | None = None) -> None:
        self.name = safe_name(db)
        self.anchor = anchor
        self.engine: Engine = open_engine(db)
        try:
            with self.engine.begin() as conn:
                migrate.upgrade(conn)
                eventlog.ensure_head(conn)
        except SQLAlchemyError as exc:
            raise describe_failure(exc, self.name) from exc
        self.read_engine: Engine = open_read_engine(db, self.engine)
        self._checkpointer: _Checkpointer | None = None

    def checkpoint_in_background(self, interval_s: float = CHECKPOINT_EVERY_S) -> bool:
        """On a SQLite file, move the write-ahead log's checkpoints off the commits of
        this process into a background thread (whether it did).

        By default SQLite checkpoints inside the commit that takes the log past 1,000
        pages: that commit copies the pages and flushes the database file, and every
        writer queued behind it waits. Here this process's connections stop doing that
        (``wal_autocheckpoint=0``) and a thread checkpoints every ``interval_s``.
        Durability is unchanged: a commit is durable once in the log, checkpointed or
        not. For a long-running process (the service), not a one-shot command."""
        if self._checkpointer is not None:
            return True
        if self.engine.dialect.name != "sqlite" or self.read_engine is self.engine:
            return False  # a server, or in-memory SQLite

        def _no_autocheckpoint(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")

        event.listen(self.engine, "connect", _no_autocheckpoint)
        self.engine.dispose()  # pooled connections reconnect with the setting
        path = self.engine.url.database
        assert path is not None
        self._checkpointer = _Checkpointer(path, interval_s)
        self._checkpointer.start()
        return True

    @property
    def key(self) -> bytes | None:
        """The anchor's key (``None`` without an anchor or before the first write)."""
        return None if self.anchor is None else self.anchor.key()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction: committed on success, rolled back on any error; the new
        head is checkpointed in the anchor after the commit."""
        key = None if self.anchor is None else self.anchor.key(create=True)
        try:
            with self.engine.begin() as conn:
                conn.info[eventlog.ANCHOR_INFO] = key
                conn.info.pop(eventlog.HEAD_INFO, None)
                conn.info.pop(streams.STREAMS_INFO, None)
                yield conn
                appended = conn.info.pop(eventlog.HEAD_INFO, None)
                in_streams = conn.info.pop(streams.STREAMS_INFO, None) or {}
        except SQLAlchemyError as exc:
            raise describe_failure(exc, self.name) from exc
        if self.anchor is not None and (appended is not None or in_streams):
            self._checkpoint(appended, in_streams)

    @contextmanager
    def batched_transaction(self) -> Iterator[Connection]:
        """``transaction``, on PostgreSQL (psycopg) in two round trips: its ``BEGIN``
        with the reads given to ``batch.active(conn).first``, and the writes deferred
        to the batch with its ``COMMIT`` (``portwatch.store.batch``). Elsewhere a plain
        ``transaction``, in which ``batch.active(conn)`` is ``None``."""
        with self.transaction() as conn:
            if not batch.supported(conn):
                yield conn
                return
            b = batch.Batch(conn, self.name)
            try:
                yield conn
                b.commit()
            finally:
                b.close()

    def _checkpoint(self, appended: tuple[int, str, int] | None,
                    in_streams: dict[int, tuple[int, str, int]]) -> None:
        """Checkpoint every head this commit moved: the event log's and its streams'."""
        assert self.anchor is not None
        cps = []
        if appended is not None:
            last_id, last_hash, first_new = appended
            cps.append(Checkpoint(last_id, last_hash, self.anchor.keyed_from() or first_new))
        known = self.anchor.stream_keyed_from() if in_streams else {}
        for stream, (last, last_hash, first_new) in sorted(in_streams.items()):
            keyed_from = known.get(stream, first_new)
            cps.append(Checkpoint(last, last_hash, keyed_from, stream))
            self.anchor.note_stream_keyed_from(stream, keyed_from)
        self.anchor.write_many(cps)

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads: on SQLite one snapshot of the database, which never
        waits for a writer (nor makes one wait); on a server each statement reads what
        is committed when it starts (autocommit, as under READ COMMITTED)."""
        try:
            with self.read_engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise describe_failure(exc, self.name) from exc

    def keyed_from(self) -> int:
        """The first record hashed under the anchor's key."""
        return 1 if self.anchor is None else (self.anchor.keyed_from() or 1)

    def check(self) -> eventlog.AuditReport:
        """The whole chain and its anchor; every inconsistency is a problem line."""
        key = self.key
        if self.anchor is not None and key is None and self.anchor.checkpoint_path.exists():
            missing = f"anchor key {self.anchor.key_path}: missing, the chain cannot be checked"
            with self.reading() as conn:
                report = eventlog.check_chain(conn)
                _, in_streams = streams.check_streams(conn)
            return eventlog.AuditReport(report.records, report.head_hash,
                                        (missing, *report.problems, *in_streams),
                                        anchored=False)
        with self.reading() as conn:
            report = eventlog.check_chain(conn, key, self.keyed_from())
            stream_keyed = {} if self.anchor is None else self.anchor.stream_keyed_from(True)
            _, in_streams = streams.check_streams(conn, key, stream_keyed)
            problems = [*report.problems, *in_streams]
            if key is not None and self.anchor is not None:
                problems += self._anchor_problems(conn, report)
                problems += self._stream_anchor_problems(conn)
        return eventlog.AuditReport(report.records, report.head_hash, tuple(problems),
                                    anchored=key is not None)

    def _anchor_problems(self, conn: Connection, report: eventlog.AuditReport) -> list[str]:
        assert self.anchor is not None
        good, bad = self.anchor.checkpoints()
        good = [cp for cp in good if cp.stream == 0]
        problems = list(bad)
        if not good:
            if report.records:
                problems.append(f"anchor {self.anchor.checkpoint_path.name}: no checkpoint "
                                "of a log that has records")
            return problems
        cp = max(good, key=lambda c: c.last_id)
        if cp.last_id > report.records:
            problems.append(f"event log truncated or rolled back: the anchor's checkpoint "
                            f"names record {cp.last_id}, the log ends at record "
                            f"{report.records}")
            return problems
        stored = conn.execute(
            select(event_log.c.hash).where(event_log.c.id == cp.last_id)).scalar_one_or_none()
        if stored != cp.last_hash:
            problems.append(f"event log: record {cp.last_id} differs from its anchored "
                            "checkpoint (history rewritten)")
        return problems

    def _stream_anchor_problems(self, conn: Connection) -> list[str]:
        """Every stream's head against its newest checkpoint: a stream cut short or
        rewritten after its last checkpoint (and a stream with records but no
        checkpoint at all) is a problem."""
        assert self.anchor is not None
        newest: dict[int, Checkpoint] = {}
        for c in self.anchor.checkpoints()[0]:
            if c.stream and (c.stream not in newest or c.last_id > newest[c.stream].last_id):
                newest[c.stream] = c
        problems = []
        for stream, (last, _) in sorted(streams.heads(conn).items()):
            cp = newest.get(stream)
            if cp is None:
                if last:
                    problems.append(f"anchor {self.anchor.checkpoint_path.name}: no checkpoint "
                                    f"of stream {stream}, which has records")
                continue
            if cp.last_id > last:
                problems.append(f"stream {stream} truncated or rolled back: the anchor's "
                                f"checkpoint names record {cp.last_id}, the stream ends at "
                                f"record {last}")
                continue
            stored = conn.execute(select(stream_log.c.hash).where(
                stream_log.c.stream == stream, stream_log.c.seq == cp.last_id)).scalar_one_or_none()
            if stored != cp.last_hash:
                problems.append(f"stream {stream}: record {cp.last_id} differs from its "
                                "anchored checkpoint (history rewritten)")
        return problems

    def audit(self) -> eventlog.AuditReport:
        """Verify the chain and anchor (``AuditError`` naming the first problem)."""
        report = self.check()
        if report.problems:
            raise eventlog.AuditError(report.problems[0])
        return report

    def checkpoint_now(self) -> tuple[int, int, int]:
        """The background checkpointer's round, now: (busy, frames in the log, frames
        checkpointed)."""
        if self._checkpointer is None:
            raise StoreError(f"database {self.name}: no background checkpointer")
        return self._checkpointer.once()

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stopping.set()
            self._checkpointer.join()
            self._checkpointer = None
        if self.read_engine.pool is not self.engine.pool:
            self.read_engine.dispose()
        self.engine.dispose()


__all__ = ["CHECKPOINT_EVERY_S", "Database", "StoreError"]
