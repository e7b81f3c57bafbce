"""The hash-chained event log: appends, and audits that catch any edit of history."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, update

from portwatch.domain.errors import AuditError, StoreError
from portwatch.store import Database, LogRecord, append
from portwatch.store.schema import event_log


def _db(tmp_path, n: int = 5) -> Database:
    db = Database(tmp_path / "log.db")
    with db.transaction() as conn:
        append(conn, [LogRecord("test.thing", f"S{i}", f'{{"i": {i}}}') for i in range(n)],
               "2026-01-01T00:00:00+00:00")
    return db


def test_append_chains_records_and_audit_passes(tmp_path):
    db = _db(tmp_path)
    report = db.audit()
    assert report.records == 5 and len(report.head_hash) == 64


def test_sqlite_file_uses_wal(tmp_path):
    db = _db(tmp_path, 1)
    with db.reading() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


@pytest.mark.parametrize("tamper, message", [
    (lambda c: c.execute(update(event_log).where(event_log.c.id == 3).values(body="{}")),
     r"record 3 \(test.thing\) was altered"),
    (lambda c: c.execute(delete(event_log).where(event_log.c.id == 2)), "record 2 is missing"),
    (lambda c: c.execute(delete(event_log).where(event_log.c.id == 5)), "head says record 5"),
    (lambda c: c.execute(update(event_log).where(event_log.c.id == 4).values(subject="X")),
     "record 4"),
])
def test_audit_detects_any_edit_of_history(tmp_path, tamper, message):
    db = _db(tmp_path)
    with db.engine.begin() as conn:
        tamper(conn)
    with pytest.raises(AuditError, match=message):
        db.audit()


def test_a_missing_directory_is_a_store_error(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        Database(tmp_path / "nope" / "x.db")


def test_two_handles_on_one_file_append_in_turn(tmp_path):
    a, b = _db(tmp_path, 2), Database(tmp_path / "log.db")
    with a.transaction() as conn:
        append(conn, [LogRecord("k", None, "a")], "t")
    with b.transaction() as conn:
        append(conn, [LogRecord("k", None, "b")], "t")
    assert a.audit().records == 4


def test_error_messages_never_show_a_password():
    from portwatch.store.connection import safe_name

    assert safe_name("postgresql+psycopg://u:secret@h/db") == "postgresql+psycopg://u:***@h/db"
    assert safe_name("pw.db") == "pw.db"
