"""Each preprocessing stage on its own, and the default pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from portwatch.domain.errors import InputError, SpectrumFormatError
from portwatch.fieldid.preprocess import (
    Crop,
    Despike,
    Normalize,
    Pipeline,
    RemoveBaseline,
    Resample,
    default_pipeline,
)

X = np.arange(200.0, 2000.0, 2.0)


def _peaks(x=X):
    return 100 * np.exp(-0.5 * ((x - 1001) / 4.0) ** 2) + 40 * np.exp(-0.5 * ((x - 1450) / 5) ** 2)


def test_despike_removes_cosmic_rays_and_keeps_sharp_bands():
    rng = np.random.default_rng(3)
    y = _peaks() + rng.normal(0, 1.0, X.size)
    spiked = y.copy()
    spiked[100] += 300.0  # one-pixel cosmic ray
    spiked[600:602] += 200.0  # two-pixel cosmic ray
    mask = Despike().spikes(spiked)
    assert mask[100] and mask[600] and mask[601]
    band = np.abs(X - 1001) < 12
    assert not mask[band].any()
    _, cleaned = Despike().apply(X, spiked)
    assert abs(cleaned[100] - y[100]) < 5 and abs(cleaned[600] - y[600]) < 5
    np.testing.assert_allclose(cleaned[band], spiked[band])


def test_despike_flat_input_and_bad_parameters():
    assert not Despike().spikes(np.ones(50)).any()
    with pytest.raises(InputError, match="despike.threshold"):
        Despike(threshold=0)


@pytest.mark.parametrize("method", ["arpls", "asls"])
def test_baseline_removes_fluorescence_under_bands(method):
    background = 500 + 0.3 * (X - 200) + 200 * np.exp(-0.5 * ((X - 1500) / 600) ** 2)
    _, corrected = RemoveBaseline(method, 1e5).apply(X, _peaks() + background)
    away = np.abs(X - 1001) > 40
    away &= (np.abs(X - 1450) > 40) & (X > 400) & (X < 1800)  # edges are less certain
    assert np.abs(corrected[away]).max() < 20  # from 600-1200 counts of background
    assert corrected[np.argmin(np.abs(X - 1001))] > 85


def test_crop_resample_normalize():
    x, y = Crop(400, 1800).apply(X, _peaks())
    assert x.min() >= 400 and x.max() <= 1800
    grid, yy = Resample(400, 1800, 1.0).apply(x, y)
    assert grid.size == 1401 and grid[1] - grid[0] == 1.0
    _, area = Normalize("area").apply(grid, yy)
    assert np.isclose(np.abs(area).sum(), 1.0)
    _, top = Normalize("max").apply(grid, yy)
    assert np.isclose(top.max(), 1.0)
    _, l2 = Normalize("l2").apply(grid, yy)
    assert np.isclose(np.linalg.norm(l2), 1.0)


def test_stage_errors():
    with pytest.raises(SpectrumFormatError, match="too little"):
        Crop(3000, 3500).apply(X, _peaks())
    with pytest.raises(SpectrumFormatError, match="flat"):
        Normalize().apply(X, np.zeros(X.size))
    with pytest.raises(InputError, match="baseline.method"):
        RemoveBaseline("rubberband")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="no Resample"):
        Pipeline((Crop(),)).axis()


def test_default_pipeline_gives_common_axis_unit_area():
    from portwatch.fieldid.spectrum import Spectrum

    x, y = default_pipeline().apply(Spectrum(X, _peaks() + 300, 1064, "t"))
    np.testing.assert_array_equal(x, default_pipeline().axis())
    assert np.isclose(np.abs(y).sum(), 1.0)
    assert abs(x[np.argmax(y)] - 1001) <= 2
