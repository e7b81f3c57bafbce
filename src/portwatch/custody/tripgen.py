"""A generator of signed seal traces: clean trips with realistic GPS behaviour, and
every attack the custody monitor must catch.

Noise model (all draws from the ``numpy.random.Generator`` passed in):

- GNSS fixes report a 95 % accuracy radius of 4-15 m and err by a 2-D Gaussian of that
  size (a 95 % radius is 2.45 sigma); about 4.9 m under open sky is typical of
  GPS-enabled phones (GPS.gov, "GPS Accuracy"). 1 % of fixes are multipath outliers,
  30-120 m off while still claiming good accuracy.
- 2 % of fixes start a 1-3 fix episode of cell-tower fallback reporting 300-1500 m
  accuracy (the FCC's E911 network-based benchmark was 300 m for 95 % of calls,
  47 CFR 20.18(h)), erring by that much.
- 0.2 % of reports carry no fix at all (an overpass, a loading bay roof).
- Most trips cross 1-2 cellular coverage gaps of 3-15 min: the seal stores its reports
  and forwards them in a burst, in shuffled order, when coverage returns; 1 % of
  messages are delivered twice (at-least-once transports).
- Trucks idle at traffic signals (20-150 s), may use the authorised staging yard, and
  queue 20-150 min at the crossing (commercial waits at Otay Mesa run two to four
  hours: San Diego Regional Chamber of Commerce).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.random import Generator

from portwatch.custody.envelope import body_fields, format_at, parse_at, to_ms
from portwatch.custody.geodesy import local_xy_m, radii_m
from portwatch.custody.keys import private_key_from_seed, public_key_b64, sign_fields
from portwatch.custody.registry import RoutePlan, iso6346_check_digit, route_from_mapping
from portwatch.domain.custody import AlertKind, SealEventKind
from portwatch.domain.errors import InputError


class Attack(StrEnum):
    """The attacks ``simulate_trip`` can stage."""

    NONE = "none"
    DIVERSION = "diversion"
    DOOR_OPENED = "door-opened"
    LONG_STOP = "long-stop"
    JAMMING = "jamming"
    REPLAY = "replay"
    FORGERY = "forgery"
    CLONE = "clone"
    SILENT = "silent"


EXPECTED_KIND: dict[Attack, AlertKind] = {
    Attack.DIVERSION: AlertKind.OFF_CORRIDOR,
    Attack.DOOR_OPENED: AlertKind.SEAL_OPENED,
    Attack.LONG_STOP: AlertKind.UNAUTHORISED_STOP,
    Attack.JAMMING: AlertKind.SIGNAL_GAP,
    Attack.REPLAY: AlertKind.REPLAY,
    Attack.FORGERY: AlertKind.BAD_SIGNATURE,
    Attack.CLONE: AlertKind.CLONE,
    Attack.SILENT: AlertKind.SIGNAL_LOST,
}

DEFAULT_SIZE: dict[Attack, float] = {
    Attack.DIVERSION: 2_000.0,  # m from the route to the stash house
    Attack.LONG_STOP: 1_800.0,  # s standing still outside an authorised stop
    Attack.JAMMING: 1_200.0,  # s without a GNSS fix
    Attack.SILENT: 900.0,  # s of silence when the truck reaches the crossing
}
SIZE_UNIT: dict[Attack, str] = {
    Attack.DIVERSION: "m",
    Attack.LONG_STOP: "s",
    Attack.JAMMING: "s",
    Attack.SILENT: "s",
}

DEFAULT_START = datetime(2025, 6, 2, 14, 0, tzinfo=UTC)
REPORTING_PERIOD_S = 60.0
STASH_STAY_S = 900.0


@dataclass(frozen=True)
class SimulatedTrip:
    """A shipment document and its seal traffic in arrival order."""

    shipment: dict[str, Any]
    lines: list[str]
    attack: Attack
    size: float | None
    expected: AlertKind | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    as_of: datetime | None = None
    """When to judge the trip: the truck at the crossing for a seal that fell silent;
    ``None`` for a trip that ends delivered, whose verdict no later time changes."""

    @property
    def shipment_id(self) -> str:
        return str(self.shipment["shipment_id"])


@dataclass
class _Timeline:
    """Along-route position s (m) against time t (s since arming), piecewise linear."""

    t: list[float] = field(default_factory=lambda: [0.0])
    s: list[float] = field(default_factory=lambda: [0.0])

    def wait(self, dur_s: float) -> None:
        self.t.append(self.t[-1] + dur_s)
        self.s.append(self.s[-1])

    def drive(self, to_s: float, speed_mps: float) -> None:
        dist = max(0.0, to_s - self.s[-1])
        self.t.append(self.t[-1] + dist / speed_mps)
        self.s.append(to_s)


def _container_id(rng: Generator) -> str:
    owner = "".join(rng.choice(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), 3)) + "U"
    serial = f"{int(rng.integers(0, 10**6)):06d}"
    return owner + serial + str(iso6346_check_digit(owner + serial))


def _point_at(plan: RoutePlan, s_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = plan.corridor
    cum = np.concatenate([[0.0], np.cumsum(c.segment_m)])
    return np.interp(s_m, cum, c.lat), np.interp(s_m, cum, c.lon)


def _offset(lat: np.ndarray, lon: np.ndarray, east_m: np.ndarray, north_m: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    m, n = radii_m(lat)
    return (lat + np.degrees(north_m / m),
            lon + np.degrees(east_m / (n * np.cos(np.radians(lat)))))


def _free_stretches(plan: RoutePlan, margin_m: float = 120.0) -> list[tuple[float, float]]:
    """Along-route intervals before the crossing and outside every authorised zone."""
    s = np.arange(0.0, plan.crossing_along_m, 10.0)
    lat, lon = _point_at(plan, s)
    free = np.ones_like(s, dtype=bool)
    for z in plan.authorised_zones:
        x, y = local_xy_m(lat, lon, z.lat, z.lon)
        free &= np.hypot(x, y) > z.radius_m + margin_m
    out: list[tuple[float, float]] = []
    start = None
    for si, ok in zip(s, free, strict=True):
        if ok and start is None:
            start = si
        if not ok and start is not None:
            out.append((start, si - 10.0))
            start = None
    if start is not None:
        out.append((start, float(s[-1])))
    return [(a, b) for a, b in out if b - a >= 50.0]


def _pick_free(plan: RoutePlan, rng: Generator) -> float:
    stretches = _free_stretches(plan)
    if not stretches:
        raise InputError(f"route {plan.name}: no stretch outside authorised zones to stage "
                         "an attack on")
    lengths = np.array([b - a for a, b in stretches])
    k = int(rng.choice(len(stretches), p=lengths / lengths.sum()))
    a, b = stretches[k]
    return float(rng.uniform(a, b))


def _build_timeline(plan: RoutePlan, rng: Generator, attack: Attack, size: float | None,
                    attack_s: float) -> tuple[_Timeline, dict[str, float]]:
    tl = _Timeline()
    marks: dict[str, float] = {}
    tl.wait(float(rng.uniform(300, 1200)))  # loading and paperwork after arming
    c = plan.corridor
    yard = plan.stops[0] if plan.stops else None
    _, yard_along = c.locate([yard.lat], [yard.lon]) if yard else (None, [math.inf])
    queue_from = plan.crossing_along_m - 0.8 * plan.crossing.radius_m
    queue_to = plan.crossing_along_m + 0.5 * plan.crossing.radius_m
    events: list[tuple[float, str]] = [(float(yard_along[0]), "yard"), (queue_from, "queue"),
                                       (c.length_m, "end")]
    if attack is not Attack.NONE and attack is not Attack.SILENT:
        events.append((attack_s, "attack"))
    events.sort()
    next_light = float(rng.uniform(200, 900))
    for at_s, what in events:
        while next_light < at_s:
            tl.drive(next_light, _speed(plan, next_light, rng))
            if rng.random() < 0.5:
                tl.wait(float(rng.uniform(20, 150)))  # traffic signal
            next_light += float(rng.uniform(400, 1500))
        tl.drive(at_s, _speed(plan, at_s, rng))
        if what == "yard" and rng.random() < 0.3:
            tl.wait(float(rng.uniform(300, 1500)))
        elif what == "queue":
            wait_total = float(rng.uniform(1200, 9000))
            steps = max(1, int((queue_to - queue_from) / 60.0))
            for i in range(steps):
                tl.wait(wait_total / steps)
                tl.drive(queue_from + (i + 1) * (queue_to - queue_from) / steps, 3.0)
            next_light = max(next_light, queue_to + 200.0)
        elif what == "attack":
            marks["attack_t"] = tl.t[-1]
            if attack is Attack.LONG_STOP or attack is Attack.JAMMING:
                tl.wait(float(size or 0))
            elif attack is Attack.DIVERSION:
                travel = float(size or 0) / 8.0
                marks["travel_s"] = travel
                tl.wait(2 * travel + STASH_STAY_S)
            marks["attack_end_t"] = tl.t[-1]
    # the truck reaches the crossing point itself inside its queue
    cross_s = plan.crossing_along_m
    k = next(i for i, s_m in enumerate(tl.s) if s_m >= cross_s)
    frac = (cross_s - tl.s[k - 1]) / max(tl.s[k] - tl.s[k - 1], 1e-9)
    marks["cross_t"] = tl.t[k - 1] + frac * (tl.t[k] - tl.t[k - 1])
    marks["arrive_t"] = tl.t[-1]
    tl.wait(float(rng.uniform(300, 1200)))  # unloading dock before the seal is disarmed
    return tl, marks


def _speed(plan: RoutePlan, s_m: float, rng: Generator) -> float:
    if s_m < plan.crossing_along_m:
        return float(rng.uniform(7.0, 12.0))  # urban boulevards in Tijuana
    return float(rng.uniform(15.0, 25.0))  # SR 905


def _truth(plan: RoutePlan, tl: _Timeline, t_s: np.ndarray, rng: Generator, attack: Attack,
           size: float | None, marks: dict[str, float], attack_s: float
           ) -> tuple[np.ndarray, np.ndarray]:
    s = np.interp(t_s, tl.t, tl.s)
    lat, lon = _point_at(plan, s)
    # the road is not the centreline: a slowly varying lane offset of a few metres
    phase = rng.uniform(0, 2 * np.pi)
    lane = 6.0 * np.sin(t_s / 400.0 + phase)
    lat, lon = _offset(lat, lon, lane * 0.7, lane * 0.7)
    if attack is Attack.DIVERSION:
        t0, travel = marks["attack_t"], marks["travel_s"]
        t1 = marks["attack_end_t"]
        frac = np.clip(np.minimum(t_s - t0, t1 - t_s) / max(travel, 1e-9), 0.0, 1.0)
        frac = np.where((t_s > t0) & (t_s < t1), frac, 0.0)
        # leave at right angles to the route towards the stash house
        a_lat, a_lon = _point_at(plan, np.array([attack_s - 20.0, attack_s + 20.0]))
        x, y = local_xy_m(a_lat[1], a_lon[1], a_lat[0], a_lon[0])
        norm = math.hypot(float(x), float(y)) or 1.0
        side = 1.0 if rng.random() < 0.5 else -1.0
        east, north = side * -float(y) / norm, side * float(x) / norm
        dist = frac * float(size or 0)
        lat, lon = _offset(lat, lon, east * dist, north * dist)
    return lat, lon


def _noisy(lat: np.ndarray, lon: np.ndarray, rng: Generator
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = len(lat)
    acc = rng.uniform(4.0, 15.0, n)
    cell = np.zeros(n, dtype=bool)
    i = 0
    while i < n:
        if rng.random() < 0.02:
            k = int(rng.integers(1, 4))
            cell[i : i + k] = True
            i += k
        else:
            i += 1
    acc[cell] = rng.uniform(300.0, 1500.0, int(cell.sum()))
    sigma = acc / 2.45
    east = rng.normal(0, 1, n) * sigma
    north = rng.normal(0, 1, n) * sigma
    outlier = (rng.random(n) < 0.01) & ~cell
    bearing = rng.uniform(0, 2 * np.pi, n)
    jump = rng.uniform(30.0, 120.0, n)
    east = np.where(outlier, jump * np.cos(bearing), east)
    north = np.where(outlier, jump * np.sin(bearing), north)
    has_fix = rng.random(n) >= 0.002
    lat2, lon2 = _offset(lat, lon, east, north)
    return lat2, lon2, acc, has_fix


def _parties(rng: Generator, tag: str) -> list[dict[str, Any]]:
    card = f"FAST-{int(rng.integers(10**8, 10**9))}"
    return [
        {"party_id": f"MFR-{tag}", "role": "manufacturer", "name": "Maquiladora Otay S.A. de C.V.",
         "enrolled": True, "standing": "good", "card_id": None},
        {"party_id": "CAR-0001", "role": "carrier", "name": "Transportes Frontera",
         "enrolled": True, "standing": "good", "card_id": None},
        {"party_id": "IMP-0001", "role": "importer", "name": "Pacific Imports LLC",
         "enrolled": True, "standing": "good", "card_id": None},
        {"party_id": f"DRV-{tag}", "role": "driver", "name": f"Driver {tag}",
         "enrolled": True, "standing": "good", "card_id": card},
    ]


def simulate_trip(
    rng: Generator,
    attack: Attack | str = Attack.NONE,
    size: float | None = None,
    route: dict[str, Any] | None = None,
    start_at: datetime = DEFAULT_START,
    trip_no: int = 0,
) -> SimulatedTrip:
    """Simulate one trip along ``route`` (default: the Otay Mesa example) and sign its
    seal traffic. ``size`` is the attack's size: the stash house's distance from the
    route (m) for a diversion, the stop or jamming length (s) otherwise."""
    from portwatch.custody.example_route import OTAY_MESA_ROUTE

    attack = Attack(attack)
    route_doc = route or OTAY_MESA_ROUTE
    plan = route_from_mapping(route_doc, "route")
    if size is None:
        size = DEFAULT_SIZE.get(attack)
    if size is not None and size <= 0:
        raise InputError(f"--size: must be > 0, got {size}")
    key = private_key_from_seed(rng.bytes(32))
    tag = f"{trip_no:05d}{int(rng.integers(0, 16**6)):06X}"
    shipment_id, seal_id = f"SHP-{tag}", f"SEAL-{tag}"
    start_ms = to_ms(start_at) + int(rng.integers(0, 6 * 3600)) * 1000
    attack_s = _pick_free(plan, rng)
    tl, marks = _build_timeline(plan, rng, attack, size, attack_s)
    end_t = tl.t[-1]
    t_s = np.arange(0.0, end_t, REPORTING_PERIOD_S)
    t_s = np.append(t_s, end_t)
    lat, lon = _truth(plan, tl, t_s, rng, attack, size, marks, attack_s)
    f_lat, f_lon, acc, has_fix = _noisy(lat, lon, rng)
    has_fix[0] = has_fix[-1] = True
    acc[0] = acc[-1] = min(acc[0], 15.0)
    f_lat[0], f_lon[0], f_lat[-1], f_lon[-1] = lat[0], lon[0], lat[-1], lon[-1]
    if attack is Attack.JAMMING:
        jammed = (t_s > marks["attack_t"]) & (t_s < marks["attack_end_t"])
        has_fix &= ~jammed
    as_of = None
    if attack is Attack.SILENT:
        # the seal's last report is the last one at least ``size`` before the crossing
        # (never the arming); the verdict is read ``size`` after it, at the crossing
        last = max(1, int(np.searchsorted(t_s, marks["cross_t"] - float(size or 0),
                                          side="right")) - 1)
        t_s = t_s[: last + 1]
        has_fix[last] = True
        marks["silent_from_t"] = float(t_s[-1])
        marks["as_of_t"] = float(t_s[-1]) + float(size or 0)
        as_of = datetime.fromtimestamp((start_ms + int(marks["as_of_t"] * 1000)) / 1000, UTC)
    seq0 = int(rng.integers(1_000, 1_000_000))
    battery0 = float(rng.uniform(60, 100))
    kinds = [SealEventKind.POSITION] * len(t_s)
    kinds[0] = SealEventKind.ARMED
    if as_of is None:
        kinds[-1] = SealEventKind.DISARMED
    bodies = []
    for i, t in enumerate(t_s):
        bodies.append(body_fields(
            seal_id=seal_id, shipment_id=shipment_id, seq=seq0 + i,
            at_ms=start_ms + int(t * 1000), kind=kinds[i] if has_fix[i] or i in (0, len(t_s) - 1)
            else SealEventKind.HEARTBEAT,
            lat=float(f_lat[i]) if has_fix[i] else None,
            lon=float(f_lon[i]) if has_fix[i] else None,
            accuracy_m=float(acc[i]) if has_fix[i] else None,
            speed_mps=None, battery_pct=battery0 - 1.5 * t / 3600.0,
        ))
    if as_of is None:
        # the seal reports its opening at the dock, after it was disarmed
        bodies.append(body_fields(
            seal_id=seal_id, shipment_id=shipment_id, seq=seq0 + len(t_s),
            at_ms=start_ms + int((end_t + 60) * 1000), kind=SealEventKind.OPENED,
            lat=float(lat[-1]), lon=float(lon[-1]), accuracy_m=8.0,
            battery_pct=battery0 - 1.5 * end_t / 3600.0))
    sent_t = [*t_s, end_t + 60] if as_of is None else list(t_s)
    arrival = [b_t + float(rng.uniform(1, 5)) for b_t in sent_t]
    extra: list[tuple[float, str]] = []
    if attack is Attack.DOOR_OPENED:
        k = int(np.searchsorted(t_s, marks["attack_t"]))
        b = dict(bodies[k])
        b["kind"] = SealEventKind.OPENED.value
        bodies[k] = b
    lines = [sign_fields(key, b) for b in bodies]
    # cellular coverage gaps: stored, then forwarded in a shuffled burst
    for _ in range(int(rng.choice([0, 1, 1, 2]))):
        g0 = float(rng.uniform(0, end_t))
        g1 = g0 + float(rng.uniform(180, 900))
        burst = [i for i, a in enumerate(arrival) if g0 <= a < g1]
        for i in burst:
            arrival[i] = g1 + float(rng.uniform(0, 10))
    for i in range(len(lines)):
        if rng.random() < 0.01:
            extra.append((arrival[i] + float(rng.uniform(5, 60)), lines[i]))
    attack_t = marks.get("attack_t", 0.0)
    if attack is Attack.REPLAY:
        old = simulate_trip(np.random.default_rng(int(rng.integers(2**32))), Attack.NONE,
                            route=route_doc, start_at=start_at, trip_no=trip_no)
        # the same seal, a week earlier, with an older counter: re-signed by its key
        old_lines = _resign_as_older(old, key, seal_id, seq0, start_ms)
        pick = int(rng.integers(10, max(11, len(old_lines) - 20)))
        for j, line in enumerate(old_lines[pick : pick + 10]):
            extra.append((attack_t + 60.0 * j, line))
    elif attack is Attack.FORGERY:
        forger = private_key_from_seed(rng.bytes(32))
        k = int(np.searchsorted(t_s, attack_t))
        for j in range(5):
            b = dict(bodies[min(k + j, len(bodies) - 2)])
            b["seq"] = int(b["seq"]) + 100_000  # type: ignore[call-overload]
            extra.append((attack_t + 60.0 * j, sign_fields(forger, b)))
    elif attack is Attack.CLONE:
        k = int(np.searchsorted(t_s, attack_t))
        for j in range(10):
            b = dict(bodies[min(k + j, len(bodies) - 2)])
            b["shipment_id"] = f"{shipment_id}-B"
            b["lat_e7"] = int(b["lat_e7"] or 325300000) + 270_000  # type: ignore[call-overload]
            b["lon_e7"] = b["lon_e7"] or -1169300000
            b["acc_m"] = b["acc_m"] or 10
            extra.append((attack_t + 60.0 * j, sign_fields(key, b)))
    order = sorted([*zip(arrival, lines, strict=True), *extra], key=lambda p: p[0])
    doc = {
        "shipment_id": shipment_id,
        "container_id": _container_id(rng),
        "seal": {"seal_id": seal_id, "public_key": public_key_b64(key)},
        "parties": _parties(rng, tag),
        "route": route_doc,
    }
    return SimulatedTrip(
        shipment=doc,
        lines=[line for _, line in order],
        attack=attack,
        size=size if attack in DEFAULT_SIZE else None,
        expected=EXPECTED_KIND.get(attack),
        notes={k: round(v, 1) for k, v in marks.items()},
        as_of=as_of,
    )


def _resign_as_older(old: SimulatedTrip, key: Any, seal_id: str, seq0: int, start_ms: int
                     ) -> list[str]:
    """An older trip of the same seal: a week earlier, with a lower counter."""
    msgs = sorted({m["seq"]: m for m in map(json.loads, old.lines)}.values(),
                  key=lambda m: m["seq"])
    seq_base, at_base = msgs[0]["seq"], parse_at(msgs[0]["at"])
    week_ms = 7 * 86_400_000
    out = []
    for m in msgs:
        m.pop("sig")
        m["seal_id"] = seal_id
        m["seq"] = seq0 - 1_000 + (m["seq"] - seq_base)
        m["at"] = format_at(start_ms - week_ms + parse_at(m["at"]) - at_base)
        out.append(sign_fields(key, m))
    return out


__all__ = [
    "DEFAULT_SIZE",
    "DEFAULT_START",
    "EXPECTED_KIND",
    "SIZE_UNIT",
    "Attack",
    "SimulatedTrip",
    "simulate_trip",
]
