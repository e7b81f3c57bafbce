"""Several acquisitions of one sample, co-added; and the engine's re-measurement request."""

from __future__ import annotations

import json

import numpy as np
import pytest

from portwatch.cli.main import run
from portwatch.domain.errors import InputError
from portwatch.fieldid.acquisitions import coadd, identify_acquisitions
from portwatch.fieldid.gates import noise_sigma
from portwatch.fieldid.readers import write_columns
from portwatch.fieldid.samples import Recipe, acquire, expected_counts, render
from portwatch.fieldid.spectrum import Spectrum

from .fieldid_helpers import simulate


def _acquisitions(table, recipe: Recipe, n: int, seed: int = 5) -> list[Spectrum]:
    """``n`` acquisitions of one sample: one truth, independent noise."""
    axis, counts = expected_counts(recipe, table, np.random.default_rng(seed))
    return [
        acquire(axis, counts, recipe, np.random.default_rng([seed, k]), f"a{k}.csv")
        for k in range(n)
    ]


def _write(tmp_path, spectrum: Spectrum, name: str):
    path = tmp_path / name
    write_columns(spectrum, path)
    return path


# --- bad input first -----------------------------------------------------------------


def test_acquisitions_on_different_axes_are_refused_on_one_line(table):
    a = simulate(table, [("lactose", 1.0)], seed=1)
    b = simulate(table, [("lactose", 1.0)], seed=2)  # another pixel axis
    with pytest.raises(InputError) as err:
        coadd([a, b])
    message = str(err.value)
    assert "\n" not in message and "axis" in message and b.source in message


def test_acquisitions_with_different_lasers_are_refused(table):
    a = simulate(table, [("lactose", 1.0)], laser=785, seed=1)
    b = Spectrum(a.shift_cm1, a.intensity, 1064, "b.csv")
    with pytest.raises(InputError) as err:
        coadd([a, b])
    assert "laser" in str(err.value) and "b.csv" in str(err.value)
    assert "\n" not in str(err.value)


def test_no_acquisition_is_refused():
    with pytest.raises(InputError, match="at least one"):
        coadd([])


def test_a_saturated_acquisition_makes_the_sample_inconclusive(tmp_path, table):
    recipe = Recipe((("lactose", 1.0),), 1064, snr=150.0, fluorescence=0.2)
    a, b = _acquisitions(table, recipe, 2)
    y = a.intensity
    clipped = Spectrum(a.shift_cm1, np.minimum(y, np.quantile(y, 0.9)), a.laser_nm, "a0.csv")
    # co-added with an unclipped acquisition, the flat top is gone: checked per acquisition
    assert _write(tmp_path, clipped, "a0.csv") and _write(tmp_path, b, "a1.csv")
    result = identify_acquisitions([tmp_path / "a0.csv", tmp_path / "a1.csv"])
    assert result.reason_code == "saturated" and "a0.csv" in result.reason


def test_cli_same_sample_refuses_different_axes_with_one_line(tmp_path, table, capsys):
    a = _write(tmp_path, simulate(table, [("lactose", 1.0)], seed=1), "a.csv")
    b = _write(tmp_path, simulate(table, [("lactose", 1.0)], seed=2), "b.csv")
    assert run(["identify", str(a), str(b), "--same-sample"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "b.csv" in err


def test_cli_same_sample_refuses_different_lasers(tmp_path, table, capsys):
    a = simulate(table, [("lactose", 1.0)], laser=785, seed=1)
    pa = _write(tmp_path, a, "a.csv")
    pb = _write(tmp_path, Spectrum(a.shift_cm1, a.intensity, 1064, "b"), "b.csv")
    assert run(["identify", str(pa), str(pb), "--same-sample"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "laser" in err and "\n" not in err


def test_cli_same_sample_unreadable_acquisition_is_one_line(tmp_path, table, capsys):
    a = _write(tmp_path, simulate(table, [("lactose", 1.0)], seed=1), "a.csv")
    bad = tmp_path / "b.csv"
    bad.write_text("shift,intensity\n100,1\n200,oops\n")
    assert run(["identify", str(a), str(bad), "--same-sample"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "b.csv" in err and "\n" not in err


# --- what co-adding does ---------------------------------------------------------------


def test_the_first_acquisition_is_the_single_rendering(table):
    recipe = Recipe((("cocaine_hcl", 1.0),), 785, "pet", 0.4, 20.0, 8.0, 1.0)
    single = render(recipe, table, np.random.default_rng(11))
    axis, counts = expected_counts(recipe, table, rng := np.random.default_rng(11))
    again = acquire(axis, counts, recipe, rng)
    assert np.array_equal(single.intensity, again.intensity)


def test_coadding_n_acquisitions_lowers_the_noise_by_sqrt_n(table):
    recipe = Recipe((("cocaine_hcl", 1.0),), 785, None, 0.0, 20.0, 10.0, 0.0)
    shots = _acquisitions(table, recipe, 16)
    one = np.median([noise_sigma(s.intensity) for s in shots])
    many = noise_sigma(coadd(shots).intensity)
    assert 3.2 < one / many < 4.8  # sqrt(16) = 4
    assert coadd(shots).metadata["acquisitions"] == "16"


def test_coadding_a_coadded_sample_counts_every_acquisition(table):
    recipe = Recipe((("lactose", 1.0),), 1064, snr=50.0)
    shots = _acquisitions(table, recipe, 5)
    both = coadd([coadd(shots[:2]), coadd(shots[2:])])
    assert both.metadata["acquisitions"] == "5"
    assert np.allclose(both.intensity, coadd(shots).intensity)


# --- the re-measurement request ------------------------------------------------------


def test_a_clear_result_asks_for_nothing(table):
    shot = simulate(table, [("cocaine_hcl", 1.0)], laser=1064, snr=150.0)
    result = identify_acquisitions_of([shot])
    assert result.verdict.value == "controlled" and result.remeasure is None


def test_too_weak_a_signal_asks_for_more_and_following_it_passes_the_gate(table):
    # heroin at 785 nm under a background 120 times its tallest band: refused as low_snr
    recipe = Recipe((("heroin_hcl", 1.0),), 785, snr=20.0, fluorescence=120.0)
    shots = _acquisitions(table, recipe, 64, seed=1)
    result, n = identify_acquisitions_of(shots[:1]), 1
    assert result.reason_code == "low_snr" and result.remeasure is not None
    assert str(result.remeasure.acquisitions_needed) in result.reason
    while result.remeasure is not None and result.reason_code == "low_snr":
        assert result.remeasure.acquisitions_now == n
        assert result.remeasure.acquisitions_needed > n
        n = result.remeasure.acquisitions_needed
        assert n <= 64
        result = identify_acquisitions_of(shots[:n])
    assert result.reason_code != "low_snr" and result.acquisitions == n


def test_the_request_is_in_the_json(tmp_path, table, capsys):
    recipe = Recipe((("heroin_hcl", 1.0),), 785, snr=20.0, fluorescence=120.0)
    shots = _acquisitions(table, recipe, 2)
    paths = [_write(tmp_path, s, f"s{i}.csv") for i, s in enumerate(shots)]
    assert run(["identify", *map(str, paths), "--same-sample", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["acquisitions"] == 2 and doc["files"] == [str(p) for p in paths]
    assert doc["reason_code"] == "low_snr" and doc["remeasure"]["acquisitions_needed"] > 2


def identify_acquisitions_of(shots: list[Spectrum]):
    """Identify co-added in-memory acquisitions (as ``identify_acquisitions`` does files)."""
    from portwatch.fieldid.acquisitions import identify_coadded

    return identify_coadded(shots)


# --- the arithmetic of the request -------------------------------------------------------


def test_request_factors_follow_the_shot_noise_limit():
    from portwatch.fieldid.remeasure import _hqi_factor, _z_factor

    assert _z_factor(2.0, 4.0) == pytest.approx(4.0)  # z grows as sqrt(n)
    assert _z_factor(5.0, 4.0) == 1.0
    assert _z_factor(0.0, 4.0) == float("inf")
    # HQI = r / (1 + r): from r = 1 (HQI 0.5) to r = 3 (HQI 0.75) is 3 times the signal
    assert _hqi_factor(0.5, 0.75) == pytest.approx(3.0)


def test_a_matched_filter_far_under_its_height_is_not_asked_for():
    from portwatch.fieldid.evidence import MatchedBands
    from portwatch.fieldid.identify import coadd_factor

    assert coadd_factor(MatchedBands(2.0, 1.0, True)) == pytest.approx(4.0)
    assert coadd_factor(MatchedBands(8.0, 0.1, True)) == float("inf")  # a band not there
    assert coadd_factor(MatchedBands(6.0, 1.0, False)) == float("inf")  # a neighbour's flank
    assert coadd_factor(MatchedBands(-1.0, 1.0, True)) == float("inf")


# --- the protocol on simulated samples ------------------------------------------------


def _case(drug: str, fluorescence: float, shift_cm1: float):
    from portwatch.fieldid.cases import Case

    recipe = Recipe(((drug, 1.0),), 785, None, 0.0, 20.0, fluorescence, shift_cm1)
    return Case(recipe, "controlled", "pure_drug", drug, 1.0)


def _first(case, key, table):
    from portwatch.fieldid.identify import analyse, decide, load_calibration
    from portwatch.fieldid.library import default_library
    from portwatch.fieldid.search import prepare

    cal = load_calibration()
    prepared = prepare(default_library(), 785)
    spectrum = render(case.recipe, table, np.random.default_rng(list(key)))
    return decide(analyse(spectrum, prepared=prepared), cal.thresholds[785], cal), prepared, cal


def test_following_the_request_names_a_drug_at_the_noise(table):
    """Methamphetamine at SNR 20 under a background 13x its tallest band (a development
    seed's miss): possible, with a request; followed, named, with the same thresholds."""
    from portwatch.fieldid.protocol import follow

    case = _case("methamphetamine_hcl", 13.18, 0.47)
    key = (3001, 785, 1326)
    first, prepared, cal = _first(case, key, table)
    assert first.reason_code == "possible" and first.remeasure is not None
    got = follow(case, key, first, table, prepared, cal, budget=16)
    assert got.identification.verdict.value == "controlled"
    assert got.identification.components[0].name == "methamphetamine_hcl"
    assert 2 <= got.acquisitions <= 16 and got.identification.acquisitions == got.acquisitions


def test_the_protocol_keeps_an_answer_that_asks_nothing(table):
    from portwatch.fieldid.protocol import follow

    case = _case("cocaine_hcl", 1.0, 0.0)
    first, prepared, cal = _first(case, (1, 785, 0), table)
    assert first.remeasure is None
    got = follow(case, (1, 785, 0), first, table, prepared, cal)
    assert got.acquisitions == 1 and got.identification is first


def test_the_budget_bounds_the_acquisitions(table):
    from portwatch.fieldid.protocol import follow

    case = _case("heroin_hcl", 120.0, 0.0)
    first, prepared, cal = _first(case, (2, 785, 0), table)
    assert first.remeasure is not None
    assert follow(case, (2, 785, 0), first, table, prepared, cal, budget=3).acquisitions <= 3


def test_a_drug_one_acquisition_could_not_exclude_stays_bounded_after_co_adding():
    """The noise-limited release bound counts one acquisition's noise: co-adding lowers
    the noise of the share, but a drug is then excluded only by its whole upper limit."""
    from portwatch.domain.substances import SubstanceClass
    from portwatch.fieldid.identify import noise_limited
    from portwatch.fieldid.mixtures import ForcedBound

    # four co-added acquisitions: noise of the share 0.02, so 0.04 for one of them
    b = ForcedBound(0, "fentanyl", SubstanceClass.CONTROLLED, 0.0, 0.02, 0.2, noise_sd=0.02)
    assert not noise_limited(b, 0.05)  # 1.645 x 0.02 = 0.033: under the limit
    assert noise_limited(b, 0.05, acquisitions=4)  # 1.645 x 0.04 = 0.066: one could not
