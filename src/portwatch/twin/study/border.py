"""The southern border port by port: every US-Mexico port of the BTS file as its own port.

``southern-border.toml`` pools all ports into one queue system, which is right for
border-wide volumes and loads but not for waits (one pooled queue with hundreds of
booths barely waits). ``run_border_study`` instead simulates each port with its own
scenario (``scenario_build.port_scenario``: its own volumes, booths and resources) and
its own adversary, then adds the ports up day by day: every replication's figures are
the sums over ports, and waits are pooled from each port's own queues.

Each (port, replication) is one task for ``map_fn`` (a process pool or a Dask cluster),
seeded from ``SeedSequence(seed)`` by replication and port, so the study is reproducible
and its policies still share common random numbers within each port.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from portwatch import __version__
from portwatch.targeting.policy import Policy
from portwatch.twin.adversaries import make_adversary
from portwatch.twin.process.kernel import BUSY_SCANNERS
from portwatch.twin.process.metrics import DayMetrics, combine, summarise
from portwatch.twin.scenario import bts
from portwatch.twin.scenario.build import YEAR, port_scenario
from portwatch.twin.scenario.schema import CompiledScenario, load_scenario, parse_scenario
from portwatch.twin.study.replications import (
    ReplicationResult,
    ReplicationTask,
    StudyResult,
    check_seed,
    check_study_args,
    run_replication,
)

N_FIXED = BUSY_SCANNERS  # busy_s / staffed_s: stations and canines, scanners, rail yard, bays

MapFn = Callable[[Callable[[ReplicationTask], ReplicationResult], list[ReplicationTask]],
                 Iterable[ReplicationResult]]


def border_ports(year: int = YEAR) -> list[CompiledScenario]:
    """Every BTS port with traffic in ``year`` as its own scenario, busiest first."""
    ports = [p for p in bts.ports() if sum(bts.daily_volume(p.code, year).values()) >= 0.05]
    ports.sort(key=lambda p: -sum(bts.daily_volume(p.code, year).values()))
    return [parse_scenario(port_scenario(p.code, year), f"{p.slug} ({year})") for p in ports]


def _to_border_layout(total: DayMetrics, port: CompiledScenario,
                      border: CompiledScenario) -> DayMetrics:
    """A port's metrics with its scanner types mapped onto the pooled scenario's."""
    n_types = len(border.scanner_names)

    def remap(values: np.ndarray) -> np.ndarray:
        out = np.zeros(N_FIXED + n_types + 2)
        out[:N_FIXED] = values[:N_FIXED]
        for ty, name in enumerate(port.scanner_names):
            out[N_FIXED + border.scanner_names.index(name)] += values[N_FIXED + ty]
        out[-2:] = values[-2:]
        return out

    return replace(total, busy_s=remap(total.busy_s), staffed_s=remap(total.staffed_s))


def _add_ports(parts: list[DayMetrics]) -> DayMetrics:
    """Ports running side by side: everything adds up, but the days do not."""
    out = combine(parts)
    return replace(out, days=parts[0].days)


def run_border_study(
    policies: Policy | Sequence[Policy],
    adversary: str,
    days: int,
    replications: int,
    seed: int,
    warmup_days: int = 0,
    map_fn: MapFn | None = None,
    adversary_params: dict[str, Any] | None = None,
    year: int = YEAR,
) -> StudyResult:
    """Run ``policies`` against ``adversary`` at every port of the southern border.

    The result reads like ``run_study``'s on ``southern-border`` (scenario name
    ``southern-border (per port)``), with each port simulated on its own. ``map_fn``
    must return the results in the order of the tasks, as ``map`` does.
    """
    pols = check_study_args(policies, days, replications, warmup_days)
    seed = check_seed(seed)
    names = [p.name for p in pols]
    params = dict(adversary_params or {})
    make_adversary(adversary, **params)  # fail early on a bad name or parameter
    border = load_scenario("southern-border")
    ports = border_ports(year)
    by_rep = np.random.SeedSequence(seed).spawn(replications)
    tasks = [
        ReplicationTask(sc, pols, adversary, params, days, warmup_days, r, port_seq)
        for r in range(replications)
        for sc, port_seq in zip(ports, by_rep[r].spawn(len(ports)), strict=True)
    ]
    mapper = map_fn or (lambda fn, ts: [fn(t) for t in ts])
    results = list(mapper(run_replication, tasks))
    per_rep: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    rep_totals: dict[str, list[DayMetrics]] = {n: [] for n in names}
    conservation = {n: {"arrived": 0, "left": 0, "in_port": 0} for n in names}
    for r in range(replications):
        chunk = results[r * len(ports):(r + 1) * len(ports)]
        for n in names:
            parts = [_to_border_layout(res.totals[n], sc, border)
                     for res, sc in zip(chunk, ports, strict=True)]
            total = _add_ports(parts)
            rep_totals[n].append(total)
            per_rep[n].append(summarise(border, total))
            for res in chunk:
                for k in conservation[n]:
                    conservation[n][k] += res.conservation[n][k]
    return StudyResult(
        scenario="southern-border (per port)", seed=seed, version=__version__,
        adversary=adversary, adversary_params=params, days=days,
        replications=replications, warmup_days=warmup_days, policies=pols,
        per_replication=per_rep, totals={n: combine(rep_totals[n]) for n in names},
        conservation=conservation,
    )


__all__ = ["border_ports", "run_border_study"]
