"""kill -9 of ``portwatch serve`` during ingestion: after a restart every message that
was answered "accepted" is stored, and none twice."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from tests.service.conftest import trip
from tests.service.serverproc import free_port, start

from portwatch.custody.registry import shipment_from_mapping
from portwatch.custody.service import CustodyService
from portwatch.service.auth import create_token
from portwatch.store.database import Database
from portwatch.store.schema import event_log, seal_messages


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def crash_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return str(tmp_path / "crash.db")


def test_kill_9_during_ingestion_loses_no_acknowledged_message(tmp_path: Path,
                                                               crash_db: str) -> None:
    db_path = crash_db
    db = Database(db_path)
    trips = [trip(k) for k in range(6)]
    svc = CustodyService(db)
    for t in trips:
        svc.register(shipment_from_mapping(t.shipment))
    token = create_token(db, "gateway", "gw").token
    db.close()
    lines = [line for t in trips for line in t.lines]
    batches = [lines[i:i + 40] for i in range(0, len(lines), 40)]
    port = free_port()
    log = tmp_path / "serve.log"
    proc = start(db_path, port, log)
    acked: list[str] = []
    ready, killed = threading.Event(), threading.Event()
    after = [len(batches)]  # the batch after which the kill comes
    headers = {"Authorization": f"Bearer {token}"}

    def send() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for k, batch in enumerate(batches):
                if ready.is_set() and k > after[0] + 1:
                    # one batch goes out as the kill comes; the next ones only after
                    # it, so the kill lands mid-stream however fast the server is
                    assert killed.wait(120)
                try:
                    r = client.post("/v1/telemetry", json=batch, headers=headers)
                except httpx.HTTPError:
                    return  # the server died under us: this batch was never acknowledged
                if r.status_code != 200:
                    return
                acked.extend(batch[x["index"]] for x in r.json()["results"]
                             if x["status"] == "accepted")
                if len(acked) >= 200 and not ready.is_set():
                    after[0] = k
                    ready.set()
        ready.set()

    sender = threading.Thread(target=send)
    sender.start()
    assert ready.wait(120)
    proc.kill()  # SIGKILL, mid-stream
    proc.wait()
    killed.set()
    sender.join(60)
    assert 200 <= len(acked) < len(lines), "the kill landed during ingestion"

    # restart, and check what the first process acknowledged
    proc = start(db_path, port, log)
    try:
        check = Database(db_path)
        with check.reading() as conn:
            stored = {r.body for r in conn.execute(
                select(event_log.c.body).where(event_log.c.kind == "seal.message"))}
            n_records = conn.execute(select(func.count()).select_from(event_log).where(
                event_log.c.kind == "seal.message")).scalar_one()
            n_messages = conn.execute(
                select(func.count()).select_from(seal_messages)).scalar_one()
        assert set(acked) <= stored
        assert n_records == n_messages == len(stored)  # none twice
        # the gateway resends everything: the rest goes in, nothing is doubled
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            for batch in batches:
                assert client.post("/v1/telemetry", json=batch,
                                   headers=headers).status_code == 200
        with check.reading() as conn:
            n_after = conn.execute(select(func.count()).select_from(seal_messages)).scalar_one()
        assert n_after == len(set(lines))
        assert check.audit().records > n_after
        check.close()
    finally:
        proc.kill()
        proc.wait()
    assert "pwt_" not in log.read_text()  # tokens never reach the log
