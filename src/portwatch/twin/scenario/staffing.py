"""The seeded search that calibrates truck booth staffing by hour on published truck waits.

CBP publishes neither hourly staffing nor hourly truck counts, but it does publish the
waits: trucks at the large southwest-border commercial crossings wait 20-30 min on
average, with a 95th percentile of 70-85 min. Whole booths staffed flat over the open
hours fit that coarsely (a booth is a quarter of Otay Mesa's truck capacity), so this
search reshapes the general truck lanes' staffing hour by hour: each open hour keeps the
flat demand-sized count, or one booth fewer or more (``scenario_build.shaped_booths``).
A candidate runs through the twin with the ``rules`` policy and the naive adversary
(``DAYS`` x ``REPLICATIONS`` from ``SEED``: the study of ``portwatch simulate PORT
--days 4 --replications 4 --seed 0``), scored by its distance from the middle of both
ranges. The search is a steepest-descent walk from the flat staffing: at each step it
tries every single-hour change of one booth and takes the best, until no change brings
it closer (once inside the ranges: ``MIN_GAIN`` closer).
It never staffs more booths than the port has commercial primary booths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portwatch.domain.modes import Mode
from portwatch.twin.scenario import bts
from portwatch.twin.scenario.build import (
    FLAT,
    TRUCK_PRIMARY_BOOTHS,
    YEAR,
    describe_shape,
    port_scenario,
    published_wait_min,
    shaped_booths,
)
from portwatch.twin.scenario.schema import parse_scenario
from portwatch.twin.study.replications import run_study
from portwatch.twin.study.runner import rules_policy

#: Published truck wait range at large southwest-border commercial crossings (min).
TARGET_MEAN_MIN = (20.0, 30.0)
TARGET_P95_MIN = (70.0, 85.0)

DAYS = 4
REPLICATIONS = 4
SEED = 0
MAX_STEPS = 12
#: Once inside the ranges, a step must bring the candidate this much closer to their middle
#: (squared half-widths): smaller gains are noise of a 4 x 4 study, not worth a booth-hour.
MIN_GAIN = 0.1


@dataclass(frozen=True)
class Candidate:
    """One staffing shape and the general truck lane's waits it gives (minutes)."""

    shape: tuple[int, ...]
    booths_by_hour: tuple[int, ...]
    mean_min: float
    p95_min: float

    @property
    def inside(self) -> bool:
        """Whether both the mean and the 95th percentile are in the published ranges."""
        return (TARGET_MEAN_MIN[0] <= self.mean_min <= TARGET_MEAN_MIN[1]
                and TARGET_P95_MIN[0] <= self.p95_min <= TARGET_P95_MIN[1])

    @property
    def distance(self) -> float:
        """Squared distance from the middle of both ranges, in half-widths of each range."""
        def scaled(x: float, lo_hi: tuple[float, float]) -> float:
            lo, hi = lo_hi
            return (x - (lo + hi) / 2) / ((hi - lo) / 2)

        return (scaled(self.mean_min, TARGET_MEAN_MIN) ** 2
                + scaled(self.p95_min, TARGET_P95_MIN) ** 2)


def neighbours(shape: tuple[int, ...], flat: list[int], max_booths: int) -> list[tuple[int, ...]]:
    """Shapes one booth away from ``shape`` in one open hour, each hour within one booth of
    the flat count, at least one booth and at most ``max_booths``."""
    out = []
    for h, n in enumerate(flat):
        if n == 0:
            continue
        for step in (-1, 1):
            d = shape[h] + step
            if abs(d) <= 1 and 1 <= n + d <= max_booths:
                out.append(shape[:h] + (d,) + shape[h + 1:])
    return out


def truck_waits_min(data: dict[str, Any]) -> tuple[float, float]:
    """Mean and 95th percentile of the general truck lane's wait (min) of scenario ``data``."""
    sc = parse_scenario(data, data["name"])
    study = run_study(sc, rules_policy(), "naive", days=DAYS, replications=REPLICATIONS,
                      seed=SEED)
    wait = study.summary("rules")["wait_s_by_lane"]["truck.general"]
    return wait["mean"] / 60.0, wait["p95"] / 60.0


def search(port_code: str, max_booths: int, year: int = YEAR) -> list[Candidate]:
    """The walk from the flat staffing for the port's general truck lanes: the best
    candidate of each step, the last one best. ``max_booths``: the most booths the
    general lanes may staff in an hour."""
    data = port_scenario(port_code, year, truck_shape=FLAT)
    flat = list(data["modes"]["truck"]["general"]["booths_by_hour"])
    seen: dict[tuple[int, ...], Candidate] = {}

    def evaluate(shape: tuple[int, ...]) -> Candidate:
        if shape not in seen:
            booths = shaped_booths(flat, shape)
            data["modes"]["truck"]["general"]["booths_by_hour"] = booths
            mean_min, p95_min = truck_waits_min(data)
            seen[shape] = Candidate(shape, tuple(booths), mean_min, p95_min)
        return seen[shape]

    walk = [evaluate(FLAT)]
    for _ in range(MAX_STEPS):
        options = [evaluate(s) for s in neighbours(walk[-1].shape, flat, max_booths)]
        best = min(options, key=lambda c: (c.distance, c.shape), default=None)
        gain = MIN_GAIN if walk[-1].inside else 0.0
        if best is None or best.distance >= walk[-1].distance - gain:
            break
        walk.append(best)
    return walk


def general_booth_limit(port_code: str, year: int = YEAR) -> int:
    """The most booths the general truck lanes may staff in an hour: the port's commercial
    primary booths less the FAST booths staffed at the same time (their most in any hour)."""
    total, _ = TRUCK_PRIMARY_BOOTHS[port_code]
    express = port_scenario(port_code, year, truck_shape=FLAT)["modes"]["truck"].get("express")
    return total - (max(express["booths_by_hour"]) if express else 0)


def calibrate(year: int = YEAR, echo: Any = print) -> dict[str, Candidate]:
    """Search every port of ``TRUCK_PRIMARY_BOOTHS``; prints each walk through ``echo`` and
    returns the last candidate per port code (its shape goes to ``TRUCK_STAFFING_SHAPE``)."""
    chosen = {}
    for code in TRUCK_PRIMARY_BOOTHS:
        limit = general_booth_limit(code, year)
        echo(f"port {code}: general truck booths at most {limit} an hour")
        for step, c in enumerate(search(code, limit, year)):
            echo(f"  step {step}: mean {c.mean_min:5.1f} min, p95 {c.p95_min:5.1f} min, "
                 f"{'inside' if c.inside else 'outside'} the ranges; {describe_shape(c.shape)}; "
                 f"booths {list(c.booths_by_hour)}")
            chosen[code] = c
    return chosen


@dataclass(frozen=True)
class CapCandidate:
    """A cap on a mode's general-lane booths and the mean wait it gives (minutes)."""

    cap: float
    mean_min: float


def lane_wait_min(data: dict[str, Any], mode: Mode) -> float:
    """Mean primary wait (min) of the general lanes of ``mode`` in scenario ``data``."""
    sc = parse_scenario(data, data["name"])
    study = run_study(sc, rules_policy(), "naive", days=DAYS, replications=REPLICATIONS,
                      seed=SEED)
    return study.summary("rules")["wait_s_by_lane"][f"{mode.value}.general"]["mean"] / 60.0


#: The cap search stops when the bracket is this narrow (booths).
CAP_RESOLUTION = 0.02


def search_cap(port_code: str, mode: Mode, target: tuple[float, float],
               year: int = YEAR) -> list[CapCandidate]:
    """Bisection on the (fractional) cap of ``mode``'s general booths, fewer booths giving
    longer waits: every cap tried, the last one the cap whose mean wait is nearest the
    middle of ``target``. Caps run from 1 to the demand-sized peak (no cap)."""
    uncapped = port_scenario(port_code, year, booth_caps={})
    peak = float(max(uncapped["modes"][mode.value]["general"]["booths_by_hour"]))
    middle = (target[0] + target[1]) / 2
    tried: dict[float, CapCandidate] = {}

    def evaluate(cap: float) -> CapCandidate:
        cap = round(cap, 2)
        if cap not in tried:
            data = port_scenario(port_code, year, booth_caps={(port_code, mode.value): cap})
            tried[cap] = CapCandidate(cap, lane_wait_min(data, mode))
        return tried[cap]

    lo, hi = 1.0, peak  # waits fall as the cap rises: bracket the middle
    if evaluate(hi).mean_min >= middle:
        lo = hi
    while hi - lo > CAP_RESOLUTION:
        mid = (lo + hi) / 2
        if evaluate(mid).mean_min >= middle:
            lo = mid
        else:
            hi = mid
    best = min(tried.values(), key=lambda c: (abs(c.mean_min - middle), c.cap))
    return [*(c for c in tried.values() if c is not best), best]


def calibrate_lanes(year: int = YEAR, codes: list[str] | None = None,
                    echo: Any = print) -> dict[tuple[str, str], float]:
    """The general-lane booth cap of every port and mode with a published wait
    (``published_wait_min``): cars at every BTS port, pedestrians where published."""
    chosen: dict[tuple[str, str], float] = {}
    for code in codes or [p.code for p in bts.ports()]:
        modes = port_scenario(code, year, booth_caps={})["modes"]
        for mode in (Mode.CAR, Mode.PEDESTRIAN):
            target = published_wait_min(code, mode)
            if target is None or mode.value not in modes:
                continue
            walk = search_cap(code, mode, (target[0], target[1]), year)
            best = walk[-1]
            echo(f"port {code} {mode.value}: cap {best.cap:g}, mean {best.mean_min:.1f} min "
                 f"(published {target[0]:g}-{target[1]:g}); {len(walk)} caps tried")
            chosen[(code, mode.value)] = best.cap
    return chosen


__all__ = [
    "TARGET_MEAN_MIN",
    "TARGET_P95_MIN",
    "CapCandidate",
    "Candidate",
    "calibrate",
    "calibrate_lanes",
    "general_booth_limit",
    "neighbours",
    "lane_wait_min",
    "search",
    "search_cap",
    "truck_waits_min",
]


def main(argv: list[str] | None = None) -> int:
    """``python -m portwatch.twin.scenario.staffing [--year Y]``: rerun the truck staffing
    search and print ``TRUCK_STAFFING_SHAPE`` (exit 1 if a port misses the ranges)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m portwatch.twin.scenario.staffing")
    parser.add_argument("--year", type=int, default=YEAR)
    parser.add_argument("--lanes", action="store_true",
                        help="search the car and pedestrian booth caps instead")
    args = parser.parse_args(argv)
    if args.lanes:
        caps = calibrate_lanes(args.year)
        print("GENERAL_BOOTH_CAP = {")
        for key, cap in caps.items():
            print(f"    {key!r}: {cap},")
        print("}")
        return 0
    chosen = calibrate(args.year)
    print("TRUCK_STAFFING_SHAPE = {")
    for code, c in chosen.items():
        print(f"    {code!r}: {c.shape},")
    print("}")
    return 0 if all(c.inside for c in chosen.values()) else 1


if __name__ == "__main__":
    import sys

    sys.exit(main())
