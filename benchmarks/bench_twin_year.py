"""A full simulated year of the southern border, against the target of under a minute.

Two runs of 365 days (the BTS 2018 volumes: about 130 million inbound trucks, cars,
pedestrians and buses), each with the ``rules`` policy and the naive adversary:

- **per port**: every US-Mexico port of the BTS file as its own scenario (its own
  queues and resources), the ports spread over all local cores (what
  ``portwatch simulate southern-border --per-port`` runs);
- **pooled**: the shipped ``southern-border.toml`` (all ports pooled into one), in one
  process, since a replication's days run in sequence.

Reports wall time, conveyances simulated per second, and the ratio to the target rate
(130 million in 60 s) measured in the same run. ``python -m benchmarks twin_year``.
"""

from __future__ import annotations

import os
import resource
import time

from benchmarks.report import machine_line, write_section
from portwatch.twin.scenario import bts
from portwatch.twin.scenario.build import YEAR
from portwatch.twin.scenario.schema import load_scenario
from portwatch.twin.study.border import run_border_study
from portwatch.twin.study.replications import run_study
from portwatch.twin.study.runner import local_map, rules_policy

DAYS = 365
TARGET_S = 60.0
SEED = 2018


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(days: int = DAYS, workers: int | None = None) -> dict[str, dict[str, float]]:
    """Both runs over ``days``; returns their figures."""
    workers = workers or os.cpu_count() or 1
    # compile (or load from numba's cache) outside the timed runs
    run_study("test-port", rules_policy(), "naive", days=1, replications=1, seed=1)
    cpu0, start = _children_cpu_s(), time.perf_counter()
    border = run_border_study(rules_policy(), "naive", days=days, replications=1, seed=SEED,
                              map_fn=local_map(workers)).to_dict()
    per_port_s = time.perf_counter() - start
    per_port_cpu = _children_cpu_s() - cpu0 if workers > 1 else time.process_time()
    sc = load_scenario("southern-border")
    cpu0, start = time.process_time(), time.perf_counter()
    pooled = run_study(sc, rules_policy(), "naive", days=days, replications=1,
                       seed=SEED).to_dict()
    pooled_s, pooled_cpu = time.perf_counter() - start, time.process_time() - cpu0
    return {
        "per port": {"wall_s": per_port_s, "arrivals": border["policies"]["rules"]["arrivals"]
                     * days, "crossings": border["crossings"] * days, "cpu_s": per_port_cpu,
                     "workers": float(workers)},
        "pooled": {"wall_s": pooled_s, "arrivals": pooled["policies"]["rules"]["arrivals"]
                   * days, "crossings": pooled["crossings"] * days, "cpu_s": pooled_cpu,
                   "workers": 1.0},
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
        "(`portwatch simulate southern-border --per-port --days 365 -r 1`; process "
        "start-up and each port's set-up included); pooled: "
        "`scenarios/southern-border.toml`, one process. CPU time is that of the "
        "simulating processes (`resource` / `time.process_time`), so the last column "
        "estimates the wall "
        f"time on cores not shared with other work; 1-minute load average {load_before:.1f} "
        f"before the run and {load_after:.1f} after it. The compiled kernel is read from "
        "numba's on-disk cache: the first run after the kernel changes also compiles it "
        "in each process and takes longer. Reproduce: `python -m benchmarks twin_year`.",
    ]
    text = "\n".join(lines)
    print(text)
    write_section("twin-year", text)


if __name__ == "__main__":
    main()
