"""Bad input to ``portwatch simulate``: one line on stderr naming the field, exit 2."""

from __future__ import annotations

import pytest

from portwatch.cli.main import run

BASE = ["simulate", "test-port", "--days", "1", "--replications", "1", "--workers", "1"]

CASES = [
    (["--seed", "-1"], "--seed: must be >= 0, got -1"),
    (["--days", "1000000000"], "--days: must be <= 3660, got 1000000000"),
    (["--replications", "0"], "replications: must be >= 1, got 0"),
    (["--set", "analyzer.identify_prob.fentanyl=1.9"],
     "analyzer.identify_prob.fentanyl: must be <= 1, got 1.9"),
    (["--set", "modes.truck.daily_volume=inf"],
     "modes.truck.daily_volume: must be a finite number, got inf"),
    (["--set", "secondary.queue_slots=nan"], "secondary.queue_slots: must be a finite number"),
    (["--set", "canine.teams=-1"], "canine.teams: must be >= 0, got -1"),
    (["--set", "scanners.0.count=1e12"], "scanners.0.count: must be <= 100000"),
    (["--set", "scanners.9.count=1"], "--set scanners.9.count: index 9 out of range"),
    (["--set", "nope.x=1"], "nope: unknown field"),
    (["--set", "canine.teams"], "--set canine.teams: use PATH=VALUE"),
    (["--set", "canine.tems=3"], "canine.tems: unknown field"),
    (["--policy", "risk:-5"], "risk_threshold: must be in [0, 1]"),
    (["--policy", "risk:nan"], "risk_threshold: must be in [0, 1]"),
    (["--policy", "uniform:1.9"], "rate: must be in [0, 1], got 1.9"),
    (["--adversary", "shotgun", "--adversary-param", "decoys=-1"],
     "decoys: must be >= 0, got -1"),
]


@pytest.mark.parametrize("args, message", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_input_is_one_line_naming_the_field(capsys, args, message):
    code = run([*BASE, *args])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert "\n" not in err and "Traceback" not in err
    assert message in err


def test_target_ci_adds_replications_until_the_interval_is_narrow_or_the_cap(capsys):
    import json

    code = run([*BASE[:-4], "--workers", "1", "--days", "1", "--replications", "2",
                "--target-ci", "0.001", "--max-replications", "4", "--json"])
    captured = capsys.readouterr()
    assert code == 0
    target = json.loads(captured.out)["target_ci"]
    assert target == {**target, "reached": False, "replications": 4, "max_replications": 4}
    assert target["widest_width"] > 0.001
    assert "--target-ci 0.001: not reached" in captured.err
    assert run([*BASE, "--target-ci", "0"]) == 2
    assert "--target-ci: must be in (0, 1], got 0.0" in capsys.readouterr().err
