"""Service-time distributions know their mean and variance; the kernel's sampler agrees."""

from __future__ import annotations

import numpy as np
import pytest

from portwatch.domain.errors import InputError
from portwatch.twin.process.durations import (
    deterministic,
    draw_many,
    empirical,
    encode,
    erlang,
    exponential,
    gamma,
    lognormal,
)

DISTS = [
    exponential(60.0),
    deterministic(45.0),
    lognormal(50.0, 0.5),
    gamma(480.0, 0.3),
    erlang(4, 120.0),
    empirical((10.0, 20.0, 20.0, 70.0)),
]


@pytest.mark.parametrize("dist", DISTS, ids=lambda d: d.kind)
def test_samples_match_declared_mean_and_variance(dist):
    x = dist.sample(np.random.default_rng(3), 400_000)
    assert x.min() >= 0
    assert x.mean() == pytest.approx(dist.mean_s, rel=0.01)
    assert x.var() == pytest.approx(dist.variance_s2, rel=0.03, abs=1e-9)


@pytest.mark.parametrize("dist", DISTS, ids=lambda d: d.kind)
def test_kernel_inverse_cdf_sampler_matches_the_distribution(dist):
    # Stratified uniforms integrate the quantile function: the mean must come out exact.
    u = (np.arange(1_000_000) + 0.5) / 1_000_000
    x = draw_many(encode([dist]), 0, u)
    assert x.mean() == pytest.approx(dist.mean_s, rel=2e-4)
    assert x.var() == pytest.approx(dist.variance_s2, rel=5e-3, abs=1e-6)
    assert np.all(np.diff(x) >= -1e-9)  # a quantile function never decreases


def test_erlang_is_a_gamma_with_cv_one_over_root_k():
    assert erlang(4, 100.0).variance_s2 == pytest.approx(100.0**2 / 4)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: exponential(-3.0), "mean_s: must be > 0, got -3.0"),
        (lambda: deterministic(-1.0), "value_s: must be >= 0, got -1.0"),
        (lambda: lognormal(10.0, 0.0), "cv: must be > 0, got 0.0"),
        (lambda: empirical(()), "values_s: must hold at least one duration"),
        (lambda: erlang(0, 5.0), "k: must be >= 1, got 0"),
    ],
)
def test_bad_parameters_say_what_was_wrong(make, message):
    with pytest.raises(InputError, match=message.replace(".", r"\.")):
        make()
