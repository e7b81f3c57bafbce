"""The custody store against a real PostgreSQL server."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import update

from portwatch.custody.registry import shipment_from_mapping
from portwatch.custody.service import CustodyService
from portwatch.custody.tripgen import Attack, simulate_trip
from portwatch.domain.custody import Verdict
from portwatch.domain.errors import AuditError
from portwatch.store import Database
from portwatch.store.schema import event_log

pytestmark = pytest.mark.integration


def test_ingest_verdict_and_audit_on_postgresql(postgres_url):
    db = Database(postgres_url)
    assert db.engine.dialect.name == "postgresql"
    svc = CustodyService(db)
    for k, attack in enumerate((Attack.NONE, Attack.DIVERSION, Attack.FORGERY)):
        trip = simulate_trip(np.random.default_rng(k), attack, trip_no=k)
        svc.register(shipment_from_mapping(trip.shipment))
        report = svc.ingest(trip.lines, batch_size=50)
        again = svc.ingest(trip.lines)  # idempotent: everything is a duplicate or known
        assert again.accepted == 0 and again.duplicates >= report.accepted
        # forged lines are evidence against the channel, not the container: review
        expected = {Attack.NONE: Verdict.CLEAN, Attack.DIVERSION: Verdict.BROKEN,
                    Attack.FORGERY: Verdict.REVIEW}[attack]
        assert svc.verdict(trip.shipment_id).verdict is expected
    # a second process sees the same history
    other = CustodyService(Database(postgres_url))
    assert other.audit().records == svc.audit().records > 0
    with db.engine.begin() as conn:
        conn.execute(update(event_log).where(event_log.c.id == 7).values(body="{}"))
    with pytest.raises(AuditError, match="record 7"):
        other.audit()
    db.close()


def test_concurrent_ingestion_on_postgresql_equals_sequential(postgres_url, tmp_path):
    import threading

    from portwatch.store.anchor import Anchor

    trips = [simulate_trip(np.random.default_rng(60 + k), a, trip_no=k)
             for k, a in enumerate((Attack.NONE, Attack.LONG_STOP, Attack.NONE))]
    lines = sorted((x for t in trips for x in t.lines),
                   key=lambda x: x[x.index('"at":"') + 6:][:23])
    anchor = Anchor(tmp_path / "key", tmp_path / "checkpoints.jsonl")

    def service() -> CustodyService:
        return CustodyService(Database(postgres_url, anchor))

    svc = service()
    for t in trips:
        svc.register(shipment_from_mapping(t.shipment))
    errors: list[BaseException] = []

    def work(part: list[str]) -> None:
        try:
            service().ingest(part, batch_size=40)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(lines[k::2],)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    seq = CustodyService(Database("sqlite://"))
    for t in trips:
        seq.register(shipment_from_mapping(t.shipment))
    seq.ingest(lines, batch_size=40)
    for t in trips:
        got, want = svc.verdict(t.shipment_id), seq.verdict(t.shipment_id)
        assert (got.verdict, sorted(a.alert_id for a in got.alerts)) == (
            want.verdict, sorted(a.alert_id for a in want.alerts))
    assert svc.check().ok, svc.check().problems


def test_a_pooled_connection_the_server_dropped_is_replaced(postgres_url, monkeypatch):
    """A connection idle past ``PING_IDLE_S`` is pinged before use: one the server has
    terminated meanwhile is replaced, and the transaction runs."""
    from sqlalchemy import create_engine, text

    from portwatch.store import connection
    from portwatch.store.database import Database

    db = Database(postgres_url)
    with db.reading() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin = create_engine(postgres_url)  # another connection ends the pooled one
    with admin.connect() as other:
        assert other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    admin.dispose()
    monkeypatch.setattr(connection, "PING_IDLE_S", -1.0)  # it has sat idle long enough
    with db.reading() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    db.close()
