"""One contract every solver keeps (scikit-learn style): valid shapes and bounds, the
answer's own claims hold, determinism from a seed, and a JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tests.targeting.targeting_helpers import random_bayesian_game, random_security_game

from portwatch.targeting.eraser import BayesianSecurityGame
from portwatch.targeting.gamefile import parse_game
from portwatch.targeting.solve import (
    BAYESIAN_METHODS,
    SECURITY_METHODS,
    solve_bayesian,
    solve_security,
    solve_typed_security,
)


def _security_json(game) -> dict:
    return {"resources": game.resources, "targets": [
        {"defender_covered": float(a), "defender_uncovered": float(b),
         "attacker_covered": float(c), "attacker_uncovered": float(d), "cost": float(e)}
        for a, b, c, d, e in zip(game.defender_covered, game.defender_uncovered,
                                 game.attacker_covered, game.attacker_uncovered, game.cost,
                                 strict=True)]}


@pytest.mark.parametrize("kind", ["unit-cost", "weighted", "groups"])
@pytest.mark.parametrize("method", SECURITY_METHODS)
def test_security_solver_contract(method, kind):
    game = random_security_game(np.random.default_rng(5), 9, weighted=kind != "unit-cost",
                                n_groups=3 if kind == "groups" else 0)
    sol = solve_security(game, method, rng=np.random.default_rng(1), lam=0.8)
    c = sol.coverage
    assert c.shape == (game.n_targets,) and not c.flags.writeable
    assert np.all((c >= 0) & (c <= 1))
    assert float(game.cost @ c) <= game.resources + 1e-7 and game.within_capacity(c)
    assert 0 <= sol.attacked_target < game.n_targets
    if method not in ("qr", "suqr"):  # a perfectly rational attacker best-responds
        ua = game.attacker_utilities(c)
        assert ua[sol.attacked_target] >= ua.max() - 1e-6
        assert sol.defender_utility == pytest.approx(
            game.defender_utilities(c)[sol.attacked_target])
    else:  # the reported utility is the expectation over the attack distribution
        q = np.array(sol.details["attack_probabilities"])
        assert q.sum() == pytest.approx(1.0)
        assert sol.defender_utility == pytest.approx(q @ game.defender_utilities(c))
    again = solve_security(game, method, rng=np.random.default_rng(1), lam=0.8)
    assert np.array_equal(again.coverage, c)
    out = json.loads(json.dumps(sol.to_dict()))
    assert out["coverage"] == pytest.approx(c.tolist())
    assert out["attacked_target"] == sol.attacked_target
    # the game itself survives its JSON form
    if kind == "groups":
        return
    back = parse_game(json.loads(json.dumps(_security_json(game))))
    assert solve_security(back, method, rng=np.random.default_rng(1),
                          lam=0.8).defender_utility == pytest.approx(sol.defender_utility)


@pytest.mark.parametrize("method", BAYESIAN_METHODS)
def test_bayesian_solver_contract(method):
    game = random_bayesian_game(np.random.default_rng(6), 4, [3, 2, 4])
    sol = solve_bayesian(game, method)
    x = sol.leader_strategy
    assert x.shape == (game.n_leader,) and not x.flags.writeable
    assert np.all(x >= 0) and x.sum() == pytest.approx(1.0)
    assert sol.responses == game.strong_responses(x)
    assert sol.defender_utility == pytest.approx(game.leader_utility(x, sol.responses))
    assert np.array_equal(solve_bayesian(game, method).leader_strategy, x)
    out = json.loads(json.dumps(sol.to_dict(game)))
    assert out["leader_strategy"] == pytest.approx(x.tolist())
    assert out["responses"] == [ft.actions[j] for ft, j in zip(game.types, sol.responses,
                                                               strict=True)]


def test_typed_security_solver_contract():
    rng = np.random.default_rng(8)
    games = [random_security_game(rng, 7, resources=2.5) for _ in range(3)]
    game = BayesianSecurityGame(tuple(games), (0.5, 0.3, 0.2), ("a", "b", "c"))
    sol = solve_typed_security(game)
    c = sol.coverage
    assert c.shape == (7,) and not c.flags.writeable and np.all((c >= 0) & (c <= 1))
    assert c.sum() <= 2.5 + 1e-7
    for g, t in zip(game.types, sol.attacked_targets, strict=True):
        ua = g.attacker_utilities(c)
        assert ua[t] >= ua.max() - 1e-6
    assert sol.defender_utility == pytest.approx(
        sum(p * u for p, u in zip(game.probabilities, sol.type_defender_utilities,
                                  strict=True)))
    assert np.array_equal(solve_typed_security(game).coverage, c)
    out = json.loads(json.dumps(sol.to_dict(game)))
    assert out["attacked_targets"] == dict(zip("abc", sol.attacked_targets, strict=True))


def test_auto_picks_the_multiple_lps_for_few_joint_responses_and_dobss_beyond():
    small = random_bayesian_game(np.random.default_rng(9), 3, [4, 4])
    large = random_bayesian_game(np.random.default_rng(9), 3, [11, 10, 10])
    assert solve_bayesian(small).method == "multiple-lps"
    assert solve_bayesian(large).method == "dobss"
