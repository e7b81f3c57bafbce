"""Scenarios: the schema of a port's TOML file, its loader and compiled array form
(``schema``), the BTS crossing volumes (``bts``), the builder of the shipped files
(``build``) and the seeded search of truck staffing by hour (``staffing``).

Only the schema is imported here; ``bts``, ``build`` and ``staffing`` are imported on
their own (``python -m portwatch.twin.scenario.build`` runs as a script).
"""

from portwatch.twin.scenario.schema import (
    CONCEALMENTS,
    CompiledScenario,
    ScenarioSpec,
    ServiceSpec,
    compile_scenario,
    load_scenario,
    parse_scenario,
    scenario_names,
    scenario_path,
)

__all__ = [
    "CONCEALMENTS",
    "CompiledScenario",
    "ScenarioSpec",
    "ServiceSpec",
    "compile_scenario",
    "load_scenario",
    "parse_scenario",
    "scenario_names",
    "scenario_path",
]
