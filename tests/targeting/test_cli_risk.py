"""``portwatch risk evaluate`` on a CSV feature table written from the explicit-link
generator (a machinery check, not a result about a port), and its one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tests.targeting.risk_generator import generate

from portwatch.cli.main import run


def _csv(tmp_path, n=4000):
    table, _ = generate(np.random.default_rng(7), n)
    path = tmp_path / "crossings.csv"
    lines = [",".join(["id", *table.feature_names, "loaded", "time_s"])]
    for i in range(table.n_rows):
        lines.append(",".join([f"c{i}", *(f"{v:.6g}" for v in table.features[i]),
                               str(int(table.label[i])), f"{table.time_s[i]:.1f}"]))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_risk_evaluate_json(tmp_path, capsys):
    path = _csv(tmp_path)
    args = ["risk", "evaluate", str(path), "--label", "loaded", "--time", "time_s",
            "--drop", "id", "--mimic", "new_consignee,declared_value_per_kg_log",
            "--bootstrap", "20", "--json"]
    assert run(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["features"][0] == "shipper_history_years" and "id" not in out["features"]
    held = out["held_out"]
    assert 0.6 < held["auc"]["value"] < 0.9 and held["lift"]["value"] > 1.5
    assert [m["share"] for m in out["mimicry"]] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert out["mimicry"][-1]["lift"]["value"] < out["mimicry"][0]["lift"]["value"]


@pytest.mark.parametrize("args,expected", [
    (["--label", "nope", "--time", "time_s"], "--label column 'nope' is not in the header"),
    (["--label", "loaded", "--time", "time_s"], "line 2: id: not a number: 'c0'"),
    (["--label", "loaded", "--time", "time_s", "--drop", "id", "--referral-rate", "2"],
     "--referral-rate: must be in (0, 1]"),
    (["--label", "loaded", "--time", "time_s", "--drop", "id", "--mimic", "colour"],
     "--mimic: 'colour' is not a feature column of crossings.csv"),
])
def test_risk_evaluate_errors(tmp_path, capsys, args, expected):
    path = _csv(tmp_path, n=300)
    assert run(["risk", "evaluate", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expected in err and err.count("\n") == 1
