"""Ingestion: verification rules, idempotence, transactions, and order independence."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portwatch.custody.keys import private_key_from_seed
from portwatch.custody.registry import shipment_from_mapping
from portwatch.custody.service import CustodyService
from portwatch.custody.thresholds import Thresholds
from portwatch.domain.custody import AlertKind, Verdict
from portwatch.store.database import Database

from .conftest import (
    NOW,
    north,
    registered,
    shipment_doc,
    sim,
    straight_trip,
)

TRIP = sim(seed=5)


def fresh() -> CustodyService:
    return CustodyService(Database(":memory:"), Thresholds(), clock=lambda: NOW)


def snapshot(svc: CustodyService, shipment_id: str) -> tuple:
    v = svc.verdict(shipment_id)
    st_ = svc.status(shipment_id)
    return (v.verdict, v.state, tuple(sorted((a.alert_id, a.kind) for a in v.alerts)),
            st_.messages)


def run_trip(lines: list[str], trip=TRIP) -> CustodyService:
    svc = fresh()
    svc.register(shipment_from_mapping(trip.shipment))
    svc.ingest(lines)
    return svc


def test_clean_simulated_trip_is_clean_with_duplicates_acknowledged():
    svc = run_trip(TRIP.lines)
    v = svc.verdict(TRIP.shipment_id)
    assert v.verdict is Verdict.CLEAN
    assert svc.status(TRIP.shipment_id).messages == len(set(TRIP.lines))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), batch=st.integers(1, 400))
def test_any_permutation_and_batching_gives_the_same_verdict(seed, batch):
    base = run_trip(TRIP.lines)
    lines = list(TRIP.lines)
    np.random.default_rng(seed).shuffle(lines)
    svc = fresh()
    svc.register(shipment_from_mapping(TRIP.shipment))
    svc.ingest(lines, batch_size=batch)
    assert snapshot(svc, TRIP.shipment_id) == snapshot(base, TRIP.shipment_id)


@settings(max_examples=15, deadline=None)
@given(index=st.integers(0, len(TRIP.lines) - 1))
def test_ingesting_any_message_twice_changes_nothing(index):
    svc = run_trip(TRIP.lines)
    before, head = snapshot(svc, TRIP.shipment_id), svc.audit()
    report = svc.ingest([TRIP.lines[index]])
    assert report.duplicates == 1 and report.accepted == 0 and not report.rejected
    assert snapshot(svc, TRIP.shipment_id) == before
    assert svc.audit() == head


@settings(max_examples=8, deadline=None)
@given(start=st.integers(0, 150), count=st.integers(1, 20))
def test_replaying_an_older_trip_adds_only_a_security_alert(start, count):
    attacked = sim("replay", seed=9)
    clean_lines = [line for line in attacked.lines
                   if json.loads(line)["shipment_id"] == attacked.shipment_id]
    old_lines = [line for line in attacked.lines if line not in clean_lines]
    svc = run_trip(clean_lines, attacked)
    verdict_before, state, alerts_before, n_before = snapshot(svc, attacked.shipment_id)
    report = svc.ingest(old_lines[start % len(old_lines):][:count])
    assert report.accepted == 0
    v, state_after, alerts_after, n_after = snapshot(svc, attacked.shipment_id)
    assert (state_after, n_after) == (state, n_before)
    new = set(alerts_after) - set(alerts_before)
    assert new and {kind for _, kind in new} == {AlertKind.REPLAY}
    assert set(alerts_before) <= set(alerts_after)
    assert v is Verdict.BROKEN


def test_unknown_seal_bad_signature_future_and_equivocation(service, key, make_line):
    registered(service, shipment_doc(key))
    lines = straight_trip(make_line)[:5]
    stranger = private_key_from_seed(b"\x01" * 32)
    bad = [
        make_line(99, 300, "position", 32.51, shipment_id="SHP-T1", seal_id="SEAL-NOPE"),
        make_line(100, 300, "position", 32.51, signer=stranger),
        make_line(101, 10**9, "position", 32.51),  # decades ahead of the clock
        make_line(3, 120, "position", north(32.50, 5)),  # seq 3 again, different content
    ]
    report = service.ingest(lines + bad)
    assert report.accepted == 5
    assert [r.kind for r in report.rejected] == [
        AlertKind.UNKNOWN_SEAL, AlertKind.BAD_SIGNATURE, AlertKind.FUTURE_TIMESTAMP,
        AlertKind.EQUIVOCATION]
    assert all(r.line_no == 6 + i for i, r in enumerate(report.rejected))
    assert service.verdict("SHP-T1").verdict is Verdict.BROKEN


def test_a_seal_signing_for_another_shipment_is_a_clone(service, key, make_line):
    registered(service, shipment_doc(key))
    lines = straight_trip(make_line)[:5]
    lines.append(make_line(6, 400, "position", 32.51, shipment_id="SHP-ELSEWHERE"))
    report = service.ingest(lines)
    assert [r.kind for r in report.rejected] == [AlertKind.CLONE]
    # judged a minute after the last fix (t = 240 s), before the seal could be silent
    as_of = datetime(2025, 6, 2, 14, 5, tzinfo=UTC)
    assert {a.kind for a in service.verdict("SHP-T1", as_of).alerts} == {AlertKind.CLONE}


def test_a_malformed_line_is_rejected_alone_with_its_line_number(service, key, make_line):
    registered(service, shipment_doc(key))
    lines = straight_trip(make_line)[:4]
    report = service.ingest([lines[0], lines[1], '{"seal_id": "SEAL-T1", oops', lines[2],
                             lines[3]])
    assert report.accepted == 4
    (r,) = report.rejected
    assert (r.line_no, r.kind) == (3, AlertKind.MALFORMED)
    assert "line 3" in r.detail
    assert service.alerts(unattributed=True)[0].kind is AlertKind.MALFORMED


def test_a_late_message_fills_a_gap_and_retracts_its_alert(service, key, make_line):
    registered(service, shipment_doc(key))
    lines = straight_trip(make_line)
    late = lines[4:7]
    first = service.ingest(lines[:4] + lines[7:])
    assert first.alerts_raised >= 1
    assert any(a.kind is AlertKind.SIGNAL_GAP for a in service.verdict("SHP-T1").alerts)
    second = service.ingest(late)
    assert second.alerts_retracted >= 1
    assert service.verdict("SHP-T1").verdict is Verdict.CLEAN
    service.audit()


def test_a_failed_batch_stores_nothing(service, key, make_line, monkeypatch):
    registered(service, shipment_doc(key))
    lines = straight_trip(make_line)
    from portwatch.store import custody_store

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(custody_store, "add_messages", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        service.ingest(lines)
    monkeypatch.undo()
    assert service.status("SHP-T1").messages == 0
    assert service.audit().records == 6  # the registration only
    service.ingest(lines)
    assert service.verdict("SHP-T1").verdict is Verdict.CLEAN
