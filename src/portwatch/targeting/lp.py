"""Linear programs for compact security games (HiGHS through ``scipy.optimize``).

- ``weighted_lp``: one LP. Minimise the attacker's best utility ``k`` subject to the
  capacity ``sum cost*c <= m`` (each target's coverage uses capacity in proportion to its
  cost, e.g. traffic times inspection time), each capacity group's budget if the game
  has groups, and ``0 <= c <= 1``; then the attacked target
  is the one of the attack set best for the defender (see ``portwatch.targeting.origami``
  for why the minimal ``k`` is the strong Stackelberg answer).
- ``multiple_lps``: the multiple-LP method of Conitzer and Sandholm (2006) on the compact
  representation: one LP per target ``t`` maximising the defender's utility at ``t``
  subject to ``t`` being a best response; the best LP wins. It assumes nothing about the
  structure of the answer, so it is the independent cross-check and the benchmarks' peer.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix, diags, hstack, vstack

from portwatch.domain.errors import InputError
from portwatch.targeting.games import SecurityGame, SecuritySolution, finish_security
from portwatch.targeting.origami import coverage_for


def weighted_lp(game: SecurityGame) -> SecuritySolution:
    """Strong Stackelberg coverage with per-target coverage costs, by one LP."""
    n = game.n_targets
    d = game.attacker_uncovered - game.attacker_covered
    # variables [c_0..c_{n-1}, k]; minimise k
    obj = np.zeros(n + 1)
    obj[-1] = 1.0
    # Ua_u - d*c <= k   ->   -d*c - k <= -Ua_u
    a_att = hstack([diags(-d), csr_matrix(-np.ones((n, 1)))])
    cap_a, cap_b = game.capacity_rows()
    a_cap = csr_matrix(np.hstack([cap_a, np.zeros((cap_a.shape[0], 1))]))
    res = linprog(
        obj,
        A_ub=vstack([a_att, a_cap]).tocsr(),
        b_ub=np.concatenate([-game.attacker_uncovered, cap_b]),
        bounds=[(0.0, 1.0)] * n + [(None, None)],
        method="highs",
    )
    if res.status != 0:  # the LP is always feasible (c = 0); anything else is a solver fault
        raise RuntimeError(f"weighted_lp: HiGHS failed: {res.message}")
    k = max(float(res.x[-1]), float(game.attacker_covered.max()))
    # The LP's coverage on targets outside the attack set is arbitrary within capacity;
    # report the least coverage that holds the attacker at k (what the LP's k certifies).
    return finish_security(game, coverage_for(game, k), "weighted-lp",
                           minimal_attacker_utility=k)


def _lp_for_target(game: SecurityGame, t: int) -> tuple[float, np.ndarray] | None:
    n = game.n_targets
    d_att = game.attacker_uncovered - game.attacker_covered
    d_def = game.defender_covered - game.defender_uncovered
    # maximise Ud_t(c) = Ud_u[t] + d_def[t] * c_t
    obj = np.zeros(n)
    obj[t] = -d_def[t]
    # Ua_t'(c) <= Ua_t(c):  Ua_u[t'] - d[t'] c_t' - Ua_u[t] + d[t] c_t <= 0 for t' != t
    rows = np.array([r for r in range(n) if r != t], dtype=np.int64)
    m_rows = len(rows)
    a = csr_matrix(
        (np.concatenate([-d_att[rows], np.full(m_rows, d_att[t])]),
         (np.concatenate([np.arange(m_rows)] * 2), np.concatenate([rows, np.full(m_rows, t)]))),
        shape=(m_rows, n),
    )
    b = game.attacker_uncovered[t] - game.attacker_uncovered[rows]
    cap_a, cap_b = game.capacity_rows()
    res = linprog(
        obj,
        A_ub=vstack([a, csr_matrix(cap_a)]).tocsr(),
        b_ub=np.concatenate([b, cap_b]),
        bounds=[(0.0, 1.0)] * n,
        method="highs",
    )
    if res.status == 2:  # t cannot be made a best response
        return None
    if res.status != 0:
        raise RuntimeError(f"multiple_lps: HiGHS failed on target {t}: {res.message}")
    return float(game.defender_uncovered[t] - res.fun), res.x


def multiple_lps(game: SecurityGame, *, max_targets: int = 20_000) -> SecuritySolution:
    """Strong Stackelberg coverage by one LP per attacked target (Conitzer-Sandholm 2006)."""
    if game.n_targets > max_targets:
        raise InputError(
            f"targets: the multiple-LP method solves one LP per target; {game.n_targets} "
            f"targets is more than its limit of {max_targets} (use origami)"
        )
    best: tuple[float, np.ndarray] | None = None
    for t in range(game.n_targets):
        got = _lp_for_target(game, t)
        if got is not None and (best is None or got[0] > best[0] + 1e-12):
            best = got
    assert best is not None  # some target is always a best response
    return finish_security(game, best[1], "multiple-lps", lps_solved=game.n_targets)


__all__ = ["multiple_lps", "weighted_lp"]
