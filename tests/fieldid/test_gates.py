"""Input gates: oversize, axis units, saturation, coverage, signal-to-noise, drift."""

from __future__ import annotations

import numpy as np
import pytest

from portwatch.domain.errors import InputError
from portwatch.domain.substances import Action, Verdict
from portwatch.fieldid import gates
from portwatch.fieldid.evidence import calibration_shift
from portwatch.fieldid.identify import identify, identify_file
from portwatch.fieldid.readers import read_spectrum, write_columns
from portwatch.fieldid.samples import Recipe, render
from portwatch.fieldid.spectrum import Spectrum

from .fieldid_helpers import DATA, simulate

PS = DATA / "PST02_iRPlus785_Z050_100_3200ms.txt"


def _ps() -> Spectrum:
    return read_spectrum(PS, 785)


def test_oversize_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    path.write_text("shift,intensity\n" + "".join(f"{i},{i % 7}\n" for i in range(5000)))
    monkeypatch.setattr(gates, "MAX_FILE_BYTES", 1000)
    result = identify_file(path)
    assert result.verdict is Verdict.INCONCLUSIVE and result.reason_code == "oversize"
    assert "byte limit" in result.reason and result.source == str(path)


def test_too_many_lines_in_a_small_file_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "many.csv"
    path.write_text("".join(f"{i},1\n" for i in range(3000)))
    monkeypatch.setattr(gates, "MAX_POINTS", 1000)
    result = identify_file(path)
    assert result.reason_code == "oversize" and "point limit" in result.reason


def test_too_many_points_in_memory_is_refused(monkeypatch):
    monkeypatch.setattr(gates, "MAX_POINTS", 100)
    x = np.linspace(200, 2000, 500)
    result = identify(Spectrum(x, np.sin(x / 30) + 2, 785, "many"))
    assert result.reason_code == "oversize" and result.action is Action.SEND_TO_LAB


def test_saturated_spectrum_is_inconclusive_not_fentanyl():
    ps = _ps()
    y = ps.intensity
    clipped = Spectrum(ps.shift_cm1, np.minimum(y, y.min() + 0.5 * (y.max() - y.min())), 785)
    result = identify(clipped)
    assert result.verdict is Verdict.INCONCLUSIVE and result.reason_code == "saturated"
    assert "saturated" in result.reason


def test_single_point_maximum_is_not_saturation():
    assert gates.check_saturation(_ps()) is None


def test_nm_axis_is_converted_with_the_laser_and_refused_without():
    ps = _ps()
    keep = ps.shift_cm1 > 0
    nm = 1e7 / (1e7 / 785 - ps.shift_cm1[keep])
    as_nm = Spectrum(nm, ps.intensity[keep], 785, "nm")
    converted = identify(as_nm)
    assert converted.verdict is identify(ps).verdict is Verdict.BENIGN
    unlabelled = identify(Spectrum(nm, ps.intensity[keep], None, "nm"))
    assert unlabelled.verdict is Verdict.INCONCLUSIVE and unlabelled.reason_code == "axis_units"


def test_a_cm1_axis_is_not_taken_for_nm():
    x = np.arange(150.0, 3300.0, 2.0)
    assert not gates.looks_like_nm(x, 785) and not gates.looks_like_nm(x, None)


def test_too_little_fingerprint_coverage():
    ps = _ps()
    keep = ps.shift_cm1 > 1300
    result = identify(Spectrum(ps.shift_cm1[keep], ps.intensity[keep], 785))
    assert result.reason_code == "coverage"


def test_noise_only_is_low_snr():
    rng = np.random.default_rng(1)
    x = np.arange(200.0, 2000.0, 2.0)
    result = identify(Spectrum(x, 1000 + rng.normal(0, 5, x.size), 785, "noise"))
    assert result.verdict is Verdict.INCONCLUSIVE and result.reason_code == "low_snr"


@pytest.mark.parametrize("step", [0.7, 1.4, 2.0, 2.6, 4.0])
def test_pure_noise_stays_under_the_band_filtered_snr_gate(step):
    # the gate's statistic is matched to a band's width: white noise smoothed by the
    # same kernel must still score well under MIN_SNR, at any pixel step
    worst = 0.0
    for seed in range(25):
        rng = np.random.default_rng([seed, int(step * 10)])
        x = np.arange(180.0, 2900.0, step)
        worst = max(worst, gates.snr(Spectrum(x, 1000 + rng.normal(0, 5, x.size), 785)))
    assert worst < 0.9 * gates.MIN_SNR


def test_a_band_spread_over_its_width_passes_the_gate_at_low_per_pixel_snr(table):
    # 785 nm, tallest band SNR 20 under a background 20x its height: shot noise leaves
    # 3.4-7 per pixel, yet the bands span several pixels, which identification uses;
    # the per-pixel statistic refused two of these six (and such heroin samples)
    recipe = Recipe((("cocaine_hcl", 1.0),), 785, snr=20.0, fluorescence=20.0)
    for seed in range(6):
        spectrum = render(recipe, table, np.random.default_rng(seed))
        assert gates.snr(spectrum) >= gates.MIN_SNR


@pytest.mark.parametrize("shift", [-4.0, -2.0, -1.0, 1.0, 2.0, 4.0])
def test_drift_within_stated_accuracy_never_changes_the_verdict(shift):
    ps = _ps()
    base = identify(ps)
    moved = identify(Spectrum(ps.shift_cm1 + shift, ps.intensity, 785))
    assert moved.verdict is base.verdict is Verdict.BENIGN
    assert abs(moved.shift_cm1 - shift) <= 1.0


def test_calibration_against_astm_e1840_measures_the_offset():
    ps = _ps()
    base = calibration_shift(ps)
    moved = calibration_shift(Spectrum(ps.shift_cm1 + 3.0, ps.intensity, 785))
    assert abs(base) < 2.0 and abs(moved - base - 3.0) < 0.5


def test_calibration_refuses_a_spectrum_that_is_not_polystyrene(table):
    with pytest.raises(InputError, match="ASTM E1840"):
        calibration_shift(simulate(table, [("lactose", 1.0)], laser=785))


def test_calibrated_identification_uses_the_offset(tmp_path):
    ps = _ps()
    moved = Spectrum(ps.shift_cm1 + 3.0, ps.intensity, 785, "moved")
    path = tmp_path / "moved.csv"
    write_columns(moved, path)
    result = identify_file(path, calibration_shift_cm1=calibration_shift(moved))
    assert result.verdict is Verdict.BENIGN and abs(result.shift_cm1 - 3.0) < 1.0


@pytest.mark.parametrize("shift", [-9.0, 8.0, 10.0])
def test_drift_beyond_the_narrow_search_is_found_by_the_wide_one(shift):
    # a Horiba polystyrene whose own axis is 5 cm-1 off, drifted 4 more, was slid only
    # 5 cm-1 and released as phenylalanine: the wide search aligns it with polystyrene
    ps = _ps()
    moved = identify(Spectrum(ps.shift_cm1 + shift, ps.intensity, 785))
    assert abs(moved.shift_cm1 - shift) <= 1.0
    # beyond the stated accuracy the release bound may send it to the lab (-9 cm-1: a
    # drug the corrected fit cannot exclude); never a drug named, always the axis note
    assert moved.verdict is Verdict.BENIGN or moved.reason_code == "cannot_exclude"
    assert [c.name for c in moved.packaging] == ["polystyrene"] and not moved.components
    assert "beyond the stated accuracy" in moved.reason


@pytest.mark.parametrize(("drug", "shift"), [("cocaine_hcl", 9.0), ("mdma_hcl", 9.0),
                                             ("fentanyl", -11.0), ("cocaine_hcl", 6.0)])
def test_no_drug_is_named_on_an_axis_moved_beyond_the_stated_accuracy(table, drug, shift):
    # found at the narrow search's edge (cocaine at 9 reads at 5) or by the wide search
    recipe = Recipe(((drug, 1.0),), 785, snr=150.0, fluorescence=0.5, shift_cm1=shift)
    result = identify(render(recipe, table, np.random.default_rng(3)))
    assert abs(result.shift_cm1) > 4.5
    assert result.verdict is Verdict.INCONCLUSIVE and result.reason_code == "axis_drift"
    assert "--calibration" in result.reason
