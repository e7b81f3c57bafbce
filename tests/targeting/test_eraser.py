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
    merge_identical_types,
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


def test_a_time_limit_returns_the_best_coverage_found_and_says_so():
    rng = np.random.default_rng(1)
    n = 400
    groups = np.arange(n) % 24
    cost = rng.uniform(0.2, 2, n)
    need = np.bincount(groups, weights=cost)
    games = []
    for _ in range(3):
        g = random_security_game(rng, n, resources=cost.sum() * 0.3)
        games.append(SecurityGame(g.defender_covered, g.defender_uncovered, g.attacker_covered,
                                  g.attacker_uncovered, cost.sum() * 0.3, cost, groups,
                                  need * 0.3))
    got = bayesian_eraser(BayesianSecurityGame(tuple(games), (0.5, 0.3, 0.2)),
                          time_limit_s=0.5)
    assert games[0].within_capacity(got.coverage)
    assert got.details["proven_optimal"] is False
    value, _, _ = evaluate(BayesianSecurityGame(tuple(games), (0.5, 0.3, 0.2)), got.coverage)
    assert value == got.defender_utility


def test_a_proven_optimum_comes_from_the_program():
    rng = np.random.default_rng([34, 0])
    game = _types(rng, 6, 2, 2)
    got = bayesian_eraser(game)
    assert got.details["proven_optimal"] and got.details["source"] == "milp"


@pytest.mark.parametrize("seed", range(10))
def test_types_with_identical_payoffs_are_merged_exactly(seed):
    """A type repeated under another name (the port game's single load and adaptive
    learner) is solved with one set of binaries, and the answer is DOBSS's on the normal
    form of the game as given, reported per given type."""
    rng = np.random.default_rng([35, seed])
    n = int(rng.integers(2, 6))
    base = _types(rng, n, 2, int(rng.integers(1, n + 1)))
    p = rng.dirichlet(np.ones(3))
    game = BayesianSecurityGame((base.types[0], base.types[1], base.types[0]),
                                (float(p[0]), float(p[1]), float(1 - p[0] - p[1])),
                                ("single", "shotgun", "learner"))
    merged = merge_identical_types(game)
    assert merged.names == ("single+learner", "shotgun")
    assert merged.probabilities[0] == pytest.approx(p[0] + 1 - p[0] - p[1])
    got = bayesian_eraser(game)
    assert got.details["program_types"] == 2
    assert len(got.attacked_targets) == 3
    assert got.attacked_targets[0] == got.attacked_targets[2]
    assert got.defender_utility == pytest.approx(dobss(to_normal_form(game)).defender_utility,
                                                 abs=1e-6)


def test_types_with_different_payoffs_are_not_merged():
    rng = np.random.default_rng(36)
    game = _types(rng, 4, 3, 2)
    assert merge_identical_types(game) is game
