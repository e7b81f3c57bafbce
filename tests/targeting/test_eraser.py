"""Several attacker types over one coverage: the MILP against ORIGAMI (one type) and
against DOBSS on the normal form (every pure assignment a leader strategy)."""

from __future__ import annotations

import numpy as np
import pytest
from tests.targeting.targeting_helpers import random_security_game

from portwatch.domain.errors import InputError
from portwatch.targeting.bayesian import dobss
from portwatch.targeting.eraser import (
    BayesianSecurityGame,
    bayesian_eraser,
    evaluate,
    to_normal_form,
)
from portwatch.targeting.games import SecurityGame
from portwatch.targeting.origami import origami


def _types(rng, n, k, m, weighted=False):
    cost = rng.uniform(0.3, 2.0, n) if weighted else np.ones(n)
    games = []
    for _ in range(k):
        g = random_security_game(rng, n, resources=float(m))
        games.append(SecurityGame(g.defender_covered, g.defender_uncovered, g.attacker_covered,
                                  g.attacker_uncovered, float(m), cost))
    p = rng.dirichlet(np.ones(k))
    p[-1] = 1 - p[:-1].sum()
    return BayesianSecurityGame(tuple(games), tuple(float(x) for x in p))


@pytest.mark.parametrize("seed", range(15))
def test_one_type_equals_origami(seed):
    rng = np.random.default_rng([31, seed])
    n = int(rng.integers(1, 10))
    game = _types(rng, n, 1, rng.uniform(0, 0.3 * n), weighted=bool(seed % 2))
    got = bayesian_eraser(game)
    assert got.defender_utility == pytest.approx(origami(game.types[0]).defender_utility,
                                                 abs=1e-6)


@pytest.mark.parametrize("seed", range(15))
def test_several_types_equal_dobss_on_the_normal_form(seed):
    rng = np.random.default_rng([32, seed])
    n = int(rng.integers(2, 6))
    game = _types(rng, n, int(rng.integers(2, 4)), int(rng.integers(1, n + 1)))
    got = bayesian_eraser(game)
    assert got.defender_utility == pytest.approx(dobss(to_normal_form(game)).defender_utility,
                                                 abs=1e-6)
    assert float(game.types[0].costs @ got.coverage) <= game.types[0].resources + 1e-7
    value, targets, _ = evaluate(game, got.coverage)
    assert targets == got.attacked_targets and value == got.defender_utility


def test_types_must_share_resources_and_sum_to_one():
    g = random_security_game(np.random.default_rng(0), 3, resources=1.0)
    h = SecurityGame(g.defender_covered, g.defender_uncovered, g.attacker_covered,
                     g.attacker_uncovered, 2.0)
    with pytest.raises(InputError, match="resources and costs must be those of types"):
        BayesianSecurityGame((g, h), (0.5, 0.5))
    with pytest.raises(InputError, match="probabilities must sum to 1"):
        BayesianSecurityGame((g, g), (0.5, 0.6))


@pytest.mark.parametrize("seed", range(6))
def test_types_with_capacity_groups_equal_dobss_on_the_normal_form(seed):
    rng = np.random.default_rng([33, seed])
    n = int(rng.integers(2, 6))
    base = random_security_game(rng, n, resources=float(rng.integers(1, n + 1)), n_groups=2,
                                integer_budgets=True)
    games = []
    for _ in range(2):
        g = random_security_game(rng, n, resources=base.resources)
        games.append(SecurityGame(g.defender_covered, g.defender_uncovered, g.attacker_covered,
                                  g.attacker_uncovered, base.resources, None, base.groups,
                                  base.group_resources))
    game = BayesianSecurityGame(tuple(games), (0.3, 0.7))
    got = bayesian_eraser(game)
    assert games[0].within_capacity(got.coverage)
    assert got.defender_utility == pytest.approx(dobss(to_normal_form(game)).defender_utility,
                                                 abs=1e-6)
