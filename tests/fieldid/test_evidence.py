"""Specific evidence for a controlled or explosive call; explosives; add-then-identify."""

from __future__ import annotations

import json

import pytest

from portwatch.cli.main import run
from portwatch.domain.substances import Action, SubstanceClass, Verdict
from portwatch.fieldid.evidence import GENERIC_AROMATIC_CM1, is_generic_aromatic
from portwatch.fieldid.identify import PRESUMPTIVE_NOTE, identify
from portwatch.fieldid.library import default_library, load_peak_table
from portwatch.fieldid.readers import read_spectrum, write_columns
from portwatch.fieldid.search import prepare

from .fieldid_helpers import DATA, simulate

EXPLOSIVES = ["tnt", "rdx", "petn", "hmx", "ammonium_nitrate", "tatp", "urea_nitrate"]


def test_explosives_are_in_the_table_with_a_source_per_band():
    import tomllib
    from importlib import resources

    raw = tomllib.loads(
        resources.files("portwatch.fieldid").joinpath("data/raman_peaks.toml").read_text()
    )
    entries = {e.name: e for e in load_peak_table()}
    for name in EXPLOSIVES:
        assert entries[name].substance_class is SubstanceClass.EXPLOSIVE
        bands = raw[name]["bands"]
        assert [b[0] for b in bands] == [p for p, _ in entries[name].peaks]
        assert all(isinstance(b[2], str) and b[2] for b in bands)


@pytest.mark.parametrize("name", ["tnt", "petn", "tatp"])
def test_pure_explosive_calls_eod(table, name):
    result = identify(simulate(table, [(name, 1.0)], laser=785, snr=150, fl=0.5, seed=3))
    assert result.verdict is Verdict.EXPLOSIVE
    assert result.action is Action.EVACUATE_AND_CALL_EOD
    assert result.components[0].name == name
    doc = result.to_json()
    assert doc["presumptive"] is True and doc["note"] == PRESUMPTIVE_NOTE
    assert doc["action"] == "evacuate-and-call-EOD"


def test_drug_names_rest_on_non_generic_bands():
    prepared = prepare(default_library(), 785)
    for ref, diagnostic in zip(prepared.references, prepared.diagnostic, strict=True):
        if ref.substance_class in (SubstanceClass.CONTROLLED, SubstanceClass.EXPLOSIVE):
            assert not any(is_generic_aromatic(p) for p in diagnostic), ref.name
        else:
            assert diagnostic == ()
    assert all(lo < hi for lo, hi in GENERIC_AROMATIC_CM1)


def test_a_positive_reports_hqi_and_matched_and_missing_bands(table):
    result = identify(simulate(table, [("cocaine_hcl", 1.0)], laser=785, fl=0.5, seed=4))
    assert result.verdict is Verdict.CONTROLLED
    top = result.components[0]
    assert 0.0 < top.hqi <= 1.0 and top.matched_bands_cm1
    assert set(top.matched_bands_cm1).isdisjoint(top.missing_bands_cm1)
    assert 0.0 <= result.confidence <= 1.0


def test_benign_aromatic_matching_meth_pattern_is_not_controlled(table):
    """Only the generic ring bands of methamphetamine: an aromatic, not the drug."""
    import numpy as np

    from portwatch.fieldid.samples import Recipe, render

    ring = ((620.0, 0.15), (1003.0, 1.0), (1030.0, 0.3), (1585.0, 0.15), (1605.0, 0.2))
    recipe = Recipe((("unknown", 1.0),), 785, None, 0.0, 150.0, 0.5, 0.0, ring)
    result = identify(render(recipe, table, np.random.default_rng(7)))
    assert result.verdict not in (Verdict.CONTROLLED, Verdict.EXPLOSIVE)


@pytest.mark.parametrize(
    ("name", "cls", "file"),
    [
        ("polystyrene", "packaging", "PST10_iR785_OP01_40000msx4.txt"),
        ("my_white_powder", "benign", "PST10_iR785_OP01_40000msx4.txt"),
    ],
)
def test_library_add_then_identify_returns_that_name(tmp_path, capsys, name, cls, file):
    lib = tmp_path / "lib.json"
    spectrum = DATA / file
    args = ["fieldid", "library", "add", name, str(spectrum), "--class", cls]
    assert run([*args, "--library", str(lib), "--laser", "785"]) == 0
    capsys.readouterr()
    assert run(["identify", str(spectrum), "--library", str(lib), "--json", "--laser", "785"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["verdict"] == "benign"
    assert doc["components"][0]["name"] == name
    assert 0.0 <= doc["confidence"] <= 1.0


def test_json_names_each_result_by_its_path(tmp_path, table, capsys):
    paths = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        path = tmp_path / folder / "sample.csv"
        write_columns(simulate(table, [("lactose", 1.0)], seed=len(paths)), path)
        paths.append(path)
    assert run(["identify", "--json", *map(str, paths)]) == 0
    files = [json.loads(line)["file"] for line in capsys.readouterr().out.splitlines()]
    assert files == [str(p) for p in paths] and files[0] != files[1]


@pytest.mark.parametrize(
    "args",
    [
        ["fieldid", "library", "build", "--out", "{dir}"],
        ["identify", str(DATA / "PST02_iRPlus785_Z050_100_3200ms.txt"), "--library", "{dir}"],
        ["fieldid", "evaluate", "--out", "{file}", "--synthetic-only"],
        ["fieldid", "evaluate", "--thresholds-out", "{dir}", "--synthetic-only"],
        ["fieldid", "evaluate", "--seed", "-1", "--synthetic-only"],
        ["fieldid", "evaluate", "--repeats", "0", "--synthetic-only"],
        ["fieldid", "evaluate", "--laser", "532", "--synthetic-only"],
        ["identify", str(DATA / "PST02_iRPlus785_Z050_100_3200ms.txt"), "--calibration", "{dir}"],
    ],
)
def test_bad_targets_and_numbers_are_one_line_errors(tmp_path, capsys, args):
    existing = tmp_path / "exists.txt"
    existing.write_text("x")
    filled = [a.format(dir=tmp_path, file=existing) for a in args]
    assert run(filled) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1, err


def test_calibration_file_that_is_not_polystyrene_is_an_error(tmp_path, table, capsys):
    cal = tmp_path / "cal.csv"
    write_columns(simulate(table, [("lactose", 1.0)], laser=785), cal)
    target = str(DATA / "PST02_iRPlus785_Z050_100_3200ms.txt")
    assert run(["identify", target, "--calibration", str(cal)]) == 2
    assert "ASTM E1840" in capsys.readouterr().err


def test_measured_reference_peaks_come_from_the_spectrum():
    spectrum = read_spectrum(DATA / "PST02_iRPlus785_Z050_100_3200ms.txt")
    from portwatch.fieldid.library import pick_peaks

    peaks = pick_peaks(spectrum)
    assert any(abs(p - 1001) < 4 for p in peaks)


def test_diagnostic_bands_are_never_weak_ones():
    """A weak band (ammonium nitrate's 1410 cm-1, 0.05) once named it in drug mixtures."""
    from portwatch.fieldid.evidence import DIAGNOSTIC_MIN_HEIGHT

    for laser in (785, 1064):
        prepared = prepare(default_library(), laser)
        for bands, diagnostic in zip(prepared.bands, prepared.diagnostic, strict=True):
            heights = {b.position_cm1: b.height for b in bands}
            assert all(heights[d] >= DIAGNOSTIC_MIN_HEIGHT for d in diagnostic)


def _petn_evidence(found: tuple[float, ...]):
    from portwatch.fieldid.identify import FlaggedEvidence
    from portwatch.fieldid.mixtures import Component

    c = Component(0, "petn", SubstanceClass.EXPLOSIVE, 1.0, 1.0, 0.0, 400.0, 0.9, 20.0, 0.9)
    diagnostic, heights = (460.0, 870.0, 1512.0), (0.15, 1.0, 0.3)
    return FlaggedEvidence(c, 0.9, diagnostic, found, 1.0, (870.0,), (), heights)


def test_a_weak_diagnostic_band_lost_in_the_noise_does_not_veto_a_call():
    """PETN's 460 cm-1 band (0.15) sinks under SNR-20 noise; 870 and 1512 carry 90%."""
    from portwatch.fieldid.identify import Thresholds, diagnostic_met

    t = Thresholds(unique_z_min=4.0, unique_hqi_min=0.5)
    assert diagnostic_met(_petn_evidence((870.0, 1512.0)), t)
    # the strongest one missing is not excused: 460 + 1512 carry 31%
    assert not diagnostic_met(_petn_evidence((460.0, 1512.0)), t)
    # nor one band alone, however strong (69%, and fewer than two)
    assert not diagnostic_met(_petn_evidence((870.0,)), t)


#: Source keys the peak table defines (in its comments), and the mark of a band no
#: reachable source gave.
BAND_SOURCES = {
    "LLGR2014", "ZHANG2017", "GG2001", "OXLEY2008", "CJ1986", "ALMAVIVA2014",
    "NIJ_METH", "NELSON_HAMLINE", "HE2023", "OBERG2024", "KASSU2023", "PORCU2022",
    "RAMANBIOLIB", "TORRES2004", "uncited",
}  # fmt: skip


def test_every_flagged_and_cutting_agent_band_names_its_source():
    """Each band carries a source key or says it has none; the entry's mark follows."""
    import tomllib
    from importlib import resources

    raw = tomllib.loads(
        resources.files("portwatch.fieldid").joinpath("data/raman_peaks.toml").read_text()
    )
    for entry in load_peak_table():
        if entry.substance_class not in (
            SubstanceClass.CONTROLLED, SubstanceClass.EXPLOSIVE, SubstanceClass.CUTTING_AGENT
        ):  # fmt: skip
            continue
        bands = raw[entry.name]["bands"]
        assert [b[0] for b in bands] == [p for p, _ in entry.peaks], entry.name
        # "KEY": re-read in the source's reachable text; "KEY?": attributed, not re-read
        keys = {b[2].rstrip("?") for b in bands}
        assert keys <= BAND_SOURCES, (entry.name, keys - BAND_SOURCES)
        read = [b[2] in BAND_SOURCES - {"uncited"} for b in bands]
        expected = "cited" if all(read) else ("partly cited" if any(read) else "approximate")
        assert entry.confidence == expected, entry.name
