"""The signed seal message: one canonical JSON line per message.

A line is the JSON object of the fields below with keys sorted, no whitespace, ASCII
only, and every value an integer, a string or ``null`` (so any language produces the
same bytes)::

    {"acc_m":8,"at":"2025-06-02T15:00:00.000Z","battery_pct":97,"kind":"position",
     "lat_e7":325335000,"lon_e7":-1169245000,"seal_id":"SEAL-7","seq":12,
     "shipment_id":"SHP-1","sig":"<base64, 64 bytes>","speed_cmps":1340,"v":1}

The signature is Ed25519 over ``b"portwatch-seal-v1\\n"`` followed by the same JSON
without the ``sig`` member, i.e. the line as received with ``"sig":"...",`` cut out.
Keys out of order, whitespace or non-ASCII bytes make a line malformed; because the
signature covers the received bytes, a change to any other byte breaks it.

Every line is parsed alone under limits, so no line can take a batch down or be echoed
unbounded: at most ``MAX_LINE_BYTES`` (2,048) bytes (a canonical line is about 330),
JSON nesting at most ``MAX_DEPTH`` (2), integers of at most ``MAX_DIGITS`` (20) digits,
strings of at most ``MAX_STRING`` (128) characters; an error message quotes at most
``MAX_QUOTE`` (40) characters of a value.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from portwatch.domain.custody import SealEventKind
from portwatch.domain.errors import InputError

VERSION = 1
MAX_LINE_BYTES = 2048
MAX_DEPTH = 2
MAX_DIGITS = 20
MAX_STRING = 128
MAX_QUOTE = 40
SIGNING_PREFIX = b"portwatch-seal-v1\n"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
_KINDS = {k.value: k for k in SealEventKind}
_FIELDS = frozenset(
    {"v", "seal_id", "shipment_id", "seq", "at", "kind", "lat_e7", "lon_e7", "acc_m",
     "speed_cmps", "battery_pct", "sig"}
)


def quote(value: object) -> str:
    """``repr(value)`` cut to ``MAX_QUOTE`` characters, for error messages."""
    text = repr(value)
    return text if len(text) <= MAX_QUOTE else text[: MAX_QUOTE - 3] + "..."


def _depth(text: str) -> int:
    """The deepest nesting of ``[`` and ``{`` outside strings."""
    depth = deepest = 0
    in_str = escaped = False
    for ch in text:
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise InputError(f"an integer of {len(text)} digits (limit {MAX_DIGITS})")
    return int(text)


def _no_float(text: str) -> float:
    raise InputError(f"a number that is not an integer: {quote(text)}")


def _bounded_pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    for key, value in pairs:
        if len(key) > MAX_STRING or (isinstance(value, str) and len(value) > MAX_STRING):
            long = key if len(key) > MAX_STRING else value
            raise InputError(f"a string of {len(long)} characters "  # type: ignore[arg-type]
                             f"(limit {MAX_STRING})")
    return dict(pairs)


def safe_json(text: str) -> object:
    """``json.loads`` under the limits above; ``InputError`` naming the first breach."""
    if len(text) > MAX_LINE_BYTES:
        raise InputError(f"line is {len(text)} characters long (limit {MAX_LINE_BYTES})")
    if _depth(text) > MAX_DEPTH:
        raise InputError(f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text, parse_int=_bounded_int, parse_float=_no_float,
                          parse_constant=_no_float, object_pairs_hook=_bounded_pairs)
    except InputError:
        raise
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg} at column {exc.colno}") from exc
    except (ValueError, RecursionError) as exc:  # anything else the parser refuses
        raise InputError(f"not JSON: {quote(str(exc))}") from exc


class SealMessage(NamedTuple):
    """One seal message, decoded from its canonical line (signature not yet checked).

    ``at_ms`` is the device timestamp in milliseconds since the Unix epoch (UTC);
    ``lat_e7``/``lon_e7`` are degrees x 1e7 (WGS 84), ``None`` when the device had no
    fix; ``accuracy_m`` is the radius holding the true position with 95 % probability;
    ``digest`` is the SHA-256 of the line, the message's identity.
    """

    seal_id: str
    shipment_id: str
    seq: int
    at_ms: int
    kind: SealEventKind
    lat_e7: int | None
    lon_e7: int | None
    accuracy_m: int | None
    speed_cmps: int | None
    battery_pct: int | None
    signature: bytes
    signed_bytes: bytes
    line: str
    digest: str

    @property
    def at(self) -> datetime:
        """The device timestamp as a UTC datetime."""
        return _EPOCH + timedelta(milliseconds=self.at_ms)

    @property
    def lat(self) -> float | None:
        return None if self.lat_e7 is None else self.lat_e7 / 1e7

    @property
    def lon(self) -> float | None:
        return None if self.lon_e7 is None else self.lon_e7 / 1e7

    @property
    def has_fix(self) -> bool:
        return self.lat_e7 is not None


def format_at(at_ms: int) -> str:
    """Milliseconds since the epoch as the envelope's UTC timestamp string."""
    dt = _EPOCH + timedelta(milliseconds=at_ms)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at_ms % 1000:03d}Z"


@functools.lru_cache(maxsize=4096)
def _day_ms(day: str) -> int:
    try:
        d = date.fromisoformat(day)
    except ValueError as exc:
        raise InputError(f"at: not a valid date: {quote(day)}") from exc
    return (d - _EPOCH.date()).days * 86_400_000


def parse_at(text: str) -> int:
    """The envelope's timestamp string as milliseconds since the epoch."""
    if not _AT.match(text):
        raise InputError(f"at: must look like 2025-06-02T15:00:00.000Z, got {quote(text)}")
    h, mi, sec = int(text[11:13]), int(text[14:16]), int(text[17:19])
    if h > 23 or mi > 59 or sec > 59:
        raise InputError(f"at: not a valid UTC time: {quote(text)}")
    return _day_ms(text[:10]) + ((h * 60 + mi) * 60 + sec) * 1000 + int(text[20:23])


def to_ms(at: datetime) -> int:
    """A timezone-aware datetime as milliseconds since the epoch."""
    if at.tzinfo is None:
        raise InputError(f"time {at.isoformat()} has no timezone; portwatch uses UTC")
    return (at - _EPOCH) // timedelta(milliseconds=1)


def canonical_json(fields: dict[str, object]) -> str:
    """The canonical JSON text of a mapping of ints, strings and nulls."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def body_fields(
    *,
    seal_id: str,
    shipment_id: str,
    seq: int,
    at_ms: int,
    kind: SealEventKind | str,
    lat: float | None = None,
    lon: float | None = None,
    accuracy_m: float | None = None,
    speed_mps: float | None = None,
    battery_pct: float | None = None,
) -> dict[str, object]:
    """The unsigned fields of a message from natural units (degrees, m, m/s, %)."""
    has_fix = lat is not None and lon is not None
    fields: dict[str, object] = {
        "v": VERSION,
        "seal_id": seal_id,
        "shipment_id": shipment_id,
        "seq": int(seq),
        "at": format_at(int(at_ms)),
        "kind": SealEventKind(kind).value,
        "lat_e7": round(lat * 1e7) if has_fix else None,  # type: ignore[operator]
        "lon_e7": round(lon * 1e7) if has_fix else None,  # type: ignore[operator]
        "acc_m": (max(1, round(accuracy_m)) if accuracy_m is not None else 10) if has_fix else None,
        "speed_cmps": None if speed_mps is None else max(0, round(speed_mps * 100)),
        "battery_pct": None if battery_pct is None else min(100, max(0, round(battery_pct))),
    }
    _check_fields(fields)
    return fields


def signing_bytes(fields: dict[str, object]) -> bytes:
    """The bytes the Ed25519 signature covers."""
    body = {k: v for k, v in fields.items() if k != "sig"}
    return SIGNING_PREFIX + canonical_json(body).encode("ascii")


def encode_line(fields: dict[str, object], signature: bytes) -> str:
    """The canonical line of signed fields (without a newline)."""
    return canonical_json({**fields, "sig": base64.b64encode(signature).decode("ascii")})


_BODY_KEYS = frozenset(_FIELDS - {"sig"})
_RANGES = (
    ("lat_e7", -900_000_000, 900_000_000),
    ("lon_e7", -1_800_000_000, 1_800_000_000),
    ("acc_m", 1, 1_000_000),
    ("speed_cmps", 0, 100_000),
    ("battery_pct", 0, 100),
)


def _check_fields(fields: dict[str, object]) -> int:
    """Check every field except ``sig`` (which ``fields`` must not hold); return the
    timestamp in milliseconds since the epoch."""
    if fields.keys() != _BODY_KEYS:
        missing = _BODY_KEYS - fields.keys()
        if missing:
            raise InputError(f"missing field(s): {', '.join(sorted(missing))}")
        extra = sorted(fields.keys() - _BODY_KEYS)
        names = ", ".join(quote(k) for k in extra[:3]) + (" ..." if len(extra) > 3 else "")
        raise InputError(f"unknown field(s): {names}")
    if fields["v"] != VERSION or type(fields["v"]) is not int:
        raise InputError(f"v: must be {VERSION}, got {quote(fields['v'])}")
    for key in ("seal_id", "shipment_id"):
        value = fields[key]
        if type(value) is not str or not _ID.match(value):
            raise InputError(f"{key}: must be 1-64 of A-Z a-z 0-9 . _ : -, got {quote(value)}")
    seq = fields["seq"]
    if type(seq) is not int or not 0 <= seq < 2**63:
        raise InputError(f"seq: must be an integer >= 0, got {quote(seq)}")
    at = fields["at"]
    if type(at) is not str:
        raise InputError(f"at: must be a string, got {quote(at)}")
    at_ms = parse_at(at)
    if fields["kind"] not in _KINDS:
        raise InputError(f"kind: must be one of {', '.join(_KINDS)}, got {quote(fields['kind'])}")
    for key, lo, hi in _RANGES:
        value = fields[key]
        if value is not None and (type(value) is not int or not lo <= value <= hi):
            raise InputError(f"{key}: must be an integer in [{lo}, {hi}] or null, "
                             f"got {quote(value)}")
    fix = (fields["lat_e7"] is None, fields["lon_e7"] is None, fields["acc_m"] is None)
    if any(fix) and not all(fix):
        raise InputError("lat_e7, lon_e7 and acc_m must be all set or all null")
    return at_ms


_KEY_ORDER = sorted(_FIELDS)
_NAT = r"(0|[1-9][0-9]*)"
_OPT_NAT = r"(null|0|[1-9][0-9]*)"
_OPT_INT = r"(null|0|-?[1-9][0-9]*)"
# the canonical line, field by field: one match parses it and proves its form
_CANONICAL = re.compile(
    r'\{"acc_m":' + _OPT_NAT
    + r',"at":"([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{3})Z"'
    + r',"battery_pct":' + _OPT_NAT
    + r',"kind":"(' + "|".join(k.value for k in SealEventKind) + r')"'
    + r',"lat_e7":' + _OPT_INT + r',"lon_e7":' + _OPT_INT
    + r',"seal_id":"([A-Za-z0-9._:-]{1,64})","seq":' + _NAT
    + r',"shipment_id":"([A-Za-z0-9._:-]{1,64})"'
    + r',("sig":"([A-Za-z0-9+/]{86}==)",)"speed_cmps":' + _OPT_NAT + r',"v":1\}'
)


def _decode_fast(text: str) -> SealMessage | None:
    """Decode a canonical line with one regular expression; ``None`` when the line is
    not canonical (the slow path then says exactly what is wrong)."""
    m = _CANONICAL.fullmatch(text)
    if m is None:
        return None
    (acc, day, hh, mi, ss, ms, batt, kind, lat, lon, seal, seq, ship, sig_part, sig,
     speed) = m.groups()
    h, mn, sec = int(hh), int(mi), int(ss)
    if h > 23 or mn > 59 or sec > 59:
        return None
    seq_i = int(seq)
    speed_i = None if speed == "null" else int(speed)
    batt_i = None if batt == "null" else int(batt)
    if lat == "null":
        if lon != "null" or acc != "null":
            return None
        lat_i = lon_i = acc_i = None
    else:
        if lon == "null" or acc == "null":
            return None
        lat_i, lon_i, acc_i = int(lat), int(lon), int(acc)
        if not (-900_000_000 <= lat_i <= 900_000_000 and -1_800_000_000 <= lon_i <= 1_800_000_000
                and 1 <= acc_i <= 1_000_000):
            return None
    if (
        (batt_i is not None and batt_i > 100)
        or (speed_i is not None and speed_i > 100_000)
        or seq_i >= 2**63
    ):
        return None
    # the pattern fixes the length; the last digit carries 2 bits and 4 zero bits, so
    # only A, Q, g and w are canonical there
    if sig[85] not in "AQgw":
        return None
    signature = binascii.a2b_base64(sig)
    return SealMessage(
        seal, ship, seq_i,
        _day_ms(day) + ((h * 60 + mn) * 60 + sec) * 1000 + int(ms),
        _KINDS[kind], lat_i, lon_i, acc_i, speed_i, batt_i, signature,
        SIGNING_PREFIX + text.replace(sig_part, "", 1).encode("ascii"),
        text, hashlib.sha256(text.encode("ascii")).hexdigest(),
    )


def decode_line(line: str) -> SealMessage:
    """Decode one line; raise ``InputError`` naming the problem.

    The line must be canonical: keys sorted, no whitespace. The signed bytes are the
    line as received without its ``"sig":"...",`` member, so a change to any byte of
    the line either breaks it or breaks the signature. The signature itself is
    checked by the caller (``Ed25519PublicKey.verify(m.signature, m.signed_bytes)``).
    """
    text = line.rstrip("\r\n")
    if len(text) > MAX_LINE_BYTES:
        raise InputError(f"line is {len(text)} characters long (limit {MAX_LINE_BYTES})")
    if text.isascii():
        fast = _decode_fast(text)
        if fast is not None:
            return fast
    fields = safe_json(text)
    if not isinstance(fields, dict):
        raise InputError("must be a JSON object")
    bad_form = list(fields) != _KEY_ORDER or " " in text or "\t" in text or not text.isascii()
    if bad_form and fields.keys() == _FIELDS:
        raise InputError("line is not in canonical form (sorted keys, no spaces, ASCII)")
    sig_text = fields.pop("sig", None)
    at_ms = _check_fields(fields)
    if not isinstance(sig_text, str):
        raise InputError("sig: missing or not a string")
    try:
        signature = base64.b64decode(sig_text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError("sig: not valid base64") from exc
    if len(signature) != 64 or base64.b64encode(signature).decode("ascii") != sig_text:
        raise InputError("sig: must be 64 bytes in canonical base64")
    sig_part = f'"sig":"{sig_text}",'
    raw = text.encode("ascii")
    return SealMessage(
        seal_id=fields["seal_id"],
        shipment_id=fields["shipment_id"],
        seq=fields["seq"],
        at_ms=at_ms,
        kind=_KINDS[fields["kind"]],
        lat_e7=fields["lat_e7"],
        lon_e7=fields["lon_e7"],
        accuracy_m=fields["acc_m"],
        speed_cmps=fields["speed_cmps"],
        battery_pct=fields["battery_pct"],
        signature=signature,
        signed_bytes=SIGNING_PREFIX + text.replace(sig_part, "", 1).encode("ascii"),
        line=text,
        digest=hashlib.sha256(raw).hexdigest(),
    )


def attribution(line: str) -> tuple[str | None, str | None]:
    """Best-effort (seal_id, shipment_id) named by a line that failed to decode."""
    try:
        fields = safe_json(line.rstrip("\r\n"))
    except InputError:
        return None, None
    if not isinstance(fields, dict):
        return None, None
    seal = fields.get("seal_id")
    ship = fields.get("shipment_id")
    seal_ok = isinstance(seal, str) and bool(_ID.match(seal))
    ship_ok = isinstance(ship, str) and bool(_ID.match(ship))
    return (seal if seal_ok else None), (ship if ship_ok else None)


__all__ = [
    "MAX_DEPTH",
    "MAX_DIGITS",
    "MAX_LINE_BYTES",
    "MAX_QUOTE",
    "MAX_STRING",
    "SIGNING_PREFIX",
    "VERSION",
    "SealMessage",
    "attribution",
    "body_fields",
    "canonical_json",
    "decode_line",
    "encode_line",
    "format_at",
    "parse_at",
    "quote",
    "safe_json",
    "signing_bytes",
    "to_ms",
]
