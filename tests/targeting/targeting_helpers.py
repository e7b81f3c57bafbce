"""Random games for the cross-checks and properties, drawn from seeded generators."""

from __future__ import annotations

import numpy as np

from portwatch.targeting.games import BayesianGame, FollowerType, SecurityGame


def random_security_game(rng: np.random.Generator, n: int, *, weighted: bool = False,
                         resources: float | None = None) -> SecurityGame:
    cost = rng.uniform(0.2, 2.0, n) if weighted else np.ones(n)
    m = rng.uniform(0.0, float(cost.sum())) if resources is None else resources
    return SecurityGame(
        defender_covered=rng.uniform(0, 10, n), defender_uncovered=rng.uniform(-10, 0, n),
        attacker_covered=rng.uniform(-10, 0, n), attacker_uncovered=rng.uniform(0, 10, n),
        resources=m, cost=cost,
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
