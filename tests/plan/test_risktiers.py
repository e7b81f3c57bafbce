"""Risk tiers in the port game: the tiered plan's shape, its capacity, and a theorem (the
untiered plan is a tiered one, so tiers never lower the defender's utility)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from portwatch.cli.main import run
from portwatch.domain.errors import InputError
from portwatch.plan.portgame import PlanSettings
from portwatch.plan.risktiers import high_tier_share, plan_port_tiered
from portwatch.targeting.policy import N_MODES
from portwatch.twin.scenario import load_scenario
from portwatch.twin.study.riskmodel import port_risk_lookup, threshold_for_share

SC = load_scenario("test-port")


@pytest.fixture(scope="module")
def tiered():
    return plan_port_tiered(SC, PlanSettings(), high_share=0.05)


def test_tiers_never_lower_the_defenders_utility(tiered):
    flat = tiered.untiered
    assert tiered.plan.solution.defender_utility >= flat.solution.defender_utility - 1e-6


def test_a_solve_cut_short_falls_back_to_the_untiered_plan():
    """Even when the tiered MILP stops at once, the plan is no worse than the untiered
    one (which is a tiered plan with both tiers covered alike)."""
    t = plan_port_tiered(SC, PlanSettings(time_limit_s=0.01), high_share=0.05)
    assert t.plan.solution.defender_utility >= t.untiered.solution.defender_utility - 1e-6


def test_each_cell_is_split_into_its_tiers_costs(tiered):
    flat = tiered.untiered
    cost = tiered.plan.cost_s.reshape(-1, 2)
    assert np.allclose(cost.sum(axis=1), np.maximum(flat.cost_s, 1e-6), rtol=1e-6, atol=2e-6)


def test_the_tiered_policy_and_its_capacity(tiered):
    policy = tiered.plan.policy
    assert policy.risk_tier_edges == (tiered.edge,)
    assert policy.referral_prob.shape == (N_MODES, 2, 6, 2)
    assert np.all((tiered.plan.coverage >= -1e-9) & (tiered.plan.coverage <= 1 + 1e-9))
    assert np.all(tiered.plan.capacity_use() <= 1 + 1e-6)
    # a high-tier target costs the bay time of the high tier's traffic only
    cost = tiered.plan.cost_s.reshape(-1, 2)
    assert np.all(cost[:, 1] < cost[:, 0])


def test_high_tier_share_matches_the_edge():
    lookup = port_risk_lookup(SC)
    edge = threshold_for_share(SC, lookup, 0.05)
    share = high_tier_share(SC, lookup, edge)
    weights = SC.daily_volume[:, None] * SC.hourly_profile
    lanes = np.stack([1 - SC.enrolled_share, SC.enrolled_share], axis=1)
    overall = (share * weights[:, None, :] * lanes[:, :, None]).sum() / weights.sum()
    assert overall == pytest.approx(0.05, abs=0.01)


def test_plan_command_with_risk_tiers(tmp_path, capsys):
    out = tmp_path / "tiered.json"
    assert run(["plan", "test-port", "--risk-tiers", "0.05", "--out", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {r["risk_tier"] for r in data["coverage"]} == {"low", "high"}
    assert json.loads(out.read_text())["risk_tier_edges"][0] > 0


def test_bad_high_share():
    with pytest.raises(InputError, match="--risk-tiers"):
        plan_port_tiered(SC, PlanSettings(), high_share=1.5)
