"""The adaptive adversary learns what a cartel learns: which of its own loads were
seized and what they were worth. Offline, against the one interdiction model on a fixed
policy, it must move towards the informed best response (the cells of least expected
loss); and what it sees seized must outweigh what it believes of the public queues."""

from __future__ import annotations

import numpy as np
import pytest

from portwatch.domain.errors import InputError
from portwatch.targeting.policy import N_MODES, Policy
from portwatch.twin import DayOutcome, load_scenario
from portwatch.twin.adversaries import AdaptiveAdversary
from portwatch.twin.adversaries.base import AdversaryView
from portwatch.twin.process.interdiction import interdiction_model
from portwatch.twin.study.learning import cell_loss, learn_offline

CAR = 1


@pytest.fixture(scope="module")
def otay():
    sc = load_scenario("otay-mesa")
    return sc, interdiction_model(sc, Policy.uniform(0.0128, capacity_rule="hold",
                                                     name="uniform"))


def test_on_a_fixed_policy_it_converges_towards_the_best_response(otay):
    # its loads seized with the model's own chances, 100 a day: regret (expected value
    # lost per load above the best cell's) and the share of loads outside the best
    # responses must both shrink. The learner before this round (a seizure counted as 1
    # whatever the load, at EXP3's step gamma / K, beside a wait signal 25 times larger)
    # moved its regret from 0.022 to 0.016 in 200 days at the test port.
    sc, model = otay
    trace = learn_offline(sc, model, AdaptiveAdversary(loads_per_day=100, decoys_per_day=0),
                          120, np.random.default_rng(5))
    early, late = trace.regret[:5].mean(), trace.regret[-10:].mean()
    assert late < 0.5 * early, (early, late)
    assert trace.tv_to_best[-10:].mean() < trace.tv_to_best[:5].mean() - 0.25
    # the loss it learns is the model's: a cell's expected value seized per load
    assert 0.0 <= trace.best_loss < trace.loss[0]


def test_cell_loss_is_the_value_weighted_seizure_chance(otay):
    sc, model = otay
    a = AdaptiveAdversary(loads_per_day=2000, decoys_per_day=0)
    rng = np.random.default_rng(3)
    plan = a.plan_day(AdversaryView.blank(sc, model.policy), rng)
    loss = cell_loss(sc, model, a.cells)
    # the same expectation by Monte Carlo over the loads it actually draws
    value = plan.mass_kg * sc.drug_value_usd_per_kg[plan.drug]
    from portwatch.twin.adversaries.economics import Economics

    mc = float(np.mean(value * model.of_plan(plan))) / Economics.of(sc).value_per_load_usd
    assert float(a.last_probabilities @ loss) == pytest.approx(mc, rel=0.15)


def _day(a, sc, policy, day, rng, seized_cell, wait):
    plan = a.plan_day(AdversaryView.blank(sc, policy, day), rng)
    hour = (plan.arrive_at_s // 3600).astype(int)
    cell = (plan.mode == seized_cell[0]) & (plan.lane == seized_cell[1]) & (hour == seized_cell[2])
    seized = cell & ~plan.is_decoy
    a.observe(DayOutcome(day, plan, seized, seized.copy(), np.full(wait.shape, 0.3), wait))


def test_what_it_sees_seized_outweighs_the_longest_public_queue():
    # the cell with the longest published wait is also where every one of its loads is
    # seized: a cartel stops sending loads there, whatever the queue promises
    sc = load_scenario("test-port")
    policy = Policy.uniform(0.05)
    hot = (CAR, 0, 16)
    wait = np.full((N_MODES, 2, 24), 60.0)
    wait[hot] = 3600.0
    a = AdaptiveAdversary(loads_per_day=100, decoys_per_day=0)
    rng = np.random.default_rng(8)
    a.plan_day(AdversaryView.blank(sc, policy), rng)
    arm = int(np.flatnonzero(a.cells == np.ravel_multi_index(hot, (N_MODES, 2, 24)))[0])
    before = a.probabilities()[arm]
    for day in range(30):
        _day(a, sc, policy, day, rng, hot, wait)
    assert a.probabilities()[arm] < 0.5 * before
    # with nothing seized the same queue draws it in
    b = AdaptiveAdversary(loads_per_day=100, decoys_per_day=0)
    for day in range(30):
        _day(b, sc, policy, day, rng, (-1, -1, -1), wait)
    assert b.probabilities()[arm] > before


def test_a_seized_load_costs_what_it_was_worth():
    # two loads seized in the same cell: the dearer one moves the weight more
    sc = load_scenario("test-port")
    policy = Policy.uniform(0.05)
    out = []
    for mass in (1.0, 10.0):
        a = AdaptiveAdversary(loads_per_day=50, decoys_per_day=0)
        plan = a.plan_day(AdversaryView.blank(sc, policy), np.random.default_rng(2))
        plan = type(plan)(plan.arrive_at_s, plan.mode, plan.lane, plan.drug,
                          np.where(np.arange(len(plan)) == 0, mass, plan.mass_kg),
                          plan.concealment, plan.is_decoy)
        seized = np.arange(len(plan)) == 0
        nan = np.full((N_MODES, 2, 24), np.nan)
        loss = a.seizure_loss(DayOutcome(0, plan, seized, seized.copy(), nan, nan))
        out.append(loss.sum())
    assert out[1] == pytest.approx(10 * out[0])


def test_bad_learning_parameters_name_the_field():
    with pytest.raises(InputError, match="eta"):
        AdaptiveAdversary(eta=-1)
    with pytest.raises(InputError, match="wait_bonus"):
        AdaptiveAdversary(wait_bonus=float("nan"))
