"""The shared contract every registered adversary meets: valid plans of the right shape
and bounds, determinism from a seed, rebuilt from its parameters, and it runs in a study."""

from __future__ import annotations

import json

import numpy as np
import pytest

from portwatch.domain.errors import InputError, NotFoundError
from portwatch.targeting.policy import Policy
from portwatch.twin.adversaries import (
    Adversary,
    AdversaryView,
    LoadPlan,
    adversary_names,
    make_adversary,
)
from portwatch.twin.scenario.schema import CONCEALMENTS, load_scenario
from portwatch.twin.study.replications import run_study

SC = load_scenario("test-port")
POLICY = Policy.uniform(0.05)


def _plans(name: str, seed: int, days: int = 3) -> list[LoadPlan]:
    adversary = make_adversary(name)
    rng = np.random.default_rng(seed)
    return [adversary.plan_day(AdversaryView.blank(SC, POLICY, day), rng) for day in range(days)]


def test_naive_is_registered():
    assert "naive" in adversary_names()


@pytest.mark.parametrize("name", adversary_names())
def test_adversary_contract(name):
    adversary = make_adversary(name)
    assert isinstance(adversary, Adversary)
    assert adversary.name == name
    plans = _plans(name, seed=4)
    for plan in plans:
        plan.validate(SC)
        assert plan.arrive_at_s.dtype == np.float64 and plan.mode.dtype == np.int64
        assert np.all((plan.arrive_at_s >= 0) & (plan.arrive_at_s < 86_400))
        loads = ~plan.is_decoy
        assert np.all(plan.mass_kg[loads] > 0)
        assert np.all((plan.concealment[loads] >= 0)
                      & (plan.concealment[loads] < len(CONCEALMENTS)))
    assert sum(p.n_loads for p in plans) > 0
    # determinism: the same seed gives the same plans
    again = _plans(name, seed=4)
    for a, b in zip(plans, again, strict=True):
        for field in ("arrive_at_s", "mode", "lane", "drug", "mass_kg", "concealment",
                      "is_decoy"):
            assert np.array_equal(getattr(a, field), getattr(b, field))
    # its parameters survive JSON and rebuild the same adversary
    params = json.loads(json.dumps(adversary.params()))
    rebuilt = make_adversary(name, **params)
    rng = np.random.default_rng(4)
    first = rebuilt.plan_day(AdversaryView.blank(SC, POLICY, 0), rng)
    assert np.array_equal(first.arrive_at_s, plans[0].arrive_at_s)


@pytest.mark.parametrize("name", adversary_names())
def test_adversary_runs_in_a_study_and_observes(name):
    result = run_study(SC, POLICY, name, days=3, replications=1, seed=3)
    summary = result.summary(POLICY.name)
    assert summary["loads_attempted"] >= summary["loads_interdicted"] >= 0


def test_naive_loads_follow_the_traffic_profile():
    plans = _plans("naive", seed=1, days=60)
    plan = LoadPlan.concat(plans)
    night = plan.arrive_at_s < 5 * 3600
    assert night.mean() < 0.1  # both modes are quiet before 05:00
    trucks = plan.mode == 0
    assert trucks.mean() == pytest.approx(0.4, abs=0.06)
    sealed = np.isin(plan.concealment, [2, 3])
    assert not np.any(sealed & ~trucks)  # only cargo can hide a sealed load
    assert np.all(plan.lane[~trucks] == 0)


def test_bad_plans_and_names_are_refused():
    with pytest.raises(NotFoundError, match="adversary 'ghost': not found"):
        make_adversary("ghost")
    with pytest.raises(InputError, match="adversary naive"):
        make_adversary("naive", loads=3)
    bad = LoadPlan([90_000.0], [1], [0], [0], [5.0], [0], [False])
    with pytest.raises(InputError, match="row 0: arrive_at_s must be in"):
        bad.validate(SC)
    decoy = LoadPlan([100.0], [1], [0], [2], [5.0], [0], [True])
    with pytest.raises(InputError, match="decoys carry no drug"):
        decoy.validate(SC)
    with pytest.raises(InputError, match="length 2, expected 1"):
        LoadPlan([1.0], [1, 1], [0], [0], [1.0], [0], [False])
