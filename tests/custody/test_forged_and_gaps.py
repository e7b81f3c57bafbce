"""Forged lines are evidence against the channel, not the container; dropped messages
(seq gaps) are never better for a trip than delivering them."""

from __future__ import annotations

from portwatch.custody.keys import private_key_from_seed
from portwatch.domain.custody import AlertKind, Severity, Verdict

from .conftest import registered, shipment_doc, straight_trip

STRANGER = private_key_from_seed(b"\x05" * 32)


def test_a_forged_line_naming_a_shipment_never_makes_it_broken(service, key, make_line):
    registered(service, shipment_doc(key))
    good = straight_trip(make_line)
    forged = make_line(10_000, 300, "opened", 32.51, signer=STRANGER)
    report = service.ingest([*good, forged], source="gateway-7")
    assert [r.kind for r in report.rejected] == [AlertKind.BAD_SIGNATURE]
    v = service.verdict("SHP-T1")
    assert v.verdict is Verdict.REVIEW
    assert all(a.severity is Severity.MINOR for a in v.alerts)
    assert any("gateway-7" in a.detail for a in v.alerts)
    assert any("forged" in r or "unauthenticated" in r for r in v.reasons)


def test_a_forged_flood_is_rate_limited(service, key, make_line):
    registered(service, shipment_doc(key))
    good = straight_trip(make_line)
    flood = [make_line(20_000 + i, 300, "tamper", 32.51, signer=STRANGER) for i in range(300)]
    report = service.ingest([*good, *flood], source="relay-3", batch_size=50)
    assert report.accepted == len(good) and len(report.rejected) == 300
    stored = service.alerts("SHP-T1")
    assert 1 <= len(stored) <= 25
    assert any("300" in a.detail or "more" in a.detail for a in stored)
    assert service.verdict("SHP-T1").verdict is Verdict.REVIEW
    again = service.ingest(flood, source="relay-3")
    assert again.accepted == 0
    assert len(service.alerts("SHP-T1")) == len(stored)


def _gap(service, key, make_line, drop: int) -> tuple[list[str], str]:
    registered(service, shipment_doc(key))
    lines = straight_trip(make_line)
    missing = lines.pop(drop)
    service.ingest(lines)
    return lines, missing


def test_a_dropped_message_is_a_seq_gap_naming_the_range(service, key, make_line):
    _gap(service, key, make_line, drop=5)
    v = service.verdict("SHP-T1")
    gaps = [a for a in v.alerts if a.kind is AlertKind.SEQ_GAP]
    assert len(gaps) == 1 and "seq 6" in gaps[0].detail
    assert v.verdict is not Verdict.CLEAN


def test_a_jump_of_fifty_in_seq_raises_a_gap(service, key, make_line):
    registered(service, shipment_doc(key))
    lines = straight_trip(make_line)
    from .conftest import drive, north

    pts = [(i * 60.0, north(32.50, 600 * i), -116.95) for i in range(5)]
    first = drive(make_line, pts)
    later = drive(make_line, [(300.0, north(32.50, 3000), -116.95),
                              (360.0, north(32.50, 3600), -116.95)], seq0=55,
                  first_kind="position")
    service.ingest([*first, *later])
    gaps = [a for a in service.verdict("SHP-T1").alerts if a.kind is AlertKind.SEQ_GAP]
    assert len(gaps) == 1 and "seq 6-54" in gaps[0].detail and "49" in gaps[0].detail
    del lines


def test_dropping_the_opened_event_is_never_better_than_delivering_it(key, make_line):
    from portwatch.custody.service import CustodyService
    from portwatch.custody.thresholds import Thresholds
    from portwatch.store.database import Database

    from .conftest import NOW

    rank = {Verdict.CLEAN: 0, Verdict.REVIEW: 1, Verdict.BROKEN: 2}
    lines = straight_trip(make_line)
    opened = make_line(6, 300, "opened", 32.527, -116.95)
    delivered_lines = [*lines[:5], opened, *[
        make_line(i + 2, 60.0 * (i + 1), "disarmed" if i == len(lines) - 1 else "position",
                  32.50 + 0.1 * min(1.0, (i + 1) * 600 / 11088), -116.95)
        for i in range(5, len(lines))]]
    verdicts = []
    for drop in (False, True):
        svc = CustodyService(Database(":memory:"), Thresholds(), clock=lambda: NOW)
        registered(svc, shipment_doc(key))
        svc.ingest([line for line in delivered_lines if not (drop and line == opened)])
        verdicts.append(svc.verdict("SHP-T1").verdict)
    assert verdicts[0] is Verdict.BROKEN
    assert rank[verdicts[1]] >= rank[verdicts[0]]


def test_a_late_message_closes_the_gap_and_keeps_the_history(service, key, make_line):
    _, missing = _gap(service, key, make_line, drop=5)
    report = service.ingest([missing])
    assert report.accepted == 1 and report.alerts_retracted >= 1
    v = service.verdict("SHP-T1")
    assert v.verdict is Verdict.CLEAN
    assert not [a for a in v.alerts if a.kind is AlertKind.SEQ_GAP]
    records = service.audit()
    assert records.records > 0
