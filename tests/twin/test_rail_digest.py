"""Adding rail changes nothing where no train crosses: study figures at ports without
rail are byte for byte those of portwatch before rail (digests taken on the tree before
the rail mode was added, with the same code below)."""

from __future__ import annotations

import hashlib
import json

import pytest

from portwatch.targeting.policy import Policy
from portwatch.twin.study.replications import run_study
from portwatch.twin.study.runner import rules_policy

BEFORE_RAIL = {
    ("test-port", "naive", 2): "3add5b6d4dbb56b7e380ae07c10d367b14369144f95bf8e0f3ed03fefa25c24f",
    ("test-port", "informed", 2):
        "006c69d1f46208aa41c16431c6a2426b4509f5d7039d7ca0652a2e0bb22e4031",
    ("test-port", "shotgun", 2): "c55f2184888ff81a4fb592b5b898addbc62897a8454122fe70e5108117e0674e",
    ("san-ysidro", "naive", 1): "3a151672885c87608bb7678a9c0fa1f918da2817a0bf46d50a54af2b9cc26d6b",
}


@pytest.mark.parametrize("case", sorted(BEFORE_RAIL))
def test_a_port_without_rail_gives_the_figures_it_gave_before_rail(case):
    scenario, adversary, days = case
    result = run_study(scenario, [rules_policy(), Policy.uniform(0.05)], adversary, days=days,
                       replications=1, seed=7)
    text = json.dumps(result.per_replication, sort_keys=True)
    assert hashlib.sha256(text.encode()).hexdigest() == BEFORE_RAIL[case]
