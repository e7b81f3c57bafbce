"""``portwatch solve`` end to end: a subprocess for the console script, ``run`` for the rest."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from portwatch.cli.main import run

KIEKINTVELD_TABLE1 = {"resources": 1, "targets": [
    {"defender_covered": 5, "defender_uncovered": -20, "attacker_covered": -10,
     "attacker_uncovered": u} for u in (30, 20, 10)]}
PARUCHURI = {"leader_strategies": ["a", "b"], "types": [
    {"probability": 1.0, "actions": ["c", "d"], "leader_payoffs": [[2, 4], [1, 3]],
     "follower_payoffs": [[1, 0], [0, 2]]}]}


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_solve_security_game_json_in_a_subprocess(tmp_path):
    path = _write(tmp_path, "game.json", KIEKINTVELD_TABLE1)
    done = subprocess.run([sys.executable, "-m", "portwatch", "solve", str(path), "--json"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["coverage"] == pytest.approx([7 / 13, 5 / 13, 1 / 13])
    assert out["attacked_target"] == 0
    assert out["attacker_utility"] == pytest.approx(110 / 13)
    assert out["defender_utility"] == pytest.approx(25 * 7 / 13 - 20)


@pytest.mark.parametrize("method", ["auto", "dobss", "multiple-lps"])
def test_solve_bayesian_game(tmp_path, capsys, method):
    path = _write(tmp_path, "game.json", PARUCHURI)
    assert run(["solve", str(path), "--json", "--method", method]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["leader_strategy"] == pytest.approx([2 / 3, 1 / 3])
    assert out["responses"] == ["d"]
    assert out["defender_utility"] == pytest.approx(11 / 3)


@pytest.mark.parametrize("method", ["origami", "weighted-lp", "multiple-lps", "suqr"])
def test_solve_text_output(tmp_path, capsys, method):
    path = _write(tmp_path, "game.json", KIEKINTVELD_TABLE1)
    assert run(["solve", str(path), "--method", method]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"method {method}")
    assert len(text.strip().splitlines()) == 2 + 3


@pytest.mark.parametrize("args,expected", [
    (["--method", "simplex"], "method: 'simplex' is not one of"),
    (["--method", "qr"], "lambda: the quantal-response attacker needs"),
    (["--method", "suqr", "--suqr-weights", "1,2"], "--suqr-weights: must be three"),
])
def test_bad_options_are_one_line_errors(tmp_path, capsys, args, expected):
    path = _write(tmp_path, "game.json", KIEKINTVELD_TABLE1)
    assert run(["solve", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expected in err and err.count("\n") == 1


def test_bad_files_are_one_line_errors(tmp_path, capsys):
    (tmp_path / "broken.json").write_text("{not json")
    assert run(["solve", str(tmp_path / "broken.json")]) == 2
    assert "broken.json: not JSON" in capsys.readouterr().err
    assert run(["solve", str(tmp_path / "missing.json")]) == 2
    assert "missing.json: cannot read" in capsys.readouterr().err
    bad = {**PARUCHURI, "types": [{**PARUCHURI["types"][0], "probability": 0.6}]}
    assert run(["solve", str(_write(tmp_path, "p.json", bad))]) == 2
    assert "p.json: types: probabilities must sum to 1, got 0.6" in capsys.readouterr().err


def test_solve_draws_pure_assignments_from_the_exact_schedule(tmp_path, capsys):
    path = _write(tmp_path, "game.json", KIEKINTVELD_TABLE1)
    assert run(["solve", str(path), "--json", "--draws", "5", "--seed", "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert sorted((round(s["probability"] * 13), s["targets"]) for s in out["schedule"]) == [
        (1, [2]), (5, [1]), (7, [0])]
    assert len(out["draws"]) == 5 and all(len(d) == 1 for d in out["draws"])
    assert run(["solve", str(path), "--draws", "2"]) == 0
    assert capsys.readouterr().out.count("draw ") == 2


def test_draws_refuse_targets_of_different_cost(tmp_path, capsys):
    game = {**KIEKINTVELD_TABLE1, "targets": [{**t, "cost": 0.5 + i} for i, t in
                                              enumerate(KIEKINTVELD_TABLE1["targets"])]}
    assert run(["solve", str(_write(tmp_path, "g.json", game)), "--draws", "1"]) == 2
    assert "--draws: pure assignments need every target to cost 1" in capsys.readouterr().err


TYPED = {"resources": 1, "types": [
    {"name": "single-load", "probability": 0.6, "targets": KIEKINTVELD_TABLE1["targets"]},
    {"name": "shotgun", "probability": 0.4, "targets": [
        {**t, "attacker_uncovered": u} for t, u in zip(KIEKINTVELD_TABLE1["targets"],
                                                        (10, 20, 30), strict=True)]}]}


def test_solve_security_game_with_attacker_types(tmp_path, capsys):
    path = _write(tmp_path, "typed.json", TYPED)
    assert run(["solve", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["game"] == "security-types" and out["method"] == "bayesian-eraser"
    assert set(out["attacked_targets"]) == {"single-load", "shotgun"}
    assert sum(out["coverage"]) <= 1 + 1e-7
    # mirror-image types with weights 0.6/0.4: the coverage is not either type's ORIGAMI
    assert out["coverage"] != pytest.approx([7 / 13, 5 / 13, 1 / 13], abs=1e-3)
    assert run(["solve", str(path)]) == 0
    assert "single-load attacks target" in capsys.readouterr().out


@pytest.mark.parametrize("change,expected", [
    ({"types": [{**TYPED["types"][0], "probability": 0.5}, TYPED["types"][1]]},
     "types: probabilities must sum to 1, got 0.9"),
    ({"types": [TYPED["types"][0],
                {**TYPED["types"][1], "targets": TYPED["types"][1]["targets"][:2]}]},
     "types[1].targets: 2 targets, types[0] has 3"),
    ({"costs": [1.0, 1.0]}, "costs: one per target (3), got 2"),
    ({"resources": 5}, "resources: 5 is more than the 3 targets"),
])
def test_bad_typed_games(tmp_path, capsys, change, expected):
    assert run(["solve", str(_write(tmp_path, "t.json", {**TYPED, **change}))]) == 2
    assert expected in capsys.readouterr().err
