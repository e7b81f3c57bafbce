"""The plan robust to the attacker's rationality: candidates within the Stackelberg
plan's capacity, the learner's game at its limits, and the max-min choice under the
best-response floor."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest

from portwatch.plan.portgame import PlanSettings, _cells, _policy, plan_port
from portwatch.plan.robust import Scored, _Learner, choose
from portwatch.targeting.bounded import attack_distribution, qr_logits
from portwatch.twin.adversaries.helpers import cell_arrivals_per_hour, open_cells
from portwatch.twin.process.interdiction import measure_pathways, probabilities_given
from portwatch.twin.scenario import load_scenario

SC = load_scenario("test-port")


def _scored(name: str, best_response: float, *learner: float) -> Scored:
    caught = {"best-response": best_response,
              **{f"learner-{k}": v for k, v in enumerate(learner)}}
    return Scored(name, np.zeros(1), None, None, None, None, caught)  # type: ignore[arg-type]


def test_the_choice_keeps_the_best_response_floor():
    stackelberg = _scored("stackelberg", 2.0, 0.5, 0.4)
    learner = _scored("learner", 1.0, 1.0, 1.0)
    near = _scored("near", 1.95, 0.6, 0.5)
    far = _scored("far", 1.8, 0.9, 0.9)
    scored = [stackelberg, learner, near, far]
    assert choose(scored, 0.05).name == "near"  # 1.95 >= 0.95 * 2.0; far is below
    assert choose(scored, 0.0).name == "stackelberg"
    assert choose(scored, 1.0).name == "learner"  # no floor: max-min over the levels
    assert choose([stackelberg, _scored("same", 2.0, 0.5, 0.4)], 0.05).name == "stackelberg"


@pytest.fixture(scope="module")
def plans():
    # a time limit far above the solve time: the MILPs finish, so the answer
    # never depends on the machine's load
    s = PlanSettings(n_blocks=6, time_limit_s=600.0)
    return plan_port(SC, replace(s, rationality_levels=())), plan_port(SC, s)


def test_the_robust_plan_stays_within_the_stackelberg_plans_capacity(plans):
    stackelberg, robust = plans
    assert float(robust.cost_s @ robust.coverage) <= float(
        stackelberg.cost_s @ stackelberg.coverage) * (1 + 1e-6)
    assert np.all(robust.capacity_use() <= 1 + 1e-6)
    assert np.all((robust.coverage >= -1e-9) & (robust.coverage <= 1 + 1e-9))


def test_the_robust_plan_is_no_worse_against_the_learner_levels(plans):
    stackelberg, robust = plans
    report = robust.solution.details["robust"]
    caught = report["caught"]
    chosen = caught[report["chosen"]]
    first = caught["stackelberg"]
    assert chosen["best-response"] >= 0.95 * first["best-response"] - 1e-12
    worst = min(report["share_of_best"][m] for m in chosen if m != "best-response")
    worst_first = min(first[m] / max(c[m] for c in caught.values())
                      for m in first if m != "best-response")
    assert worst >= worst_first - 1e-12
    # the Stackelberg candidate is the plan without the robust step
    assert np.allclose(stackelberg.coverage, robust.coverage) == (
        report["chosen"] == "stackelberg")


def test_the_learner_at_zero_rationality_follows_the_traffic():
    s = PlanSettings(n_blocks=6, time_limit_s=600.0)
    cells = _cells(SC, s.n_blocks)
    learner = _Learner(SC, cells, s.n_blocks)
    policy = _policy(SC, cells, np.zeros(len(cells)), s.n_blocks, "none", s)
    paths = measure_pathways(SC, policy, s.days, s.seed)
    base = probabilities_given(SC, policy, paths)
    full = probabilities_given(SC, _policy(SC, cells, np.ones(len(cells)), s.n_blocks,
                                           "all", s), paths)
    plan = plan_port(SC, replace(s, rationality_levels=()))
    game, log_prior = learner.game(SC, policy, base, full, paths, len(cells),
                                   plan.game.types[0], 1.0)
    q = attack_distribution(qr_logits(game, 0.0, log_prior), np.zeros(len(cells)))
    lam = cell_arrivals_per_hour(SC) * open_cells(SC)  # the cells the learner plays
    per_block = 24 // s.n_blocks
    traffic = np.array([lam[m, lane, b * per_block:(b + 1) * per_block].sum()
                        for m, lane, b in cells])
    assert q == pytest.approx(traffic / traffic.sum(), abs=1e-9)
    # referral raises the learner's loss and the harm caught in every target it uses
    used = traffic > 0
    assert np.all(game.attacker_covered[used] < game.attacker_uncovered[used])
    assert np.all(game.defender_covered[used] >= game.defender_uncovered[used])


def test_the_learner_keeps_exploring_along_the_traffic():
    s = PlanSettings(n_blocks=6, time_limit_s=600.0)
    learner = _Learner(SC, _cells(SC, s.n_blocks), s.n_blocks)
    loss = np.random.default_rng(3).uniform(0.0, 0.1, len(learner.share))
    q = learner.distribution(loss, 1e6, 0.1)  # all but the exploration on the best cell
    assert q.sum() == pytest.approx(1.0)
    assert np.all(q >= 0.1 * learner.share - 1e-12)
    assert q[np.argmin(loss)] == pytest.approx(0.9 + 0.1 * learner.share[np.argmin(loss)])
    assert learner.distribution(loss, 0.0, 0.1) == pytest.approx(learner.share)


@pytest.mark.parametrize("settings,expected", [
    ({"learner_exploration": 1.0}, "learner_exploration: must be in [0, 1)"),
    ({"robust_best_response_loss": 1.5}, "robust_best_response_loss: must be in [0, 1]"),
    ({"rationality_levels": (10.0, -1.0)}, "rationality_levels: must be numbers >= 0"),
])
def test_bad_robust_settings_are_refused(settings, expected):
    from portwatch.domain.errors import InputError

    with pytest.raises(InputError, match=re.escape(expected)):
        plan_port(SC, PlanSettings(**settings))
