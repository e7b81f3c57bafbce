"""Solvers against each other on random games drawn from seeded generators.

ORIGAMI, the weighted LP and the multiple-LP method share no optimisation code; DOBSS
(one MILP) and the multiple-LP method on the Harsanyi-transformed game share none either;
and a small compact game written out in normal form (every pure assignment of the
resources a leader strategy) is solved by DOBSS without any security-game structure.
"""

from __future__ import annotations

import numpy as np
import pytest
from tests.targeting.targeting_helpers import random_bayesian_game, random_security_game

from portwatch.targeting import bayesian
from portwatch.targeting.lp import multiple_lps, weighted_lp
from portwatch.targeting.origami import origami


@pytest.mark.parametrize("weighted", [False, True], ids=["unit-cost", "weighted"])
@pytest.mark.parametrize("seed", range(40))
def test_origami_equals_weighted_lp_equals_multiple_lps(seed, weighted):
    rng = np.random.default_rng([11, seed])
    game = random_security_game(rng, int(rng.integers(1, 12)), weighted=weighted)
    a, b, c = origami(game), weighted_lp(game), multiple_lps(game)
    assert a.defender_utility == pytest.approx(c.defender_utility, abs=1e-6)
    assert b.defender_utility == pytest.approx(c.defender_utility, abs=1e-6)
    assert a.attacker_utility == pytest.approx(b.attacker_utility, abs=1e-6)


@pytest.mark.parametrize("weighted", [False, True], ids=["unit-cost", "weighted"])
@pytest.mark.parametrize("seed", range(25))
def test_capacity_groups_origami_equals_the_lps(seed, weighted):
    """Budgets per group of targets (capacity per time block) on top of the overall one."""
    rng = np.random.default_rng([14, seed])
    n = int(rng.integers(2, 12))
    game = random_security_game(rng, n, weighted=weighted, n_groups=int(rng.integers(1, 4)))
    a, b, c = origami(game), weighted_lp(game), multiple_lps(game)
    for sol in (a, b, c):
        assert game.within_capacity(sol.coverage)
    assert a.defender_utility == pytest.approx(c.defender_utility, abs=1e-6)
    assert b.defender_utility == pytest.approx(c.defender_utility, abs=1e-6)


@pytest.mark.parametrize("seed", range(10))
def test_capacity_groups_origami_equals_dobss_on_the_normal_form(seed):
    rng = np.random.default_rng([15, seed])
    n = int(rng.integers(2, 6))
    game = random_security_game(rng, n, resources=float(rng.integers(1, n + 1)), n_groups=2,
                                integer_budgets=True)
    assert origami(game).defender_utility == pytest.approx(
        bayesian.dobss(game.to_normal_form()).defender_utility, abs=1e-6)


@pytest.mark.parametrize("integer", [False, True], ids=["real", "integer-ties"])
@pytest.mark.parametrize("seed", range(25))
def test_dobss_equals_multiple_lps_on_harsanyi_game(seed, integer):
    rng = np.random.default_rng([12, seed])
    actions = [int(a) for a in rng.integers(1, 5, int(rng.integers(1, 4)))]
    game = random_bayesian_game(rng, int(rng.integers(1, 5)), actions, integer=integer)
    a, b = bayesian.dobss(game), bayesian.multiple_lps(game)
    assert a.defender_utility == pytest.approx(b.defender_utility, abs=1e-6)
    # each solver's reported responses are strong best responses to its own strategy
    for sol in (a, b):
        assert game.strong_responses(sol.leader_strategy) == sol.responses


@pytest.mark.parametrize("seed", range(15))
def test_origami_equals_dobss_on_the_normal_form(seed):
    rng = np.random.default_rng([13, seed])
    n = int(rng.integers(2, 6))
    m = int(rng.integers(1, n + 1))
    game = random_security_game(rng, n, resources=float(m))
    normal = game.to_normal_form()
    assert origami(game).defender_utility == pytest.approx(
        bayesian.dobss(normal).defender_utility, abs=1e-6)
