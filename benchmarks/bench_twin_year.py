"""A full simulated year of the southern border, against the target of under a minute.

Two runs of 365 days (the BTS 2018 volumes: about 130 million inbound trucks, cars,
pedestrians and buses), each with the ``rules`` policy and the naive adversary:

- **per port**: every US-Mexico port of the BTS file as its own scenario (its own
  queues and resources), the ports spread over all local cores;
- **pooled**: the shipped ``southern-border.toml`` (all ports pooled into one), in one
  process, since a replication's days run in sequence.

Reports wall time, conveyances simulated per second, and the ratio to the target rate
(130 million in 60 s) measured in the same run. ``python -m benchmarks twin_year``.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor

from benchmarks.report import machine_line, write_section
from portwatch.twin import bts
from portwatch.twin.experiment import run_study
from portwatch.twin.scenario import load_scenario, parse_scenario
from portwatch.twin.scenario_build import YEAR, port_scenario
from portwatch.twin.study import rules_policy

DAYS = 365
TARGET_S = 60.0
SEED = 2018


def _year(scenario_name: str, days: int) -> tuple[str, float, float, float]:
    """(name, arrivals, crossings, CPU seconds) of one scenario over ``days``."""
    if scenario_name == "southern-border":
        sc = load_scenario(scenario_name)
    else:
        sc = parse_scenario(port_scenario(scenario_name, YEAR), f"{scenario_name} ({YEAR})")
    start = time.process_time()
    data = run_study(sc, rules_policy(), "naive", days=days, replications=1,
                     seed=SEED).to_dict()
    cpu = time.process_time() - start
    arrivals = data["policies"]["rules"]["arrivals"] * days
    return scenario_name, arrivals, data["crossings"] * days, cpu


def _warm_up() -> None:
    # compile (or load from numba's cache) outside the timed runs
    run_study("test-port", rules_policy(), "naive", days=1, replications=1, seed=1)


def run(days: int = DAYS, workers: int | None = None) -> dict[str, dict[str, float]]:
    """Both runs over ``days``; returns their figures."""
    workers = workers or os.cpu_count() or 1
    _warm_up()
    codes = sorted((p.code for p in bts.ports()),
                   key=lambda c: -sum(bts.daily_volume(c, YEAR).values()))
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers, initializer=_warm_up) as pool:
        per_port = list(pool.map(_year, codes, [days] * len(codes)))
    per_port_s = time.perf_counter() - start
    start = time.perf_counter()
    pooled = _year("southern-border", days)
    pooled_s = time.perf_counter() - start
    return {
        "per port": {"wall_s": per_port_s, "arrivals": sum(r[1] for r in per_port),
                     "crossings": sum(r[2] for r in per_port),
                     "cpu_s": sum(r[3] for r in per_port), "workers": float(workers)},
        "pooled": {"wall_s": pooled_s, "arrivals": pooled[1], "crossings": pooled[2],
                   "cpu_s": pooled[3], "workers": 1.0},
    }


def main() -> None:
    days = int(os.environ.get("PORTWATCH_BENCH_DAYS", DAYS))
    load_before = os.getloadavg()[0]
    figures = run(days)
    load_after = os.getloadavg()[0]
    target_rate = bts.total_crossings(YEAR) / TARGET_S
    lines = [
        "## Twin: a simulated year of the southern border",
        "",
        f"{days} days of every US-Mexico port at BTS {YEAR} volumes "
        f"({bts.total_crossings(YEAR) / 1e6:.1f} M inbound conveyances a year), `rules` "
        "policy, naive adversary, one replication. Target: a year in under "
        f"{TARGET_S:.0f} s, i.e. {target_rate / 1e6:.2f} M conveyances/s. {machine_line()}.",
        "",
        "| run | processes | conveyances simulated | crossed | wall time | CPU time | "
        "conveyances/s (wall) | vs target rate | year on idle cores (CPU time / processes) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, f in figures.items():
        rate = f["arrivals"] / f["wall_s"]
        idle_s = f["cpu_s"] / f["workers"]
        lines.append(
            f"| {name} | {f['workers']:.0f} | {f['arrivals'] / 1e6:.1f} M | "
            f"{f['crossings'] / 1e6:.1f} M | {f['wall_s']:.1f} s | {f['cpu_s']:.1f} s | "
            f"{rate / 1e6:.2f} M | {rate / target_rate:.2f}x | {idle_s * DAYS / days:.0f} s |"
        )
    lines += [
        "",
        "Per port: each port's own queues and resources, the ports on all local cores "
        "(process start-up and each port's set-up included); pooled: "
        "`scenarios/southern-border.toml`, one process. CPU time is the simulation's own "
        "(`time.process_time` in each process), so the last column estimates the wall "
        f"time on cores not shared with other work; 1-minute load average {load_before:.1f} "
        f"before the run and {load_after:.1f} after it. Reproduce: "
        "`python -m benchmarks twin_year`.",
    ]
    text = "\n".join(lines)
    print(text)
    write_section("twin-year", text)


if __name__ == "__main__":
    main()
