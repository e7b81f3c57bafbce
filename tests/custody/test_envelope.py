"""The signed envelope: canonical lines, signatures, and their rejection."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portwatch.custody.envelope import (
    SIGNING_PREFIX,
    body_fields,
    canonical_json,
    decode_line,
    format_at,
    parse_at,
)
from portwatch.custody.keys import private_key_from_seed, sign_fields, verify_signature
from portwatch.domain.errors import InputError

from .conftest import T0_MS

KEY = private_key_from_seed(b"\x07" * 32)
PUB = KEY.public_key()
LINE = sign_fields(KEY, body_fields(
    seal_id="SEAL-1", shipment_id="SHP-1", seq=42, at_ms=T0_MS, kind="position",
    lat=32.5412345, lon=-116.9387654, accuracy_m=7.4, speed_mps=13.37, battery_pct=88.2))


def accepted(line: str) -> bool:
    try:
        m = decode_line(line)
    except InputError:
        return False
    return verify_signature(PUB, m.signature, m.signed_bytes)


def test_round_trip_keeps_every_field():
    m = decode_line(LINE)
    assert (m.seal_id, m.shipment_id, m.seq, m.at_ms) == ("SEAL-1", "SHP-1", 42, T0_MS)
    assert m.lat == pytest.approx(32.5412345, abs=1e-7)
    assert m.lon == pytest.approx(-116.9387654, abs=1e-7)
    assert (m.accuracy_m, m.speed_cmps, m.battery_pct) == (7, 1337, 88)
    assert accepted(LINE)


def test_signed_bytes_are_the_canonical_body():
    fields = json.loads(LINE)
    fields.pop("sig")
    assert decode_line(LINE).signed_bytes == SIGNING_PREFIX + canonical_json(fields).encode()


@settings(max_examples=300, deadline=None)
@given(pos=st.integers(0, len(LINE) - 1), byte=st.integers(0, 255))
def test_any_single_byte_change_is_rejected(pos, byte):
    raw = bytearray(LINE.encode())
    if raw[pos] == byte:
        byte = (byte + 1) % 256
    raw[pos] = byte
    assert not accepted(raw.decode("latin-1"))


@pytest.mark.parametrize("mutate, why", [
    (lambda s: s.replace(",", ", ", 1), "canonical"),
    (lambda s: json.dumps(dict(reversed(list(json.loads(s).items())))), "canonical"),
    (lambda s: s.replace('"v":1', '"v":2'), "v: must be 1"),
    (lambda s: s.replace('"seq":42', '"seq":-1'), "seq"),
    (lambda s: s.replace('"kind":"position"', '"kind":"teleport"'), "kind"),
    (lambda s: s[:-1], "not JSON"),
    (lambda s: s.replace('"battery_pct":88', '"battery_pct":true'), "battery_pct"),
    (lambda s: s.replace('"acc_m":7', '"acc_m":null'), "all set or all null"),
])
def test_malformed_lines_name_their_problem(mutate, why):
    with pytest.raises(InputError, match=why):
        decode_line(mutate(LINE))


def test_timestamps_round_trip_and_reject_impossible_dates():
    for text in ("2025-06-02T14:00:00.000Z", "2024-02-29T23:59:59.999Z"):
        assert format_at(parse_at(text)) == text
    with pytest.raises(InputError, match="not a valid date"):
        parse_at("2025-02-30T00:00:00.000Z")
    with pytest.raises(InputError, match="must look like"):
        parse_at("2025-06-02 14:00:00")
