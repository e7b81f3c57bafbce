"""Random games for the cross-checks and properties, drawn from seeded generators."""

from __future__ import annotations

import numpy as np

from portwatch.targeting.games import BayesianGame, FollowerType, SecurityGame


def random_security_game(rng: np.random.Generator, n: int, *, weighted: bool = False,
                         resources: float | None = None, n_groups: int = 0,
                         integer_budgets: bool = False) -> SecurityGame:
    """A random compact game; ``n_groups > 0`` adds capacity groups with random budgets."""
    cost = rng.uniform(0.2, 2.0, n) if weighted else np.ones(n)
    m = rng.uniform(0.0, float(cost.sum())) if resources is None else resources
    groups = budgets = None
    if n_groups:
        groups = rng.integers(0, n_groups, n)
        need = np.bincount(groups, weights=cost, minlength=n_groups)
        budgets = (np.floor(rng.uniform(0, 1, n_groups) * (need + 1)).clip(0, need)
                   if integer_budgets else rng.uniform(0, 1, n_groups) * need)
    return SecurityGame(
        defender_covered=rng.uniform(0, 10, n), defender_uncovered=rng.uniform(-10, 0, n),
        attacker_covered=rng.uniform(-10, 0, n), attacker_uncovered=rng.uniform(0, 10, n),
        resources=m, cost=cost, groups=groups, group_resources=budgets,
    )


def random_bayesian_game(rng: np.random.Generator, n_leader: int, actions: list[int], *,
                         integer: bool = False) -> BayesianGame:
    p = rng.dirichlet(np.ones(len(actions)))
    p[-1] = 1.0 - p[:-1].sum()

    def payoffs(j: int) -> np.ndarray:
        if integer:  # many ties: exercises the strong tie-breaking
            return rng.integers(-5, 6, (n_leader, j)).astype(float)
        return rng.uniform(-10, 10, (n_leader, j))

    types = tuple(FollowerType(float(p[k]), tuple(f"t{k}a{j}" for j in range(a)),
                               payoffs(a), payoffs(a)) for k, a in enumerate(actions))
    return BayesianGame(tuple(f"s{i}" for i in range(n_leader)), types)
