"""The digital twin of a land port of entry.

Scenarios (``load_scenario``), adversaries (``make_adversary``), the compiled kernel
(``portwatch.twin.kernel``), per-day metrics, multi-replication studies (``run_study``),
policies by name (``parse_policy``) and the demonstration study (``run_demo_study``).
Imported on their own, so that ``python -m`` can run them as scripts and a kernel
worker does not load what it does not use: ``portwatch.twin.border.run_border_study``
(the southern border port by port), ``portwatch.twin.bts`` and ``scenario_build`` (the
volumes and the scenario files), ``portwatch.twin.report.write_report`` (matplotlib).
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
from portwatch.twin.experiment import StudyResult, run_study
from portwatch.twin.kernel import DayRun, PortState, prepare, run_day
from portwatch.twin.metrics import DayMetrics, combine, day_metrics, summarise
from portwatch.twin.scenario import (
    CONCEALMENTS,
    CompiledScenario,
    ScenarioSpec,
    load_scenario,
    scenario_names,
)
from portwatch.twin.study import parse_policy, run_demo_study
from portwatch.twin.traffic import DayTraffic, compose_day, draw_legit, plan_traffic

__all__ = [
    "CONCEALMENTS",
    "Adversary",
    "AdversaryView",
    "CompiledScenario",
    "DayMetrics",
    "DayOutcome",
    "DayRun",
    "DayTraffic",
    "LoadPlan",
    "PortState",
    "ScenarioSpec",
    "StudyResult",
    "adversary_names",
    "combine",
    "compose_day",
    "day_metrics",
    "draw_legit",
    "load_scenario",
    "make_adversary",
    "parse_policy",
    "plan_traffic",
    "prepare",
    "register_adversary",
    "run_day",
    "run_demo_study",
    "run_study",
    "scenario_names",
    "summarise",
]
