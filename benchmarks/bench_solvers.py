"""Game solvers beside the plain multiple-LP method, on seeded random games.

- ORIGAMI on compact games of 10^3 to 10^6 targets (unit costs, resources = n/10);
  the multiple-LP method (one LP per target) on the same 10^3-target game in full, and
  on 10^4 targets timed over a sample of its LPs and scaled by the LP count.
- The weighted LP (one LP) on 10^3 targets whose coverage costs differ, beside the
  multiple-LP method and ORIGAMI on the same game.
- DOBSS (one MILP) on 5 follower types x 20 actions x 10 leader strategies, beside the
  multiple-LP method on the Harsanyi-transformed game: 20^5 = 3.2 million LPs, timed over
  a sample and scaled; both run in full on 2 types x 20 actions to check they agree.

Times are CPU seconds of the process (``time.process_time``), medians of the repeats, so
other load on the machine does not inflate them. Payoffs: defender covered U(0, 10),
uncovered U(-10, 0); attacker covered U(-10, 0), uncovered U(0, 10); Bayesian payoffs
U(-10, 10); costs U(0.2, 2).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import numpy as np

from benchmarks.report import machine_line, write_section
from portwatch.targeting import bayesian
from portwatch.targeting.games import BayesianGame, FollowerType, SecurityGame
from portwatch.targeting.lp import _lp_for_target, multiple_lps, weighted_lp
from portwatch.targeting.origami import origami

SEED = 2026


def _cpu(fn: Callable[[], object], repeats: int = 1) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.process_time()
        out = fn()
        times.append(time.process_time() - t0)
    return float(np.median(times)), out


def _compact(rng: np.random.Generator, n: int, weighted: bool = False) -> SecurityGame:
    cost = rng.uniform(0.2, 2.0, n) if weighted else None
    return SecurityGame(rng.uniform(0, 10, n), rng.uniform(-10, 0, n), rng.uniform(-10, 0, n),
                        rng.uniform(0, 10, n), n / 10, cost)


def _bayesian(rng: np.random.Generator, types: int, actions: int, leader: int) -> BayesianGame:
    fts = tuple(FollowerType(1.0 / types, tuple(f"a{j}" for j in range(actions)),
                             rng.uniform(-10, 10, (leader, actions)),
                             rng.uniform(-10, 10, (leader, actions))) for _ in range(types))
    return BayesianGame(tuple(f"s{i}" for i in range(leader)), fts)


def _sampled_lps(count: int, sample: int, one: Callable[[int], object]) -> float:
    """CPU seconds for ``count`` LPs, from timing ``sample`` of them."""
    t0 = time.process_time()
    for k in range(sample):
        one(k)
    return (time.process_time() - t0) / sample * count


def _origami_rows(rng: np.random.Generator) -> list[str]:
    rows = []
    for n in (10**3, 10**4, 10**5, 10**6):
        game = _compact(rng, n)
        t_or, sol = _cpu(lambda g=game: origami(g), repeats=3)
        if n == 10**3:
            t_ml, ml = _cpu(lambda g=game: multiple_lps(g))
            agree = abs(ml.defender_utility - sol.defender_utility) < 1e-6  # type: ignore[attr-defined]
            peer = f"{t_ml:.2f} s (run in full; same utility: {'yes' if agree else 'NO'})"
            ratio = t_ml / t_or
        elif n == 10**4:
            t_ml = _sampled_lps(n, 10, lambda k, g=game: _lp_for_target(g, k))
            peer, ratio = f"{t_ml:,.0f} s (10 of {n:,} LPs timed, scaled)", t_ml / t_or
        else:
            peer, ratio = "not run (one LP per target)", None
        print(f"origami n={n}: {t_or:.4f} s; multiple LPs {peer}", flush=True)
        rows.append(f"| {n:,} | {t_or * 1e3:.3g} | {peer} | "
                    f"{'' if ratio is None else f'{ratio:,.0f}x'} |")
    return rows


def _weighted_row(rng: np.random.Generator) -> str:
    game = _compact(rng, 10**3, weighted=True)
    t_lp, lp_sol = _cpu(lambda: weighted_lp(game), repeats=3)
    t_or, or_sol = _cpu(lambda: origami(game), repeats=3)
    t_ml, ml_sol = _cpu(lambda: multiple_lps(game))
    values = [s.defender_utility for s in (lp_sol, or_sol, ml_sol)]  # type: ignore[attr-defined]
    agree = max(values) - min(values) < 1e-6
    print(f"weighted n=1000: LP {t_lp:.3f} s, origami {t_or:.4f} s, multiple LPs "
          f"{t_ml:.2f} s, agree {agree}", flush=True)
    return (f"| 1,000 | {t_lp * 1e3:.3g} | {t_or * 1e3:.3g} | {t_ml:.2f} | {t_ml / t_lp:,.0f}x | "
            f"{'yes' if agree else 'NO'} |")


def _dobss_rows(rng: np.random.Generator) -> list[str]:
    rows = []
    for types, sample in ((2, None), (5, 200)):
        game = _bayesian(rng, types, 20, 10)
        t_d, d_sol = _cpu(lambda g=game: bayesian.dobss(g))
        count = bayesian.n_joint_responses(game)
        if sample is None:
            t_ml, ml_sol = _cpu(lambda g=game: bayesian.multiple_lps(g))
            agree = abs(ml_sol.defender_utility - d_sol.defender_utility) < 1e-6  # type: ignore[attr-defined]
            peer = f"{t_ml:.2f} s (all {count:,} LPs; same utility: {'yes' if agree else 'NO'})"
        else:
            combos = itertools.islice(itertools.product(range(20), repeat=types), sample)
            picks = list(combos)
            t_ml = _sampled_lps(count, sample, lambda k, g=game, p=picks:
                                bayesian._lp_for_responses(g, p[k]))
            peer = f"{t_ml:,.0f} s ({sample} of {count:,} LPs timed, scaled)"
        print(f"dobss {types}x20: {t_d:.2f} s; multiple LPs {peer}", flush=True)
        rows.append(f"| {types} x 20 x 10 | {t_d:.2f} | {peer} | {t_ml / t_d:,.3g}x |")
    return rows


def main() -> None:
    rng = np.random.default_rng(SEED)
    origami_rows = _origami_rows(rng)
    weighted_row = _weighted_row(rng)
    dobss_rows = _dobss_rows(rng)
    lines = [
        "## Game solvers (`python -m benchmarks solvers`)",
        "",
        machine_line(),
        "",
        "Seeded random games (seed 2026, payoffs as in `benchmarks/bench_solvers.py`); CPU",
        "seconds of one process, median of 3 runs for the fast solvers, 1 run for the peer.",
        "The peer is the plain multiple-LP method (Conitzer and Sandholm 2006): one LP per",
        "attacked target (compact games) or per joint response of the types (Bayesian",
        "games). Where it is too slow to run in full, a sample of its LPs is timed and",
        "scaled by the LP count (marked).",
        "",
        "| targets | ORIGAMI (ms) | multiple LPs | ratio |",
        "|---:|---:|---|---:|",
        *origami_rows,
        "",
        "Targets with different coverage costs (1,000 targets, resources n/10):",
        "",
        "| targets | weighted LP (ms) | ORIGAMI with costs (ms) | multiple LPs (s) | "
        "multiple LPs / weighted LP | same utility |",
        "|---:|---:|---:|---:|---:|---|",
        weighted_row,
        "",
        "Bayesian games (types x actions x leader strategies):",
        "",
        "| game | DOBSS (s) | multiple LPs on the Harsanyi game | ratio |",
        "|---|---:|---|---:|",
        *dobss_rows,
    ]
    write_section("solvers", "\n".join(lines))


if __name__ == "__main__":
    main()
