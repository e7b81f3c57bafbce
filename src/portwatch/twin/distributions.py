"""Service-time distributions that know their own mean and variance (all in seconds).

Each distribution draws from a ``numpy.random.Generator`` passed in, so a run is
reproducible from its seed, and exposes ``mean_s`` and ``variance_s2`` so tests can
check samples (and queueing approximations such as Allen-Cunneen) against them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from scipy import stats

from portwatch.domain.errors import InputError


@runtime_checkable
class ServiceDistribution(Protocol):
    """A non-negative duration distribution, in seconds."""

    @property
    def mean_s(self) -> float: ...

    @property
    def variance_s2(self) -> float: ...

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray: ...

    def quantile(self, u: np.ndarray) -> np.ndarray: ...


def _positive(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise InputError(f"{name}: must be > 0, got {value}")


@dataclass(frozen=True)
class Exponential:
    """Exponential durations with mean ``mean_s`` (M in Kendall's notation)."""

    mean: float

    def __post_init__(self) -> None:
        _positive("mean_s", self.mean)

    @property
    def mean_s(self) -> float:
        return self.mean

    @property
    def variance_s2(self) -> float:
        return self.mean**2

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.exponential(self.mean, n)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return -self.mean * np.log1p(-np.asarray(u, dtype=np.float64))


@dataclass(frozen=True)
class Deterministic:
    """Every duration equals ``value`` seconds (D in Kendall's notation)."""

    value: float

    def __post_init__(self) -> None:
        if not (self.value >= 0 and math.isfinite(self.value)):
            raise InputError(f"value_s: must be >= 0, got {self.value}")

    @property
    def mean_s(self) -> float:
        return self.value

    @property
    def variance_s2(self) -> float:
        return 0.0

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, self.value, dtype=np.float64)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), self.value, dtype=np.float64)


@dataclass(frozen=True)
class _MeanCV:
    """A duration distribution given by its mean (s) and coefficient of variation."""

    mean: float
    cv: float

    def __post_init__(self) -> None:
        _positive("mean_s", self.mean)
        _positive("cv", self.cv)

    @property
    def mean_s(self) -> float:
        return self.mean

    @property
    def variance_s2(self) -> float:
        return (self.cv * self.mean) ** 2


@dataclass(frozen=True)
class LogNormal(_MeanCV):
    """Lognormal durations given by their mean (s) and coefficient of variation."""

    def _mu_sigma(self) -> tuple[float, float]:
        sigma2 = math.log1p(self.cv**2)
        return math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        mu, sigma = self._mu_sigma()
        return rng.lognormal(mu, sigma, n)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        mu, sigma = self._mu_sigma()
        return np.asarray(stats.lognorm.ppf(u, s=sigma, scale=math.exp(mu)))


@dataclass(frozen=True)
class Gamma(_MeanCV):
    """Gamma durations given by mean (s) and coefficient of variation.

    An Erlang-k distribution is ``Gamma(mean, 1/sqrt(k))``.
    """

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        shape = 1.0 / self.cv**2
        return rng.gamma(shape, self.mean / shape, n)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        shape = 1.0 / self.cv**2
        return np.asarray(stats.gamma.ppf(u, shape, scale=self.mean / shape))


def erlang(k: int, mean_s: float) -> Gamma:
    """The Erlang-``k`` distribution with mean ``mean_s`` seconds."""
    if k < 1:
        raise InputError(f"k: must be >= 1, got {k}")
    return Gamma(mean_s, 1.0 / math.sqrt(k))


@dataclass(frozen=True)
class Empirical:
    """Resamples observed durations (seconds) with replacement."""

    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.values) == 0:
            raise InputError("values_s: must hold at least one duration")
        bad = [v for v in self.values if not (v >= 0 and math.isfinite(v))]
        if bad:
            raise InputError(f"values_s: durations must be >= 0, got {bad[0]}")

    @property
    def mean_s(self) -> float:
        return float(np.mean(self.values))

    @property
    def variance_s2(self) -> float:
        return float(np.var(self.values))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(np.asarray(self.values, dtype=np.float64), n)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        ordered = np.sort(np.asarray(self.values, dtype=np.float64))
        i = np.minimum((np.asarray(u) * len(ordered)).astype(np.int64), len(ordered) - 1)
        return ordered[i]


__all__ = [
    "Deterministic",
    "Empirical",
    "Exponential",
    "Gamma",
    "LogNormal",
    "ServiceDistribution",
    "erlang",
]
