"""Version 3 of the policy form adds rail: files written before rail still read.

A version 1 or 2 file has four mode rows (truck, car, pedestrian, bus); it reads with a
rail row of zeros (no random referral of rail containers, which its writer did not know)
and every other row unchanged, and writes back as version 3 with five rows.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from portwatch.domain.errors import ConfigError
from portwatch.domain.modes import Mode
from portwatch.targeting.policy import (
    LEGACY_MODE_ORDER,
    MODE_ORDER,
    N_LANES,
    N_MODES,
    POLICY_FORMAT_VERSION,
    Policy,
    mode_index,
)

OLD_MODES = ["truck", "car", "pedestrian", "bus"]


def _old_file(version: int, tiers: bool = False) -> dict:
    """A file as portwatch wrote it before rail: four mode rows, rows told apart."""
    rows = [[[0.1 * (m + 1), 0.2], [0.0, 0.05]] for m in range(4)]
    if tiers:
        rows = [[[[v, v / 2] for v in lane] for lane in mode] for mode in rows]
    data = {"format": "portwatch.policy", "version": version, "name": f"v{version}",
            "modes": OLD_MODES, "lanes": ["general", "express"], "n_blocks": 2,
            "referral_prob": rows}
    if tiers:
        data["risk_tier_edges"] = [0.5]
    return data


def test_rail_is_the_last_mode_so_older_indices_keep_their_meaning():
    assert MODE_ORDER[-1] is Mode.RAIL and N_MODES == 5
    assert list(LEGACY_MODE_ORDER) == [Mode(m) for m in OLD_MODES]
    assert [mode_index(m) for m in OLD_MODES] == [0, 1, 2, 3]
    assert POLICY_FORMAT_VERSION == 3


@pytest.mark.parametrize("version", [1, 2])
def test_a_file_written_before_rail_still_loads(version):
    p = Policy.from_dict(_old_file(version))
    assert p.referral_prob.shape == (N_MODES, N_LANES, 2)
    for m in range(4):
        assert p.referral_prob[m].tolist() == [[pytest.approx(0.1 * (m + 1)), 0.2], [0.0, 0.05]]
    assert p.referral_prob[mode_index(Mode.RAIL)].tolist() == [[0.0, 0.0], [0.0, 0.0]]
    again = json.loads(p.to_json())
    assert again["version"] == 3 and again["modes"][-1] == "rail"
    assert Policy.from_dict(again) == p


def test_a_tiered_version_2_file_gets_a_rail_row_in_every_tier():
    p = Policy.from_dict(_old_file(2, tiers=True))
    assert p.referral_prob.shape == (N_MODES, N_LANES, 2, 2)
    assert np.all(p.referral_prob[mode_index(Mode.RAIL)] == 0.0)
    assert p.referral_prob[0, 0, 0].tolist() == [pytest.approx(0.1), pytest.approx(0.05)]


def test_a_version_3_file_must_list_rail():
    data = _old_file(2)
    data["version"] = 3
    with pytest.raises(ConfigError, match=r"modes: must be \['truck', 'car', 'pedestrian', "
                                          r"'bus', 'rail'\]"):
        Policy.from_dict(data)


def test_an_old_file_with_its_modes_in_another_order_is_refused():
    data = _old_file(2)
    data["modes"] = ["car", "truck", "pedestrian", "bus"]
    with pytest.raises(ConfigError, match="modes: must be"):
        Policy.from_dict(data)


def test_an_old_file_whose_rows_do_not_match_its_modes_names_referral_prob():
    data = _old_file(2)
    data["referral_prob"] = data["referral_prob"][:3]
    with pytest.raises(ConfigError, match="referral_prob: must have shape"):
        Policy.from_dict(data)


def test_uniform_and_fixed_rules_cover_rail():
    assert np.all(Policy.uniform(0.1).referral_prob[mode_index(Mode.RAIL)] == 0.1)
    rules = Policy.fixed_rules({("rail", "general"): 0.03}, n_blocks=1)
    assert rules.referral_prob[mode_index(Mode.RAIL), 0, 0] == 0.03
