"""Simulated handheld measurements, for calibration, evaluation and tests.

A ``Recipe`` says what is in front of the instrument (compounds and mass fractions,
the bag, the laser) and how hard the measurement is (signal-to-noise, fluorescence,
laser drift). ``render`` draws one measurement from it. To keep the test from being
the library checking itself, each rendering perturbs what the library assumes: band
heights (x lognormal, sd 0.15), band widths (x 0.85-1.2), per-compound scattering
strength (x lognormal, sd 0.2, unknown to the search), an axis shift, a pixel axis of
its own, shot noise on everything including the fluorescence, a detector offset and
cosmic-ray spikes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from portwatch.domain.errors import InputError
from portwatch.domain.substances import SubstanceClass
from portwatch.fieldid.library import PeakEntry
from portwatch.fieldid.preprocess import FINGERPRINT_CM1
from portwatch.fieldid.spectrum import Spectrum
from portwatch.fieldid.synthesis import line_shape, synthesize

#: Upper end of the recorded axis per laser (cm-1): 785 nm handhelds reach about
#: 2875 cm-1 (TruNarc data sheet), 1064 nm ones about 2500 cm-1 (ResQ-CQL data sheet).
AXIS_END_CM1 = {785: 2875.0, 1064: 2500.0}
DETECTOR_OFFSET_COUNTS = 500.0
READ_NOISE_COUNTS = 5.0


@dataclass(frozen=True)
class Recipe:
    """What is measured and how.

    ``contents``: (compound name, mass fraction) pairs summing to 1 (empty for an
    empty bag); a name absent from
    the peak table must come with its peaks in ``unknown_peaks`` (a compound the library
    does not hold). ``packaging``: polymer name or None; ``packaging_share``: bag signal
    relative to the contents' signal. ``snr``: signal-to-noise of the tallest Raman band
    (shot-noise limited); ``fluorescence``: background height relative to that band;
    ``shift_cm1``: laser drift.
    """

    contents: tuple[tuple[str, float], ...]
    laser_nm: int
    packaging: str | None = None
    packaging_share: float = 0.0
    snr: float = 100.0
    fluorescence: float = 0.0
    shift_cm1: float = 0.0
    unknown_peaks: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        total = sum(f for _, f in self.contents)
        if not self.contents and self.packaging is None:
            raise InputError("recipe: needs contents, packaging or both")
        if self.contents and abs(total - 1.0) > 1e-6:
            raise InputError(f"recipe.contents: fractions must sum to 1, got {total:.4f}")
        if self.snr <= 0:
            raise InputError(f"recipe.snr: must be > 0, got {self.snr}")


def render(recipe: Recipe, table: Mapping[str, PeakEntry], rng: np.random.Generator) -> Spectrum:
    """One simulated measurement of ``recipe`` (raw counts on a pixel axis of its own)."""
    axis, counts = expected_counts(recipe, table, rng)
    return acquire(axis, counts, recipe, rng)


def expected_counts(
    recipe: Recipe, table: Mapping[str, PeakEntry], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The sample in front of the instrument: its pixel axis and noiseless mean counts.

    Everything ``render`` draws except the noise: the axis, each compound's perturbed
    bands and strength, the fluorescence and the detector offset. Acquisitions of one
    sample share it (``acquire`` adds the noise of each).
    """
    start = rng.uniform(180.0, 260.0)
    step = rng.uniform(1.4, 2.6)
    axis = np.arange(start, AXIS_END_CM1[recipe.laser_nm], step)
    raman = np.zeros_like(axis)
    for name, fraction in recipe.contents:
        if fraction <= 0:
            continue
        peaks = recipe.unknown_peaks if name not in table else table[name].peaks
        raman += fraction * _compound(peaks, "crystal", recipe, axis, rng)
    if recipe.packaging is not None and (recipe.packaging_share > 0 or not recipe.contents):
        bag = table[recipe.packaging].peaks
        share = recipe.packaging_share if recipe.contents else 1.0
        raman += share * _compound(bag, "polymer", recipe, axis, rng)
    peak_counts = recipe.snr**2
    counts = raman / raman.max() * peak_counts
    counts += recipe.fluorescence * peak_counts * _fluorescence_shape(axis, rng)
    counts += DETECTOR_OFFSET_COUNTS
    return axis, counts


def acquire(
    axis: np.ndarray,
    counts: np.ndarray,
    recipe: Recipe,
    rng: np.random.Generator,
    source: str = "simulated",
) -> Spectrum:
    """One acquisition of mean ``counts``: shot noise on everything (the fluorescence's
    too), read noise and cosmic-ray spikes, drawn from ``rng``."""
    noisy = rng.normal(counts, np.sqrt(counts + READ_NOISE_COUNTS**2))
    peak_counts = recipe.snr**2
    for _ in range(rng.poisson(0.5)):
        at = rng.integers(axis.size)
        noisy[at] += rng.uniform(0.3, 1.0) * peak_counts
    return Spectrum(axis, noisy, recipe.laser_nm, source)


def _compound(
    peaks: Sequence[tuple[float, float]],
    kind: str,
    recipe: Recipe,
    axis: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """A compound's band pattern at unit fingerprint area, perturbed as described."""
    heights = np.array([h for _, h in peaks]) * rng.lognormal(0.0, 0.15, len(peaks))
    perturbed = [(p, float(h)) for (p, _), h in zip(peaks, heights, strict=True)]
    y = synthesize(
        perturbed,
        line_shape(recipe.laser_nm, kind),
        axis,
        shift_cm1=recipe.shift_cm1,
        width_scale=rng.uniform(0.85, 1.2),
    )
    low, high = FINGERPRINT_CM1
    inside = (axis >= low) & (axis <= high)
    area = y[inside].sum() * (axis[1] - axis[0])
    strength = rng.lognormal(0.0, 0.2)
    return strength * y / area if area > 0 else y


def _fluorescence_shape(axis: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A broad background with its tallest point at 1: a wide hump plus a slope."""
    centre = rng.uniform(800.0, 3000.0)
    width = rng.uniform(1200.0, 3000.0)
    hump = np.exp(-0.5 * ((axis - centre) / width) ** 2)
    slope = rng.uniform(-0.3, 0.3) * (axis - axis.min()) / (axis.max() - axis.min())
    shape = hump + slope
    shape -= min(shape.min(), 0.0)
    return shape / shape.max()


def random_unknown(rng: np.random.Generator) -> tuple[tuple[float, float], ...]:
    """Peaks of a compound no library holds: 4-10 bands at random positions."""
    n = int(rng.integers(4, 11))
    positions = np.sort(rng.uniform(380.0, 1780.0, n))
    heights = rng.uniform(0.15, 1.0, n)
    heights[rng.integers(n)] = 1.0
    return tuple(zip(positions.tolist(), heights.tolist(), strict=True))


def names_of(table: Mapping[str, PeakEntry], substance_class: SubstanceClass) -> list[str]:
    """Names of the peak-table compounds of one class, in table order."""
    return [k for k, e in table.items() if e.substance_class is substance_class]


__all__ = [
    "AXIS_END_CM1",
    "Recipe",
    "acquire",
    "expected_counts",
    "names_of",
    "random_unknown",
    "render",
]
