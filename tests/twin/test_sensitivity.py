"""``portwatch sensitivity``: every assumed parameter at both ends of its range."""

from __future__ import annotations

import json

import pytest

from portwatch.cli.main import run
from portwatch.twin.scenario import scenario_names
from portwatch.twin.scenario.assumed import ASSUMED
from portwatch.twin.scenario.overrides import apply_overrides
from portwatch.twin.scenario.schema import parse_scenario, scenario_data


@pytest.mark.parametrize("name", scenario_names())
def test_every_assumed_range_gives_a_valid_scenario(name):
    data, where = scenario_data(name)
    rail = [a for a in ASSUMED if a.path.startswith(("rail.", "modes.rail."))]
    expected = len(ASSUMED) - (0 if "rail" in data else len(rail))
    applied = 0
    for a in ASSUMED:
        for end in ("low", "high"):
            item = a.override(data, end)
            if item is not None:
                parse_scenario(apply_overrides(data, [item]), where)  # raises if invalid
                applied += 1
    assert applied >= 2 * (expected - 2)
    if "rail" in data:  # every rail parameter is varied where trains cross
        assert all(a.override(data, "low") and a.override(data, "high") for a in rail)


def test_sensitivity_moves_the_figures_and_draws_the_tornado(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    code = run(["sensitivity", "test-port", "--days", "2", "-r", "2", "--workers", "1",
                "--out", str(tmp_path), "--json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert (tmp_path / "tornado.png").stat().st_size > 1000
    rows = {r["path"]: r for r in data["parameters"]}
    assert set(rows) <= {a.path for a in ASSUMED}
    loads = rows["contraband.loads_per_day"]
    # four times the loads (0.5x to 2x): more harm interdicted, on the same random numbers
    assert loads["high"]["harm_interdicted"] > loads["low"]["harm_interdicted"]
    assert loads["low_value"] == 0.5 * loads["high_value"] / 2.0


def test_deterrence_parameters_move_the_loads_a_deterred_adversary_sends():
    from portwatch.twin.study.runner import parse_policy
    from portwatch.twin.study.sensitivity import run_sensitivity

    data = run_sensitivity("test-port", parse_policy("rules"), "peak-timing", days=3,
                           replications=1, seed=2)
    rows = {r["path"]: r for r in data["parameters"]}
    ref = rows["contraband.economics.reference_seizure_prob"]
    # a load pays better against a seizure chance of 0.3 than of 0.05 as the reference,
    # so the loads per day it sends against the same record are more
    assert ref["high"]["loads_attempted"] > ref["low"]["loads_attempted"]
    elastic = rows["contraband.economics.elasticity"]
    assert elastic["high"]["loads_attempted"] != elastic["low"]["loads_attempted"]
