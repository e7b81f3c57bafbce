"""Policies as data: constructors, the compiled hourly form, the JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portwatch.domain.errors import ConfigError
from portwatch.domain.modes import Mode
from portwatch.targeting.policy import N_LANES, N_MODES, Override, Policy

CONSTRUCTORS = {
    "uniform": lambda: Policy.uniform(0.05),
    "uniform-hold": lambda: Policy.uniform(0.2, capacity_rule="hold"),
    "fixed-rules": lambda: Policy.fixed_rules(
        {(Mode.TRUCK, "general"): 0.15, ("car", "general"): [0.01] * 12 + [0.05] * 12},
        default_rate=0.005,
    ),
    "risk-threshold": lambda: Policy.risk_based(0.6, base_rate=0.01),
    "tiered-triage-reserve-override": lambda: Policy(
        name="game", referral_prob=np.full((N_MODES, N_LANES, 2, 3), 0.1),
        risk_tier_edges=(0.3, 0.7), alert_first_check="nii_scan", capacity_reserve=0.2,
    ).apply_override(Override("truck", "general", (1,), 0.0, "bay closed for repairs",
                              tiers=(0,))).policy,
}


@pytest.mark.parametrize("make", CONSTRUCTORS.values(), ids=CONSTRUCTORS.keys())
def test_policy_contract(make):
    """Every policy constructor: shapes, bounds, determinism and a JSON round trip."""
    policy = make()
    hourly = policy.referral_by_hour_tier()
    assert hourly.shape == (N_MODES, N_LANES, 24, policy.n_tiers)
    assert np.all((hourly >= 0) & (hourly <= 1))
    assert policy.capacity_rule in ("wave", "hold")
    assert make() == policy  # constructors are deterministic
    back = Policy.from_json(policy.to_json())
    assert back == policy
    assert np.array_equal(back.referral_by_hour_tier(), hourly)
    assert back.risk_threshold_value() == policy.risk_threshold_value()
    data = json.loads(policy.to_json())
    assert data["format"] == "portwatch.policy" and data["version"] == 3


def test_fixed_rules_place_rates_by_mode_lane_and_block():
    p = CONSTRUCTORS["fixed-rules"]()
    hourly = p.referral_by_hour()
    assert hourly[0, 0, 5] == 0.15
    assert hourly[1, 0, 3] == 0.01 and hourly[1, 0, 20] == 0.05
    assert hourly[2, 1, 0] == 0.005


def test_coarse_blocks_expand_to_hours():
    arr = np.zeros((N_MODES, N_LANES, 4))
    arr[0, 0] = [0.1, 0.2, 0.3, 0.4]  # six-hour blocks
    hourly = Policy(name="blocks", referral_prob=arr).referral_by_hour()
    assert hourly[0, 0].tolist() == [0.1] * 6 + [0.2] * 6 + [0.3] * 6 + [0.4] * 6


def test_risk_threshold_unused_compiles_above_one():
    assert Policy.uniform(0.1).risk_threshold_value() > 1
    assert Policy.risk_based(0.7).risk_threshold_value() == 0.7


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Policy.uniform(1.5), "rate: must be in [0, 1], got 1.5"),
        (lambda: Policy(name="p", referral_prob=np.zeros((N_MODES, 2, 5))),
         "policy p: referral_prob: blocks must divide 24 hours, got 5"),
        (lambda: Policy(name="p", referral_prob=np.zeros((3, 2, 1))), "must have shape"),
        (lambda: Policy(name="p", referral_prob=np.full((N_MODES, 2, 1), -0.1)),
         "policy p: referral_prob.truck.general[0]: must be in [0, 1], got -0.1"),
        (lambda: Policy.uniform(0.1, capacity_rule="drop"), "capacity_rule: must be"),
        (lambda: Policy.fixed_rules({("boat", "general"): 0.1}), "unknown mode 'boat'"),
        (lambda: Policy.from_json("[1]"), "policy: must be a JSON object"),
        (lambda: Policy.from_json("{"), "policy: not JSON"),
        (lambda: Policy.from_json('{"format": "x"}'), "format: must be 'portwatch.policy'"),
    ],
)
def test_bad_policies_say_what_was_wrong(make, message):
    with pytest.raises(ConfigError) as err:
        make()
    assert message in str(err.value)


def test_an_unknown_version_is_refused():
    data = Policy.uniform(0.1).to_dict()
    data["version"] = 99
    with pytest.raises(ConfigError, match="reads versions 1, 2 and 3, got 99"):
        Policy.from_dict(data)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(0, 1), min_size=N_MODES * N_LANES * 3, max_size=N_MODES * N_LANES * 3),
    st.one_of(st.none(), st.floats(0, 1)),
    st.sampled_from(["wave", "hold"]),
    st.booleans(),
)
def test_json_round_trip_of_any_policy(rates, threshold, rule, express):
    p = Policy(
        name="any", referral_prob=np.array(rates).reshape(N_MODES, N_LANES, 3),
        risk_threshold=threshold, capacity_rule=rule, clean_enrolled_express=express,
    )
    assert Policy.from_json(p.to_json()) == p
