"""The port game's MILP at the shipped ports: is ``portwatch plan`` proven optimal within
its default time limit, and what the merge of attacker types with identical payoffs
(``targeting.eraser.merge_identical_types``) does for it.

For each port: ``plan_port`` with the default settings (40 s for all rounds' MILPs),
then the best round's game solved again with and without the merge, 40 s each. Times
are wall-clock (the solver's limit is), so they depend on the machine's load, printed
beside them. ``python -m benchmarks plan_milp`` prints the rows; nothing is written.
"""

from __future__ import annotations

import os
import time

import portwatch.targeting.eraser as eraser
from portwatch.plan.portgame import PlanSettings, plan_port
from portwatch.twin.scenario import load_scenario

PORTS = ("laredo", "southern-border", "otay-mesa")
LIMIT_S = 40.0


def _solve(game: eraser.BayesianSecurityGame, merge: bool) -> str:
    real = eraser.merge_identical_types
    if not merge:
        eraser.merge_identical_types = lambda g: g  # type: ignore[assignment]
    try:
        t = time.perf_counter()
        sol = eraser.bayesian_eraser(game, time_limit_s=LIMIT_S)
        wall = time.perf_counter() - t
    finally:
        eraser.merge_identical_types = real
    d = sol.details
    return (f"{d['program_types']} types: {wall:.1f} s wall, proven {d['proven_optimal']}, "
            f"gap {d['mip_gap']:.4f}, value {sol.defender_utility:.4f}")


def main() -> None:
    for port in PORTS:
        sc = load_scenario(port)
        t, c = time.perf_counter(), time.process_time()
        plan = plan_port(sc, PlanSettings())
        d = plan.solution.details
        print(f"{port}: {len(plan.cells)} targets; plan_port {time.perf_counter() - t:.0f} s "
              f"wall ({time.process_time() - c:.0f} s CPU), proven {d.get('proven_optimal')}, "
              f"gap {d.get('mip_gap', 0.0):.4f}; load average {os.getloadavg()[0]:.1f}",
              flush=True)
        print(f"  final game, merged: {_solve(plan.game, True)}", flush=True)
        print(f"  final game, unmerged: {_solve(plan.game, False)}", flush=True)


if __name__ == "__main__":
    main()
