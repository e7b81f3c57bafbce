"""The verdict an inspector acts on, and the threshold file."""

from __future__ import annotations

import json

import pytest

from portwatch.domain.errors import ConfigError
from portwatch.domain.substances import Action, SubstanceClass, Verdict
from portwatch.fieldid.identify import Thresholds, identify, load_thresholds
from portwatch.fieldid.samples import Recipe, random_unknown, render

from .fieldid_helpers import simulate


@pytest.mark.parametrize("laser", [785, 1064])
@pytest.mark.parametrize("drug", ["fentanyl", "cocaine_hcl", "methamphetamine_hcl"])
def test_pure_drug_is_controlled_seize(table, drug, laser):
    result = identify(simulate(table, [(drug, 1.0)], laser=laser, snr=100, fl=0.3, seed=31))
    assert result.verdict is Verdict.CONTROLLED
    assert result.action is Action.SEIZE_AND_SECURE
    top = result.components[0]
    assert top.name == drug and top.substance_class is SubstanceClass.CONTROLLED
    assert len(top.supporting_peaks_cm1) >= 2
    assert 0.5 < top.confidence <= 1.0


def test_drug_through_pe_bag(table):
    spectrum = simulate(table, [("cocaine_hcl", 1.0)], bag="polyethylene", share=0.7, seed=32)
    result = identify(spectrum)
    assert result.verdict is Verdict.CONTROLLED
    assert result.controlled_names() == ["cocaine_hcl"]
    assert "polyethylene" in [c.name for c in result.packaging]


@pytest.mark.parametrize("contents", [[("lactose", 1.0)], [("caffeine", 0.5), ("mannitol", 0.5)]])
def test_benign_is_released(table, contents):
    result = identify(simulate(table, contents, bag="pet", share=0.3, seed=33))
    assert result.verdict is Verdict.BENIGN
    assert result.action is Action.RELEASE
    assert not result.controlled_names()


def test_empty_bag_is_benign(table):
    result = identify(simulate(table, [], bag="polypropylene", seed=34))
    assert result.verdict is Verdict.BENIGN
    assert [c.name for c in result.packaging] == ["polypropylene"]


def test_unknown_compound_goes_to_the_lab(table):
    rng = __import__("numpy").random.default_rng(35)
    recipe = Recipe((("unknown", 1.0),), 1064, None, 0.0, 150.0, 0.2, 0.0, random_unknown(rng))
    result = identify(render(recipe, table, rng))
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.action is Action.SEND_TO_LAB


def test_json_form_has_the_fields_the_cli_promises(table):
    doc = identify(simulate(table, [("fentanyl", 0.5), ("lactose", 0.5)], seed=36)).to_json()
    assert {"file", "verdict", "components", "action"} <= set(doc)
    for c in doc["components"]:
        assert {"name", "class", "fraction", "confidence"} <= set(c)
    json.dumps(doc)


def test_shipped_thresholds_exist_for_both_lasers():
    table = load_thresholds()
    assert set(table) == {785, 1064}
    assert all(isinstance(t, Thresholds) and t.unique_z_min >= 3.0 for t in table.values())


def test_bad_thresholds_file(tmp_path):
    path = tmp_path / "thresholds.json"
    path.write_text(json.dumps({"lasers": {"785": {"no_such": 1}}}))
    with pytest.raises(ConfigError, match="thresholds.json"):
        load_thresholds(path)
