"""Attacks on the registry, the store and the channel, played against a whole
``CustodyService`` (the trace-level attacks are in ``tripgen``): each takes simulated
trips, attacks as an insider would, and says whether the attack was caught.

- ``clone-binding``: a second shipment registered on a seal whose shipment is live.
- ``stale-key``: a leaked key of a seal now on its next shipment signs messages for the
  older, delivered one.
- ``database-edit``: someone with write access deletes or weakens a broken trip's
  alerts, or swaps its seal's stored key (caught: the audit names the edit).
- ``truncation``: the log's tail (from the ``opened`` event on) cut and the head
  rewritten.
- ``poison-lines``: hostile lines around a trip's ``opened`` event, to take it down.
- ``forged-flood``: a thousand forged lines naming a clean shipment.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from numpy.random import Generator
from sqlalchemy import delete, select, update

from portwatch.custody.envelope import format_at, parse_at
from portwatch.custody.keys import private_key_from_seed, public_key_b64, sign_fields
from portwatch.custody.lines import read_lines
from portwatch.custody.registry import shipment_from_mapping
from portwatch.custody.service import CustodyService
from portwatch.custody.thresholds import Thresholds
from portwatch.custody.tripgen import Attack, SimulatedTrip, simulate_trip
from portwatch.domain.custody import AlertKind, Verdict
from portwatch.store.anchor import Anchor
from portwatch.store.database import Database
from portwatch.store.schema import alerts, event_log, log_head, seals

SCENARIOS = ("clone-binding", "stale-key", "database-edit", "truncation", "poison-lines",
             "forged-flood")
_CLOCK_AT = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one attacked trip came out: its verdict, and whether the attack's own
    evidence (alert or audit finding) was raised."""

    verdict: Verdict
    caught: bool


def _file_service(folder: Path, th: Thresholds) -> CustodyService:
    path = folder / "pw.db"
    return CustodyService(Database(path, Anchor.beside(path)), th, clock=lambda: _CLOCK_AT)


def _play(svc: CustodyService, trip: SimulatedTrip) -> None:
    svc.register(shipment_from_mapping(trip.shipment))
    svc.ingest(trip.lines, f"trip {trip.shipment_id}")


def _kinds(svc: CustodyService, shipment_id: str) -> set[AlertKind]:
    return {a.kind for a in svc.verdict(shipment_id).alerts}


def clone_binding(svc: CustodyService, rng: Generator, trip_no: int) -> Outcome:
    trip = simulate_trip(rng, Attack.NONE, trip_no=trip_no)
    svc.register(shipment_from_mapping(trip.shipment))
    twin = {**trip.shipment, "shipment_id": f"{trip.shipment_id}-B"}
    svc.register(shipment_from_mapping(twin))
    svc.ingest(trip.lines)
    v = svc.verdict(trip.shipment_id)
    return Outcome(v.verdict, AlertKind.CLONE in {a.kind for a in v.alerts})


def _resign(trip: SimulatedTrip, shipment_id: str, seq_shift: int, shift_ms: int
            ) -> list[str]:
    """The trip's messages as the same seal's next trip: later, with a higher counter."""
    key = private_key_from_seed(trip.seal_seed)
    out = []
    for line in trip.lines:
        m = json.loads(line)
        m.pop("sig")
        m.update(shipment_id=shipment_id, seq=m["seq"] + seq_shift,
                 at=format_at(parse_at(m["at"]) + shift_ms))
        out.append(sign_fields(key, m))
    return out


def stale_key(svc: CustodyService, rng: Generator, trip_no: int) -> Outcome:
    old = simulate_trip(rng, Attack.NONE, trip_no=trip_no)
    _play(svc, old)
    last = max(json.loads(x)["seq"] for x in old.lines)
    new_id = f"{old.shipment_id}-N"
    svc.register(shipment_from_mapping({**old.shipment, "shipment_id": new_id}))
    day_ms = 86_400_000
    svc.ingest(_resign(old, new_id, last + 10, day_ms))
    # the leaked key signs five messages for the older, delivered shipment
    key = private_key_from_seed(old.seal_seed)
    msgs = sorted((json.loads(x) for x in old.lines), key=lambda m: m["seq"])
    mid = msgs[len(msgs) // 2]
    forged = []
    for j in range(5):
        m = {**mid, "seq": 2 * last + 20 + j, "at": format_at(parse_at(mid["at"]) + day_ms)}
        m.pop("sig")
        forged.append(sign_fields(key, m))
    report = svc.ingest(forged)
    v = svc.verdict(new_id)
    caught = report.accepted == 0 and AlertKind.CLONE in {a.kind for a in v.alerts}
    return Outcome(v.verdict, caught)


def _edit_alerts(svc: CustodyService, sid: str, how: int) -> None:
    with svc.db.engine.begin() as conn:
        if how == 0:
            conn.execute(delete(alerts).where(alerts.c.shipment_id == sid))
        elif how == 1:
            conn.execute(update(alerts).where(alerts.c.shipment_id == sid)
                         .values(severity="minor"))
        elif how == 2:
            stranger = public_key_b64(private_key_from_seed(b"\x11" * 32))
            conn.execute(update(seals).values(public_key=stranger))
        else:
            conn.execute(delete(alerts))
            conn.execute(update(log_head).values(last_hash="0" * 64))


def database_edit(th: Thresholds, rng: Generator, trip_no: int) -> Outcome:
    trip = simulate_trip(rng, Attack.DOOR_OPENED, trip_no=trip_no)
    with tempfile.TemporaryDirectory() as tmp:
        svc = _file_service(Path(tmp), th)
        _play(svc, trip)
        _edit_alerts(svc, trip.shipment_id, trip_no % 4)
        fresh = _file_service(Path(tmp), th)
        v = fresh.verdict(trip.shipment_id)
        # the verdict comes from its own MAC'd row (or the log), never from the alerts or
        # seals index: the edit cannot clean the trip, and the audit names it
        caught = not fresh.check().ok
        svc.db.close()
        fresh.db.close()
    return Outcome(v.verdict, caught)


def truncation(th: Thresholds, rng: Generator, trip_no: int) -> Outcome:
    trip = simulate_trip(rng, Attack.DOOR_OPENED, trip_no=trip_no)
    with tempfile.TemporaryDirectory() as tmp:
        svc = _file_service(Path(tmp), th)
        svc.register(shipment_from_mapping(trip.shipment))
        svc.ingest(trip.lines, batch_size=20)
        with svc.db.engine.begin() as conn:
            rows = conn.execute(select(event_log.c.id, event_log.c.body, event_log.c.hash)
                                .order_by(event_log.c.id)).all()
            cut = next(i for i, r in enumerate(rows) if '"kind":"opened"' in r.body)
            keep = rows[cut - 1]
            conn.execute(delete(event_log).where(event_log.c.id > keep.id))
            conn.execute(update(log_head).values(last_id=keep.id, last_hash=keep.hash))
        fresh = _file_service(Path(tmp), th)
        v = fresh.verdict(trip.shipment_id)
        # the verdict comes from its own MAC'd row (or the log), never from the alerts or
        # seals index: the edit cannot clean the trip, and the audit names it
        caught = not fresh.check().ok
        svc.db.close()
        fresh.db.close()
    return Outcome(v.verdict, caught)


def _poison(rng: Generator) -> list[bytes]:
    return [b"1" * 5_000, b"[" * 50_000 + b"]" * 50_000, b'{"seal_id":"' + b"x" * 100_000 + b'"}',
            rng.bytes(3_000).replace(b"\n", b" "), b'{"acc_m":1e999}', b"[]"]


def poison_lines(svc: CustodyService, rng: Generator, trip_no: int) -> Outcome:
    trip = simulate_trip(rng, Attack.DOOR_OPENED, trip_no=trip_no)
    svc.register(shipment_from_mapping(trip.shipment))
    at = next(i for i, x in enumerate(trip.lines) if '"kind":"opened"' in x)
    raw = [x.encode() for x in trip.lines]
    poisoned = [*raw[:at], *_poison(rng), *raw[at:at + 1], *_poison(rng), *raw[at + 1:]]
    svc.ingest(read_lines(io.BytesIO(b"\n".join(poisoned) + b"\n")))
    kinds = _kinds(svc, trip.shipment_id)
    return Outcome(svc.verdict(trip.shipment_id).verdict, AlertKind.SEAL_OPENED in kinds)


def forged_flood(svc: CustodyService, rng: Generator, trip_no: int) -> Outcome:
    trip = simulate_trip(rng, Attack.NONE, trip_no=trip_no)
    forger = private_key_from_seed(rng.bytes(32))
    base = json.loads(trip.lines[len(trip.lines) // 2])
    base.pop("sig")
    flood = [sign_fields(forger, {**base, "seq": int(base["seq"]) + 10_000 + j,
                                  "kind": "tamper" if j % 2 else "opened"})
             for j in range(1_000)]
    _play(svc, trip)
    svc.ingest(flood, "relay-under-attack")
    stored = svc.alerts(trip.shipment_id)
    v = svc.verdict(trip.shipment_id)
    caught = AlertKind.BAD_SIGNATURE in {a.kind for a in v.alerts} and len(stored) <= 25
    return Outcome(v.verdict, caught)


def runner(name: str) -> Callable[[CustodyService, Thresholds, Generator, int], Outcome]:
    """The scenario ``name`` as ``f(shared_service, thresholds, rng, trip_no)``."""
    on_file = {"database-edit": database_edit, "truncation": truncation}
    shared = {"clone-binding": clone_binding, "stale-key": stale_key,
              "poison-lines": poison_lines, "forged-flood": forged_flood}
    if name in on_file:
        return lambda _svc, th, rng, n: on_file[name](th, rng, n)
    return lambda svc, _th, rng, n: shared[name](svc, rng, n)


__all__ = ["SCENARIOS", "Outcome", "runner"]
