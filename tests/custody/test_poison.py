"""Poison input: every line is parsed alone under documented limits; one bad line is
one rejection with its line number and a bounded reason, everything else is kept."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portwatch.cli.main import run
from portwatch.custody.envelope import MAX_LINE_BYTES, decode_line
from portwatch.custody.lines import read_lines
from portwatch.domain.custody import AlertKind, Verdict
from portwatch.domain.errors import InputError

from .conftest import registered, shipment_doc, straight_trip

POISON = [
    "1" * 5_000,                                   # a 5,000-digit integer
    '{"seq":' + "9" * 5_000 + "}",
    "[" * 100_000 + "]" * 100_000,                 # deeply nested JSON
    '{"a":' * 3_000 + "1" + "}" * 3_000,
    '{"seal_id":"' + "x" * 50_000_000 + '"}',      # a 50 MB value
    '{"acc_m":1e999,"seq":-0}',
    "\x00\x01\x02\xff garbage",
    '{"seal_id": "SEAL-T1", "shipment_id": "SHP-T1", "seq": ' + "1" * 30 + "}",
]


@pytest.mark.parametrize("line", POISON, ids=range(len(POISON)))
def test_decode_refuses_poison_with_a_short_reason(line):
    with pytest.raises(InputError) as err:
        decode_line(line)
    assert len(str(err.value)) <= 300


def test_a_poison_line_is_one_rejection_and_the_batch_is_kept(service, key, make_line):
    registered(service, shipment_doc(key))
    good = straight_trip(make_line)
    lines = [*good[:3], *POISON, *good[3:]]
    report = service.ingest(lines)
    assert report.accepted == len(good)
    assert [r.line_no for r in report.rejected] == list(range(4, 4 + len(POISON)))
    assert all(r.kind is AlertKind.MALFORMED for r in report.rejected)
    assert all(len(r.detail) <= 300 for r in report.rejected)
    assert service.verdict("SHP-T1").verdict is Verdict.CLEAN
    stored = service.alerts(unattributed=True)
    assert all(len(a.detail) <= 300 for a in stored)
    service.audit()


def test_random_bytes_give_one_summary_not_thousands_of_alerts(service):
    import numpy as np

    blob = np.random.default_rng(1).bytes(2_000_000)
    lines = list(read_lines(io.BytesIO(blob)))
    report = service.ingest(lines)
    assert report.accepted == 0 and len(report.rejected) == report.lines > 1000
    assert len(service.alerts(unattributed=True)) <= 25


def test_the_reader_bounds_each_line():
    data = b"a" * (MAX_LINE_BYTES * 10) + b"\nshort\n" + b"b" * 10
    out = list(read_lines(io.BytesIO(data)))
    assert len(out) == 3
    assert len(out[0]) <= MAX_LINE_BYTES + 1 and out[1] == "short\n" and out[2] == "b" * 10


def test_cli_ingest_of_poison_keeps_every_valid_line(tmp_path, capsys, key, make_line):
    import json

    doc = shipment_doc(key)
    (tmp_path / "s.json").write_text(json.dumps(doc))
    db = str(tmp_path / "pw.db")
    assert run(["custody", "register", str(tmp_path / "s.json"), "--db", db]) == 0
    good = straight_trip(make_line)
    body = "".join(line + "\n" for line in good[:5]) + "\n".join(POISON) + "\n"
    body += "".join(line + "\n" for line in good[5:])
    (tmp_path / "e.jsonl").write_text(body)
    capsys.readouterr()
    assert run(["custody", "ingest", str(tmp_path / "e.jsonl"), "--db", db]) == 2
    out = capsys.readouterr()
    assert f"{len(good)} accepted" in out.out
    assert len(out.err) < 20_000
    assert "Traceback" not in out.err


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(junk=st.lists(st.binary(max_size=300), max_size=8), where=st.integers(0, 30))
def test_arbitrary_bytes_never_raise_and_never_lose_a_valid_line(junk, where):
    from portwatch.custody.keys import private_key_from_seed
    from portwatch.custody.registry import shipment_from_mapping
    from portwatch.custody.service import CustodyService
    from portwatch.custody.thresholds import Thresholds
    from portwatch.store.database import Database

    from .conftest import NOW

    key = private_key_from_seed(bytes(range(32)))
    svc = CustodyService(Database(":memory:"), Thresholds(), clock=lambda: NOW)
    svc.register(shipment_from_mapping(shipment_doc(key)))
    from .conftest import T0_MS  # noqa: F401  (the fixture's clock origin)

    good = _GOOD
    raw = b"".join(line.encode() + b"\n" for line in good[:where])
    raw += b"\n".join(junk) + b"\n"
    raw += b"".join(line.encode() + b"\n" for line in good[where:])
    report = svc.ingest(read_lines(io.BytesIO(raw)))
    assert report.accepted == len(good)


def _good_lines() -> list[str]:
    from portwatch.custody.envelope import body_fields
    from portwatch.custody.keys import private_key_from_seed, sign_fields

    from .conftest import T0_MS, north

    key = private_key_from_seed(bytes(range(32)))
    out = []
    for i in range(20):
        out.append(sign_fields(key, body_fields(
            seal_id="SEAL-T1", shipment_id="SHP-T1", seq=1 + i, at_ms=T0_MS + 60_000 * i,
            kind="armed" if i == 0 else "position", lat=north(32.50, 600 * i),
            lon=-116.95, accuracy_m=8.0, battery_pct=90.0)))
    return out


_GOOD = _good_lines()
