"""Preprocessing stages that turn a raw spectrum into one the search can compare.

Each stage is a frozen dataclass with ``apply(shift_cm1, intensity) -> (shift_cm1,
intensity)``; a ``Pipeline`` runs them in order. The default pipeline removes cosmic-ray
spikes, crops to the fingerprint region, resamples onto a common axis, removes the
fluorescence baseline and normalises to unit area, so that non-negative least squares
coefficients of references scale like mass fractions.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
from pybaselines import Baseline
from pybaselines.utils import ParameterWarning

from portwatch.domain.errors import InputError, SpectrumFormatError
from portwatch.fieldid.spectrum import Spectrum

Array = np.ndarray

#: Fingerprint region both lasers of the supported handhelds cover (cm-1). The C-H
#: stretches above 2800 cm-1 are left out: 1064 nm InGaAs instruments lose them.
FINGERPRINT_CM1 = (350.0, 1800.0)
GRID_STEP_CM1 = 2.0


class Stage(Protocol):
    """One preprocessing step."""

    def apply(self, shift_cm1: Array, intensity: Array) -> tuple[Array, Array]: ...


@dataclass(frozen=True)
class Despike:
    """Cosmic-ray spike removal after Whitaker & Hayes (2018), with a sharpness check.

    Candidates are the points next to a first difference whose modified z-score
    (0.6745 (d - median) / MAD) exceeds ``threshold`` (Whitaker, D. A. & Hayes, K.,
    Chemometr. Intell. Lab. Syst. 179 (2018) 82-84). A candidate that is a local
    maximum is a spike only if it stands out from its two neighbours by more than
    ``sharpness`` of its height above the local median: a cosmic ray is one or two
    pixels wide, while a strong Raman band sampled every 2-3 cm-1 still spans several
    pixels and would otherwise be erased. Spike points (and flagged neighbours) are
    replaced by the mean of the clean points within ``window`` points.
    """

    threshold: float = 6.0
    window: int = 3
    sharpness: float = 0.4

    def __post_init__(self) -> None:
        if self.threshold <= 0:
            raise InputError(f"despike.threshold: must be > 0, got {self.threshold}")
        if self.window < 1:
            raise InputError(f"despike.window: must be >= 1, got {self.window}")
        if not 0 < self.sharpness < 1:
            raise InputError(f"despike.sharpness: must be in (0, 1), got {self.sharpness}")

    def spikes(self, intensity: Array) -> Array:
        """Boolean mask of the points judged to be spikes."""
        y = np.asarray(intensity, dtype=float)
        n = y.size
        diff = np.diff(y)
        median = np.median(diff)
        mad = np.median(np.abs(diff - median))
        mask = np.zeros(n, dtype=bool)
        if mad == 0:
            return mask
        z = 0.6745 * (diff - median) / mad
        candidate = np.zeros(n, dtype=bool)
        flagged = np.flatnonzero(np.abs(z) > self.threshold)
        candidate[flagged] = True
        candidate[flagged + 1] = True
        half = 2 * self.window + 2
        for i in np.flatnonzero(candidate):
            if i == 0 or i == n - 1 or y[i] < y[i - 1] or y[i] < y[i + 1]:
                continue
            lo, hi = max(0, i - half), min(n, i + half + 1)
            height = y[i] - np.median(y[lo:hi])
            if height <= 0:
                continue
            drop = y[i] - 0.5 * (y[i - 1] + y[i + 1])
            if drop > self.sharpness * height:
                mask[i] = True
                # a two-pixel spike: the higher neighbour is part of it when also flagged
                for j in (i - 1, i + 1):
                    if candidate[j] and y[j] - np.median(y[lo:hi]) > 0.5 * height:
                        mask[j] = True
        return mask

    def apply(self, shift_cm1: Array, intensity: Array) -> tuple[Array, Array]:
        y = np.asarray(intensity, dtype=float).copy()
        mask = self.spikes(y)
        if not mask.any():
            return shift_cm1, y
        clean = ~mask
        for i in np.flatnonzero(mask):
            lo, hi = max(0, i - self.window), min(y.size, i + self.window + 1)
            neighbours = clean[lo:hi]
            if neighbours.any():
                y[i] = y[lo:hi][neighbours].mean()
        return shift_cm1, y


@dataclass(frozen=True)
class Crop:
    """Keep the points with ``low_cm1 <= shift <= high_cm1``."""

    low_cm1: float = FINGERPRINT_CM1[0]
    high_cm1: float = FINGERPRINT_CM1[1]

    def __post_init__(self) -> None:
        if self.high_cm1 <= self.low_cm1:
            raise InputError(
                f"crop: high_cm1 ({self.high_cm1}) must be above low_cm1 ({self.low_cm1})"
            )

    def apply(self, shift_cm1: Array, intensity: Array) -> tuple[Array, Array]:
        keep = (shift_cm1 >= self.low_cm1) & (shift_cm1 <= self.high_cm1)
        if keep.sum() < 16:
            raise SpectrumFormatError(
                f"spectrum covers {shift_cm1.min():.0f}-{shift_cm1.max():.0f} cm-1, too little "
                f"of the {self.low_cm1:.0f}-{self.high_cm1:.0f} cm-1 region the search needs"
            )
        return shift_cm1[keep], intensity[keep]


@dataclass(frozen=True)
class Resample:
    """Linear interpolation onto the common axis ``low_cm1 .. high_cm1`` every ``step_cm1``.

    Points of the common axis outside the measured range are held at the nearest
    measured value, so a spectrum that stops 10 cm-1 short still compares.
    """

    low_cm1: float = FINGERPRINT_CM1[0]
    high_cm1: float = FINGERPRINT_CM1[1]
    step_cm1: float = GRID_STEP_CM1

    def __post_init__(self) -> None:
        if self.step_cm1 <= 0:
            raise InputError(f"resample.step_cm1: must be > 0, got {self.step_cm1}")

    def axis(self) -> Array:
        """The common Raman shift axis (cm-1)."""
        n = int(round((self.high_cm1 - self.low_cm1) / self.step_cm1)) + 1
        return self.low_cm1 + self.step_cm1 * np.arange(n)

    def apply(self, shift_cm1: Array, intensity: Array) -> tuple[Array, Array]:
        grid = self.axis()
        return grid, np.interp(grid, shift_cm1, intensity)


@dataclass(frozen=True)
class RemoveBaseline:
    """Fluorescence baseline removal by penalised least squares (pybaselines).

    ``method`` is ``"arpls"`` (asymmetrically reweighted, Baek et al., Analyst 140
    (2015) 250) or ``"asls"`` (asymmetric least squares, Eilers & Boelens 2005);
    ``lam`` is the smoothness penalty and ``p`` the asymmetry (asls only). Both are
    exactly equivariant to adding a straight line, so a linear background never
    changes the result.
    """

    method: Literal["arpls", "asls"] = "arpls"
    lam: float = 1e5
    p: float = 0.01

    def __post_init__(self) -> None:
        if self.method not in ("arpls", "asls"):
            raise InputError(f"baseline.method: must be arpls or asls, got {self.method!r}")
        if self.lam <= 0:
            raise InputError(f"baseline.lam: must be > 0, got {self.lam}")
        if not 0 < self.p < 1:
            raise InputError(f"baseline.p: must be in (0, 1), got {self.p}")

    def baseline(self, shift_cm1: Array, intensity: Array) -> Array:
        """The estimated background under ``intensity``."""
        fitter = Baseline(x_data=shift_cm1)
        with warnings.catch_warnings():
            # arPLS notes when a band-free reference leaves few points under the baseline;
            # the result is still the baseline, and the note would clutter every report
            warnings.simplefilter("ignore", ParameterWarning)
            if self.method == "arpls":
                base, _ = fitter.arpls(intensity, lam=self.lam)
            else:
                base, _ = fitter.asls(intensity, lam=self.lam, p=self.p)
        return np.asarray(base)

    def apply(self, shift_cm1: Array, intensity: Array) -> tuple[Array, Array]:
        return shift_cm1, intensity - self.baseline(shift_cm1, intensity)


@dataclass(frozen=True)
class Smooth:
    """Gaussian smoothing of ``fwhm_cm1`` on an evenly spaced axis: a matched filter.

    A Raman band spans several points of the common axis and the noise is nearly
    independent from point to point, so averaging over part of a band's width keeps most
    of its height and removes most of the noise: the same filter applied to query and
    references is the matched-filter step of a band search. The filter must stay under
    the bands' width (about 12 cm-1 FWHM at 785 nm with a 9 cm-1 instrument, 19 cm-1 at
    1064 nm; ``synthesis.INSTRUMENT_FWHM_CM1``), or it blurs neighbours together.

    The points it leaves are correlated: ``noise_gain`` (the factor on a white noise's
    standard deviation) and ``correlation_points`` (how many smoothed points carry one
    point's worth of independent noise) let every statistic that sums or counts points
    say so, instead of treating smoothed noise as independent.
    """

    fwhm_cm1: float = 6.0

    def __post_init__(self) -> None:
        if not self.fwhm_cm1 > 0:
            raise InputError(f"smooth.fwhm_cm1: must be > 0, got {self.fwhm_cm1}")

    def sigma_points(self, step_cm1: float) -> float:
        """The filter's standard deviation in points of an axis of step ``step_cm1``."""
        return self.fwhm_cm1 / (2.0 * np.sqrt(2.0 * np.log(2.0))) / step_cm1

    def kernel(self, step_cm1: float) -> Array:
        """The filter's impulse response (sums to 1)."""
        from scipy.ndimage import gaussian_filter1d

        width = self.sigma_points(step_cm1)
        impulse = np.zeros(2 * int(np.ceil(4.0 * width)) + 1)
        impulse[impulse.size // 2] = 1.0
        return np.asarray(gaussian_filter1d(impulse, width, mode="constant"))

    def noise_gain(self, step_cm1: float) -> float:
        """Standard deviation of smoothed white noise over that of the noise."""
        return float(np.linalg.norm(self.kernel(step_cm1)))

    def correlation_points(self, step_cm1: float) -> float:
        """Variance of a long sum of smoothed noise over (points x smoothed variance)."""
        return 1.0 / self.noise_gain(step_cm1) ** 2

    def apply(self, shift_cm1: Array, intensity: Array) -> tuple[Array, Array]:
        from scipy.ndimage import gaussian_filter1d

        step = float(np.median(np.diff(shift_cm1)))
        y = np.asarray(intensity, dtype=float)
        return shift_cm1, np.asarray(gaussian_filter1d(y, self.sigma_points(step), mode="nearest"))


@dataclass(frozen=True)
class Normalize:
    """Scale to unit ``"area"`` (sum of |y| over the axis), ``"l2"`` norm or ``"max"``.

    Unit area makes the least-squares coefficients of area-normalised references add
    up to about one for a fully explained spectrum.
    """

    kind: Literal["area", "l2", "max"] = "area"

    def __post_init__(self) -> None:
        if self.kind not in ("area", "l2", "max"):
            raise InputError(f"normalize.kind: must be area, l2 or max, got {self.kind!r}")

    def scale(self, intensity: Array) -> float:
        """The divisor ``apply`` uses (a flat spectrum is an error)."""
        if self.kind == "area":
            scale = np.abs(intensity).sum()
        elif self.kind == "l2":
            scale = np.linalg.norm(intensity)
        else:
            scale = np.abs(intensity).max()
        if not np.isfinite(scale) or scale == 0:
            raise SpectrumFormatError("spectrum is flat after preprocessing: no Raman signal")
        return float(scale)

    def apply(self, shift_cm1: Array, intensity: Array) -> tuple[Array, Array]:
        return shift_cm1, intensity / self.scale(intensity)


@dataclass(frozen=True)
class Pipeline:
    """Preprocessing stages run in order."""

    stages: Sequence[Stage] = field(default_factory=tuple)

    def run(self, shift_cm1: Array, intensity: Array) -> tuple[Array, Array]:
        """Run every stage on the arrays; returns the final axis and intensities."""
        x, y, _ = self.run_scaled(shift_cm1, intensity)
        return x, y

    def run_scaled(self, shift_cm1: Array, intensity: Array) -> tuple[Array, Array, float]:
        """``run``, also returning the product of the normalisations' divisors.

        Every stage but the baseline is linear in the intensities, so noise measured on
        the raw counts, divided by this, is the noise of the result (the query noise
        ``identify`` uses for its noise-aware fit statistic).
        """
        x = np.asarray(shift_cm1, dtype=float)
        y = np.asarray(intensity, dtype=float)
        divisor = 1.0
        for stage in self.stages:
            if isinstance(stage, Normalize):
                divisor *= stage.scale(y)
            x, y = stage.apply(x, y)
        return x, y, divisor

    def apply_scaled(self, spectrum: Spectrum) -> tuple[Array, Array, float]:
        """``apply``, also returning the normalisation divisor (see ``run_scaled``)."""
        try:
            return self.run_scaled(spectrum.shift_cm1, spectrum.intensity)
        except SpectrumFormatError as exc:
            raise SpectrumFormatError(f"{spectrum.source}: {exc}") from None

    def apply(self, spectrum: Spectrum) -> tuple[Array, Array]:
        """Run every stage on ``spectrum``; errors name the spectrum's source."""
        try:
            return self.run(spectrum.shift_cm1, spectrum.intensity)
        except SpectrumFormatError as exc:
            raise SpectrumFormatError(f"{spectrum.source}: {exc}") from None

    def _smoothing(self) -> list[Smooth]:
        return [stage for stage in self.stages if isinstance(stage, Smooth)]

    def _smoothing_product(self, per_stage: str) -> float:
        """The product over the smoothing stages of ``stage.<per_stage>(axis step)``."""
        step = float(np.median(np.diff(self.axis()))) if self._smoothing() else 1.0
        return float(np.prod([getattr(s, per_stage)(step) for s in self._smoothing()]))

    def noise_gain(self) -> float:
        """Standard deviation of white noise after the smoothing stages, over before."""
        return self._smoothing_product("noise_gain")

    def correlation_points(self) -> float:
        """How many output points carry one point's independent noise (1 unsmoothed)."""
        return self._smoothing_product("correlation_points")

    def noise_autocorrelation(self) -> Array:
        """Correlation of white noise between output points 0, 1, 2, ... apart (``[1.0]``
        when nothing smooths: the points stay independent)."""
        smoothing = self._smoothing()
        if not smoothing:
            return np.ones(1)
        step = float(np.median(np.diff(self.axis())))
        kernel = np.ones(1)
        for stage in smoothing:
            kernel = np.convolve(kernel, stage.kernel(step))
        full = np.correlate(kernel, kernel, mode="full")
        return np.asarray(full[kernel.size - 1 :] / full[kernel.size - 1])

    def axis(self) -> Array:
        """The common axis this pipeline resamples onto."""
        for stage in self.stages:
            if isinstance(stage, Resample):
                return stage.axis()
        raise InputError("pipeline has no Resample stage, so no common axis")


#: FWHM of the matched-filter smoothing (cm-1): half the narrowest band a handheld
#: records (about 12 cm-1 at 785 nm, see ``Smooth``). Set on synthetic development
#: seeds (3001-3003), not on the evaluation seed.
SMOOTH_FWHM_CM1 = 6.0


def default_pipeline(smooth_fwhm_cm1: float | None = SMOOTH_FWHM_CM1) -> Pipeline:
    """Despike, crop, resample every 2 cm-1 over 350-1800 cm-1, arPLS baseline, smooth, unit area.

    ``smooth_fwhm_cm1=None`` leaves the smoothing out (band positions read off a
    measured reference or a polystyrene standard keep the instrument's own resolution).
    """
    low, high = FINGERPRINT_CM1
    smooth: tuple[Stage, ...] = () if smooth_fwhm_cm1 is None else (Smooth(smooth_fwhm_cm1),)
    return Pipeline(
        (
            Despike(),
            Crop(low - 20.0, high + 20.0),
            Resample(low, high, GRID_STEP_CM1),
            RemoveBaseline("arpls", 1e5),
            *smooth,
            Normalize("area"),
        )
    )


__all__ = [
    "FINGERPRINT_CM1",
    "Crop",
    "Despike",
    "Normalize",
    "Pipeline",
    "RemoveBaseline",
    "Resample",
    "SMOOTH_FWHM_CM1",
    "Smooth",
    "Stage",
    "default_pipeline",
]
