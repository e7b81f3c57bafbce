"""``portwatch policy show|override``: reading old files, overrides with the entropy
warning, one-line errors, and nothing half-written."""

from __future__ import annotations

import json

from tests.targeting.test_policy_v2 import V1_FILE

from portwatch.cli.main import run
from portwatch.targeting.policy import Policy


def _v1(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps(V1_FILE))
    return path


def test_show_reads_a_version_1_file(tmp_path, capsys):
    assert run(["policy", "show", str(_v1(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert out.startswith("old: 2 time blocks, 1 risk tier(s), risk threshold 0.8")
    assert run(["policy", "show", str(_v1(tmp_path)), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == 3


def test_override_writes_the_policy_and_warns(tmp_path, capsys):
    out = tmp_path / "new.json"
    args = ["policy", "override", str(_v1(tmp_path)), "--mode", "truck", "--lane", "general",
            "--blocks", "1", "--prob", "0", "--reason", "bay 2 closed", "--officer", "op-3",
            "--out", str(out)]
    assert run(args) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(f"wrote {out}: schedule entropy ")
    assert captured.err.startswith("warning: override (bay 2 closed) makes the schedule more "
                                   "predictable")
    p = Policy.from_json(out.read_text())
    assert p.referral_by_hour()[0, 0, 12:].tolist() == [0.0] * 12
    assert p.overrides[0].officer == "op-3"


def test_bad_override_is_one_line_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "new.json"
    args = ["policy", "override", str(_v1(tmp_path)), "--mode", "boat", "--lane", "general",
            "--blocks", "0", "--prob", "0", "--reason", "x", "--out", str(out)]
    assert run(args) == 2
    err = capsys.readouterr().err
    assert "mode: unknown mode 'boat'" in err and err.count("\n") == 1
    assert not out.exists() and list(tmp_path.iterdir()) == [tmp_path / "old.json"]
    assert run([*args[:4], "truck", *args[5:8], "0,x", *args[9:]]) == 2
    assert "--blocks: must be comma-separated whole numbers" in capsys.readouterr().err


def test_show_refuses_a_bad_file(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**V1_FILE, "risk_threshold": 1.9}))
    assert run(["policy", "show", str(path)]) == 2
    assert "bad.json: risk_threshold: Input should be less than or equal to 1" in (
        capsys.readouterr().err)
