"""Band-level evidence: diagnostic bands, which bands a query shows, axis drift.

A controlled or explosive reference is named only on *specific* evidence: its
diagnostic bands (bands that no benign, cutting-agent or packaging reference of the
library shares within the laser's tolerance, and that are not the generic modes of a
monosubstituted benzene ring every aromatic compound shows) must be present at their
positions, and enough of its strong bands must be there too. The same band finder
tells which of a query's bands the fitted references explain (the open-set test), and
an axis drift is estimated by sliding the query against the library, or measured on a
polystyrene standard against ASTM E1840.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.signal import find_peaks

from portwatch.domain.errors import InputError
from portwatch.domain.substances import SubstanceClass
from portwatch.fieldid.gates import noise_sigma
from portwatch.fieldid.spectrum import Spectrum

#: Half-width (cm-1) of the window a query band must fall in to match a reference band:
#: about half the instrument resolution (synthesis.INSTRUMENT_FWHM_CM1) plus drift left
#: after the axis correction.
PEAK_TOLERANCE_CM1 = {785: 7.0, 1064: 10.0}

#: Ring modes every monosubstituted benzene shows, so they say "aromatic", not which
#: compound: ring deformation ~620, ring breathing ~1000, in-plane C-H bend ~1030, ring
#: stretches ~1585 and ~1605 cm-1 (Socrates, Infrared and Raman Characteristic Group
#: Frequencies, 3rd ed., Wiley 2001, monosubstituted benzenes).
GENERIC_AROMATIC_CM1 = ((612.0, 628.0), (994.0, 1010.0), (1022.0, 1038.0), (1578.0, 1612.0))

#: A band of another reference at least this tall (relative to that reference's tallest)
#: counts as sharing the position.
SHARED_BAND_MIN_HEIGHT = 0.15
#: A band weaker than this (relative to the reference's tallest) is too weak to name a
#: compound on: ammonium nitrate's 1410 cm-1 band (0.05) appeared in drug-in-mannitol
#: mixtures and named it.
DIAGNOSTIC_MIN_HEIGHT = 0.1
#: Two bands closer than this share of the match tolerance are taken as the same band
#: when deciding what is diagnostic (closer than the instrument can resolve them).
SHARED_BAND_WINDOW = 0.7
#: Bands at least this tall (relative) are the "strong bands" coverage is counted on.
STRONG_BAND_MIN_HEIGHT = 0.3

#: Polystyrene band positions of ASTM E1840-96 (2014), Standard Guide for Raman Shift
#: Standards for Spectrometer Calibration, Table 1 (cm-1), within the fingerprint region.
ASTM_E1840_POLYSTYRENE_CM1 = (620.9, 795.8, 1001.4, 1031.8, 1155.3, 1450.5, 1583.1, 1602.3)

FLAGGED = (SubstanceClass.CONTROLLED, SubstanceClass.EXPLOSIVE)
#: A drift is taken only if it raises the best HQI by more than this over a smaller one.
SHIFT_HQI_SLACK = 0.01


@dataclass(frozen=True)
class Band:
    """A band of a reference: position (cm-1) and height relative to its tallest."""

    position_cm1: float
    height: float


def reference_bands(axis: np.ndarray, row: np.ndarray, peaks_cm1: tuple[float, ...]) -> list[Band]:
    """The reference's listed bands with heights read off its preprocessed spectrum."""
    top = float(row.max())
    if top <= 0:
        return []
    out = []
    for p in peaks_cm1:
        if axis[0] <= p <= axis[-1]:
            near = np.abs(axis - p) <= 3.0
            out.append(Band(float(p), float(row[near].max() / top) if near.any() else 0.0))
    return out


def diagnostic_needed(n_diagnostic: int, minimum: int) -> int:
    """How many of ``n_diagnostic`` bands must be present: three quarters, at least ``minimum``."""
    return min(n_diagnostic, max(minimum, int(np.ceil(0.75 * n_diagnostic))))


def is_generic_aromatic(position_cm1: float) -> bool:
    """Whether a band sits on a generic monosubstituted-benzene ring mode."""
    return any(lo <= position_cm1 <= hi for lo, hi in GENERIC_AROMATIC_CM1)


def diagnostic_bands(
    bands: list[list[Band]], classes: list[SubstanceClass], tolerance_cm1: float
) -> list[tuple[float, ...]]:
    """For each flagged reference, the positions that separate it from the rest.

    A band is diagnostic when it is not a generic aromatic ring mode and no reference of
    another (non-flagged) class has a band of height >= SHARED_BAND_MIN_HEIGHT within
    ``SHARED_BAND_WINDOW * tolerance_cm1``. Non-flagged references get an empty tuple.
    """
    others = [
        b.position_cm1
        for bs, c in zip(bands, classes, strict=True)
        if c not in FLAGGED
        for b in bs
        if b.height >= SHARED_BAND_MIN_HEIGHT
    ]
    shared = np.array(sorted(others)) if others else np.zeros(0)
    out: list[tuple[float, ...]] = []
    for bs, c in zip(bands, classes, strict=True):
        if c not in FLAGGED:
            out.append(())
            continue
        keep = [
            b.position_cm1
            for b in bs
            if b.height >= DIAGNOSTIC_MIN_HEIGHT
            and not is_generic_aromatic(b.position_cm1)
            and not (
                shared.size
                and np.abs(shared - b.position_cm1).min() <= SHARED_BAND_WINDOW * tolerance_cm1
            )
        ]
        out.append(tuple(keep))
    return out


@dataclass(frozen=True)
class QueryBands:
    """The bands found in a preprocessed query: positions, prominences, the noise.

    ``shoulders`` are positions where the query curves down (negative second
    derivative) at least ``min_sigma`` noise above zero without a maximum of its own: a
    band merged into a taller neighbour, as close pairs are at 1064 nm resolution.
    """

    positions_cm1: np.ndarray
    prominences: np.ndarray
    indices: np.ndarray
    sigma: float
    shoulders_cm1: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def present(self, position_cm1: float, tolerance_cm1: float) -> bool:
        """Whether a band stands within ``tolerance_cm1`` of ``position_cm1``."""
        if self.positions_cm1.size == 0:
            return False
        return bool(np.abs(self.positions_cm1 - position_cm1).min() <= tolerance_cm1)

    def present_or_shoulder(self, position_cm1: float, tolerance_cm1: float) -> bool:
        """A band, or a shoulder on a neighbour's flank, within ``tolerance_cm1``."""
        if self.present(position_cm1, tolerance_cm1):
            return True
        if self.shoulders_cm1.size == 0:
            return False
        return bool(np.abs(self.shoulders_cm1 - position_cm1).min() <= tolerance_cm1)


def query_bands(
    axis: np.ndarray, q: np.ndarray, min_sigma: float = 4.0, sigma: float | None = None
) -> QueryBands:
    """Local maxima of ``q`` with prominence >= max(min_sigma x noise, 2% of the tallest).

    ``sigma`` is the noise of ``q`` when known (carried over from the raw counts through
    the preprocessing); otherwise it is estimated from ``q``'s second differences, which
    is right only for an unsmoothed ``q`` (smoothing hides noise from second differences).
    """
    if sigma is None:
        sigma = noise_sigma(q)
    floor = max(min_sigma * sigma, 0.02 * float(q.max()))
    idx, props = find_peaks(q, prominence=floor, wlen=25)
    d2 = np.gradient(np.gradient(q))
    smooth = np.convolve(d2, np.ones(3) / 3.0, mode="same")
    curving = (smooth < 0) & (q > floor)
    minima = np.r_[False, (smooth[1:-1] <= smooth[:-2]) & (smooth[1:-1] <= smooth[2:]), False]
    shoulders = axis[curving & minima]
    return QueryBands(axis[idx], props["prominences"], idx, sigma, shoulders)


def band_coverage(
    found: QueryBands, bands: list[Band], tolerance_cm1: float
) -> tuple[float, tuple[float, ...], tuple[float, ...]]:
    """Height-weighted share of the strong bands present; matched and missing positions."""
    strong = [b for b in bands if b.height >= STRONG_BAND_MIN_HEIGHT]
    if not strong:
        return 0.0, (), ()
    matched = [b for b in strong if found.present_or_shoulder(b.position_cm1, tolerance_cm1)]
    missing = [b for b in strong if b not in matched]
    share = sum(b.height for b in matched) / sum(b.height for b in strong)
    return (
        float(share),
        tuple(b.position_cm1 for b in matched),
        tuple(b.position_cm1 for b in missing),
    )


def explained_share(
    found: QueryBands, q: np.ndarray, fitted_by_references: np.ndarray, min_share: float = 0.5
) -> tuple[float, tuple[float, ...]]:
    """Prominence-weighted share of the query's bands the fitted references reproduce.

    A band is explained when the references alone (no baseline polynomial) reach at
    least ``min_share`` of its height above the local floor. Returns the share and the
    positions of the bands left unexplained.
    """
    if found.indices.size == 0:
        return 0.0, ()
    explained = 0.0
    left: list[float] = []
    for i, prom, pos in zip(found.indices, found.prominences, found.positions_cm1, strict=True):
        lo, hi = max(0, i - 12), min(q.size, i + 13)
        height_q = q[i] - q[lo:hi].min()
        height_f = fitted_by_references[i] - fitted_by_references[lo:hi].min()
        if height_q > 0 and height_f >= min_share * height_q:
            explained += prom
        else:
            left.append(float(pos))
    return float(explained / found.prominences.sum()), tuple(left)


@dataclass(frozen=True)
class MatchedBands:
    """A matched-filter test of a reference's diagnostic bands, all at once.

    ``z``: the query's projection on the predicted band shapes in units of its noise;
    ``amplitude``: the height the query shows there over the height predicted (1 when
    the bands stand exactly as the fitted weight predicts); ``aligned``: the projection
    is larger at the bands' own positions than with the pattern slid by the match
    tolerance either way (a neighbouring band's flank projects more when slid onto it);
    ``amplitude_sd``: the noise's standard deviation of ``amplitude`` (0 when unknown).
    """

    z: float = 0.0
    amplitude: float = 0.0
    aligned: bool = False
    amplitude_sd: float = 0.0


def matched_bands(
    axis: np.ndarray,
    partial: np.ndarray,
    predicted: np.ndarray,
    positions_cm1: tuple[float, ...],
    half_width_cm1: float,
    sigma: float,
    rho: np.ndarray,
    slide_cm1: float = 0.0,
) -> MatchedBands:
    """Test the bands of ``predicted`` at ``positions_cm1`` against ``partial`` with their shape.

    ``partial`` is the query less every other fitted component (what this reference
    must explain), ``predicted`` this reference at its fitted weight. In a window of
    +/- ``half_width_cm1`` around each position both are detrended (a straight line
    removed, so the flank of a neighbouring band or a baseline slope does not count);
    the template is the predicted band shape there. A band a few noise standard
    deviations per point still adds up over its width, where a peak finder needs each
    point to stand out: this is the matched filter of a band search. ``sigma`` is the
    per-point noise and ``rho`` its correlation between points 0, 1, ... apart; the
    pattern is also slid by +/- ``slide_cm1`` to tell whether it sits where it should.
    """
    if sigma <= 0:
        return MatchedBands()
    r, t, idx = _detrended_windows(axis, partial, predicted, positions_cm1, half_width_cm1)
    energy = float(t @ t)
    if energy <= 0:
        return MatchedBands()
    lag = np.abs(idx[:, None] - idx[None, :])
    correlation = np.where(lag < rho.size, rho[np.minimum(lag, rho.size - 1)], 0.0)
    spread = float(np.sqrt(max(t @ correlation @ t, 1e-300)))
    projection = float(r @ t)
    aligned = True
    for slide in (-slide_cm1, slide_cm1) if slide_cm1 > 0 else ():
        moved = np.interp(axis - slide, axis, predicted)
        r_s, t_s, _ = _detrended_windows(axis, partial, moved, positions_cm1, half_width_cm1)
        norm = float(np.sqrt(t_s @ t_s))
        if norm > 0 and float(r_s @ t_s) / norm > projection / np.sqrt(energy):
            aligned = False
    return MatchedBands(
        projection / (sigma * spread), projection / energy, aligned, sigma * spread / energy
    )


def _detrended_windows(
    axis: np.ndarray,
    partial: np.ndarray,
    predicted: np.ndarray,
    positions_cm1: tuple[float, ...],
    half_width_cm1: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``partial`` and ``predicted`` in a window around each position, each less a line."""
    r_parts, t_parts, idx_parts = [np.zeros(0)], [np.zeros(0)], [np.zeros(0, dtype=int)]
    for position in positions_cm1:
        near = np.flatnonzero(np.abs(axis - position) <= half_width_cm1)
        if near.size < 4:
            continue
        x = axis[near] - position
        design = np.stack([np.ones_like(x), x], axis=1)
        for target, out in ((partial[near], r_parts), (predicted[near], t_parts)):
            coef, *_ = np.linalg.lstsq(design, target, rcond=None)
            out.append(target - design @ coef)
        idx_parts.append(near)
    return np.concatenate(r_parts), np.concatenate(t_parts), np.concatenate(idx_parts)


def shifted(axis: np.ndarray, q: np.ndarray, shift_cm1: float) -> np.ndarray:
    """``q`` as it reads when its axis is corrected by ``-shift_cm1`` (band at b+s -> b)."""
    return np.interp(axis + shift_cm1, axis, q)


def estimate_shift(
    axis: np.ndarray,
    q: np.ndarray,
    unit_rows: np.ndarray,
    window_cm1: float,
    step_cm1: float = 0.5,
) -> tuple[float, float]:
    """The axis drift (cm-1) that best aligns ``q`` with its closest reference, and that HQI.

    The query is slid over +/- ``window_cm1``; at each offset the best squared correlation
    with any reference is taken; the smallest offset within ``SHIFT_HQI_SLACK`` of the
    highest wins.
    """
    if window_cm1 <= 0:
        return 0.0, 0.0
    offsets = np.arange(-window_cm1, window_cm1 + 1e-9, step_cm1)
    # all shifted copies at once: one matrix product instead of one per offset
    copies = np.stack([shifted(axis, q, float(s)) for s in offsets])
    copies -= copies.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(copies, axis=1, keepdims=True)
    copies /= np.where(norms == 0, 1.0, norms)
    r = unit_rows @ copies.T
    tops = np.max(np.where(r > 0, r * r, 0.0), axis=0)
    # the smallest drift that does (nearly) as well as the best: a flat, noisy match
    # must not slide the axis to wherever some reference happens to fit the noise
    good = np.flatnonzero(tops >= tops.max() - SHIFT_HQI_SLACK)
    k = good[np.argmin(np.abs(offsets[good]))]
    return float(offsets[k]), float(tops[k])


def calibration_shift(spectrum: Spectrum, search_cm1: float = 12.0) -> float:
    """Axis offset (cm-1) of a measured polystyrene standard against ASTM E1840.

    Each ASTM band is located as the parabolic-vertex maximum within ``search_cm1``;
    the offset is the median of (measured - standard) over the bands found. Raises
    ``InputError`` when fewer than four bands are found (not a polystyrene spectrum).
    """
    from portwatch.fieldid.preprocess import default_pipeline

    x, y = default_pipeline(None).apply(spectrum)
    fine = np.arange(x[0], x[-1], 0.25)
    yf = np.interp(fine, x, y)
    sigma = noise_sigma(y)
    offsets = []
    for band in ASTM_E1840_POLYSTYRENE_CM1:
        near = np.flatnonzero(np.abs(fine - band) <= search_cm1)
        if near.size < 5:
            continue
        i = near[np.argmax(yf[near])]
        if i in (near[0], near[-1]) or yf[i] < 5.0 * max(sigma, 1e-12):
            continue
        a, b, c = yf[i - 1], yf[i], yf[i + 1]
        denom = a - 2 * b + c
        vertex = fine[i] + (0.25 * 0.5 * (a - c) / denom if denom != 0 else 0.0)
        offsets.append(vertex - band)
    if len(offsets) < 4:
        raise InputError(
            f"{spectrum.source}: calibration: found {len(offsets)} of the "
            f"{len(ASTM_E1840_POLYSTYRENE_CM1)} ASTM E1840 polystyrene bands (needs 4); "
            "not a polystyrene standard"
        )
    return float(np.median(offsets))


__all__ = [
    "ASTM_E1840_POLYSTYRENE_CM1",
    "GENERIC_AROMATIC_CM1",
    "PEAK_TOLERANCE_CM1",
    "Band",
    "MatchedBands",
    "QueryBands",
    "band_coverage",
    "calibration_shift",
    "diagnostic_bands",
    "diagnostic_needed",
    "estimate_shift",
    "explained_share",
    "is_generic_aromatic",
    "matched_bands",
    "query_bands",
    "reference_bands",
    "shifted",
]
