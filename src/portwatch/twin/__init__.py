"""The digital twin of a land port of entry.

Scenarios (``load_scenario``), adversaries (``make_adversary``), the compiled kernel
(``portwatch.twin.kernel``), per-day metrics and multi-replication studies (``run_study``).
"""

from portwatch.twin.adversary import (
    Adversary,
    AdversaryView,
    DayOutcome,
    LoadPlan,
    adversary_names,
    make_adversary,
    register_adversary,
)
from portwatch.twin.scenario import (
    CONCEALMENTS,
    CompiledScenario,
    ScenarioSpec,
    load_scenario,
    scenario_names,
)

__all__ = [
    "CONCEALMENTS",
    "Adversary",
    "AdversaryView",
    "CompiledScenario",
    "DayOutcome",
    "LoadPlan",
    "ScenarioSpec",
    "adversary_names",
    "load_scenario",
    "make_adversary",
    "register_adversary",
    "scenario_names",
]
