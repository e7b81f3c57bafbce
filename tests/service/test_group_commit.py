"""Decisions of concurrent arrivals committed in groups: every one stored once with its
audit record, the chain intact, and a failed group leaves nothing of itself behind."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from portwatch.service.decisions import Arrival, decide
from portwatch.store import service_store as ss
from portwatch.store.schema import event_log
from portwatch.store.service_tables import decisions

from .conftest import Svc, setup_port


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
        n_log = conn.execute(select(func.count()).select_from(event_log)
                             .where(event_log.c.kind == "service.arrival.decide")).scalar_one()
    return n_dec, n_log


def test_concurrent_arrivals_are_each_stored_once_with_their_record(svc: Svc) -> None:
    setup_port(svc, 0.5)
    made, errors = _arrive_from_threads(svc, 12, 10)
    assert errors == [] and len(made) == 120
    assert len({m.decision_id for m in made}) == 120
    assert _counts(svc) == (120, 120)
    with svc.state.db.reading() as conn:
        rows = conn.execute(select(decisions.c.decision_id, decisions.c.log_id)).all()
        logged = dict(conn.execute(select(event_log.c.subject, event_log.c.id)
                                   .where(event_log.c.kind == "service.arrival.decide")).all())
    assert {r.decision_id: r.log_id for r in rows} == logged  # each row names its record
    assert svc.state.db.audit().records > 120  # the chain is whole


def test_a_failed_group_stores_nothing_and_fails_each_of_its_requests(
        svc: Svc, monkeypatch: pytest.MonkeyPatch) -> None:
    setup_port(svc, 0.5)
    before = _counts(svc)
    real = ss.add_decisions
    calls = Counter[str]()

    def fail_first(conn, rows):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("disk full")
        real(conn, rows)

    monkeypatch.setattr(ss, "add_decisions", fail_first)
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


def test_arrivals_that_come_during_a_commit_share_the_next_one(svc: Svc) -> None:
    setup_port(svc, 0.5)
    state = svc.state
    groups = state.metrics.decision_groups
    before = (groups._sum.get(), sum(b.get() for b in groups._buckets))
    made: list = []
    with state.custody_lock:  # the first arrival's group cannot commit yet
        threads = [threading.Thread(target=lambda i=i: made.append(
            decide(state, Arrival("truck", f"G{i}", None, None, "2506"), "officer:g")))
            for i in range(5)]
        threads[0].start()
        # the first leads, has taken its group (itself) and waits for the lock
        _until(lambda: state.decisions._leading and not state.decisions._pending)
        for th in threads[1:]:
            th.start()
        _until(lambda: len(state.decisions._pending) == 4)  # they wait for the next group
    for th in threads:
        th.join()
    assert len(made) == 5
    after = (groups._sum.get(), sum(b.get() for b in groups._buckets))
    assert (after[0] - before[0], after[1] - before[1]) == (5, 2)  # groups of 1 and 4
