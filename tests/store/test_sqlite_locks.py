"""SQLite file: reads never take the write lock, and checkpoints can leave the commits.

A read transaction that began IMMEDIATE queued behind every writer in SQLite's busy
handler (which sleeps up to 100 ms a round): under a stream of group commits a token
lookup or a custody verdict waited hundreds of milliseconds.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portwatch.domain.errors import StoreError
from portwatch.store import Database, LogRecord, append
from portwatch.store.schema import event_log


def _record(i: int) -> LogRecord:
    return LogRecord("test.thing", f"S{i}", f'{{"i": {i}}}')


def _count(db: Database) -> int:
    with db.reading() as conn:
        return len(conn.execute(select(event_log.c.id)).all())


def test_a_read_inside_an_open_write_sees_the_last_commit_and_does_not_wait(tmp_path):
    db = Database(tmp_path / "x.db")
    with db.transaction() as conn:
        append(conn, [_record(0)], "2026-01-01T00:00:00+00:00")
    with db.transaction() as conn:
        append(conn, [_record(1)], "2026-01-01T00:00:01+00:00")
        # the write lock is held here; a read must neither wait for it nor see the
        # uncommitted record (before: BEGIN IMMEDIATE, "database is locked" after 30 s)
        assert _count(db) == 1
    assert _count(db) == 2
    db.close()


def test_a_write_does_not_wait_for_an_open_read(tmp_path):
    db = Database(tmp_path / "x.db")
    with db.transaction() as conn:
        append(conn, [_record(0)], "2026-01-01T00:00:00+00:00")
    with db.reading() as snapshot:
        assert len(snapshot.execute(select(event_log.c.id)).all()) == 1
        with db.transaction() as conn:
            append(conn, [_record(1)], "2026-01-01T00:00:01+00:00")
        # the open read keeps its snapshot
        assert len(snapshot.execute(select(event_log.c.id)).all()) == 1
    assert _count(db) == 2
    db.close()


def test_a_read_connection_cannot_write(tmp_path):
    db = Database(tmp_path / "x.db")
    with pytest.raises(StoreError, match="readonly|read-only|query_only"), db.reading() as conn:
        conn.exec_driver_sql("DELETE FROM event_log")
    db.close()


def test_background_checkpoint_takes_checkpoints_off_the_commits(tmp_path):
    db = Database(tmp_path / "x.db")
    assert db.checkpoint_in_background(interval_s=3600)
    with db.transaction() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        append(conn, [_record(i) for i in range(20_000)], "2026-01-01T00:00:00+00:00")
    # the commit, past SQLite's default threshold of 1,000 pages, checkpointed nothing:
    # the records are in the log only ...
    main = tmp_path / "x.db"
    before = main.stat().st_size
    assert (tmp_path / "x.db-wal").stat().st_size > 1000 * 4096 > before
    # ... and the checkpointer's round copies them into the database
    busy, frames, copied = db.checkpoint_now()
    assert busy == 0 and frames > 1000 and copied == frames
    assert main.stat().st_size > before + 1000 * 4096
    assert _count(db) == 20_000
    db.close()
    reopened = Database(tmp_path / "x.db")
    assert _count(reopened) == 20_000
    reopened.close()


def test_background_checkpoint_is_sqlite_file_only():
    db = Database(":memory:")
    assert not db.checkpoint_in_background()
    db.close()
