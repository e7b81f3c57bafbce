"""End-to-end: ``portwatch simulate`` and ``portwatch scenarios`` as a user types them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from portwatch.cli.main import run
from portwatch.domain.errors import ConfigError, InputError
from portwatch.targeting.policy import Policy
from portwatch.twin.study import runner as study
from portwatch.twin.study.runner import parse_params, parse_policy

SMALL = ["--days", "1", "--replications", "2", "--workers", "1", "--seed", "3"]


def simulate_json(capsys, *args):
    code = run(["simulate", "test-port", *SMALL, "--json", *args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def test_json_output_has_the_figures_the_issue_asks_for(capsys):
    data = simulate_json(capsys)
    for key in ("crossings", "loads_attempted", "loads_interdicted", "share_uninspected"):
        assert isinstance(data[key], float), key
    for mode in ("truck", "car"):
        assert data["wait_s"][mode]["mean"] >= 0
        assert data["wait_s"][mode]["p95"] >= data["wait_s"][mode]["median"]
    assert data["scenario"] == "test-port" and data["seed"] == 3
    assert data["portwatch_version"]
    assert list(data["policies"]) == ["rules"]  # the default policy
    assert 0 <= data["share_uninspected"] <= 1


def test_same_seed_same_study(capsys):
    first = simulate_json(capsys, "--adversary", "adaptive")
    again = simulate_json(capsys, "--adversary", "adaptive")
    assert first == again


def test_several_policies_are_compared_on_common_random_numbers(capsys):
    data = simulate_json(capsys, "-p", "uniform:0.0", "-p", "uniform:1.0:hold", "-a", "shotgun",
                         "--adversary-param", "loads=6", "--adversary-param", "decoys=2")
    none, everyone = data["policies"]["uniform-0"], data["policies"]["uniform-1-hold"]
    # the same loads arrive under both policies
    assert none["loads_attempted"] == everyone["loads_attempted"] == 6
    assert everyone["share_uninspected"] < none["share_uninspected"]
    assert everyone["loads_interdicted"] >= none["loads_interdicted"]
    assert "uniform-1-hold" in data["differences"]
    assert data["adversary_params"] == {"loads": 6, "decoys": 2}


def test_policy_from_a_json_file(tmp_path, capsys):
    path = tmp_path / "mine.json"
    path.write_text(Policy.uniform(0.1, name="mine").to_json())
    data = simulate_json(capsys, "--policy", str(path))
    assert list(data["policies"]) == ["mine"]


def test_out_writes_metrics_plots_and_report(tmp_path, capsys):
    out = tmp_path / "study"
    code = run(["simulate", "test-port", *SMALL, "-p", "rules", "-p", "risk:0.5",
                "-a", "peak-timing", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "rules" in captured.out and "risk-0.5" in captured.out  # the table
    for name in ("study.json", "metrics.csv", "by_drug.csv", "waits.csv", "report.html",
                 "queue_by_hour.png", "wait_distribution.png", "interdiction_by_drug.png"):
        assert (out / name).stat().st_size > 0, name
    assert json.loads((out / "study.json").read_text())["adversary"] == "peak-timing"


@pytest.mark.parametrize(("args", "message"), [
    (["simulate", "atlantis"], "error: scenario 'atlantis': not found"),
    (["simulate", "test-port", "-p", "uniform:lots"], "error: --policy uniform:lots: 'lots'"),
    (["simulate", "test-port", "-p", "sometimes"], "error: --policy sometimes: use"),
    (["simulate", "test-port", "-p", "uniform:1.5"], "error: rate: must be in [0, 1]"),
    (["simulate", "test-port", "-a", "smuggler"], "error: adversary 'smuggler': not found"),
    (["simulate", "test-port", "--days", "0"], "error: days: must be >= 1, got 0"),
    (["simulate", "test-port", "--adversary-param", "x"], "error: --adversary-param x"),
    (["simulate", "test-port", "-a", "shotgun", "--adversary-param", "wobble=1"],
     "error: adversary shotgun:"),
    (["simulate", "test-port", "-p", "missing.json"], "error: missing.json: cannot read"),
])
def test_user_mistakes_get_one_line_and_exit_2(args, message, capsys):
    assert run(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(message), err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_out_onto_a_file_is_refused_and_the_file_kept(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("keep me")
    assert run(["simulate", "test-port", *SMALL, "--out", str(target)]) == 2
    assert "error: --out" in capsys.readouterr().err
    assert target.read_text() == "keep me"


def test_scenarios_lists_the_shipped_ones(capsys):
    assert run(["scenarios", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    names = [r["name"] for r in rows]
    assert {"otay-mesa", "laredo", "san-ysidro", "southern-border"} <= set(names)
    assert run(["scenarios"]) == 0
    assert "southern-border" in capsys.readouterr().out


def test_parse_policy_names():
    assert parse_policy("uniform:0.05").name == "uniform-0.05"
    assert parse_policy("uniform:0.05:hold").capacity_rule == "hold"
    rules = parse_policy("rules")
    assert rules.referral_prob[0, 0, 0] == 0.15  # trucks, general lane: 15% scanned in 2021
    assert rules.referral_prob[1, 0, 0] < 0.02  # cars: under 2%
    risk = parse_policy("risk:0.8:0.01")
    assert risk.risk_threshold == 0.8 and risk.referral_prob.max() == 0.01
    with pytest.raises(InputError):
        parse_policy("risk")
    assert parse_params(["window_s=900", "mode=car", "loads=3"]) == {
        "window_s": 900, "mode": "car", "loads": 3}


def test_bad_policy_json_names_the_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="bad.json: not JSON"):
        parse_policy(str(path))


def test_demo_study_prints_the_table(monkeypatch):
    from rich.console import Console

    monkeypatch.setattr(study, "DEMO_SCENARIO", "test-port")
    monkeypatch.setattr(study, "DEMO_DAYS", 1)
    monkeypatch.setattr(study, "DEMO_REPLICATIONS", 2)
    console = Console(record=True, width=160)
    data = study.run_demo_study(console, workers=1)
    text = console.export_text()
    assert data["adversary"] == "shotgun"
    assert len(data["policies"]) == 4
    for name in data["policies"]:
        assert name in text
    assert "loads interdicted / day" in text


def test_real_subprocess_on_two_local_processes():
    done = subprocess.run(
        [sys.executable, "-m", "portwatch", "simulate", "test-port", "--days", "1",
         "--replications", "2", "--workers", "2", "-a", "informed", "--json"],
        capture_output=True, text=True, check=False, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["replications"] == 2 and data["crossings"] > 0
    # the same study in-process gives the same numbers: workers do not change results
    inproc = subprocess.run(
        [sys.executable, "-m", "portwatch", "simulate", "test-port", "--days", "1",
         "--replications", "2", "--workers", "1", "-a", "informed", "--json"],
        capture_output=True, text=True, check=False, timeout=300,
    )
    assert json.loads(inproc.stdout)["policies"] == data["policies"]


def test_subprocess_error_is_one_line():
    done = subprocess.run(
        [sys.executable, "-m", "portwatch", "simulate", "nowhere-port"],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: scenario 'nowhere-port'")
