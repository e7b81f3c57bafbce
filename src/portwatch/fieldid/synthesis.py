"""Synthetic Raman spectra from peak tables: Voigt lines with per-laser widths.

A band is a Voigt profile: a Lorentzian of the band's own width convolved with the
instrument's Gaussian slit function. Handheld instruments differ mostly in that
slit function, so the width is set per laser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import voigt_profile

from portwatch.domain.errors import InputError

#: Instrument resolution (Gaussian FWHM, cm-1) per laser. 785 nm: handheld analysers
#: specify 7-10.5 cm-1 (Thermo Scientific TruNarc data sheet); 1064 nm: 15-18 cm-1
#: (Rigaku ResQ-CQL / Progeny 1064 nm data sheet). The middle of each range is used.
INSTRUMENT_FWHM_CM1: dict[int, float] = {785: 9.0, 1064: 16.0}

#: Intrinsic (Lorentzian) band FWHM, cm-1: crystalline organic solids show bands of
#: about 4-8 cm-1, semicrystalline polymers broader ones (general Raman literature).
INTRINSIC_FWHM_CM1: dict[str, float] = {"crystal": 6.0, "polymer": 10.0}

#: The axis synthetic references are stored on (cm-1).
SYNTHETIC_AXIS_CM1 = np.arange(200.0, 3400.0 + 1.0, 1.0)

_FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))


@dataclass(frozen=True)
class LineShape:
    """Widths of a Voigt band: Gaussian (instrument) and Lorentzian (band) FWHM, cm-1."""

    gaussian_fwhm_cm1: float
    lorentzian_fwhm_cm1: float

    def __post_init__(self) -> None:
        if self.gaussian_fwhm_cm1 <= 0 or self.lorentzian_fwhm_cm1 <= 0:
            raise InputError(
                f"line shape widths must be > 0, got gaussian {self.gaussian_fwhm_cm1}, "
                f"lorentzian {self.lorentzian_fwhm_cm1}"
            )


def line_shape(laser_nm: int, kind: str = "crystal") -> LineShape:
    """The band shape a ``laser_nm`` handheld records for a ``kind`` of sample."""
    if laser_nm not in INSTRUMENT_FWHM_CM1:
        raise InputError(f"laser_nm: must be one of {sorted(INSTRUMENT_FWHM_CM1)}, got {laser_nm}")
    return LineShape(INSTRUMENT_FWHM_CM1[laser_nm], INTRINSIC_FWHM_CM1[kind])


def synthesize(
    peaks: Sequence[tuple[float, float]],
    shape: LineShape,
    axis_cm1: np.ndarray = SYNTHETIC_AXIS_CM1,
    shift_cm1: float = 0.0,
    width_scale: float = 1.0,
) -> np.ndarray:
    """Sum of Voigt bands at ``peaks`` ((position cm-1, height), tallest = 1) on ``axis_cm1``.

    ``shift_cm1`` moves every band (laser drift); ``width_scale`` widens or narrows
    them. The result is scaled so its tallest point is 1.
    """
    if not peaks:
        raise InputError("peaks: at least one (position, height) pair is needed")
    sigma = shape.gaussian_fwhm_cm1 * _FWHM_TO_SIGMA * width_scale
    gamma = 0.5 * shape.lorentzian_fwhm_cm1 * width_scale
    x = np.asarray(axis_cm1, dtype=float)
    y = np.zeros_like(x)
    peak_at = voigt_profile(0.0, sigma, gamma)
    for position, height in peaks:
        y += height * voigt_profile(x - (position + shift_cm1), sigma, gamma) / peak_at
    top = y.max()
    return y / top if top > 0 else y


__all__ = [
    "INSTRUMENT_FWHM_CM1",
    "INTRINSIC_FWHM_CM1",
    "SYNTHETIC_AXIS_CM1",
    "LineShape",
    "line_shape",
    "synthesize",
]
