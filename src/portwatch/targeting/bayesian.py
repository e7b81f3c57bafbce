"""Bayesian Stackelberg games in normal form: DOBSS and the multiple-LP method.

- ``dobss``: Paruchuri, Pita, Marecki, Pearce, Ordonez and Kraus, "Playing games for
  security: an efficient exact algorithm for solving Bayesian Stackelberg games",
  AAMAS 2008. One mixed-integer linear program over ``z[l, i, j]`` (the probability
  that the leader plays ``i`` and type ``l`` answers ``j``), a binary best-response
  indicator ``q[l, j]`` per type and the type's best value ``a[l]``; solved by HiGHS
  (``scipy.optimize.milp``). No Harsanyi transformation is needed.
- ``multiple_lps``: Conitzer and Sandholm, "Computing the optimal strategy to commit to",
  EC 2006, on the Harsanyi-transformed game: one LP per joint response (one action per
  type), each maximising the leader's utility subject to every type's action being a best
  response; the best feasible LP wins. Its count of LPs is the product of the types'
  action counts, which is what DOBSS avoids.

Both give strong Stackelberg equilibria: a follower indifferent between actions takes the
one best for the leader.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.optimize import LinearConstraint, linprog, milp
from scipy.sparse import lil_matrix

from portwatch.domain.errors import InputError
from portwatch.targeting.games import BayesianGame, BayesianSolution


def _finish(game: BayesianGame, x: np.ndarray, method: str, **details: object) -> BayesianSolution:
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, None)
    x = x / x.sum()
    x.setflags(write=False)
    responses = game.strong_responses(x)
    return BayesianSolution(method, x, game.leader_utility(x, responses), responses,
                            dict(details))


def dobss(game: BayesianGame, *, time_limit_s: float | None = None) -> BayesianSolution:
    """Optimal leader commitment by the DOBSS mixed-integer program (see the module)."""
    n = game.n_leader
    sizes = [len(ft.actions) for ft in game.types]
    # variable layout per type l: z (n*J_l), q (J_l), a (1)
    offsets, pos = [], 0
    for j_l in sizes:
        offsets.append(pos)
        pos += n * j_l + j_l + 1
    n_var = pos
    obj = np.zeros(n_var)
    integrality = np.zeros(n_var)
    lower, upper = np.zeros(n_var), np.ones(n_var)
    rows: list[tuple[dict[int, float], float, float]] = []
    for ft, j_l, off in zip(game.types, sizes, offsets, strict=True):
        z = off + np.arange(n * j_l).reshape(n, j_l)
        q = off + n * j_l + np.arange(j_l)
        a = off + n * j_l + j_l
        obj[z] = -ft.probability * ft.leader_payoffs  # milp minimises
        integrality[q] = 1
        lower[a], upper[a] = -np.inf, np.inf
        # a - C[:, j].x never exceeds max(C) - min(C[:, j]): the tightest big M per action
        c_max = float(ft.follower_payoffs.max())
        big_m = c_max - ft.follower_payoffs.min(axis=0) + 1e-6 * max(1.0, abs(c_max))
        rows.append(({int(v): 1.0 for v in z.ravel()}, 1.0, 1.0))  # sum z = 1
        rows.append(({int(v): 1.0 for v in q}, 1.0, 1.0))  # one best response
        for j in range(j_l):
            col = {int(v): 1.0 for v in z[:, j]}
            rows.append(({**col, int(q[j]): -1.0}, 0.0, np.inf))  # q_j <= sum_i z_ij
            rows.append((col, -np.inf, 1.0))
            # 0 <= a - sum_i C_ij x_i <= (1 - q_j) M, with x_i = sum_h z_ih
            expr = {int(a): 1.0}
            for i in range(n):
                for h in range(j_l):
                    expr[int(z[i, h])] = -float(ft.follower_payoffs[i, j])
            rows.append((expr, 0.0, np.inf))
            rows.append(({**expr, int(q[j]): float(big_m[j])}, -np.inf, float(big_m[j])))
    # every type sees the same leader strategy: sum_j z^l_ij = sum_j z^0_ij
    z0 = offsets[0] + np.arange(n * sizes[0]).reshape(n, sizes[0])
    for j_l, off in zip(sizes[1:], offsets[1:], strict=True):
        zl = off + np.arange(n * j_l).reshape(n, j_l)
        for i in range(n):
            expr = {int(v): 1.0 for v in zl[i]}
            expr.update({int(v): -1.0 for v in z0[i]})
            rows.append((expr, 0.0, 0.0))
    mat = lil_matrix((len(rows), n_var))
    lo, hi = np.empty(len(rows)), np.empty(len(rows))
    for r, (expr, low, high) in enumerate(rows):
        for v, coef in expr.items():
            mat[r, v] = coef
        lo[r], hi[r] = low, high
    options: dict[str, object] = {"mip_rel_gap": 1e-9}
    if time_limit_s is not None:
        options["time_limit"] = time_limit_s
    res = milp(obj, integrality=integrality, bounds=(lower, upper),
               constraints=LinearConstraint(mat.tocsr(), lo, hi), options=options)
    if res.x is None:
        raise RuntimeError(f"dobss: HiGHS found no solution: {res.message}")
    x = res.x[z0].sum(axis=1)
    return _finish(game, x, "dobss", mip_gap=float(getattr(res, "mip_gap", 0.0) or 0.0))


def n_joint_responses(game: BayesianGame) -> int:
    """How many LPs the multiple-LP method solves on the Harsanyi-transformed game."""
    return math.prod(len(ft.actions) for ft in game.types)


def _lp_for_responses(game: BayesianGame, responses: tuple[int, ...]) -> np.ndarray | None:
    n = game.n_leader
    obj = -sum(ft.probability * ft.leader_payoffs[:, j]
               for ft, j in zip(game.types, responses, strict=True))
    a_ub = []
    for ft, j in zip(game.types, responses, strict=True):
        others = [h for h in range(len(ft.actions)) if h != j]
        if others:  # x . (C[:, h] - C[:, j]) <= 0
            a_ub.append((ft.follower_payoffs[:, others] - ft.follower_payoffs[:, [j]]).T)
    res = linprog(
        obj,
        A_ub=np.vstack(a_ub) if a_ub else None,
        b_ub=np.zeros(sum(len(a) for a in a_ub)) if a_ub else None,
        A_eq=np.ones((1, n)), b_eq=[1.0], bounds=[(0.0, 1.0)] * n, method="highs",
    )
    if res.status == 2:
        return None
    if res.status != 0:
        raise RuntimeError(f"multiple_lps: HiGHS failed: {res.message}")
    return res.x


def multiple_lps(game: BayesianGame, *, max_lps: int = 200_000) -> BayesianSolution:
    """Optimal leader commitment by one LP per joint response (see the module)."""
    count = n_joint_responses(game)
    if count > max_lps:
        raise InputError(
            f"types: the multiple-LP method needs {count} LPs (the product of the types' "
            f"action counts), more than its limit of {max_lps}; use dobss"
        )
    best_value, best_x = -np.inf, None
    for responses in itertools.product(*(range(len(ft.actions)) for ft in game.types)):
        x = _lp_for_responses(game, responses)
        if x is None:
            continue
        value = game.leader_utility(x, responses)
        if value > best_value + 1e-12:
            best_value, best_x = value, x
    assert best_x is not None  # some joint response is always a best response
    return _finish(game, best_x, "multiple-lps", lps_solved=count)


__all__ = ["dobss", "multiple_lps", "n_joint_responses"]
