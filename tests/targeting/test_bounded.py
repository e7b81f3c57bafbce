"""Quantal-response and SUQR attackers: closed forms, and no random coverage beats them."""

from __future__ import annotations

import numpy as np
import pytest
from tests.targeting.targeting_helpers import random_security_game

from portwatch.domain.errors import InputError
from portwatch.targeting.bounded import (
    SUQR_WEIGHTS_NGUYEN_2013,
    attack_distribution,
    expected_defender_utility,
    qr_logits,
    quantal_response,
    suqr,
    suqr_logits,
)
from portwatch.targeting.games import SecurityGame
from portwatch.targeting.origami import origami


def test_qr_with_zero_rationality_is_a_fractional_knapsack():
    """lambda = 0: the attacker picks a target uniformly, so the defender's utility is
    linear, mean of (Ud_u + c * gain) over targets, and the optimum fills the targets
    with the largest gain per unit of cost first (a fractional knapsack)."""
    game = SecurityGame(defender_covered=[10, 4, 8, 1], defender_uncovered=[0, 0, -2, 0],
                        attacker_covered=[0, 0, 0, 0], attacker_uncovered=[1, 1, 1, 1],
                        resources=1.5, cost=[1.0, 0.5, 2.0, 1.0])
    sol = quantal_response(game, 0.0, rng=np.random.default_rng(1))
    # gain per cost: 10, 8, 5, 1 -> cover t0 fully (1.0), then t1 fully (0.5): capacity used
    assert sol.coverage == pytest.approx([1.0, 1.0, 0.0, 0.0], abs=1e-5)
    assert sol.defender_utility == pytest.approx((10 + 4 - 2 + 0) / 4, abs=1e-6)


def test_qr_attack_probabilities_follow_the_logit_rule():
    game = SecurityGame([1, 1], [0, 0], [0, 0], [2, 1], 0.0)
    q = attack_distribution(qr_logits(game, 1.0), np.zeros(2))
    assert q == pytest.approx([np.e / (np.e + 1), 1 / (np.e + 1)])


def test_qr_with_a_prior_weighs_each_target_by_it():
    """A Hedge learner started from ``prior``: q ~ prior * exp(lambda * Ua)."""
    game = SecurityGame([1, 1, 1], [0, 0, 0], [0, 0, 0], [2, 1, 1], 0.0)
    prior = np.array([0.1, 0.6, 0.3])
    q = attack_distribution(qr_logits(game, 1.0, np.log(prior)), np.zeros(3))
    w = prior * np.exp([2.0, 1.0, 1.0])
    assert q == pytest.approx(w / w.sum())


def test_qr_with_a_prior_and_zero_rationality_covers_by_prior_times_gain():
    """lambda = 0 with a prior: the attacker follows the prior, so the defender's
    utility is linear with gains prior * (Ud_c - Ud_u): a fractional knapsack again,
    filled in another order than without the prior."""
    game = SecurityGame(defender_covered=[10, 4, 8, 1], defender_uncovered=[0, 0, -2, 0],
                        attacker_covered=[0, 0, 0, 0], attacker_uncovered=[1, 1, 1, 1],
                        resources=1.5, cost=[1.0, 0.5, 2.0, 1.0])
    prior = np.array([0.05, 0.05, 0.8, 0.1])
    sol = quantal_response(game, 0.0, rng=np.random.default_rng(1), log_prior=np.log(prior))
    # gain per cost: 0.5, 0.4, 4.0, 0.1 -> t2 takes all 1.5 units (0.75 of its cost 2)
    assert sol.coverage == pytest.approx([0.0, 0.0, 0.75, 0.0], abs=1e-5)


def test_a_prior_of_the_wrong_length_is_refused():
    game = random_security_game(np.random.default_rng(3), 3)
    with pytest.raises(InputError, match="log_prior"):
        qr_logits(game, 1.0, np.zeros(2))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("model", ["qr", "suqr"])
def test_no_random_feasible_coverage_beats_the_solution(seed, model):
    rng = np.random.default_rng([21, seed])
    game = random_security_game(rng, 8, weighted=bool(seed % 2))
    if model == "qr":
        sol, logits = quantal_response(game, 0.5, rng=rng), qr_logits(game, 0.5)
    else:
        sol = suqr(game, rng=rng)
        logits = suqr_logits(game, SUQR_WEIGHTS_NGUYEN_2013)
    assert float(game.cost @ sol.coverage) <= game.resources + 1e-7
    for _ in range(300):
        c = np.clip(rng.dirichlet(np.ones(8)) * game.resources / game.cost, 0, 1)
        assert expected_defender_utility(game, logits, c) <= sol.defender_utility + 1e-7
    assert sol.defender_utility >= expected_defender_utility(
        game, logits, origami(game).coverage) - 1e-9


def test_same_seed_same_answer():
    game = random_security_game(np.random.default_rng(3), 6)
    a = suqr(game, rng=np.random.default_rng(9))
    b = suqr(game, rng=np.random.default_rng(9))
    assert np.array_equal(a.coverage, b.coverage)


def test_negative_rationality_is_refused():
    game = random_security_game(np.random.default_rng(3), 3)
    with pytest.raises(InputError, match="lambda"):
        quantal_response(game, -1.0, rng=np.random.default_rng(0))
