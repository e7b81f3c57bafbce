"""Decisions of concurrent arrivals committed in groups on parallel audit streams: every
one stored once with its audit record, the chains intact, a failed group leaves nothing
of itself behind, a group committing on one stream holds up no arrival on another, and
referrals not yet committed count in the secondary queue."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import func, select

from portwatch.service.decisions import Arrival, GroupCommit, decide
from portwatch.store import service_store as ss
from portwatch.store.schema import stream_log
from portwatch.store.service_tables import decisions

from .conftest import Svc, make_svc, setup_port


def _arrive_from_threads(s: Svc, n_threads: int, each: int) -> tuple[list, list]:
    made, errors = [], []
    start = threading.Barrier(n_threads)

    def work(t: int) -> None:
        start.wait()
        for i in range(each):
            try:
                made.append(decide(s.state, Arrival("truck", f"T{t}-{i}", None, None, "2506"),
                                   f"officer:t{t}"))
            except Exception as exc:  # noqa: BLE001 - collected for the assertions
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return made, errors


def _counts(s: Svc) -> tuple[int, int]:
    with s.state.db.reading() as conn:
        n_dec = conn.execute(select(func.count()).select_from(decisions)).scalar_one()
        n_log = conn.execute(select(func.count()).select_from(stream_log)
                             .where(stream_log.c.kind == "service.arrival.decide")).scalar_one()
    return n_dec, n_log


def test_concurrent_arrivals_are_each_stored_once_with_their_record(svc: Svc) -> None:
    setup_port(svc, 0.5)
    made, errors = _arrive_from_threads(svc, 12, 10)
    assert errors == [] and len(made) == 120
    assert len({m.decision_id for m in made}) == 120
    assert _counts(svc) == (120, 120)
    with svc.state.db.reading() as conn:
        rows = conn.execute(select(decisions.c.decision_id, decisions.c.log_stream,
                                   decisions.c.log_id)).all()
        logged = {r.subject: (r.stream, r.seq) for r in conn.execute(
            select(stream_log.c.subject, stream_log.c.stream, stream_log.c.seq)
            .where(stream_log.c.kind == "service.arrival.decide")).all()}
    # each row names its record
    assert {r.decision_id: (r.log_stream, r.log_id) for r in rows} == logged
    svc.state.db.audit()  # every chain is whole


def test_a_failed_group_stores_nothing_and_fails_each_of_its_requests(
        svc: Svc, monkeypatch: pytest.MonkeyPatch) -> None:
    setup_port(svc, 0.5)
    before = _counts(svc)
    real = ss.decision_rows_in_order
    calls = Counter[str]()

    def fail_first(rows):  # type: ignore[no-untyped-def]
        calls["n"] += 1  # after the audit records are built, before anything commits
        if calls["n"] == 1:
            raise RuntimeError("disk full")
        return real(rows)

    monkeypatch.setattr(ss, "decision_rows_in_order", fail_first)
    with pytest.raises(RuntimeError, match="disk full"):
        decide(svc.state, Arrival("truck", "F1", None, None, "2506"), "officer:f")
    assert _counts(svc) == before  # neither the decision nor its audit record
    made = decide(svc.state, Arrival("truck", "F2", None, None, "2506"), "officer:f")
    assert made.policy_version >= 1
    assert _counts(svc) == (before[0] + 1, before[1] + 1)


def _until(ready, tries: int = 20_000) -> None:  # type: ignore[no-untyped-def]
    for _ in range(tries):
        if ready():
            return
        threading.Event().wait(0.001)
    raise AssertionError("the threads never reached the expected state")


@contextmanager
def _gate_first_commit(state: Any, gate: threading.Event) -> Iterator[threading.Event]:
    """The first decision transaction waits (before its commit) until ``gate`` is set;
    yields an event set once it waits."""
    real = state.write_decisions
    waiting = threading.Event()
    calls = Counter[str]()

    @contextmanager
    def gated() -> Iterator[Any]:
        calls["n"] += 1
        first = calls["n"] == 1
        with real() as conn:
            yield conn
            if first:
                waiting.set()
                assert gate.wait(30)

    state.write_decisions = gated
    try:
        yield waiting
    finally:
        gate.set()
        del state.write_decisions


def test_arrivals_that_come_during_a_commit_share_the_next_one(svc: Svc) -> None:
    setup_port(svc, 0.5)
    state = svc.state
    state.decisions = GroupCommit(streams=1)
    groups = state.metrics.decision_groups
    before = (groups._sum.get(), sum(b.get() for b in groups._buckets))
    made: list = []
    gate = threading.Event()
    lane = state.decisions._lanes[0]
    with _gate_first_commit(state, gate) as waiting:
        threads = [threading.Thread(target=lambda i=i: made.append(
            decide(state, Arrival("truck", f"G{i}", None, None, "2506"), "officer:g")))
            for i in range(5)]
        threads[0].start()
        assert waiting.wait(30)  # the first leads, and its group (itself) cannot commit
        for th in threads[1:]:
            th.start()
        _until(lambda: len(lane.pending) == 4)  # they wait for the next group
        gate.set()
        for th in threads:
            th.join()
    assert len(made) == 5
    after = (groups._sum.get(), sum(b.get() for b in groups._buckets))
    assert (after[0] - before[0], after[1] - before[1]) == (5, 2)  # groups of 1 and 4


@pytest.fixture
def two_bays(tmp_path: Any) -> Iterator[Svc]:
    yield from make_svc(str(tmp_path / "cap.db"), secondary_capacity=2)


def test_referrals_earlier_in_the_same_group_count_in_secondary(two_bays: Svc) -> None:
    """Secondary holds two. The first arrival's group (alone) refers it; three arrivals
    that came meanwhile are decided in one group: the first of them takes the last
    place, the other two find secondary full."""
    s = two_bays
    setup_port(s, 1.0)  # every arrival drawn for a referral
    state = s.state
    state.decisions = GroupCommit(streams=1)
    gate = threading.Event()
    made: dict[str, Any] = {}

    def arrive(plate: str) -> None:
        made[plate] = decide(state, Arrival("truck", plate, None, None, "2506"), "o:c")

    with _gate_first_commit(state, gate) as waiting:
        threads = [threading.Thread(target=arrive, args=(p,)) for p in "ABCD"]
        threads[0].start()
        assert waiting.wait(30)
        for th in threads[1:]:
            th.start()
        _until(lambda: len(state.decisions._lanes[0].pending) == 3)
        gate.set()
        for th in threads:
            th.join()
    assert made["A"].referral
    assert sorted(m.reason for p, m in made.items() if p != "A") == [
        "random referral", "secondary full, waved through",
        "secondary full, waved through"]


@pytest.fixture
def pg_svc(postgres_url: str) -> Iterator[Svc]:
    """The app on PostgreSQL, where groups on different streams commit side by side."""
    yield from make_svc(postgres_url, secondary_capacity=1)


def _second_while_first_uncommitted(state, first_plate: str, second_plate: str):  # type: ignore[no-untyped-def]
    """Decide ``first_plate`` in a thread whose group is held before its commit (on
    stream 1 of two), then ``second_plate`` meanwhile; returns (the first's decision in
    a list, the second's decision)."""
    state.decisions = GroupCommit(streams=2)
    gate = threading.Event()
    made: list = []
    with _gate_first_commit(state, gate) as waiting:
        first = threading.Thread(target=lambda: made.append(
            decide(state, Arrival("truck", first_plate, None, None, "2506"), "officer:s")))
        first.start()
        assert waiting.wait(30)  # stream 1's group holds its head, uncommitted
        second = decide(state, Arrival("truck", second_plate, None, None, "2506"),
                        "officer:s")
        assert made == []  # answered while the first group is still not committed
        gate.set()
        first.join()
    return made, second


@pytest.mark.integration
def test_a_group_committing_on_one_stream_holds_up_no_arrival_on_another(
        pg_svc: Svc) -> None:
    setup_port(pg_svc, 0.0)
    state = pg_svc.state
    made, second = _second_while_first_uncommitted(state, "S1", "S2")
    assert len(made) == 1
    with state.db.reading() as conn:
        rows = dict(conn.execute(select(decisions.c.plate, decisions.c.log_stream)).all())
    assert rows == {"S1": 1, "S2": 2} and second.decision_id
    state.db.audit()


@pytest.mark.integration
def test_a_referral_not_yet_committed_counts_in_secondary(pg_svc: Svc) -> None:
    """Secondary holds one; the first arrival is referred and its group has not
    committed when the second comes: the second must see secondary full."""
    setup_port(pg_svc, 1.0)  # every arrival drawn for a referral
    state = pg_svc.state
    made, second = _second_while_first_uncommitted(state, "Q1", "Q2")
    assert made[0].referral and made[0].lane == "secondary"
    assert not second.referral and second.reason == "secondary full, waved through"
    assert state.decisions.inflight("2506") == 0  # nothing left counted once committed


def test_a_group_the_database_refuses_stores_nothing_and_the_next_one_works(
        svc: Svc, monkeypatch: pytest.MonkeyPatch) -> None:
    """The database itself refuses a group (a decision id already stored: the
    records, the head and the rows go in one round trip on PostgreSQL): none of it is
    kept, the stream's head stays where it was, and the next group is stored."""
    import portwatch.service.decisions as dmod

    setup_port(svc, 0.5)
    monkeypatch.setattr(dmod.secrets, "token_hex", lambda n: "same" * (n // 2))
    first = decide(svc.state, Arrival("truck", "R1", None, None, "2506"), "officer:r")
    before = _counts(svc)
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        decide(svc.state, Arrival("truck", "R2", None, None, "2506"), "officer:r")
    assert _counts(svc) == before
    monkeypatch.undo()
    second = decide(svc.state, Arrival("truck", "R3", None, None, "2506"), "officer:r")
    assert second.decision_id != first.decision_id
    assert _counts(svc) == (before[0] + 1, before[1] + 1)
    svc.state.db.audit()
