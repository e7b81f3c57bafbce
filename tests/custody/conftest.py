"""Shared fixtures of the custody tests: a fixed clock, a small route, a seal key and a
message factory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from portwatch.custody.envelope import body_fields, decode_line, to_ms
from portwatch.custody.keys import private_key_from_seed, public_key_b64, sign_fields
from portwatch.custody.registry import Shipment, shipment_from_mapping
from portwatch.custody.service import CustodyService
from portwatch.custody.thresholds import Thresholds
from portwatch.custody.tripgen import Attack, SimulatedTrip, simulate_trip
from portwatch.store.database import Database

NOW = datetime(2026, 1, 1, tzinfo=UTC)
T0_MS = to_ms(datetime(2025, 6, 2, 14, 0, tzinfo=UTC))

# a straight north-bound route of about 11 km near the Otay Mesa crossing:
# origin at the start, crossing in the middle, destination at the end
LINE = [[32.50, -116.95], [32.55, -116.95], [32.60, -116.95]]
ROUTE: dict[str, Any] = {
    "name": "test line",
    "corridor_width_m": 200.0,
    "line": LINE,
    "origin": {"name": "origin", "lat": 32.50, "lon": -116.95, "radius_m": 300.0,
               "max_dwell_s": 7200.0},
    "crossing": {"name": "crossing", "lat": 32.55, "lon": -116.95, "radius_m": 500.0,
                 "max_dwell_s": 14400.0},
    "destination": {"name": "destination", "lat": 32.60, "lon": -116.95, "radius_m": 300.0,
                    "max_dwell_s": 86400.0},
    "stops": [{"name": "yard", "lat": 32.52, "lon": -116.95, "radius_m": 150.0,
               "max_dwell_s": 1800.0}],
}
M_PER_DEG_LAT = 110_880.0  # near 32.5 N


def north(lat: float, metres: float) -> float:
    return lat + metres / M_PER_DEG_LAT


def east(lat: float, lon: float, metres: float) -> float:
    return lon + metres / (M_PER_DEG_LAT * 1.0018 * np.cos(np.radians(lat)))


@pytest.fixture
def key():
    return private_key_from_seed(bytes(range(32)))


def shipment_doc(key, shipment_id: str = "SHP-T1", seal_id: str = "SEAL-T1",
                 route: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "shipment_id": shipment_id,
        "container_id": "CSQU3054383",
        "seal": {"seal_id": seal_id, "public_key": public_key_b64(key)},
        "parties": [
            {"party_id": "MFR-1", "role": "manufacturer", "name": "M", "enrolled": True},
            {"party_id": "CAR-1", "role": "carrier", "name": "C", "enrolled": True},
            {"party_id": "IMP-1", "role": "importer", "name": "I", "enrolled": True},
            {"party_id": "DRV-1", "role": "driver", "name": "D", "enrolled": True,
             "card_id": "FAST-1"},
        ],
        "route": route or ROUTE,
    }


@pytest.fixture
def shipment(key) -> Shipment:
    return shipment_from_mapping(shipment_doc(key))


@pytest.fixture
def make_line(key) -> Callable[..., str]:
    def make(seq: int, t_s: float, kind: str = "position", lat: float | None = None,
             lon: float | None = -116.95, acc: float | None = 8.0, battery: float = 90.0,
             shipment_id: str = "SHP-T1", seal_id: str = "SEAL-T1", signer=None) -> str:
        fields = body_fields(
            seal_id=seal_id, shipment_id=shipment_id, seq=seq, at_ms=T0_MS + int(t_s * 1000),
            kind=kind, lat=lat, lon=lon if lat is not None else None,
            accuracy_m=acc if lat is not None else None, battery_pct=battery)
        return sign_fields(signer or key, fields)
    return make


def drive(make_line, points: list[tuple[float, float | None, float | None]], seq0: int = 1,
          first_kind: str = "armed", last_kind: str | None = None, acc: float = 8.0
          ) -> list[str]:
    """Lines for (t_s, lat, lon) points: the first is the arming message."""
    lines = []
    for i, (t, lat, lon) in enumerate(points):
        kind = first_kind if i == 0 else "position"
        if last_kind and i == len(points) - 1:
            kind = last_kind
        lines.append(make_line(seq0 + i, t, kind, lat, lon, acc))
    return lines


def straight_trip(make_line, speed_mps: float = 10.0, period_s: float = 60.0,
                  skip: set[int] | None = None) -> list[str]:
    """A clean trip up the test line from origin to destination."""
    length = (0.10) * M_PER_DEG_LAT
    n = int(length / (speed_mps * period_s)) + 1
    pts = [(i * period_s, north(32.50, min(i * speed_mps * period_s, length)), -116.95)
           for i in range(n + 1)]
    pts = [p for i, p in enumerate(pts) if not skip or i not in skip]
    return drive(make_line, pts, last_kind="disarmed")


@pytest.fixture
def service() -> CustodyService:
    return CustodyService(Database(":memory:"), Thresholds(), clock=lambda: NOW)


def registered(service: CustodyService, doc: dict[str, Any]) -> Shipment:
    s = shipment_from_mapping(doc)
    service.register(s)
    return s


def sim(attack: Attack | str = Attack.NONE, seed: int = 1, size: float | None = None,
        trip_no: int = 0) -> SimulatedTrip:
    return simulate_trip(np.random.default_rng(seed), attack, size, trip_no=trip_no)


def decode_all(lines: list[str]):
    return [decode_line(line) for line in lines]
