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
