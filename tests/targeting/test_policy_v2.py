"""Version 2 of the policy form: old files still read, new fields validated, tiers,
decoy triage, capacity reserve, officer overrides and the entropy warning."""

from __future__ import annotations

import json

import numpy as np
import pytest

from portwatch.domain.errors import ConfigError
from portwatch.targeting.policy import (
    N_LANES,
    N_MODES,
    Override,
    Policy,
    schedule_entropy_bits,
)

# A file as version 1 of portwatch wrote it (two 12-hour blocks).
V1_FILE = {
    "format": "portwatch.policy", "version": 1, "name": "old", "description": "from v1",
    "modes": ["truck", "car", "pedestrian", "bus"], "lanes": ["general", "express"],
    "n_blocks": 2,
    "referral_prob": [[[0.1, 0.2], [0.0, 0.05]]] * 4,
    "triage": {"broken_to_full_search": True, "clean_enrolled_express": False},
    "risk_threshold": 0.8, "capacity_rule": "hold",
}


def test_a_version_1_file_reads_and_means_the_same():
    p = Policy.from_dict(V1_FILE)
    assert p.version == 3 and p.n_tiers == 1
    hourly = p.referral_by_hour()
    assert hourly[0, 0, :12].tolist() == [0.1] * 12 and hourly[0, 0, 12:].tolist() == [0.2] * 12
    assert p.risk_threshold_value() == 0.8 and p.capacity_rule == "hold"
    assert not p.clean_enrolled_express
    # the defaults of the new fields are what version 1 did
    assert p.alert_first_check == "bay" and p.capacity_reserve == 0.0 and p.overrides == ()
    again = json.loads(p.to_json())
    assert again["version"] == 3 and Policy.from_dict(again) == p


def _with(**changes) -> dict:
    data = json.loads(json.dumps(V1_FILE))
    for key, value in changes.items():
        node, *path = key.split("__")
        target = data
        for part in [node, *path][:-1]:
            target = target[part]
        target[[node, *path][-1]] = value
    return data


@pytest.mark.parametrize("changes,message", [
    ({"risk_threshold": 1.9}, "risk_threshold: Input should be less than or equal to 1"),
    ({"risk_threshold": "0.5"}, "risk_threshold: Input should be a valid number"),
    ({"triage__broken_to_full_search": "no"}, "triage.broken_to_full_search: Input should be"),
    ({"capacity_rule": "drop"}, "capacity_rule: Input should be 'wave' or 'hold'"),
    ({"capacity_reserve": 1.0, "version": 2}, "capacity_reserve: Input should be less than 1"),
    ({"triage__alert_first_check": "dog", "version": 2}, "triage.alert_first_check"),
    ({"risk_tier_edges": [0.7, 0.3], "version": 2}, "risk_tier_edges: must increase"),
    ({"referral_prob": [[["x", 0.2], [0.0, 0.05]]] * 4}, "referral_prob: must be a nested"),
    ({"n_blocks": 3}, "n_blocks: says 3, referral_prob has 2 blocks"),
    ({"name": 7}, "name: Input should be a valid string"),
    ({"colour": "red"}, "colour: Extra inputs are not permitted"),
    ({"overrides": [{"mode": "truck", "lane": "general", "blocks": [5],
                     "referral_prob": 0.0, "reason": "x"}], "version": 2},
     "blocks: must be block indices in 0..1, got [5]"),
    ({"overrides": [{"mode": "truck", "lane": "general", "blocks": [0],
                     "referral_prob": 0.0, "reason": ""}], "version": 2},
     "overrides[0].reason: String should have at least 1 character"),
])
def test_bad_fields_get_one_line_errors(changes, message):
    with pytest.raises(ConfigError) as err:
        Policy.from_dict(_with(**changes), where="p.json")
    text = str(err.value)
    assert text.startswith("p.json: ") and "\n" not in text
    assert message in text


def test_the_constructor_refuses_a_risk_threshold_above_one():
    with pytest.raises(ConfigError, match=r"policy p: risk_threshold: must be a risk score in "
                                          r"\[0, 1\] or null, got 1.9"):
        Policy(name="p", referral_prob=np.zeros((N_MODES, N_LANES, 1)), risk_threshold=1.9)


def test_tiered_policy_reads_per_tier_and_refuses_untiered_readers():
    arr = np.zeros((N_MODES, N_LANES, 1, 3))
    arr[..., 0], arr[..., 1], arr[..., 2] = 0.01, 0.1, 0.6
    p = Policy(name="tiers", referral_prob=arr, risk_tier_edges=(0.2, 0.5))
    assert p.tier_of(np.array([0.0, 0.2, 0.49, 0.5, 0.99])).tolist() == [0, 1, 1, 2, 2]
    assert p.referral_by_hour_tier()[0, 0, 13].tolist() == [0.01, 0.1, 0.6]
    with pytest.raises(ConfigError, match="3 risk tiers"):
        p.referral_by_hour()
    with pytest.raises(ConfigError, match=r"must have shape \(5, 2, n_blocks, 3\)"):
        Policy(name="bad", referral_prob=np.zeros((N_MODES, N_LANES, 1)),
               risk_tier_edges=(0.2, 0.5))


def test_entropy_is_one_bit_per_fair_cell_and_zero_when_certain():
    assert schedule_entropy_bits(np.array([0.5, 0.5, 0.0, 1.0])) == pytest.approx(2.0)
    assert schedule_entropy_bits(np.array([0.5, 0.5]), np.array([3.0, 1.0])) == pytest.approx(4)


def test_an_override_that_makes_the_schedule_predictable_warns():
    p = Policy.uniform(0.3)
    o = Override("truck", "express", (0,), 0.0, "express lane closed at night", officer="op-17")
    res = p.apply_override(o)
    assert res.entropy_after_bits < res.entropy_before_bits
    assert res.warning is not None and "more predictable" in res.warning
    assert f"{res.entropy_before_bits:.3f} -> {res.entropy_after_bits:.3f} bits" in res.warning
    assert res.policy.referral_by_hour()[0, 1].tolist() == [0.0] * 24
    assert res.policy.referral_by_hour()[0, 0].tolist() == [0.3] * 24
    assert res.policy.overrides == (o,)
    assert Policy.from_json(res.policy.to_json()).overrides == (o,)
    # the original is untouched (policies are values)
    assert p.overrides == () and p.referral_by_hour()[0, 1, 0] == 0.3


def test_an_override_towards_a_coin_flip_does_not_warn():
    res = Policy.uniform(0.05).apply_override(
        Override("car", "general", (0,), 0.5, "intelligence on car loads tonight"))
    assert res.entropy_after_bits > res.entropy_before_bits and res.warning is None


def test_traffic_weights_decide_how_much_an_override_matters():
    p = Policy.uniform(0.3)
    o = Override("bus", "general", (0,), 0.0, "no bus bay")
    w = np.zeros((N_MODES, N_LANES, 24, 1))
    w[0] = 1.0  # only trucks travel: the bus override changes nothing an observer sees
    res = p.apply_override(o, weights=w)
    assert res.entropy_after_bits == pytest.approx(res.entropy_before_bits)
    assert res.warning is None


def test_the_live_engine_reads_the_tier_of_the_risk_score():
    from portwatch.engine.decide import decide_lane

    arr = np.zeros((N_MODES, N_LANES, 1, 2))
    arr[..., 1] = 0.4  # only the upper tier is referred at random
    tiered = Policy(name="tiers", referral_prob=arr, risk_tier_edges=(0.5,))
    args = dict(mode="truck", lane="general", hour=3, custody="none", enrolled=False,
                in_secondary=0, secondary_capacity=5, u=0.2)
    low = decide_lane(policy=tiered, risk=0.49, **args)
    high = decide_lane(policy=tiered, risk=0.5, **args)  # on the edge: the upper tier
    assert (low.tier, low.reason) == (0, "not selected")
    assert (high.tier, high.reason) == (1, "random referral")


def test_the_live_engine_decides_the_same_on_a_version_1_file_and_its_upgrade():
    from portwatch.engine.decide import decide_lane

    old = Policy.from_dict(V1_FILE)
    new = Policy.from_json(old.to_json())
    for hour, u, risk in [(3, 0.05, 0.1), (3, 0.15, 0.1), (20, 0.15, 0.1), (20, 0.5, 0.9)]:
        args = dict(mode="truck", lane="general", hour=hour, custody="none", risk=risk,
                    enrolled=False, in_secondary=0, secondary_capacity=5, u=u)
        assert decide_lane(policy=old, **args) == decide_lane(policy=new, **args)
