"""ORIGAMI: the strong Stackelberg equilibrium of a compact security game in O(n log n).

Kiekintveld, Jain, Tsai, Pita, Ordonez and Tambe, "Computing optimal randomized resource
allocations for massive security games", AAMAS 2009. ORIGAMI sorts targets by the
attacker's uncovered payoff and grows the attack set: coverage is added so that every
target in the set gives the attacker the same utility ``k``, until the resources run out
or a target in the set reaches full coverage. The attacker then attacks the target of the
set that is best for the defender.

Here the same procedure is written as one pass over the sorted targets. With the targets
sorted by ``Ua_u`` (descending) and the first ``j`` in the attack set, the resources
needed to hold the attacker at ``k`` are ``A_j - k * B_j`` with ``A_j = sum cost*Ua_u/d``
and ``B_j = sum cost/d`` (``d = Ua_u - Ua_c``), so each candidate ``k`` is a prefix sum
away. ``k`` never falls below ``max Ua_c`` (a fully covered target still pays that), which
is the full-coverage stop. Covering a target with probability ``c`` uses ``cost * c``
units, so the same pass also solves games whose targets cost different amounts; with
unit costs it is ORIGAMI as published. Budgets per group of targets (capacity per time
block) are one more pass per group: the answer is the largest of the groups' ``k``.

Why the minimal attacker utility is the strong Stackelberg answer: for any target ``t``
the defender's utility there falls as the attacker's utility ``k`` there rises, and the
resources needed to make ``t`` a best response at ``k`` fall as ``k`` rises, so the best
the defender can do with ``t`` attacked is at the smallest feasible ``k``: the same ``k``
for every target. ``weighted_lp`` and ``multiple_lps`` in ``portwatch.targeting.lp``
check this numerically.
"""

from __future__ import annotations

import numpy as np

from portwatch.targeting.games import SecurityGame, SecuritySolution, finish_security


def _minimal_k(ua_u: np.ndarray, ua_c: np.ndarray, cost: np.ndarray, budget: float) -> float:
    """The lowest ``k`` that ``budget`` can hold these targets to (no floor applied)."""
    d = ua_u - ua_c
    order = np.argsort(-ua_u, kind="stable")
    u_sorted = ua_u[order]
    a = np.cumsum(cost[order] * u_sorted / d[order])
    b = np.cumsum(cost[order] / d[order])
    # Resources needed when k sits at the next target's uncovered payoff (the set is full
    # there); the first j whose need at that point reaches m holds the answer.
    nxt = np.append(u_sorted[1:], -np.inf)
    with np.errstate(invalid="ignore"):
        need_at_next = np.where(np.isfinite(nxt), a - nxt * b, np.inf)
    j = int(np.argmax(need_at_next >= budget))
    return float((a[j] - budget) / b[j])


def minimal_attacker_utility(game: SecurityGame) -> float:
    """The lowest utility ``k`` the defender can hold the attacker's best target to.

    With capacity groups, each group's budget gives its own lowest ``k`` and the overall
    budget another; holding every target at ``k`` needs all of them, so ``k`` is the
    largest, and never below ``max Ua_c`` (a fully covered target still pays that).
    """
    ua_u, ua_c, cost = game.attacker_uncovered, game.attacker_covered, game.costs
    ks = [_minimal_k(ua_u, ua_c, cost, game.resources), float(ua_c.max())]
    if game.groups is not None and game.group_resources is not None:
        for g, budget in enumerate(game.group_resources):
            members = game.groups == g
            if members.any():
                ks.append(_minimal_k(ua_u[members], ua_c[members], cost[members],
                                     float(budget)))
    return max(ks)


def coverage_for(game: SecurityGame, k: float) -> np.ndarray:
    """The least coverage that holds every target's attacker utility at or below ``k``."""
    d = game.attacker_uncovered - game.attacker_covered
    return np.clip((game.attacker_uncovered - k) / d, 0.0, 1.0)


def origami(game: SecurityGame) -> SecuritySolution:
    """Strong Stackelberg coverage of a compact security game (see the module docstring)."""
    k = minimal_attacker_utility(game)
    return finish_security(game, coverage_for(game, k), "origami", minimal_attacker_utility=k)


__all__ = ["coverage_for", "minimal_attacker_utility", "origami"]
