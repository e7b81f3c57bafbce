"""An inconclusive answer under heavy fluorescence says what would settle it.

Above about ten times the tallest band, the background's shot noise, not the sample,
limits the answer: the reason asks for a longer exposure, and at 785 nm for the 1064 nm
laser, under which organic fluorescence is far weaker.
"""

from __future__ import annotations

import numpy as np
import pytest

from portwatch.domain.substances import Verdict
from portwatch.fieldid.gates import FLUORESCENCE_ADVICE_RATIO, background_ratio
from portwatch.fieldid.identify import identify
from portwatch.fieldid.samples import Recipe, render


def _sample(table, contents, laser, snr, fluorescence, seed, unknown=()):
    recipe = Recipe(contents, laser, None, 0.0, snr, fluorescence, 0.0, unknown_peaks=unknown)
    return render(recipe, table, np.random.default_rng(seed))


@pytest.mark.parametrize(("fluorescence", "low", "high"), [(0.5, 0.0, 3.0), (30.0, 12.0, 80.0)])
def test_background_ratio_reads_the_background_over_the_tallest_band(
    table, fluorescence, low, high
):
    for seed in range(3):
        spectrum = _sample(table, (("cocaine_hcl", 1.0),), 785, 150.0, fluorescence, seed)
        assert low <= background_ratio(spectrum) <= high


def test_a_fluorescent_inconclusive_asks_for_a_longer_exposure_or_1064_nm(table):
    # heroin at SNR 20 under a background 40 times its tallest band: not confirmed
    spectrum = _sample(table, (("heroin_hcl", 1.0),), 785, 20.0, 40.0, 7)
    result = identify(spectrum, laser_nm=785)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert "longer exposure" in result.reason and "1064 nm laser" in result.reason
    assert "fluorescence background is about" in result.reason


def test_no_advice_without_fluorescence(table):
    unknown = ((520.0, 1.0), (905.0, 0.6), (1377.0, 0.8), (1544.0, 0.5))
    spectrum = _sample(table, (("unknown", 1.0),), 785, 150.0, 0.5, 3, unknown)
    result = identify(spectrum, laser_nm=785)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert "longer exposure" not in result.reason


def test_at_1064_nm_only_a_longer_exposure_is_advised(table):
    unknown = ((520.0, 1.0), (905.0, 0.6), (1377.0, 0.8), (1544.0, 0.5))
    spectrum = _sample(table, (("unknown", 1.0),), 1064, 50.0, 40.0, 3, unknown)
    assert background_ratio(spectrum) >= FLUORESCENCE_ADVICE_RATIO
    result = identify(spectrum, laser_nm=1064)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert "longer exposure" in result.reason and "1064 nm laser" not in result.reason
