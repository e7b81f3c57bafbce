"""Round trips to PostgreSQL on an arrival's path: a group of decisions is two (its
reads with the ``BEGIN``, its writes with the ``COMMIT``), a custody verdict one; a
batched transaction answers nobody before its commit and hands its connection back as
it came, whatever happened in it."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import select

from portwatch.domain.errors import ConflictError, StoreError
from portwatch.service.decisions import Arrival, GroupCommit, decide
from portwatch.store import batch
from portwatch.store.service_tables import decisions

from .conftest import Svc, make_svc, setup_port, trip

pytestmark = pytest.mark.integration


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Svc]:
    yield from make_svc(postgres_url)


@contextmanager
def round_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Counts the messages this process sends to the server and waits for: a statement
    outside a pipeline (and the ``BEGIN`` psycopg sends before it outside autocommit),
    a pipeline's sync, a commit or rollback of an open transaction."""
    seen: Counter[str] = Counter()
    execute, pipeline = psycopg.Cursor.execute, psycopg.Connection.pipeline

    def counted_execute(self: Any, *a: Any, **kw: Any) -> Any:
        conn = self.connection
        if conn._pipeline is None:
            idle = conn.info.transaction_status == TransactionStatus.IDLE
            seen["trips"] += 1 + (not conn.autocommit and idle)
        return execute(self, *a, **kw)

    @contextmanager
    def counted_pipeline(self: Any) -> Iterator[Any]:
        with pipeline(self) as p:
            yield p
        seen["trips"] += 1

    monkeypatch.setattr(psycopg.Cursor, "execute", counted_execute)
    monkeypatch.setattr(psycopg.Connection, "pipeline", counted_pipeline)
    for name in ("commit", "rollback"):
        real = getattr(psycopg.Connection, name)

        def ended(self: Any, _real: Any = real) -> Any:
            if self.info.transaction_status != TransactionStatus.IDLE:
                seen["trips"] += 1
            return _real(self)

        monkeypatch.setattr(psycopg.Connection, name, ended)
    yield seen
    monkeypatch.undo()


def _arrive(s: Svc, plate: str) -> Any:
    return decide(s.state, Arrival("truck", plate, None, None, "2506"), "officer:rt")


def test_a_decision_takes_two_round_trips(pg: Svc, monkeypatch: pytest.MonkeyPatch) -> None:
    setup_port(pg, 0.5)
    _arrive(pg, "W1")  # loads the policy into the process's cache
    with round_trips(monkeypatch) as seen:
        made = _arrive(pg, "W2")
    assert seen["trips"] == 2
    with pg.state.db.reading() as conn:
        stored = conn.execute(select(decisions.c.plate).where(
            decisions.c.decision_id == made.decision_id)).scalar_one()
    assert stored == "W2"
    pg.state.db.audit()


def test_a_custody_verdict_takes_one_round_trip(pg: Svc,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    t = trip(0)
    assert pg.client.post("/v1/shipments", json=t.shipment,
                          headers=pg.h("admin")).status_code == 201
    sid = t.shipment["shipment_id"]
    pg.state.custody.verdict(sid)
    with round_trips(monkeypatch) as seen:
        pg.state.custody.verdict(sid)
    assert seen["trips"] == 1


def _pool_connection_is_clean(s: Svc) -> None:
    """Every pooled connection is out of autocommit, with no transaction open."""
    engine = s.state.db.engine
    held = [engine.connect() for _ in range(3)]
    try:
        for c in held:
            raw = c.connection.driver_connection
            assert not raw.autocommit
            assert raw.info.transaction_status == TransactionStatus.IDLE
    finally:
        for c in held:
            c.close()


def test_a_group_that_fails_after_its_reads_leaves_nothing_and_a_clean_connection(
        pg: Svc) -> None:
    pg.state.decisions = GroupCommit(streams=1)
    with pytest.raises(ConflictError, match="none is active"):
        _arrive(pg, "N1")  # no active policy: found by the first round trip
    _pool_connection_is_clean(pg)
    setup_port(pg, 0.5)
    made = _arrive(pg, "N2")
    with pg.state.db.reading() as conn:
        assert conn.execute(select(decisions.c.plate)).scalars().all() == ["N2"]
    assert made.decision_id
    pg.state.db.audit()


def test_a_refused_commit_is_a_store_error_and_the_connection_comes_back_clean(
        pg: Svc) -> None:
    db = pg.state.db
    with pytest.raises(StoreError, match="division by zero"), \
            db.batched_transaction() as conn:
        b = batch.active(conn)
        assert b is not None
        b.first([])
        b.defer("SELECT 1 / %s", (0,))
    _pool_connection_is_clean(pg)


def test_no_arrival_is_answered_before_its_group_commits(pg: Svc) -> None:
    """The group is held after its writes were handed to the batch, before its commit:
    its request is not answered, and no other connection sees its decision."""
    setup_port(pg, 0.5)
    state = pg.state
    state.decisions = GroupCommit(streams=1)
    real = state.write_decisions
    held, gate = threading.Event(), threading.Event()

    @contextmanager
    def gated() -> Iterator[Any]:
        with real() as conn:
            yield conn
            held.set()
            assert gate.wait(30)

    state.write_decisions = gated
    made: list[Any] = []
    worker = threading.Thread(target=lambda: made.append(_arrive(pg, "H1")))
    worker.start()
    try:
        assert held.wait(30)
        assert made == []
        with state.db.reading() as conn:
            assert conn.execute(select(decisions.c.plate)).scalars().all() == []
    finally:
        gate.set()
        worker.join()
        del state.write_decisions
    assert len(made) == 1
    with state.db.reading() as conn:
        assert conn.execute(select(decisions.c.plate)).scalars().all() == ["H1"]


@pytest.mark.parametrize("plate", [
    "X'); DROP TABLE decisions; --",
    "a\\'b\\\\c",
    "$$; COMMIT; $$",
    "%s %(x)s {0}",
    "É中'\"`;",
])
def test_values_bound_on_the_client_are_stored_verbatim(pg: Svc, plate: str) -> None:
    """Parameters of a batched transaction are quoted by psycopg on the client: text
    an attacker writes into a plate is stored as it came and runs as nothing."""
    setup_port(pg, 0.5)
    r = pg.client.post("/v1/arrivals", json={"mode": "truck", "plate": plate,
                                             "driver_card": plate[:64], "port_code": "2506"},
                       headers=pg.h("officer"))
    assert r.status_code == 200, r.text
    with pg.state.db.reading() as conn:
        row = conn.execute(select(decisions.c.plate, decisions.c.driver_card).where(
            decisions.c.decision_id == r.json()["decision_id"])).one()
    assert tuple(row) == (plate, plate[:64])
    pg.state.db.audit()  # the audit record, hashed over the same text, still matches


def test_a_nul_in_a_plate_is_refused_as_bad_input(svc: Svc) -> None:
    """PostgreSQL text cannot hold NUL; the request is refused before anything is
    stored, on either database, with the field named."""
    setup_port(svc, 0.5)
    r = svc.client.post("/v1/arrivals", json={"mode": "truck", "plate": "A\x00B",
                                              "port_code": "2506"}, headers=svc.h("officer"))
    assert r.status_code == 422, r.text
    assert "plate" in r.json()["detail"]


def test_a_value_the_server_cannot_hold_is_a_store_error(pg: Svc) -> None:
    with pytest.raises(StoreError, match="NUL"), pg.state.db.batched_transaction() as conn:
        b = batch.active(conn)
        assert b is not None
        b.defer("SELECT %s", ("a\x00b",))
    _pool_connection_is_clean(pg)
