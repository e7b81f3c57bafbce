"""Alembic migrations: a database of the previous release upgrades in place, and the
migrated schema equals the tables the code defines (so a schema change without a
migration fails here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, inspect, select
from tests.service import legacy_schema_v0, legacy_schema_v1
from tests.service.conftest import make_svc, policy_doc, trip

from portwatch.custody.registry import shipment_from_mapping
from portwatch.custody.service import CustodyService
from portwatch.store import eventlog, migrate
from portwatch.store.connection import open_engine
from portwatch.store.database import Database
from portwatch.store.eventlog import LogRecord

LEGACY = {"0.1.0": legacy_schema_v0, "custody-hardened": legacy_schema_v1}


def _legacy_database(url: str, v0: Any) -> None:
    """What an older release left: ``create_all`` of its schema, a log and a seal row."""
    engine = open_engine(url)
    with engine.begin() as conn:
        v0.metadata.create_all(conn)
        eventlog.ensure_head(conn)
        ids = eventlog.append(conn, [LogRecord("registry.seal", "S-1", '{"seal_id":"S-1"}'),
                                     LogRecord("note", None, "made by 0.1.0")],
                              "2026-01-01T00:00:00+00:00")
        conn.execute(insert(v0.seals).values(seal_id="S-1", public_key="k" * 43,
                                             log_id=ids[0]))
    engine.dispose()


def _same_schema(db: Database) -> list[object]:
    with db.engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn),
                                     migrate.target_metadata()))


def _check_upgrade(url: str, v0: Any) -> None:
    _legacy_database(url, v0)
    db = Database(url)  # upgrades in place
    with db.reading() as conn:
        assert migrate.current(conn) == migrate.head()
        assert inspect(conn).has_table("api_tokens")
        seals = conn.execute(select(v0.seals.c.seal_id)).scalars().all()
    assert seals == ["S-1"]
    assert db.audit().records == 2  # the old chain is intact
    assert _same_schema(db) == []
    # and the upgraded database works: a shipment, its messages, a verdict
    t = trip(0)
    svc = CustodyService(db)
    svc.register(shipment_from_mapping(t.shipment))
    assert svc.ingest(t.lines).accepted > 0
    assert svc.verdict(t.shipment_id).verdict.value == "clean"
    db.close()
    Database(url).close()  # reopening a database at the head changes nothing


@pytest.mark.parametrize("release", sorted(LEGACY))
def test_previous_release_database_upgrades_in_place(tmp_path: Path, release: str) -> None:
    _check_upgrade(str(tmp_path / "old.db"), LEGACY[release])


def test_fresh_database_schema_equals_the_code(tmp_path: Path) -> None:
    db = Database(str(tmp_path / "new.db"))
    assert _same_schema(db) == []
    db.close()


def test_compare_catches_a_table_without_migration(tmp_path: Path) -> None:
    from sqlalchemy import Column, Integer, MetaData, Table

    db = Database(str(tmp_path / "new.db"))
    extra = MetaData()
    for table in migrate.target_metadata().tables.values():
        table.to_metadata(extra)
    Table("unmigrated", extra, Column("id", Integer, primary_key=True))
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), extra)
    assert [d[0] for d in diff] == ["add_table"]
    db.close()


@pytest.mark.integration
@pytest.mark.parametrize("release", sorted(LEGACY))
def test_upgrade_and_schema_on_postgresql(postgres_url: str, release: str) -> None:
    _check_upgrade(postgres_url, LEGACY[release])



def _as_made_by_0003(url: str) -> tuple[str, str]:
    """A database as revision 0003 left it, with a shipment and its messages: made now,
    then the verdict rows and the port column taken away and the revision set back."""
    from sqlalchemy import text

    from portwatch.store.anchor import Anchor

    t = trip(2)
    db = Database(url, Anchor.beside(Path(url)))
    svc = CustodyService(db)
    svc.register(shipment_from_mapping(t.shipment))
    svc.ingest(t.lines)
    want = svc.verdict(t.shipment_id).verdict.value
    db.close()
    engine = open_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE policy_reads"))
        conn.execute(text("ALTER TABLE policy_activations DROP COLUMN override_reason"))
        conn.execute(text("DROP TABLE stream_log"))
        conn.execute(text("DROP TABLE stream_heads"))
        conn.execute(text("ALTER TABLE decisions DROP COLUMN log_stream"))
        conn.execute(text("DROP TABLE custody_verdicts"))
        conn.execute(text("DROP INDEX ix_shipments_port"))
        conn.execute(text("DROP INDEX ix_decisions_referrals"))
        conn.execute(text("ALTER TABLE shipments DROP COLUMN port_code"))
        conn.execute(text("UPDATE alembic_version SET version_num = '0003'"))
    engine.dispose()
    return t.shipment_id, want


def test_shipments_of_a_0003_database_get_their_verdict_rows(tmp_path: Path) -> None:
    from portwatch.store.anchor import Anchor
    from portwatch.store.schema import custody_verdicts

    url = str(tmp_path / "v3.db")
    sid, want = _as_made_by_0003(url)
    db = Database(url, Anchor.beside(Path(url)))  # upgrades to 0004
    svc = CustodyService(db)
    assert _same_schema(db) == []
    # no row yet: the verdict is rebuilt from the log, as 0003 did
    assert svc.verdict(sid).verdict.value == want
    svc.ingest(trip(2).lines[:3])  # any custody write (here duplicates) brings the rows
    with db.reading() as conn:
        assert conn.execute(select(custody_verdicts.c.shipment_id)).scalars().all() == [sid]
    assert svc.check().ok
    assert svc.verdict(sid).verdict.value == want
    db.close()


def _as_made_by_0004(url: str) -> None:
    """A database migrated to revision 0004 (and no further), with a decision whose
    audit record is in the event log, as the service of 0004 stored it."""
    from alembic import command
    from sqlalchemy import text

    engine = open_engine(url)
    with engine.begin() as conn:
        command.upgrade(migrate._config(conn), "0004")
        eventlog.ensure_head(conn)
        (log_id,) = eventlog.append(conn, [LogRecord(
            "service.arrival.decide", "D-old", '{"lane":"general","who":"officer:b"}')],
            "2026-01-01T00:00:00+00:00")
        conn.execute(text(
            "INSERT INTO decisions (decision_id, decided_at, port_code, mode, plate, "
            "custody, lane, referral, reason, policy_version, u, decided_by, log_id) "
            "VALUES ('D-old', '2026-01-01T00:00:00+00:00', '2506', 'truck', 'P1', 'none', "
            "'general', false, 'random draw', 1, 0.5, 'officer:b', :log_id)"),
            {"log_id": log_id})
    engine.dispose()


def _upgraded(url: str) -> Database:
    """The database at ``url`` opened, so upgraded to the head, with the code's schema."""
    db = Database(url)
    assert _same_schema(db) == []
    with db.reading() as conn:
        assert migrate.current(conn) == migrate.head()
    return db


def _assert_upgrade_from_0004(url: str) -> None:
    from portwatch.store import streams
    from portwatch.store.service_tables import decisions

    _as_made_by_0004(url)
    db = _upgraded(url)
    with db.reading() as conn:
        old = conn.execute(select(decisions).where(decisions.c.decision_id == "D-old")).one()
        assert old.log_stream is None  # its record stays in the event log
        rec = conn.execute(select(eventlog.event_log.c.subject)
                           .where(eventlog.event_log.c.id == old.log_id)).scalar_one()
        assert rec == "D-old"
        assert streams.heads(conn) == {s: (0, eventlog.GENESIS_HASH)
                                       for s in range(1, streams.MAX_STREAMS + 1)}
    assert db.check().ok
    # a decision made now goes to a stream, and the whole store still checks out
    with db.transaction() as conn:
        (seq,) = streams.append(conn, 3, [LogRecord("service.arrival.decide", "D-new", "{}")],
                                "2026-01-02T00:00:00+00:00")
    assert seq == 1 and db.check().ok
    db.close()


def test_a_0004_database_upgrades_to_audit_streams(tmp_path: Path) -> None:
    _assert_upgrade_from_0004(str(tmp_path / "v4.db"))


@pytest.mark.integration
def test_a_0004_database_upgrades_to_audit_streams_on_postgresql(postgres_url: str) -> None:
    _assert_upgrade_from_0004(postgres_url)


def _as_made_by_0005(url: str) -> None:
    """A database migrated to revision 0005 (and no further), with two policy versions
    activated one after the other, as the service of 0005 stored them."""
    from alembic import command
    from sqlalchemy import text

    engine = open_engine(url)
    with engine.begin() as conn:
        command.upgrade(migrate._config(conn), "0005")
        eventlog.ensure_head(conn)
        for v in (1, 2):
            at = f"2026-01-0{v}T00:00:00+00:00"
            made, activated = eventlog.append(conn, [
                LogRecord("service.policy.create", str(v), '{"who":"admin:a"}'),
                LogRecord("service.policy.activate", str(v), '{"who":"admin:a"}')], at)
            conn.execute(text(
                "INSERT INTO policies (version, name, document, created_at, created_by, "
                "log_id) VALUES (:v, :name, :doc, :at, 'admin:a', :log_id)"),
                {"v": v, "name": f"p{v}", "at": at, "log_id": made,
                 "doc": json.dumps(policy_doc(0.1 * v, name=f"p{v}"))})
            conn.execute(text(
                "INSERT INTO policy_activations (version, action, activated_at, "
                "activated_by, log_id) VALUES (:v, 'activate', :at, 'admin:a', :log_id)"),
                {"v": v, "at": at, "log_id": activated})
    engine.dispose()


def _assert_upgrade_from_0005(url: str) -> None:
    from portwatch.store import service_store as ss
    from portwatch.store.service_tables import policy_reads

    _as_made_by_0005(url)
    db = _upgraded(url)
    with db.reading() as conn:
        history = [(a.version, a.action, a.activated_at, a.override_reason)
                   for a in ss.activations(conn)]
        assert conn.execute(select(policy_reads)).all() == []
        assert ss.active_version(conn) == 2
    # the history is kept, none forced; no version counts as read
    assert history == [(1, "activate", "2026-01-01T00:00:00+00:00", None),
                       (2, "activate", "2026-01-02T00:00:00+00:00", None)]
    assert db.check().ok
    db.close()
    # and the service on it records a read and refuses to bring the read version back
    svc_gen = make_svc(url)
    svc = next(svc_gen)
    try:
        assert svc.client.get("/v1/policies/1", headers=svc.h("analyst")).status_code == 200
        r = svc.client.post("/v1/policies/rollback", headers=svc.h("admin"))
        assert r.status_code == 409 and r.json()["detail"].startswith("policy 1: read by")
        assert svc.state.db.check().ok
    finally:
        svc_gen.close()


def test_a_0005_database_keeps_its_policy_history_and_gets_reads(tmp_path: Path) -> None:
    _assert_upgrade_from_0005(str(tmp_path / "v5.db"))


@pytest.mark.integration
def test_a_0005_database_keeps_its_policy_history_and_gets_reads_on_postgresql(
        postgres_url: str) -> None:
    _assert_upgrade_from_0005(postgres_url)
