"""Durations (seconds): distributions that know their mean and variance, and their table
form, sampled by inverse CDF inside the compiled kernel.

The distributions are ``scipy.stats`` frozen distributions behind one small type,
``Duration``: ``mean_s``, ``variance_s2``, ``sample(rng, n)`` (from a
``numpy.random.Generator`` passed in) and ``quantile(u)``. Deterministic and empirical
durations have no frozen scipy form with exact resampling, so they are kept as two
small exact cases.

The kernel draws every duration as ``quantile(u)`` of a uniform ``u`` that belongs to one
conveyance and one purpose, so two policies run on the same seed see the same service
times for the same conveyance (common random numbers). In ``DistTable``, exponential and
deterministic durations are exact; empirical ones resample the observed values exactly;
lognormal and gamma quantiles are tabulated on a grid uniform in ``logit(u)`` over
[-16, 16] and interpolated linearly, which keeps the relative error of the mean below
2e-4 (a test checks it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit
from scipy import stats

from portwatch.domain.errors import InputError

KIND_EXPONENTIAL, KIND_DETERMINISTIC, KIND_TABLE, KIND_EMPIRICAL = 0, 1, 2, 3
GRID_N = 4097
GRID_T = 16.0


def _positive(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise InputError(f"{name}: must be > 0, got {value}")


@dataclass(frozen=True, eq=False)
class Duration:
    """A non-negative duration distribution in seconds.

    ``kind`` names it (``exponential``, ``lognormal``, ``gamma``, ``deterministic``,
    ``empirical``); ``frozen`` is the ``scipy.stats`` distribution where there is one.
    Build one with ``exponential``, ``lognormal``, ``gamma``, ``erlang``,
    ``deterministic`` or ``empirical``.
    """

    kind: str
    params: tuple[float, ...]
    frozen: Any = field(default=None, repr=False)

    @property
    def mean_s(self) -> float:
        if self.kind == "empirical":
            return float(np.mean(self.params))
        return self.params[0]  # the declared mean, exactly (scipy's agrees to rounding)

    @property
    def variance_s2(self) -> float:
        if self.kind == "deterministic":
            return 0.0
        if self.kind == "empirical":
            return float(np.var(self.params))
        return float(self.frozen.var())

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` durations drawn from ``rng``."""
        if self.kind == "deterministic":
            return np.full(n, self.params[0], dtype=np.float64)
        if self.kind == "empirical":
            return rng.choice(np.asarray(self.params, dtype=np.float64), n)
        return np.asarray(self.frozen.rvs(size=n, random_state=rng), dtype=np.float64)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """The ``u``-quantiles (s)."""
        if self.kind == "deterministic":
            return np.full(np.shape(u), self.params[0], dtype=np.float64)
        if self.kind == "empirical":
            ordered = np.sort(np.asarray(self.params, dtype=np.float64))
            i = np.minimum((np.asarray(u) * len(ordered)).astype(np.int64), len(ordered) - 1)
            return ordered[i]
        return np.asarray(self.frozen.ppf(u), dtype=np.float64)


def exponential(mean_s: float) -> Duration:
    """Exponential durations with mean ``mean_s`` (M in Kendall's notation)."""
    _positive("mean_s", mean_s)
    return Duration("exponential", (mean_s,), stats.expon(scale=mean_s))


def deterministic(value_s: float) -> Duration:
    """Every duration equals ``value_s`` seconds (D in Kendall's notation)."""
    if not (value_s >= 0 and math.isfinite(value_s)):
        raise InputError(f"value_s: must be >= 0, got {value_s}")
    return Duration("deterministic", (float(value_s),))


def lognormal(mean_s: float, cv: float) -> Duration:
    """Lognormal durations given by their mean (s) and coefficient of variation."""
    _positive("mean_s", mean_s)
    _positive("cv", cv)
    sigma2 = math.log1p(cv**2)
    mu = math.log(mean_s) - sigma2 / 2
    return Duration("lognormal", (mean_s, cv), stats.lognorm(s=math.sqrt(sigma2),
                                                              scale=math.exp(mu)))


def gamma(mean_s: float, cv: float) -> Duration:
    """Gamma durations given by mean (s) and coefficient of variation."""
    _positive("mean_s", mean_s)
    _positive("cv", cv)
    shape = 1.0 / cv**2
    return Duration("gamma", (mean_s, cv), stats.gamma(shape, scale=mean_s / shape))


def erlang(k: int, mean_s: float) -> Duration:
    """The Erlang-``k`` distribution with mean ``mean_s``: a gamma with cv ``1/sqrt(k)``."""
    if k < 1:
        raise InputError(f"k: must be >= 1, got {k}")
    return gamma(mean_s, 1.0 / math.sqrt(k))


def empirical(values_s: tuple[float, ...] | list[float]) -> Duration:
    """Resamples observed durations (seconds) with replacement."""
    values = tuple(float(v) for v in values_s)
    if not values:
        raise InputError("values_s: must hold at least one duration")
    bad = [v for v in values if not (v >= 0 and math.isfinite(v))]
    if bad:
        raise InputError(f"values_s: durations must be >= 0, got {bad[0]}")
    return Duration("empirical", values)


# ---- the kernel's table form -----------------------------------------------------------
@dataclass(frozen=True, eq=False)
class DistTable:
    """Distributions ``0..k-1`` as arrays the kernel reads."""

    kind: np.ndarray  # int64 [k]
    param: np.ndarray  # float64 [k]: the mean (exponential) or the value (deterministic)
    table: np.ndarray  # float64 [k, GRID_N]: tabulated quantiles (KIND_TABLE rows)
    offset: np.ndarray  # int64 [k]: start of an empirical row's sorted values in ``values``
    length: np.ndarray  # int64 [k]
    values: np.ndarray  # float64 [m]


def encode(dists: list[Duration]) -> DistTable:
    """Encode ``dists`` in order; row ``j`` of the table is ``dists[j]``."""
    k = len(dists)
    kind = np.zeros(k, dtype=np.int64)
    param = np.zeros(k)
    table = np.zeros((k, GRID_N))
    offset = np.zeros(k, dtype=np.int64)
    length = np.zeros(k, dtype=np.int64)
    values: list[float] = []
    t = np.linspace(-GRID_T, GRID_T, GRID_N)
    u = 1.0 / (1.0 + np.exp(-t))
    for j, d in enumerate(dists):
        if d.kind == "exponential":
            kind[j], param[j] = KIND_EXPONENTIAL, d.params[0]
        elif d.kind == "deterministic":
            kind[j], param[j] = KIND_DETERMINISTIC, d.params[0]
        elif d.kind == "empirical":
            kind[j] = KIND_EMPIRICAL
            offset[j], length[j] = len(values), len(d.params)
            values.extend(sorted(d.params))
        else:
            kind[j] = KIND_TABLE
            table[j] = d.quantile(u)
    return DistTable(kind, param, table, offset, length, np.asarray(values, dtype=np.float64))


@njit(cache=True, nogil=True, inline="always")
def draw(j: int, u: float, kind: np.ndarray, param: np.ndarray, table: np.ndarray,
         offset: np.ndarray, length: np.ndarray, values: np.ndarray) -> float:
    """The ``u``-quantile (seconds) of distribution ``j``."""
    k = kind[j]
    if k == KIND_EXPONENTIAL:
        return -param[j] * np.log1p(-u)
    if k == KIND_DETERMINISTIC:
        return param[j]
    if k == KIND_EMPIRICAL:
        i = int(u * length[j])
        if i >= length[j]:
            i = length[j] - 1
        return values[offset[j] + i]
    if u <= 0.0:
        return table[j, 0]
    if u >= 1.0:
        return table[j, GRID_N - 1]
    t = np.log(u / (1.0 - u))
    if t <= -GRID_T:
        return table[j, 0]
    if t >= GRID_T:
        return table[j, GRID_N - 1]
    x = (t + GRID_T) * ((GRID_N - 1) / (2.0 * GRID_T))
    i = int(x)
    f = x - i
    return table[j, i] * (1.0 - f) + table[j, i + 1] * f


def draw_many(dt: DistTable, j: int, u: np.ndarray) -> np.ndarray:
    """Vectorised ``draw`` for tests and the reference models."""
    return _draw_many(j, np.asarray(u, dtype=np.float64), dt.kind, dt.param, dt.table,
                      dt.offset, dt.length, dt.values)


@njit(cache=True, nogil=True)
def _draw_many(j, u, kind, param, table, offset, length, values):
    out = np.empty(u.shape[0])
    for i in range(u.shape[0]):
        out[i] = draw(j, u[i], kind, param, table, offset, length, values)
    return out


__all__ = [
    "DistTable",
    "Duration",
    "deterministic",
    "draw",
    "draw_many",
    "empirical",
    "encode",
    "erlang",
    "exponential",
    "gamma",
    "lognormal",
]
