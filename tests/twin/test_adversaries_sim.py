"""The adversaries against the simulated port: the strategic ones get more through than
the naive one, and the custody monitor catches loads hidden after sealing."""

from __future__ import annotations

import pytest

from portwatch.targeting.policy import Policy
from portwatch.twin.study.replications import run_study


def rate(adversary: str, **params) -> float:
    data = run_study("test-port", Policy.uniform(0.1), adversary, days=20, replications=2,
                     seed=4, adversary_params=params).to_dict()
    return data["policies"]["uniform-0.1"]["interdiction_rate"]


@pytest.fixture(scope="module")
def naive() -> float:
    return rate("naive")


@pytest.mark.parametrize("adversary", ["peak-timing", "shotgun", "informed", "adaptive"])
def test_strategic_adversaries_are_interdicted_less_than_naive_loads(adversary, naive):
    assert rate(adversary) < naive


def test_loading_after_sealing_is_caught_by_the_custody_monitor():
    before = rate("insider", seal_phase="before")
    after = rate("insider", seal_phase="after")
    # a broken seal sends the truck to a full search (catch 0.9 x detection 0.95)
    assert after > 0.6 > before
