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
    ZONE_EDGE = "zone-edge"
    JAMMED_STOP = "jammed-stop"
    DROPPED_EVENT = "dropped-event"
    SEQ_GAP = "seq-gap"


EXPECTED_KIND: dict[Attack, AlertKind] = {
    Attack.DIVERSION: AlertKind.OFF_CORRIDOR,
    Attack.DOOR_OPENED: AlertKind.SEAL_OPENED,
    Attack.LONG_STOP: AlertKind.UNAUTHORISED_STOP,
    Attack.JAMMING: AlertKind.SIGNAL_GAP,
    Attack.REPLAY: AlertKind.REPLAY,
    Attack.FORGERY: AlertKind.BAD_SIGNATURE,
    Attack.CLONE: AlertKind.CLONE,
    Attack.SILENT: AlertKind.SIGNAL_LOST,
    Attack.ZONE_EDGE: AlertKind.UNAUTHORISED_STOP,
    Attack.JAMMED_STOP: AlertKind.GNSS_DEGRADED,
    Attack.DROPPED_EVENT: AlertKind.SEQ_GAP,
    Attack.SEQ_GAP: AlertKind.SEQ_GAP,
}

DEFAULT_SIZE: dict[Attack, float] = {
    Attack.DIVERSION: 2_000.0,  # m from the route to the stash house
    Attack.LONG_STOP: 1_800.0,  # s standing still outside an authorised stop
    Attack.JAMMING: 1_200.0,  # s without a GNSS fix
    Attack.SILENT: 900.0,  # s of silence when the truck reaches the crossing
    Attack.ZONE_EDGE: 1_500.0,  # s standing just outside the staging yard
    Attack.JAMMED_STOP: 2_400.0,  # s standing 400 m off the route under jamming
    Attack.SEQ_GAP: 3_000.0,  # s of stop whose reports the relay drops (50 messages)
}
MAX_SIZE = 1e6  # m or s: larger sizes are typing mistakes, not attacks
SIZE_UNIT: dict[Attack, str] = {
    Attack.DIVERSION: "m",
    Attack.LONG_STOP: "s",
    Attack.JAMMING: "s",
    Attack.SILENT: "s",
    Attack.ZONE_EDGE: "s",
    Attack.JAMMED_STOP: "s",
    Attack.SEQ_GAP: "s",
}

DEFAULT_START = datetime(2025, 6, 2, 14, 0, tzinfo=UTC)
REPORTING_PERIOD_S = 60.0
STASH_STAY_S = 900.0
JAMMED_STOP_OFF_M = 400.0  # how far off the route the jammed truck stands


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
    seal_seed: bytes = b""
    """The seal's private key seed (``simulate-trip --write-key`` saves it)."""

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
    if attack not in (Attack.NONE, Attack.SILENT, Attack.ZONE_EDGE):
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
        if what == "yard" and attack is Attack.ZONE_EDGE:
            _stop_at_zone_edge(tl, marks, plan, float(size or 0))
        elif what == "yard" and rng.random() < 0.3:
            tl.wait(float(rng.uniform(300, 1500)))
        elif what == "queue":
            wait_total = float(rng.uniform(1200, 9000))
            steps = max(1, int((queue_to - queue_from) / 60.0))
            for i in range(steps):
                tl.wait(wait_total / steps)
                tl.drive(queue_from + (i + 1) * (queue_to - queue_from) / steps, 3.0)
            next_light = max(next_light, queue_to + 200.0)
        elif what == "attack":
            _attack_stay(tl, marks, attack, float(size or 0))
    # the truck reaches the crossing point itself inside its queue
    cross_s = plan.crossing_along_m
    k = next(i for i, s_m in enumerate(tl.s) if s_m >= cross_s)
    frac = (cross_s - tl.s[k - 1]) / max(tl.s[k] - tl.s[k - 1], 1e-9)
    marks["cross_t"] = tl.t[k - 1] + frac * (tl.t[k] - tl.t[k - 1])
    marks["arrive_t"] = tl.t[-1]
    tl.wait(float(rng.uniform(300, 1200)))  # unloading dock before the seal is disarmed
    return tl, marks


def _attack_stay(tl: _Timeline, marks: dict[str, float], attack: Attack, size: float) -> None:
    """How long the truck stays at the attack's place (it may leave the route)."""
    marks["attack_t"] = tl.t[-1]
    if attack in (Attack.LONG_STOP, Attack.JAMMING, Attack.SEQ_GAP):
        tl.wait(size)
    elif attack is Attack.DIVERSION:
        marks["travel_s"] = size / 8.0
        tl.wait(2 * marks["travel_s"] + STASH_STAY_S)
    elif attack is Attack.JAMMED_STOP:
        marks["travel_s"] = JAMMED_STOP_OFF_M / 8.0
        tl.wait(2 * marks["travel_s"] + size)
    marks["attack_end_t"] = tl.t[-1]


def _stop_at_zone_edge(tl: _Timeline, marks: dict[str, float], plan: RoutePlan,
                       size: float) -> None:
    """Pull into the staging yard near its far edge, then roll 100 m on, out of it, and
    stand there ``size`` s: the stop starts inside the zone and drifts out."""
    radius = plan.stops[0].radius_m
    here = tl.s[-1]
    tl.drive(here + 0.7 * radius, 3.0)
    marks["attack_t"] = tl.t[-1]
    tl.wait(120.0)
    tl.drive(here + 0.7 * radius + 100.0, 2.0)
    tl.wait(size)
    marks["attack_end_t"] = tl.t[-1]


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
    if attack is Attack.DIVERSION or attack is Attack.JAMMED_STOP:
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
        dist = frac * (JAMMED_STOP_OFF_M if attack is Attack.JAMMED_STOP else float(size or 0))
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


@dataclass
class _Trip:
    """The state one simulated trip passes through its steps."""

    plan: RoutePlan
    route_doc: dict[str, Any]
    attack: Attack
    size: float | None
    seed: bytes
    key: Any
    tag: str
    start_ms: int
    attack_s: float
    start_at: datetime
    trip_no: int
    marks: dict[str, float] = field(default_factory=dict)
    as_of: datetime | None = None

    @property
    def shipment_id(self) -> str:
        return f"SHP-{self.tag}"

    @property
    def seal_id(self) -> str:
        return f"SEAL-{self.tag}"


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
    trip = _setup(rng, Attack(attack), size, route, start_at, trip_no)
    tl, trip.marks = _build_timeline(trip.plan, rng, trip.attack, trip.size, trip.attack_s)
    t_s, truth, fixes = _positions(trip, tl, rng)
    seq0 = int(rng.integers(1_000, 1_000_000))
    bodies, sent_t = _bodies(trip, tl, t_s, truth, fixes, seq0, float(rng.uniform(60, 100)))
    arrival = [b_t + float(rng.uniform(1, 5)) for b_t in sent_t]
    if trip.attack is Attack.DOOR_OPENED or trip.attack is Attack.DROPPED_EVENT:
        k = int(np.searchsorted(t_s, trip.marks["attack_t"]))
        bodies[k] = {**bodies[k], "kind": SealEventKind.OPENED.value}
    lines = [sign_fields(trip.key, b) for b in bodies]
    extra = _deliver(lines, arrival, tl.t[-1], rng)
    extra += _injected(trip, rng, t_s, bodies, seq0)
    order = sorted([*zip(arrival, lines, strict=True), *extra], key=lambda p: p[0])
    dropped = _dropped(trip, t_s, bodies)
    doc = {
        "shipment_id": trip.shipment_id,
        "container_id": _container_id(rng),
        "seal": {"seal_id": trip.seal_id, "public_key": public_key_b64(trip.key)},
        "parties": _parties(rng, trip.tag),
        "route": trip.route_doc,
    }
    return SimulatedTrip(
        shipment=doc,
        lines=[line for _, line in order if line not in dropped],
        attack=trip.attack,
        size=trip.size if trip.attack in DEFAULT_SIZE else None,
        expected=EXPECTED_KIND.get(trip.attack),
        notes={k: round(v, 1) for k, v in trip.marks.items()},
        as_of=trip.as_of,
        seal_seed=trip.seed,
    )


def _setup(rng: Generator, attack: Attack, size: float | None, route: dict[str, Any] | None,
           start_at: datetime, trip_no: int) -> _Trip:
    """The trip's route, seal key, ids, start and where its attack happens."""
    from portwatch.custody.example_route import OTAY_MESA_ROUTE

    route_doc = route or OTAY_MESA_ROUTE
    plan = route_from_mapping(route_doc, "route")
    if size is None:
        size = DEFAULT_SIZE.get(attack)
    if size is not None and not 0 < size <= MAX_SIZE:
        raise InputError(f"--size: must be > 0 and at most {MAX_SIZE:g}, got {size}")
    seed = rng.bytes(32)
    tag = f"{trip_no:05d}{int(rng.integers(0, 16**6)):06X}"
    start_ms = to_ms(start_at) + int(rng.integers(0, 6 * 3600)) * 1000
    attack_s = _pick_free(plan, rng)
    return _Trip(plan, route_doc, attack, size, seed, private_key_from_seed(seed), tag,
                 start_ms, attack_s, start_at, trip_no)


def _positions(trip: _Trip, tl: _Timeline, rng: Generator
               ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray], tuple[np.ndarray, ...]]:
    """Report times, true positions and reported fixes (noise, jamming, silence)."""
    end_t = tl.t[-1]
    t_s = np.append(np.arange(0.0, end_t, REPORTING_PERIOD_S), end_t)
    marks, attack = trip.marks, trip.attack
    lat, lon = _truth(trip.plan, tl, t_s, rng, attack, trip.size, marks, trip.attack_s)
    f_lat, f_lon, acc, has_fix = _noisy(lat, lon, rng)
    has_fix[0] = has_fix[-1] = True
    acc[0] = acc[-1] = min(acc[0], 15.0)
    f_lat[0], f_lon[0], f_lat[-1], f_lon[-1] = lat[0], lon[0], lat[-1], lon[-1]
    if attack in (Attack.JAMMING, Attack.JAMMED_STOP):
        jammed = (t_s > marks["attack_t"]) & (t_s < marks["attack_end_t"])
        if attack is Attack.JAMMING:
            has_fix &= ~jammed
        else:  # the seal falls back to cell towers: km-wide positions around the truth
            n = int(jammed.sum())
            acc[jammed] = rng.uniform(1_000.0, 3_000.0, n)
            sigma = acc[jammed] / 2.45
            f_lat[jammed], f_lon[jammed] = _offset(lat[jammed], lon[jammed],
                                                   rng.normal(0, 1, n) * sigma,
                                                   rng.normal(0, 1, n) * sigma)
            has_fix |= jammed
    if attack is Attack.SILENT:
        # the seal's last report is the last one at least ``size`` before the crossing
        # (never the arming); the verdict is read ``size`` after it, at the crossing
        size = float(trip.size or 0)
        last = max(1, int(np.searchsorted(t_s, marks["cross_t"] - size, side="right")) - 1)
        t_s = t_s[: last + 1]
        has_fix[last] = True
        marks["silent_from_t"] = float(t_s[-1])
        marks["as_of_t"] = float(t_s[-1]) + size
        trip.as_of = datetime.fromtimestamp((trip.start_ms + int(marks["as_of_t"] * 1000))
                                            / 1000, UTC)
    return t_s, (lat, lon), (f_lat, f_lon, acc, has_fix)


def _bodies(trip: _Trip, tl: _Timeline, t_s: np.ndarray,
            truth: tuple[np.ndarray, np.ndarray], fixes: tuple[np.ndarray, ...], seq0: int,
            battery0: float) -> tuple[list[dict[str, object]], list[float]]:
    """The unsigned messages (arming, positions, disarming and the dock's opening) and
    the time each is sent (s since arming)."""
    f_lat, f_lon, acc, has_fix = fixes
    end_t = tl.t[-1]
    delivered = trip.as_of is None
    kinds = [SealEventKind.POSITION] * len(t_s)
    kinds[0] = SealEventKind.ARMED
    if delivered:
        kinds[-1] = SealEventKind.DISARMED
    bodies = []
    for i, t in enumerate(t_s):
        fix = bool(has_fix[i])
        bodies.append(body_fields(
            seal_id=trip.seal_id, shipment_id=trip.shipment_id, seq=seq0 + i,
            at_ms=trip.start_ms + int(t * 1000),
            kind=kinds[i] if fix or i in (0, len(t_s) - 1) else SealEventKind.HEARTBEAT,
            lat=float(f_lat[i]) if fix else None, lon=float(f_lon[i]) if fix else None,
            accuracy_m=float(acc[i]) if fix else None,
            speed_mps=None, battery_pct=battery0 - 1.5 * t / 3600.0,
        ))
    if delivered:
        # the seal reports its opening at the dock, after it was disarmed
        lat, lon = truth
        bodies.append(body_fields(
            seal_id=trip.seal_id, shipment_id=trip.shipment_id, seq=seq0 + len(t_s),
            at_ms=trip.start_ms + int((end_t + 60) * 1000), kind=SealEventKind.OPENED,
            lat=float(lat[-1]), lon=float(lon[-1]), accuracy_m=8.0,
            battery_pct=battery0 - 1.5 * end_t / 3600.0))
    return bodies, ([*t_s, end_t + 60] if delivered else list(t_s))


def _deliver(lines: list[str], arrival: list[float], end_t: float, rng: Generator
             ) -> list[tuple[float, str]]:
    """Cellular coverage gaps (reports stored, then forwarded in a burst: ``arrival``
    is changed in place) and at-least-once delivery (the copies returned)."""
    for _ in range(int(rng.choice([0, 1, 1, 2]))):
        g0 = float(rng.uniform(0, end_t))
        g1 = g0 + float(rng.uniform(180, 900))
        burst = [i for i, a in enumerate(arrival) if g0 <= a < g1]
        for i in burst:
            arrival[i] = g1 + float(rng.uniform(0, 10))
    extra = []
    for i in range(len(lines)):
        if rng.random() < 0.01:
            extra.append((arrival[i] + float(rng.uniform(5, 60)), lines[i]))
    return extra


def _injected(trip: _Trip, rng: Generator, t_s: np.ndarray, bodies: list[dict[str, object]],
              seq0: int) -> list[tuple[float, str]]:
    """Lines an attacker adds to the stream: an older trip's, forged, or a clone's."""
    attack_t = trip.marks.get("attack_t", 0.0)
    extra: list[tuple[float, str]] = []
    if trip.attack is Attack.REPLAY:
        old = simulate_trip(np.random.default_rng(int(rng.integers(2**32))), Attack.NONE,
                            route=trip.route_doc, start_at=trip.start_at, trip_no=trip.trip_no)
        # the same seal, a week earlier, with an older counter: re-signed by its key
        old_lines = _resign_as_older(old, trip.key, trip.seal_id, seq0, trip.start_ms)
        pick = int(rng.integers(10, max(11, len(old_lines) - 20)))
        for j, line in enumerate(old_lines[pick : pick + 10]):
            extra.append((attack_t + 60.0 * j, line))
    elif trip.attack is Attack.FORGERY:
        forger = private_key_from_seed(rng.bytes(32))
        k = int(np.searchsorted(t_s, attack_t))
        for j in range(5):
            b = dict(bodies[min(k + j, len(bodies) - 2)])
            b["seq"] = int(b["seq"]) + 100_000  # type: ignore[call-overload]
            extra.append((attack_t + 60.0 * j, sign_fields(forger, b)))
    elif trip.attack is Attack.CLONE:
        k = int(np.searchsorted(t_s, attack_t))
        for j in range(10):
            b = dict(bodies[min(k + j, len(bodies) - 2)])
            b["shipment_id"] = f"{trip.shipment_id}-B"
            b["lat_e7"] = int(b["lat_e7"] or 325300000) + 270_000  # type: ignore[call-overload]
            b["lon_e7"] = b["lon_e7"] or -1169300000
            b["acc_m"] = b["acc_m"] or 10
            extra.append((attack_t + 60.0 * j, sign_fields(trip.key, b)))
    return extra


def _dropped(trip: _Trip, t_s: np.ndarray, bodies: list[dict[str, object]]) -> set[str]:
    """Lines a relay drops: the ``opened`` event, or every report of a long stop (a jump
    in ``seq``)."""
    if trip.attack is Attack.DROPPED_EVENT:
        k = int(np.searchsorted(t_s, trip.marks["attack_t"]))
        return {sign_fields(trip.key, bodies[k])}
    if trip.attack is Attack.SEQ_GAP:
        t0, t1 = trip.marks["attack_t"], trip.marks["attack_end_t"]
        idx = np.nonzero((t_s > t0) & (t_s < t1))[0]
        return {sign_fields(trip.key, bodies[i]) for i in idx}
    return set()


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
