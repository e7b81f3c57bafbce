"""Input gates: checks a spectrum must pass before any identification is attempted.

Each gate either passes the spectrum on (possibly converted: an axis in nm becomes Raman
shift with the laser line) or stops it with a ``GateFailure`` whose ``code`` and
``reason`` the identification reports as ``inconclusive``. Nothing here guesses.

Limits (documented in docs/fieldid.md):

* size: at most ``MAX_POINTS`` points and ``MAX_FILE_BYTES`` bytes per file, checked
  before the file is parsed, so oversize input is refused at once;
* axis units: an axis that lies wholly between 0.9 and 1.6 times the laser line, spans
  under 700 units and does not start below 150 reads as absolute wavelength in nm; it
  is converted with the laser line, or refused when the laser is unknown;
* saturation: a run of ``SATURATION_RUN`` or more points at the spectrum's maximum (a
  flat top) means the detector clipped; band heights are then wrong;
* coverage: the axis must cover at least ``MIN_COVERAGE`` of the 350-1800 cm-1
  fingerprint region at a step no coarser than ``MAX_STEP_CM1``;
* signal-to-noise: after a band-shaped filter, the tallest band above a running median
  over the noise (from second differences, carried through the filter) must reach
  ``MIN_SNR`` (pure noise scores about 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from portwatch.fieldid.preprocess import FINGERPRINT_CM1
from portwatch.fieldid.spectrum import Spectrum

MAX_POINTS = 200_000
MAX_FILE_BYTES = 10_000_000
SATURATION_RUN = 3
MIN_COVERAGE = 0.6
MAX_STEP_CM1 = 8.0
MIN_SNR = 5.0
NM_AXIS_MAX_SPAN = 700.0


@dataclass(frozen=True)
class GateFailure:
    """Why a spectrum cannot be identified: a short code and a one-line reason."""

    code: str
    reason: str


def check_file_size(path: Path) -> GateFailure | None:
    """Refuse a file over ``MAX_FILE_BYTES`` before reading it."""
    try:
        size = Path(path).stat().st_size
    except OSError:
        return None  # the reader names a missing file
    if size > MAX_FILE_BYTES:
        return GateFailure(
            "oversize",
            f"file is {size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit; not read",
        )
    # a small file of very short rows can still hold too many points: count lines first
    lines = Path(path).read_bytes().count(b"\n")
    if lines > MAX_POINTS + 1_000:
        return GateFailure(
            "oversize", f"file has {lines:,} lines, over the {MAX_POINTS:,}-point limit; not read"
        )
    return None


def looks_like_nm(axis: np.ndarray, laser_nm: int | None) -> bool:
    """Whether ``axis`` reads as absolute wavelength (nm) rather than Raman shift (cm-1).

    With the laser known: every value lies between 0.9 and 1.6 times the laser line (a
    little anti-Stokes, the Stokes side) and the span is under 700. Without it: the same
    test for either supported laser.
    """
    low, high = float(axis.min()), float(axis.max())
    if high - low >= NM_AXIS_MAX_SPAN or low < 150.0:
        return False
    lasers = (laser_nm,) if laser_nm is not None else (785, 1064)
    return any(0.9 * laser < low and high < 1.6 * laser for laser in lasers)


def nm_to_shift(spectrum: Spectrum, laser_nm: int) -> Spectrum:
    """The spectrum with its nm axis converted to Raman shift: 1e7/laser - 1e7/lambda."""
    shift = 1e7 / laser_nm - 1e7 / np.asarray(spectrum.shift_cm1)
    meta = dict(spectrum.metadata, axis_converted_from="nm")
    return Spectrum(shift, spectrum.intensity, laser_nm, spectrum.source, meta)


def check_units(spectrum: Spectrum, laser_nm: int | None) -> tuple[Spectrum, GateFailure | None]:
    """Convert an nm axis with the laser line, or refuse it when the laser is unknown."""
    if not looks_like_nm(spectrum.shift_cm1, laser_nm):
        return spectrum, None
    if laser_nm is None:
        return spectrum, GateFailure(
            "axis_units",
            "axis looks like wavelength in nm, not Raman shift in cm-1; "
            "give --laser so it can be converted",
        )
    return nm_to_shift(spectrum, laser_nm), None


def check_size(spectrum: Spectrum) -> GateFailure | None:
    """Refuse more than ``MAX_POINTS`` points."""
    n = spectrum.shift_cm1.size
    if n > MAX_POINTS:
        return GateFailure("oversize", f"{n:,} points, over the {MAX_POINTS:,}-point limit")
    return None


def check_saturation(spectrum: Spectrum) -> GateFailure | None:
    """A flat top of ``SATURATION_RUN`` or more consecutive points at the maximum."""
    y = spectrum.intensity
    top = float(y.max())
    tol = 1e-9 * max(abs(top), 1.0)
    at_top = y >= top - tol
    run = longest_run(at_top)
    if run >= SATURATION_RUN:
        return GateFailure(
            "saturated",
            f"detector saturated: {run} consecutive points clipped at {top:g}; "
            "measure again with a shorter exposure",
        )
    return None


def longest_run(mask: np.ndarray) -> int:
    """Length of the longest run of True in ``mask``."""
    if not mask.any():
        return 0
    padded = np.concatenate([[0], mask.astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(padded))
    return int((edges[1::2] - edges[::2]).max())


def check_coverage(spectrum: Spectrum) -> GateFailure | None:
    """Enough of the fingerprint region, sampled finely enough."""
    low, high = FINGERPRINT_CM1
    x = spectrum.shift_cm1
    inside = x[(x >= low) & (x <= high)]
    covered = (min(x.max(), high) - max(x.min(), low)) / (high - low)
    if inside.size < 16 or covered < MIN_COVERAGE:
        return GateFailure(
            "coverage",
            f"axis covers {max(covered, 0.0):.0%} of the {low:.0f}-{high:.0f} cm-1 "
            f"fingerprint region (needs {MIN_COVERAGE:.0%})",
        )
    step = float(np.median(np.diff(inside)))
    if step > MAX_STEP_CM1:
        return GateFailure(
            "coverage", f"axis step {step:.1f} cm-1 is coarser than {MAX_STEP_CM1:g} cm-1"
        )
    return None


def noise_sigma(y: np.ndarray) -> float:
    """Robust noise estimate from second differences (MAD / 0.6745 / sqrt(6))."""
    d2 = np.diff(y, 2)
    if d2.size == 0:
        return 0.0
    return float(np.median(np.abs(d2 - np.median(d2))) / 0.6745 / np.sqrt(6.0))


#: Width (FWHM, cm-1) of the band-shaped filter the signal-to-noise gate smooths with: a
#: little under the narrowest handheld band (9 cm-1 at 785 nm, TruNarc data sheet).
SNR_FILTER_FWHM_CM1 = 8.0


def snr(spectrum: Spectrum) -> float:
    """Tallest band over the noise, both after a band-shaped filter, in the fingerprint.

    A band spans several pixels and identification uses all of them, so the statistic is
    that of a matched filter: the spectrum smoothed by a Gaussian of a band's width
    (``SNR_FILTER_FWHM_CM1``), its tallest band above a running median (bands are
    narrow, the fluorescence broad, so a slope or hump is not signal), over the white
    noise of the raw pixels (second differences) carried through the same filter. Per
    pixel, a sample at 785 nm under a fluorescence background tens of times its tallest
    band scores 3-4, and was refused though its bands were plain over their width; pure
    noise scores about 3 either way (tests/fieldid/test_gates.py).
    """
    region = _smoothed_fingerprint(spectrum)
    if region is None:
        return 0.0
    smooth, raw, noise_gain = region
    sigma = noise_sigma(raw) * noise_gain
    height = float((smooth - _running_median(smooth)).max())
    if sigma <= 0:
        return float("inf") if height > 0 else 0.0
    return height / sigma


def _smoothed_fingerprint(spectrum: Spectrum) -> tuple[np.ndarray, np.ndarray, float] | None:
    """The fingerprint region's intensities smoothed by the band-shaped filter, raw, and
    the filter's white-noise gain; None under 16 points."""
    from scipy.ndimage import gaussian_filter1d

    low, high = FINGERPRINT_CM1
    x, y = spectrum.shift_cm1, spectrum.intensity
    keep = (x >= low) & (x <= high)
    x, y = x[keep], np.asarray(y[keep], dtype=float)
    if y.size < 16:
        return None
    step = float(np.median(np.abs(np.diff(x))))
    width_px = SNR_FILTER_FWHM_CM1 / 2.3548 / max(step, 1e-9)
    if width_px < 0.5:
        return y, y, 1.0
    impulse = np.zeros(int(8 * width_px) + 9)
    impulse[impulse.size // 2] = 1.0
    gain = float(np.linalg.norm(gaussian_filter1d(impulse, width_px)))
    return gaussian_filter1d(y, width_px, mode="nearest"), y, gain


def _running_median(y: np.ndarray) -> np.ndarray:
    """The broad background: a running median over a tenth of the region."""
    from scipy.ndimage import median_filter

    return median_filter(y, size=max(5, y.size // 10) | 1, mode="nearest")


#: A fluorescence background this many times the tallest Raman band (assumed: "about
#: 10x", where the background's shot noise buries bands of a tenth of the tallest)
#: makes an inconclusive answer advise a longer exposure or, at 785 nm, the 1064 nm
#: laser, under which organic fluorescence is much weaker.
FLUORESCENCE_ADVICE_RATIO = 10.0


def background_ratio(spectrum: Spectrum) -> float:
    """The broad background's level over the tallest band in the fingerprint region.

    Both read as in ``snr``: the spectrum smoothed by a band-shaped filter; the
    background is the running median (its median over the region), the band the
    tallest point above it. No detector offset is removed (it is not known), so a dim
    spectrum with a large offset reads high: the advice it triggers, a longer
    exposure, is then right as well.
    """
    region = _smoothed_fingerprint(spectrum)
    if region is None:
        return 0.0
    base = _running_median(region[0])
    height = float((region[0] - base).max())
    level = float(np.median(base))
    return level / height if height > 0 and level > 0 else 0.0


def check_snr(spectrum: Spectrum) -> GateFailure | None:
    """Refuse a spectrum whose tallest band is under ``MIN_SNR`` times the noise."""
    value = snr(spectrum)
    if value < MIN_SNR:
        return GateFailure(
            "low_snr",
            f"signal-to-noise {value:.1f} is under {MIN_SNR:g}: no band stands out of the noise",
        )
    return None


def run_gates(spectrum: Spectrum, laser_nm: int | None) -> tuple[Spectrum, GateFailure | None]:
    """All gates in order; the (possibly converted) spectrum and the first failure."""
    failure = check_size(spectrum)
    if failure:
        return spectrum, failure
    spectrum, failure = check_units(spectrum, laser_nm)
    if failure:
        return spectrum, failure
    for gate in (check_saturation, check_coverage, check_snr):
        failure = gate(spectrum)
        if failure:
            return spectrum, failure
    return spectrum, None


__all__ = [
    "FLUORESCENCE_ADVICE_RATIO",
    "MAX_FILE_BYTES",
    "MAX_POINTS",
    "MIN_COVERAGE",
    "MIN_SNR",
    "GateFailure",
    "check_file_size",
    "check_units",
    "looks_like_nm",
    "nm_to_shift",
    "noise_sigma",
    "run_gates",
    "SNR_FILTER_FWHM_CM1",
    "background_ratio",
    "snr",
]
