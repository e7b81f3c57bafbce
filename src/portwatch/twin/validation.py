"""Queueing theory and reduced ports that the kernel is checked against.

- ``erlang_c_wait_s``: the mean wait in queue of M/M/c (Erlang C formula).
- ``allen_cunneen_wait_s``: the Allen-Cunneen approximation for G/G/c,
  ``Wq ~ Wq(M/M/c) * (Ca^2 + Cs^2) / 2``.
- ``reduced_port``: a scenario with one mode, one lane of ``booths`` booths at every
  hour, and optionally referral to ``bays`` secondary bays: nothing else (no canines,
  scanners, express lane, contraband), so the kernel reduces to a textbook network.
- ``run_reduced_port``: the kernel on given Poisson arrivals and uniforms, returning the
  primary and secondary waits of each conveyance.
- ``rail_volume_table``: trains and rail containers a day drawn for every port with rail,
  against the BTS counts they come from.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit
from scipy import stats

from portwatch.targeting.policy import Policy
from portwatch.twin.process.kernel import N_UNIFORMS, PortState, prepare, run_day
from portwatch.twin.scenario.schema import CompiledScenario, parse_scenario


def erlang_c_probability(servers: int, offered_erlangs: float) -> float:
    """Probability that an arrival waits in M/M/c with ``offered_erlangs`` = lambda/mu."""
    c, a = servers, offered_erlangs
    if not 0 < a < c:
        raise ValueError(f"offered load must be in (0, {c}), got {a}")
    # Sum of a^k / k! computed iteratively for numerical stability.
    term = 1.0
    total = 1.0
    for k in range(1, c):
        term *= a / k
        total += term
    last = term * a / c * c / (c - a)
    return last / (total + last)


def erlang_c_wait_s(arrival_rate_per_s: float, mean_service_s: float, servers: int) -> float:
    """Mean wait in queue (s) of M/M/c."""
    a = arrival_rate_per_s * mean_service_s
    p_wait = erlang_c_probability(servers, a)
    return p_wait * mean_service_s / (servers - a)


def allen_cunneen_wait_s(
    arrival_rate_per_s: float, mean_service_s: float, service_cv: float, servers: int,
    arrival_cv: float = 1.0,
) -> float:
    """Allen-Cunneen approximation of the mean wait in queue (s) of G/G/c."""
    mmc = erlang_c_wait_s(arrival_rate_per_s, mean_service_s, servers)
    return mmc * (arrival_cv**2 + service_cv**2) / 2.0


def reduced_port(
    booths: int | list[int],
    service: dict[str, Any],
    *,
    bays: int = 1,
    secondary_service: dict[str, Any] | None = None,
    daily_volume: float = 1000.0,
) -> CompiledScenario:
    """A one-mode (car), one-lane port: ``booths`` booths at every hour (or a list of 24
    hourly counts) with primary
    ``service`` (a scenario ``service`` table, e.g. ``{"kind": "exponential",
    "mean_s": 60}``), then ``bays`` secondary bays with ``secondary_service``."""
    hourly = [booths] * 24 if isinstance(booths, int) else list(booths)
    sec = secondary_service or {"kind": "exponential", "mean_s": 600.0}
    table = {"*": {"*": 0.0}}
    data = {
        "name": "reduced-port",
        "modes": {"car": {
            "daily_volume": daily_volume,
            "hourly_profile": [1.0] * 24,
            "general": {"booths_by_hour": hourly, "service": service},
            "secondary_service": sec,
            "full_search_service": sec,
        }},
        "canine": {"teams": 0, "service": {"kind": "deterministic", "mean_s": 1.0},
                   "modes": [], "detection": table, "false_alarm_prob": 0.0,
                   "decoy_alert_prob": 0.0},
        "secondary": {"bays": bays, "queue_slots": 10**9, "detection": table,
                      "full_search_detection": table},
        "analyzer": {"count": 0, "service": {"kind": "deterministic", "mean_s": 1.0},
                     "identify_prob": {}, "false_alarm_prob": 0.0},
        "contraband": {"drugs": {"none": {"share": 1.0, "mass_kg_mean": 1.0,
                                          "value_usd_per_kg": 0.0, "harm_per_kg": 0.0}},
                       "loads_per_day": 0.0, "mode_share": {"car": 1.0},
                       "concealment_share": {"trap": 1.0}},
        "cost": {"truck_hour_usd": 0.0, "car_hour_usd": 0.0, "pedestrian_hour_usd": 0.0,
                 "bus_hour_usd": 0.0},
    }
    return parse_scenario(data, "reduced-port")


@dataclass(frozen=True, eq=False)
class ReducedPortRun:
    """Per-conveyance times of a reduced-port run (seconds)."""

    arrive_at_s: np.ndarray
    primary_wait_s: np.ndarray
    primary_service_s: np.ndarray
    referred: np.ndarray
    secondary_wait_s: np.ndarray  # NaN where not referred
    secondary_service_s: np.ndarray  # NaN where not referred


def poisson_arrivals(rate_per_s: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` arrival instants (s) of a Poisson process of ``rate_per_s``."""
    return np.cumsum(rng.exponential(1.0 / rate_per_s, n))


def run_reduced_port(
    scenario: CompiledScenario, referral_rate: float, arrive_at_s: np.ndarray,
    uniforms: np.ndarray, plain: bool = True,
) -> ReducedPortRun:
    """The kernel on ``arrive_at_s`` (sorted) with per-conveyance ``uniforms``; a
    conveyance is referred when its decision uniform is below ``referral_rate``.
    ``plain=False``: the kernel's event loop even where its plain path applies."""
    policy = Policy.uniform(referral_rate, capacity_rule="hold", name="reduced-port")
    n = arrive_at_s.shape[0]
    if uniforms.shape != (n, N_UNIFORMS):
        raise ValueError(f"uniforms must have shape ({n}, {N_UNIFORMS})")
    # inputs the kernel only reads stay untouched zero pages; the outputs are computed in
    # place of the kernel's own (fresh pages cost as much as the simulation)
    # (codes in the kernel's own int8, so it reads them as they are)
    zeros = np.zeros(n, dtype=np.int8)
    no = np.zeros(n, dtype=bool)
    run = run_day(prepare(scenario, policy), arrive_at_s, np.ones(n, dtype=np.int8), zeros,
                  no, zeros, np.zeros(n), np.full(n, -1, dtype=np.int8), zeros, no, uniforms,
                  PortState(scenario), plain=plain)
    # secondary_start_at is NaN unless examined, so both secondary figures are NaN there;
    # the four durations in one pass, each in place of an instant it no longer needs
    _durations(arrive_at_s, run.primary_start_at, run.primary_end_at, run.secondary_start_at,
               run.exit_at)
    return ReducedPortRun(
        arrive_at_s=arrive_at_s,
        primary_wait_s=run.primary_start_at,
        primary_service_s=run.primary_end_at,
        referred=run.inspected,
        secondary_wait_s=run.secondary_start_at,
        secondary_service_s=run.exit_at,
    )


@njit(cache=True, nogil=True)
def _durations(arrive, start, end, secondary, exit_at):
    """In place: start -> primary wait, end -> primary service, secondary -> secondary
    wait, exit_at -> secondary service."""
    for c in range(arrive.shape[0]):
        exit_at[c] = exit_at[c] - secondary[c]
        secondary[c] = secondary[c] - end[c]
        end[c] = end[c] - start[c]
        start[c] = start[c] - arrive[c]


def relative_error(simulated: float, theory: float) -> float:
    """|simulated - theory| / theory."""
    return abs(simulated - theory) / theory if theory else math.inf


def validation_table(seeds: int = 6, n: int = 200_000) -> str:
    """The markdown table of kernel vs theory that ``docs/twin-model.md`` shows
    (``python -m portwatch.twin.validation`` prints it)."""
    mean_s = 60.0
    cases: list[tuple[str, int, float, dict[str, Any], float]] = [
        ("M/M/1", 1, 0.5, {"kind": "exponential", "mean_s": mean_s}, 1.0),
        ("M/M/3", 3, 0.8, {"kind": "exponential", "mean_s": mean_s}, 1.0),
        ("M/M/5", 5, 0.9, {"kind": "exponential", "mean_s": mean_s}, 1.0),
        ("M/M/10", 10, 0.95, {"kind": "exponential", "mean_s": mean_s}, 1.0),
        ("M/LN(cv 0.5)/4", 4, 0.85, {"kind": "lognormal", "mean_s": mean_s, "cv": 0.5}, 0.5),
        ("M/G(cv 1.5)/4", 4, 0.85, {"kind": "gamma", "mean_s": mean_s, "cv": 1.5}, 1.5),
        ("M/E4/4", 4, 0.85, {"kind": "erlang", "mean_s": mean_s, "k": 4}, 0.5),
        ("M/D/4", 4, 0.85, {"kind": "deterministic", "mean_s": mean_s}, 0.0),
    ]
    rows = ["| queue | utilisation | theory Wq (s) | kernel Wq (s) | 95% CI | rel. error |",
            "|---|---:|---:|---:|---:|---:|"]
    for label, c, rho, service, cv in cases:
        rate = rho * c / mean_s
        sc = reduced_port(c, service)
        waits = []
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            at = poisson_arrivals(rate, n, rng)
            run = run_reduced_port(sc, 0.0, at, rng.random((n, N_UNIFORMS)))
            waits.append(run.primary_wait_s[n // 10:].mean())
        w = np.asarray(waits)
        half = stats.t.ppf(0.975, len(w) - 1) * w.std(ddof=1) / math.sqrt(len(w))
        theory = (erlang_c_wait_s(rate, mean_s, c) if service["kind"] == "exponential"
                  else allen_cunneen_wait_s(rate, mean_s, cv, c))
        name = "Erlang C" if service["kind"] == "exponential" else "Allen-Cunneen"
        rows.append(f"| {label} ({name}) | {rho:.2f} | {theory:.2f} | {w.mean():.2f} | "
                    f"+/- {half:.2f} | {relative_error(w.mean(), theory):.1%} |")
    return "\n".join(rows)


def rail_volume_table(year: int = 2018, days: int = 365, seed: int = 0) -> str:
    """The markdown table of rail volumes that ``docs/twin-model.md`` shows: per port
    with trains in ``year``, BTS trains and containers a day against those drawn over
    ``days`` days (mean and 95% t interval over 10 blocks of days)."""
    from portwatch.domain.modes import Mode
    from portwatch.targeting.policy import mode_index
    from portwatch.twin.process.traffic import draw_trains
    from portwatch.twin.scenario import bts
    from portwatch.twin.scenario.build import port_scenario

    rail = mode_index(Mode.RAIL)
    rows = ["| port | trains a day, BTS | simulated [95%] | containers a day, BTS | "
            "simulated [95%] | loaded share, BTS |", "|---|---:|---:|---:|---:|---:|"]
    for port in bts.ports():
        data = port_scenario(port.code, year)
        if "rail" not in data:
            continue
        sc = parse_scenario(data, port.slug)
        rng = np.random.default_rng(seed)
        trains, boxes = np.zeros(days), np.zeros(days)
        for day in range(days):
            t = draw_trains(sc, day, rng).arrive_at_s
            trains[day], boxes[day] = np.unique(t).shape[0], t.shape[0]
        cells = []
        for series, truth in ((trains, sc.trains_per_day), (boxes, sc.daily_volume[rail])):
            blocks = series[: days // 10 * 10].reshape(10, -1).mean(axis=1)
            half = stats.t.ppf(0.975, 9) * blocks.std(ddof=1) / math.sqrt(10)
            cells.append(f"{truth:,.2f} | {series.mean():,.2f} "
                         f"[{blocks.mean() - half:,.2f}, {blocks.mean() + half:,.2f}]")
        rows.append(f"| {port.name} | {cells[0]} | {cells[1]} | "
                    f"{data['rail']['loaded_share']:.3f} |")
    return "\n".join(rows)


def rail_port_figures(port: str, days: int = 7, replications: int = 4, seed: int = 1) -> str:
    """The rail figures of ``port`` through the kernel under ``rules`` against the naive
    adversary: containers a day arriving, crossing, referred, left in the yard, image
    anomalies, the portal and yard waits and how busy each is."""
    from portwatch.domain.modes import Mode
    from portwatch.targeting.policy import mode_index
    from portwatch.twin.study.replications import run_study
    from portwatch.twin.study.runner import rules_policy

    rail = mode_index(Mode.RAIL)
    study = run_study(port, rules_policy(), "naive", days=days, replications=replications,
                      seed=seed)
    total, s = study.totals["rules"], study.summary("rules")
    d = total.days
    wait = s["wait_s"]["rail"]
    use = s["utilisation"]
    return (f"{port}, rules, naive, {days} days x {replications} replications, seed {seed}: "
            f"containers a day {total.arrived[rail] / d:,.1f} arrived, "
            f"{total.crossed[rail] / d:,.1f} crossed, {total.inspected[rail] / d:,.1f} "
            f"referred to the yard ({total.false_alarms[rail] / d:,.1f} clean image "
            f"anomalies), {total.in_port_at_end[rail] / d:,.1f} in the yard at the end of "
            f"a day; portal wait mean {wait['mean'] / 60:.1f} min, p95 "
            f"{wait['p95'] / 60:.1f} min; yard wait mean "
            f"{s['secondary_wait_s']['rail'] / 60:.1f} min; "
            f"portal {use['booths.rail.general']:.0%} busy, "
            f"yard {use['rail_yard']:.0%} busy")


__all__ = [
    "ReducedPortRun",
    "rail_port_figures",
    "rail_volume_table",
    "allen_cunneen_wait_s",
    "erlang_c_probability",
    "erlang_c_wait_s",
    "poisson_arrivals",
    "reduced_port",
    "relative_error",
    "run_reduced_port",
    "validation_table",
]


def main(argv: list[str] | None = None) -> int:
    """``python -m portwatch.twin.validation [--quick | --rail]``: print the validation
    table (``--quick``: 3 seeds of 20,000 conveyances instead of 6 of 200,000; ``--rail``:
    the rail volumes against BTS instead)."""
    args = sys.argv[1:] if argv is None else argv
    if "--rail" in args:
        print(rail_volume_table())
        print()
        print(rail_port_figures("laredo"))
        return 0
    quick = "--quick" in args
    print(validation_table(seeds=3, n=20_000) if quick else validation_table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
