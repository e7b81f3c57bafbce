"""The value a Raman measurement becomes: an axis, intensities, and the laser."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from portwatch.domain.errors import SpectrumFormatError

#: Excitation wavelengths portwatch has line widths and thresholds for.
SUPPORTED_LASERS_NM = (785, 1064)

MIN_POINTS = 16


@dataclass(frozen=True, eq=False)
class Spectrum:
    """A Raman spectrum.

    ``shift_cm1`` is the Raman shift in cm-1, strictly increasing; ``intensity`` is in
    arbitrary units (counts); ``laser_nm`` is the excitation wavelength in nm (785 or
    1064) or ``None`` when the file does not say; ``source`` names where it came from
    (a file name), for error messages and reports.
    """

    shift_cm1: np.ndarray
    intensity: np.ndarray
    laser_nm: int | None = None
    source: str = "spectrum"
    metadata: dict[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        x = np.asarray(self.shift_cm1, dtype=float).ravel()
        y = np.asarray(self.intensity, dtype=float).ravel()
        if x.size != y.size:
            raise SpectrumFormatError(
                f"{self.source}: axis has {x.size} points but intensity has {y.size}"
            )
        if x.size < MIN_POINTS:
            raise SpectrumFormatError(
                f"{self.source}: needs at least {MIN_POINTS} points, got {x.size}"
            )
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise SpectrumFormatError(f"{self.source}: holds non-finite values (NaN or inf)")
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
        if np.any(np.diff(x) <= 0):
            raise SpectrumFormatError(f"{self.source}: Raman shift axis repeats a value")
        if self.laser_nm is not None and self.laser_nm not in SUPPORTED_LASERS_NM:
            raise SpectrumFormatError(
                f"{self.source}: laser_nm: must be one of {SUPPORTED_LASERS_NM}, "
                f"got {self.laser_nm}"
            )
        x.setflags(write=False)
        y.setflags(write=False)
        object.__setattr__(self, "shift_cm1", x)
        object.__setattr__(self, "intensity", y)

    def with_laser(self, laser_nm: int | None) -> Spectrum:
        """This spectrum with its excitation wavelength set (``None`` keeps it)."""
        if laser_nm is None or laser_nm == self.laser_nm:
            return self
        return Spectrum(self.shift_cm1, self.intensity, laser_nm, self.source, self.metadata)


def nearest_supported_laser(wavelength_nm: float) -> int | None:
    """The supported laser within 5 nm of ``wavelength_nm`` (784.82 -> 785), else None."""
    for laser in SUPPORTED_LASERS_NM:
        if abs(wavelength_nm - laser) <= 5.0:
            return laser
    return None


__all__ = ["SUPPORTED_LASERS_NM", "Spectrum", "nearest_supported_laser"]
