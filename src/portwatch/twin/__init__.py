"""The digital twin of a land port of entry, in four parts by job:

- ``scenario``: the port's TOML file, validated and compiled (``load_scenario``); the BTS
  volumes (``scenario.bts``), the shipped files' builder (``scenario.build``) and the
  truck staffing search (``scenario.staffing``), each imported on its own;
- ``process``: durations, traffic, the compiled kernel (``run_day``), per-day metrics
  and the interdiction model;
- ``adversaries``: one module per adversary behind one interface (``make_adversary``);
- ``study``: replications on common random numbers (``run_study``), policies by name
  (``parse_policy``), the demonstration study, the southern border port by port
  (``study.border``) and the report (``study.report``, matplotlib), the last two
  imported on their own.

``portwatch.twin.validation`` checks the kernel against queueing theory.
"""

from portwatch.twin.adversaries import (
    Adversary,
    AdversaryView,
    DayOutcome,
    LoadPlan,
    adversary_names,
    make_adversary,
    register_adversary,
)
from portwatch.twin.process.kernel import DayRun, PortState, prepare, run_day
from portwatch.twin.process.metrics import DayMetrics, combine, day_metrics, summarise
from portwatch.twin.process.traffic import DayTraffic, compose_day, draw_legit, plan_traffic
from portwatch.twin.scenario import (
    CONCEALMENTS,
    CompiledScenario,
    ScenarioSpec,
    load_scenario,
    scenario_names,
)
from portwatch.twin.study.replications import StudyResult, run_study
from portwatch.twin.study.runner import parse_policy, run_demo_study

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
