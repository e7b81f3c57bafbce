"""``portwatch risk train`` end to end: the evaluation it prints and the model it writes."""

from __future__ import annotations

import json

import numpy as np

from portwatch.cli.main import run
from portwatch.twin import load_scenario
from portwatch.twin.process import advance


def test_risk_train_writes_the_model_and_reports_against_the_bound(tmp_path, capsys):
    out = tmp_path / "model.json"
    args = ["risk", "train", "test-port", "--days", "24", "--bootstrap", "20",
            "--mimicry-shares", "0,1", "--out", str(out), "--json"]
    assert run(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["scenario"] == "test-port" and report["days"] == 24
    assert 0.5 < report["bayes_auc"] < 1.0
    for who in ("learned", "oracle"):
        auc = report[who]["auc"]
        assert auc["low"] <= auc["value"] <= auc["high"]
        assert report[who]["rows"] > 0 and report[who]["reliability"]
    assert [r["share"] for r in report["mimicry_decay"]] == [0.0, 1.0]
    decay = report["mimicry_decay"]
    assert decay[1]["bayes_auc"] < decay[0]["bayes_auc"]
    model = json.loads(out.read_text())
    sc = load_scenario("test-port")
    assert model["format"] == "portwatch-risk-lookup"
    assert tuple(model["shape"]) == advance.grid_shape(sc)
    assert model["features"] == list(advance.FEATURES)
    table = np.array(model["table"])
    assert table.shape == (int(np.prod(model["shape"])),)
    assert table.min() >= 0.0 and table.max() <= 1.0
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind


def test_risk_train_prints_a_table(capsys):
    assert run(["risk", "train", "test-port", "--days", "12", "--bootstrap", "10",
                "--mimicry-shares", "0.5"]) == 0
    text = capsys.readouterr().out
    assert "Bayes-optimal" in text and "reliability" in text and "mimicry 50%" in text


def _model(tmp_path, value: float | None = None):
    out = tmp_path / "m.json"
    assert run(["risk", "train", "test-port", "--days", "8", "--bootstrap", "10",
                "--mimicry-shares", "0", "--out", str(out)]) == 0
    if value is not None:
        doc = json.loads(out.read_text())
        doc["table"] = [value] * len(doc["table"])
        out.write_text(json.dumps(doc))
    return out


def _inspected(capsys, model):
    args = ["simulate", "test-port", "-p", "risk:0.5:0", "--days", "1", "-r", "1",
            "--workers", "1", "--json", "--risk-model", str(model)]
    capsys.readouterr()
    assert run(args) == 0
    return json.loads(capsys.readouterr().out)["policies"]["risk-0.5"]["inspected"]


def test_simulate_scores_with_the_model_it_is_given(tmp_path, capsys):
    low = _inspected(capsys, _model(tmp_path, 0.0))
    high = _inspected(capsys, _model(tmp_path, 1.0))
    assert high > 10 * max(low, 1.0)


def test_a_model_of_another_grid_is_refused(tmp_path, capsys):
    model = _model(tmp_path)
    doc = json.loads(model.read_text())
    doc["shape"][4] += 1
    model.write_text(json.dumps(doc))
    assert run(["simulate", "test-port", "--days", "1", "-r", "1", "--risk-model",
                str(model)]) == 2
    err = capsys.readouterr().err
    assert "m.json: shape" in err and "feature grid" in err and err.count("\n") == 1
