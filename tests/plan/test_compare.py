"""``portwatch compare``: every policy against an adversary on common random numbers,
the uniform baseline at the plan's bay time, paired differences, one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from portwatch.cli.main import run
from portwatch.plan.compare import compare, equal_capacity_rate, policies
from portwatch.plan.portgame import PlanSettings, plan_port
from portwatch.twin.scenario import load_scenario


def test_uniform_baseline_uses_the_plans_bay_time():
    sc = load_scenario("test-port")
    plan = plan_port(sc, PlanSettings())
    rate = equal_capacity_rate(sc, plan)
    assert float(plan.cost_s @ np.full(len(plan.cells), rate)) == pytest.approx(
        float(plan.cost_s @ plan.coverage))
    names = [p.name for p in policies(sc, plan)]
    assert names[0] == "uniform" and names[-1].endswith("-nii_scan")
    assert all(p.capacity_rule == "hold" for p in policies(sc, plan))


def test_naive_adversary_sends_the_same_loads_to_every_policy():
    result = compare(load_scenario("test-port"), adversaries=("naive",), days=1,
                     replications=1, seed=3)
    loads = {r["loads"] for r in result.rows}
    assert len(result.rows) == 5 and len(loads) == 1  # common random numbers
    base = result.rows[0]["harm_interdicted"]
    for r in result.rows[1:]:
        d = r["harm_interdicted_minus_uniform"]
        assert d["mean"] == pytest.approx(r["harm_interdicted"] - base)


def test_compare_command_json_and_out(tmp_path, capsys):
    out = tmp_path / "cmp"
    args = ["compare", "test-port", "--adversaries", "informed,adaptive", "--days", "1",
            "-r", "2", "--out", str(out), "--json", "--adversary-param", "loads_per_day=20"]
    assert run(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["policy"] for r in data["rows"]][0] == "uniform"
    assert data["adversary_params"] == {"loads_per_day": 20}
    assert json.loads((out / "compare.json").read_text()) == data
    # the table, the plots and the page come from the same rows
    from portwatch.plan.report import FILES, table_rows

    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    lines = (out / "compare.csv").read_text().splitlines()
    assert len(lines) == 1 + len(data["rows"]) == 11
    page = (out / "compare.html").read_text()
    for cells in table_rows(data):
        assert f"<td>{cells[4]}</td>" in page
    assert page.count('src="data:image/png;base64,') == 2 and "http" not in page
    for name in ("harm_vs_uniform.png", "wait_p95.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(data["predicted_harm_per_load_informed"]) == {r["policy"] for r in data["rows"]}


def test_warmup_days_are_run_but_not_measured():
    # the adaptive learner learns in the warm-up under each policy; what is measured are
    # the days after it, so the loads measured are those of the measured days only
    sc = load_scenario("test-port")
    warm = compare(sc, adversaries=("adaptive",), days=1, replications=1, seed=3,
                   warmup_days=2, adversary_params={"loads_per_day": 20.0})
    cold = compare(sc, adversaries=("adaptive",), days=1, replications=1, seed=3,
                   adversary_params={"loads_per_day": 20.0})
    assert warm.to_dict()["warmup_days"] == 2 and cold.to_dict()["warmup_days"] == 0
    assert all(abs(r["loads"] - 20) <= 12 for r in warm.rows)
    assert [r["loads"] for r in warm.rows] != [r["loads"] for r in cold.rows]


def test_informed_prediction_draws_loads_at_the_adversarys_own_daily_rate():
    # the informed adversary sends at most max_cell_share of a cell's traffic a day, so
    # 20,000 loads in one day (the old prediction) overflow its best cells and spread
    # with the traffic, where more of them are caught: the prediction must draw the
    # adversary's own loads a day, day by day
    from portwatch.plan.compare import predicted_harm_per_load
    from portwatch.targeting.policy import Policy

    sc = load_scenario("otay-mesa")
    policy = Policy.uniform(0.012, capacity_rule="hold", name="uniform")
    own = predicted_harm_per_load(sc, policy, loads_per_day=5.0, min_loads=1_000)
    flood = predicted_harm_per_load(sc, policy, loads_per_day=20_000.0, min_loads=20_000)
    assert 0.0 < own < 0.8 * flood, (own, flood)


def test_decoy_pairs_run_the_shotgun_with_and_without_decoys_on_the_same_loads():
    sc = load_scenario("test-port", ["canine.sweep_s=30"])
    result = compare(sc, adversaries=("shotgun",), days=1, replications=2, seed=3,
                     decoy_pairs=True, adversary_params={"loads": 10, "decoys": 5})
    tri = result.decoy_triage
    assert tri is not None and json.loads(json.dumps(result.to_dict()))["decoy_triage"]
    names = [r["policy"] for r in result.rows]
    assert set(tri["decoys_take"]["harm_interdicted"]) == set(names)
    # the recovery is the triage row minus the plan row of the run with decoys
    by = {r["policy"]: r for r in result.rows}
    rec = tri["triage_recovers"]["interdiction_rate"]["mean"]
    assert rec == pytest.approx(by[names[-1]]["interdiction_rate"]
                                - by[names[-2]]["interdiction_rate"])
    # the loads are the same with and without decoys (paired), so a policy's loss is
    # the without-decoys rate minus the row's
    assert all(v["mean"] == v["mean"] for v in tri["decoys_take"]["interdiction_rate"].values())


def test_compare_console_table(capsys):
    assert run(["compare", "test-port", "--adversaries", "naive", "--days", "1", "-r", "1"]) == 0
    text = capsys.readouterr().out
    # the plan with decoy triage is named after the option the planner chose
    assert "minus uniform [95% CI]" in text and "game-theoretic-" in text
    assert "decoy triage chosen: game-theoretic-" in text
    assert "baseline" in text and "predicted harm caught per load" in text


@pytest.mark.parametrize("args,expected", [
    (["--adversaries", "pirate"], "--adversaries: unknown 'pirate'"),
    (["--days", "0"], "--days"),
    (["--adversary-param", "pirates=3"], "adversary naive: "),
    (["--adversary-param", "loads_per_day"], "--adversary-param loads_per_day: use KEY=VALUE"),
    (["--set", "canine.sweep_s=-3"], "canine.sweep_s: must be > 0, got -3"),
    (["--best-response-loss", "1.5"], "--best-response-loss"),
])
def test_compare_bad_options(capsys, args, expected):
    assert run(["compare", "test-port", "--adversaries", "naive", *args]) == 2
    assert expected in capsys.readouterr().err


def test_the_command_and_the_study_list_the_same_adversaries():
    from portwatch.cli import plan as plan_cli
    from portwatch.plan import compare as compare_module

    assert plan_cli.ADVERSARIES == compare_module.ADVERSARIES


def test_ratio_of_means_by_the_delta_method():
    from portwatch.plan.compare import ratio_of_means

    # x = 2 y in every replication: the ratio is exactly 2, with no spread
    exact = ratio_of_means([2.0, 4.0, 6.0], [1.0, 2.0, 3.0])
    assert exact["mean"] == pytest.approx(2.0) and exact["ci95"] == pytest.approx([2.0, 2.0])
    # by hand: means 3 and 2, var x = 4, var y = 1, cov = -2 (opposed), n = 3
    # var(R) = (4 + 2 * 1.5 * 2 + 2.25 * 1) / (3 * 4) = 12.25 / 12; t(0.975, 2) = 4.3027
    q = ratio_of_means([1.0, 3.0, 5.0], [3.0, 2.0, 1.0])
    half = 4.302652729911275 * (12.25 / 12) ** 0.5
    assert q["mean"] == pytest.approx(1.5)
    assert q["ci95"] == pytest.approx([1.5 - half, 1.5 + half])
    assert np.isnan(ratio_of_means([1.0, 2.0], [0.0, 0.0])["mean"])
    assert np.isnan(ratio_of_means([1.0], [1.0])["mean"])
