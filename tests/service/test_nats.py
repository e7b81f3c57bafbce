"""NATS JetStream: a work queue shared by two consumers, one killed mid-stream;
duplicates removed by message id; a poison message dead-lettered.

``PORTWATCH_TEST_NATS_URL`` names the server (CI starts one); without it these tests
skip, and under ``CI=true`` a missing server fails them.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.service.conftest import trip
from tests.service.serverproc import SRC

from portwatch.custody.registry import shipment_from_mapping
from portwatch.custody.service import CustodyService
from portwatch.service.nats_consumer import Consumer, NatsConfig, message_id, publish
from portwatch.store.database import Database
from portwatch.store.schema import event_log, seal_messages

pytestmark = pytest.mark.integration
AS_OF = datetime(2025, 6, 3, tzinfo=UTC)


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"NATS required under CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture
def nats_url() -> str:
    url = os.environ.get("PORTWATCH_TEST_NATS_URL")
    if not url:
        _missing("PORTWATCH_TEST_NATS_URL is not set")
    assert url is not None

    async def ping() -> None:
        import nats

        nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0)
        await nc.jetstream().account_info()
        await nc.close()

    try:
        asyncio.run(ping())
    except Exception as exc:  # noqa: BLE001 - any failure means "unreachable"
        _missing(f"NATS JetStream at {url} unreachable: {exc}")
    return url


def _cfg(**kw: object) -> NatsConfig:
    tag = uuid.uuid4().hex[:8]
    return NatsConfig(stream=f"PWTEST_{tag}", subject_prefix=f"pwtest.{tag}",
                      durable=f"ingest-{tag}", dead_letter=f"pwtest.{tag}dl", **kw)


async def _js(url: str):  # type: ignore[no-untyped-def]
    import nats

    nc = await nats.connect(url)
    return nc, nc.jetstream()


def test_message_id_keeps_a_retry_and_separates_an_equivocation() -> None:
    t = trip(0)
    line = t.lines[3]
    assert message_id(line) == message_id(line)
    other = line.replace('"sig":"', '"sig":"B', 1)
    assert message_id(line).rsplit(":", 1)[0] == message_id(other).rsplit(":", 1)[0]
    assert message_id(line) != message_id(other)


def _consumer(url: str, db: str, cfg: NatsConfig, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, "-m", "portwatch", "service", "consume", "--nats", url, "--db", db,
         "--stream", cfg.stream, "--subject-prefix", cfg.subject_prefix,
         "--durable", cfg.durable, "--batch", "50"],
        stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env)


def _stored(db: Database) -> tuple[int, int]:
    with db.reading() as conn:
        n_msg = conn.execute(select(func.count()).select_from(seal_messages)).scalar_one()
        n_rec = conn.execute(select(func.count()).select_from(event_log).where(
            event_log.c.kind == "seal.message")).scalar_one()
    return int(n_msg), int(n_rec)


@pytest.fixture(params=["sqlite", "postgres"])
def shared_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return str(tmp_path / "nats.db")


def test_two_consumers_one_killed_mid_stream(nats_url: str, shared_db: str,
                                             tmp_path: Path) -> None:
    db_path = shared_db
    db = Database(db_path)
    trips = [trip(k) for k in range(20)]
    svc = CustodyService(db)
    for t in trips:
        svc.register(shipment_from_mapping(t.shipment))
    # The stream is published in two halves, and the kill lands between them, so it
    # lands mid-stream however fast the consumers are.
    first = [line for t in trips[:10] for line in t.lines]
    second = [line for t in trips[10:] for line in t.lines]
    lines = first + second
    unique = len(set(lines))
    cfg = _cfg()

    async def send(chunk: list[str]) -> int:
        nc, js = await _js(nats_url)
        try:
            from portwatch.service.nats_consumer import ensure_stream

            await ensure_stream(js, cfg)
            return await publish(js, cfg, "tijuana", chunk)
        finally:
            await nc.drain()

    stored = asyncio.run(send(first))
    assert stored == len(set(first))  # the trips' own repeats are dropped by message id
    assert asyncio.run(send(first[:100])) == 0  # a gateway's retry: all duplicates
    log = tmp_path / "consumers.log"
    a = _consumer(nats_url, db_path, cfg, log)
    b = _consumer(nats_url, db_path, cfg, log)

    async def pending(delete: bool = False) -> int:
        nc, js = await _js(nats_url)
        try:
            info = await js.stream_info(cfg.stream)
            if delete:
                for name in (cfg.stream, cfg.dead_letter_stream):
                    await js.delete_stream(name)
            return int(info.state.messages)
        finally:
            await nc.drain()

    try:
        deadline = time.monotonic() + 120
        while _stored(db)[0] < 100 and time.monotonic() < deadline:
            time.sleep(0.01)
        a.kill()  # SIGKILL mid-stream: its unacked messages go back to the queue
        a.wait()
        assert _stored(db)[0] < unique, "the kill landed mid-stream"
        assert asyncio.run(send(second)) == len(set(second) - set(first))
        while _stored(db)[0] < unique and time.monotonic() < deadline:
            time.sleep(0.2)
        n_msg, n_rec = _stored(db)
        assert n_msg == n_rec == unique, log.read_text()[-3000:]
        # a work queue: once the survivor has acked its last batch, nothing is left
        while asyncio.run(pending()) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        for p in (a, b):
            p.kill()
            p.wait()
    assert asyncio.run(pending(delete=True)) == 0
    assert _stored(db) == (unique, unique)  # and nothing was stored twice meanwhile
    assert db.audit().records > unique
    # the same verdicts as one process ingesting everything in order
    alone = Database(str(tmp_path / "alone.db"))
    one = CustodyService(alone)
    for t in trips:
        one.register(shipment_from_mapping(t.shipment))
    one.ingest(lines)
    shared = CustodyService(db)
    for t in trips:
        assert shared.verdict(t.shipment_id, as_of=AS_OF).verdict == \
            one.verdict(t.shipment_id, as_of=AS_OF).verdict
    alone.close()
    db.close()


def test_poison_message_is_dead_lettered_after_max_deliveries(nats_url: str) -> None:
    cfg = _cfg(max_deliver=2, backoff_s=(0.05,), ack_wait_s=3.0, batch=10,
               fetch_timeout_s=0.2)
    committed: list[str] = []

    def ingest(lines: list[str]) -> None:
        if any("poison" in line for line in lines):
            raise RuntimeError("cannot ingest")
        committed.extend(lines)

    async def run() -> tuple[Consumer, list[bytes]]:
        nc, js = await _js(nats_url)
        dead: list[bytes] = []

        async def on_dead(m) -> None:  # type: ignore[no-untyped-def]
            dead.append(m.data)

        sub = await nc.subscribe(cfg.dead_letter, cb=on_dead)
        consumer = Consumer(js, cfg, ingest)
        await consumer.start()
        await publish(js, cfg, "r1", ['{"seal_id":"S","seq":1}', "poison",
                                      '{"seal_id":"S","seq":2}'])
        for _ in range(100):
            await consumer.step()
            if consumer.dead and consumer.acked >= 2:
                break
        # the dead letter reaches our subscription when the server delivers it: wait
        # for it (bounded), not for a fixed time
        for _ in range(600):
            if dead:
                break
            await asyncio.sleep(0.05)
        await sub.unsubscribe()
        for name in (cfg.stream, cfg.dead_letter_stream):
            await js.delete_stream(name)
        await nc.drain()
        return consumer, dead

    consumer, dead = asyncio.run(run())
    assert sorted(committed) == ['{"seal_id":"S","seq":1}', '{"seal_id":"S","seq":2}']
    assert consumer.dead == 1 and dead == [b"poison"]


def test_forged_and_replayed_messages_through_nats_are_caught(nats_url: str,
                                                             tmp_path: Path) -> None:
    """An attacker who can publish to the subjects: a forged copy of a message already
    stored (same seal and seq, another signature) is not dropped as a duplicate but
    reaches the verifier, is rejected and raises an alert; a verbatim replay is stored
    once; a message of an unknown seal is rejected. All are acknowledged."""
    from portwatch.service import Settings
    from portwatch.service.routes.telemetry import ingest
    from portwatch.service.state import ServiceState
    from portwatch.store import service_store as ss

    state = ServiceState.open(Settings(database_url=str(tmp_path / "forged.db"),
                                       environment="development", seed=1))
    t = trip(0)
    state.custody.register(shipment_from_mapping(t.shipment))
    good = t.lines[:20]
    # the position moved, the seal's signature kept: what a forger without the key sends
    doc = json.loads(good[10])
    doc["lat_e7"] += 100_000
    forged = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    stranger = good[11].replace(t.shipment["seal"]["seal_id"], "SEAL-NOBODY")
    cfg = _cfg(batch=50, fetch_timeout_s=0.2)

    async def run() -> tuple[int, Consumer]:
        nc, js = await _js(nats_url)
        consumer = Consumer(js, cfg, lambda lines: ingest(state, lines, "nats:test", "nats"))
        await consumer.start()
        first = await publish(js, cfg, "r1", good)
        # after the first copies were consumed and acked: their ids leave nothing to
        # drop a forgery by, and a replay after the window must be idempotent anyway
        while consumer.acked < first:
            await consumer.step()
        later = await publish(js, cfg, "r2", [forged, good[10], stranger])
        while consumer.acked < first + later:
            await consumer.step()
        for _ in range(600):  # acks reach the server asynchronously: wait, bounded
            info = await js.stream_info(cfg.stream)
            if not info.state.messages:
                break
            await asyncio.sleep(0.05)
        for name in (cfg.stream, cfg.dead_letter_stream):
            await js.delete_stream(name)
        await nc.drain()
        return int(info.state.messages), consumer

    try:
        left, consumer = asyncio.run(run())
        assert left == 0 and consumer.dead == 0
        assert _stored(state.db) == (len(set(good)), len(set(good)))
        with state.db.reading() as conn:
            alerts = ss.alert_rows(conn, limit=100)
        kinds = {a.kind for a in alerts}
        assert {"bad_signature", "unknown_seal"} <= kinds, kinds
    finally:
        state.close()


def test_a_slow_commit_beats_its_ack_wait_and_is_not_redelivered(nats_url: str) -> None:
    """A batch that takes longer than the ack wait to commit sends in-progress
    heartbeats, so the other instance, fetching all the while, is not handed it again;
    the consumer on the server has the ack wait and deliveries set on purpose."""
    cfg = _cfg(ack_wait_s=1.5, batch=10, fetch_timeout_s=0.2)
    slow_calls: list[list[str]] = []
    other_calls: list[list[str]] = []

    def slow(lines: list[str]) -> None:
        slow_calls.append(list(lines))
        time.sleep(4 * cfg.ack_wait_s)  # the commit outlasts the ack wait several times

    async def run() -> tuple[Any, int]:
        nc, js = await _js(nats_url)
        a = Consumer(js, cfg, slow)
        b = Consumer(js, cfg, lambda lines: other_calls.append(lines) if lines else None)
        await a.start()
        await b.start()
        await publish(js, cfg, "r1", ['{"seal_id":"S","seq":1}'])
        done = asyncio.Event()

        async def other() -> None:
            while not done.is_set():
                await b.step()

        watcher = asyncio.create_task(other())
        while not slow_calls:
            await a.step()
        done.set()
        await watcher
        info = await js.consumer_info(cfg.stream, cfg.durable)
        for c in (a, b):
            await c.sub.unsubscribe()
        for name in (cfg.stream, cfg.dead_letter_stream):
            await js.delete_stream(name)
        await nc.drain()
        return info.config, a.acked

    config, acked = asyncio.run(run())
    assert len(slow_calls) == 1 and acked == 1
    assert other_calls == []
    assert (config.ack_wait, config.max_deliver, config.durable_name) == (
        cfg.ack_wait_s, cfg.max_deliver, cfg.durable)
