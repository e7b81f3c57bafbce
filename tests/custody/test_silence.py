"""A seal that goes silent for good: the derived ``signal_lost`` alert at and around its
threshold, the verdict as of a time, and the property that an undelivered shipment
judged long after its last message is never ``clean``."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portwatch.cli.main import run
from portwatch.custody.envelope import decode_line
from portwatch.custody.registry import shipment_from_mapping
from portwatch.custody.service import CustodyService
from portwatch.custody.thresholds import Thresholds
from portwatch.custody.tripgen import Attack, simulate_trip
from portwatch.domain.custody import AlertKind, CustodyState, Severity, Verdict
from portwatch.store.database import Database

from .conftest import NOW, T0_MS, north, registered, shipment_doc, straight_trip

T0 = datetime.fromtimestamp(T0_MS / 1000, UTC)


@pytest.fixture
def service() -> CustodyService:
    """These tests judge silence alone, mid-route: the freshness of a fix near the
    crossing (tests/custody/test_keys_and_seals.py) is switched off."""
    return CustodyService(Database(":memory:"), Thresholds(require_border_fix=False),
                          clock=lambda: NOW)


def _partial(service, key, make_line, n: int = 6) -> list[str]:
    """Armed, then driving north; the last of ``n`` fixes is at ``(n - 1) * 60`` s."""
    registered(service, shipment_doc(key))
    lines = straight_trip(make_line)[:n]
    service.ingest(lines)
    return lines


def _lost(verdict):
    return [a for a in verdict.alerts if a.kind is AlertKind.SIGNAL_LOST]


@pytest.mark.parametrize("silent_s, severity", [
    (60, None),
    (120, None),             # two periods: not longer than the threshold
    (120.001, Severity.MINOR),
    (180, Severity.MINOR),
    (600, Severity.MINOR),   # as long as an allowed stop
    (600.001, Severity.MAJOR),
    (86_400, Severity.MAJOR),
])
def test_signal_lost_at_and_around_its_thresholds(service, key, make_line, silent_s, severity):
    _partial(service, key, make_line)
    last_fix = T0 + timedelta(seconds=300)
    v = service.verdict("SHP-T1", as_of=last_fix + timedelta(seconds=silent_s))
    lost = _lost(v)
    assert [a.severity for a in lost] == ([] if severity is None else [severity])
    expected = {None: Verdict.CLEAN, Severity.MINOR: Verdict.REVIEW,
                Severity.MAJOR: Verdict.BROKEN}[severity]
    assert v.verdict is expected
    if lost:
        (a,) = lost
        assert a.at == last_fix and a.seq == 6
        assert a.lat == pytest.approx(north(32.50, 3000), abs=1e-6)
        assert f"no position for {silent_s:.0f} s" in a.detail


def test_as_of_defaults_to_the_service_clock(service, key, make_line):
    _partial(service, key, make_line)
    (a,) = _lost(service.verdict("SHP-T1"))  # NOW is months after the trip
    assert a.severity is Severity.MAJOR


def test_silence_is_derived_not_stored(service, key, make_line):
    _partial(service, key, make_line)
    records = service.audit().records
    assert service.verdict("SHP-T1").verdict is Verdict.BROKEN
    assert service.alerts("SHP-T1") == []
    assert service.audit().records == records
    assert service.status("SHP-T1").alerts == 0


def test_late_messages_fill_the_silence(service, key, make_line):
    lines = straight_trip(make_line)
    registered(service, shipment_doc(key))
    service.ingest(lines[:6])
    as_of = T0 + timedelta(seconds=960)
    assert service.verdict("SHP-T1", as_of).verdict is Verdict.BROKEN
    service.ingest(lines[6:17])  # stored and forwarded after a coverage gap: up to 960 s
    assert service.verdict("SHP-T1", as_of).verdict is Verdict.CLEAN


def test_heartbeats_without_a_position_do_not_end_the_silence(service, key, make_line):
    lines = _partial(service, key, make_line)
    # GNSS jammed, the radio still up: heartbeats keep coming, no position
    beats = [make_line(len(lines) + k, 300 + 60 * k, "heartbeat", None) for k in range(1, 12)]
    service.ingest(beats)
    (a,) = _lost(service.verdict("SHP-T1", T0 + timedelta(seconds=300 + 700)))
    assert a.severity is Severity.MAJOR and a.at == T0 + timedelta(seconds=300)


def test_armed_without_a_position_counts_from_the_arming(service, key, make_line):
    registered(service, shipment_doc(key))
    service.ingest([make_line(1, 0, "armed", None)])
    lost = _lost(service.verdict("SHP-T1", T0 + timedelta(seconds=121)))
    assert [(a.at, a.seq, a.severity) for a in lost] == [(T0, 1, Severity.MINOR)]


def test_delivered_and_never_armed_shipments_are_never_silent(service, key, make_line):
    registered(service, shipment_doc(key))
    service.ingest(straight_trip(make_line))
    assert service.verdict("SHP-T1", NOW + timedelta(days=365)).verdict is Verdict.CLEAN
    other = shipment_doc(key, shipment_id="SHP-T2", seal_id="SEAL-T2")
    registered(service, other)
    v = service.verdict("SHP-T2", NOW + timedelta(days=365))
    assert v.verdict is Verdict.REVIEW and not v.alerts
    assert "container never armed: no custody record" in v.reasons


def test_silence_after_the_border_is_for_an_inland_response(service, key, make_line):
    lines = straight_trip(make_line)
    registered(service, shipment_doc(key))
    service.ingest(lines[:17])  # 960 s: past the crossing zone, short of the destination
    assert service.status("SHP-T1").state is CustodyState.CROSSED
    (a,) = _lost(service.verdict("SHP-T1"))
    assert a.after_border


def test_status_shows_the_silence(service, key, make_line):
    _partial(service, key, make_line)
    st_ = service.status("SHP-T1", T0 + timedelta(seconds=450))
    assert st_.silent_s == pytest.approx(150.0) and st_.signal_lost is Severity.MINOR
    doc = st_.to_json()
    assert doc["silent_s"] == 150.0 and doc["signal_lost"] == "minor"
    assert doc["as_of"] == "2025-06-02T14:07:30Z"


def test_a_service_sees_messages_another_writer_stored(tmp_path, key, make_line):
    db_path = tmp_path / "pw.db"
    reader = CustodyService(Database(db_path), clock=lambda: NOW)
    registered(reader, shipment_doc(key))
    lines = straight_trip(make_line)
    reader.ingest(lines[:6])
    as_of = T0 + timedelta(seconds=960)
    assert reader.verdict("SHP-T1", as_of).verdict is Verdict.BROKEN
    CustodyService(Database(db_path), clock=lambda: NOW).ingest(lines[6:])
    assert reader.verdict("SHP-T1", as_of).verdict is Verdict.CLEAN


# ------------------------------------------------------------------ property
_TRIP = simulate_trip(np.random.default_rng(11), Attack.NONE, trip_no=1)
_BY_SEQ = sorted(_TRIP.lines, key=lambda line: decode_line(line).seq)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, len(_BY_SEQ) - 1),
       after_s=st.floats(Thresholds().gap_s + 0.01, 30 * 86_400.0))
def test_an_undelivered_trip_judged_long_after_its_last_message_is_never_clean(cut, after_s):
    svc = CustodyService(Database(":memory:"), Thresholds(), clock=lambda: NOW)
    svc.register(shipment_from_mapping(_TRIP.shipment))
    prefix = _BY_SEQ[:cut]
    svc.ingest(prefix)
    if svc.status(_TRIP.shipment_id).state is CustodyState.DELIVERED:
        return
    last_ms = max((decode_line(line).at_ms for line in prefix), default=T0_MS)
    as_of = datetime.fromtimestamp(last_ms / 1000, UTC) + timedelta(seconds=after_s)
    assert svc.verdict(_TRIP.shipment_id, as_of).verdict is not Verdict.CLEAN


# ------------------------------------------------------------------ commands
def _trip_in_db(tmp_path, capsys, size: str = "150") -> tuple[str, str, str]:
    out, db = tmp_path / "trip", str(tmp_path / "pw.db")
    assert run(["custody", "simulate-trip", "--attack", "silent", "--size", size,
                "--out", str(out), "--seed", "5"]) == 0
    made = capsys.readouterr()
    sid, as_of = made.out.strip(), made.err.split("--as-of ")[1].strip()
    run(["custody", "register", str(out / "shipment.json"), "--db", db])
    run(["custody", "ingest", str(out / "events.jsonl"), "--db", db])
    capsys.readouterr()
    return sid, db, as_of


def test_verdict_and_status_as_of_the_crossing(tmp_path, capsys):
    sid, db, as_of = _trip_in_db(tmp_path, capsys)
    assert run(["custody", "verdict", sid, "--db", db, "--as-of", as_of, "--json"]) == 0
    v = json.loads(capsys.readouterr().out)
    assert v["verdict"] == "review" and v["lane"] == "free"
    assert [(a["kind"], a["severity"]) for a in v["alerts"]] == [("signal_lost", "minor")]
    assert run(["custody", "verdict", sid, "--db", db]) == 0  # now: long silent
    assert "broken -> full_search" in capsys.readouterr().out
    assert run(["custody", "status", sid, "--db", db, "--as-of", as_of]) == 0
    text = capsys.readouterr().out
    assert "no position for 150 s as of" in text and "(signal lost, minor)" in text


@pytest.mark.parametrize("bad", ["yesterday", "2026-03-01T14:05:00", "2026-13-01T00:00:00Z"])
def test_a_bad_as_of_is_a_one_line_error(tmp_path, capsys, bad):
    sid, db, _ = _trip_in_db(tmp_path, capsys)
    assert run(["custody", "verdict", sid, "--db", db, "--as-of", bad]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --as-of {bad!r}: ") and err.count("\n") == 1


def test_verdict_as_of_in_a_subprocess(tmp_path, capsys):
    sid, db, as_of = _trip_in_db(tmp_path, capsys, size="900")
    done = subprocess.run([sys.executable, "-m", "portwatch", "custody", "verdict", sid,
                           "--db", db, "--as-of", as_of, "--json"],
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    v = json.loads(done.stdout)
    assert v["verdict"] == "broken"
    assert [(a["kind"], a["severity"]) for a in v["alerts"]] == [("signal_lost", "major")]
