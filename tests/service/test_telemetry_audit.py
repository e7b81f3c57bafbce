"""Telemetry: the record of who sent a batch is in the same transaction as the
messages it records; a failure between them leaves neither."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from portwatch.service.routes import telemetry as tel
from portwatch.store.schema import event_log, seal_messages

from .conftest import Svc, trip


def _stored(s: Svc) -> tuple[int, int]:
    with s.state.db.reading() as conn:
        msgs = conn.execute(select(func.count()).select_from(seal_messages)).scalar_one()
        batches = conn.execute(select(func.count()).select_from(event_log).where(
            event_log.c.kind == "service.telemetry.batch")).scalar_one()
    return msgs, batches


def test_the_batch_record_names_its_sender_in_the_messages_transaction(svc: Svc) -> None:
    t = trip(0)
    assert svc.client.post("/v1/shipments", json=t.shipment,
                           headers=svc.h("admin")).status_code == 201
    r = svc.client.post("/v1/telemetry", json=t.lines[:20], headers=svc.h("gateway"))
    assert r.status_code == 200 and r.json()["accepted"] == 20
    with svc.state.db.reading() as conn:
        rows = conn.execute(select(event_log.c.kind, event_log.c.recorded_at, event_log.c.body)
                            .order_by(event_log.c.id.desc()).limit(21)).all()
    assert rows[0].kind == "service.telemetry.batch"
    assert json.loads(rows[0].body)["who"].startswith("gateway:gw-1#")
    assert {r.kind for r in rows[1:]} == {"seal.message"}


def test_a_failure_between_the_messages_and_their_record_leaves_neither(
        svc: Svc, monkeypatch: pytest.MonkeyPatch) -> None:
    t = trip(1)
    assert svc.client.post("/v1/shipments", json=t.shipment,
                           headers=svc.h("admin")).status_code == 201
    before = _stored(svc)

    def broken_audit(*args: object, **kwargs: object) -> int:
        raise RuntimeError("the audit record could not be written")

    monkeypatch.setattr(tel.ss, "audit", broken_audit)
    quiet = TestClient(svc.client.app, raise_server_exceptions=False)
    r = quiet.post("/v1/telemetry", json=t.lines[:20], headers=svc.h("gateway"))
    assert r.status_code == 500
    assert _stored(svc) == before  # no message without its record
    monkeypatch.undo()
    r = svc.client.post("/v1/telemetry", json=t.lines[:20], headers=svc.h("gateway"))
    unique = len(set(t.lines[:20]))  # a trip delivers some messages twice
    assert r.json()["accepted"] == unique  # the retry is taken whole: nothing was kept
    assert _stored(svc) == (before[0] + unique, before[1] + 1)
