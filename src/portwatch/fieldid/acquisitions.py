"""Several acquisitions of one sample, co-added into one spectrum.

Handheld analysers co-add scans (or extend the integration) until the signal-to-noise
suffices. Each acquisition of the same sample on the same instrument has the same
pixel axis and laser; its noise (shot noise of the bands and of the fluorescence,
read noise) is independent, so the mean of ``n`` acquisitions has ``1/sqrt(n)`` of the
noise of one while the bands stay where they are. Acquisitions are checked before they
are added: a different axis or laser is an error (they are not one sample on one
instrument), and each is checked for saturation on its own, since a clipped top
averaged with an unclipped acquisition no longer looks flat.

The count of co-added acquisitions travels in the spectrum's metadata
(``ACQUISITIONS_KEY``), so a re-measurement request (``remeasure``) can say how many
*more* are needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from portwatch.domain.errors import InputError
from portwatch.fieldid.gates import GateFailure, check_file_size, check_saturation
from portwatch.fieldid.spectrum import Spectrum

if TYPE_CHECKING:
    from portwatch.fieldid.identify import Calibration, Identification
    from portwatch.fieldid.library import Library
    from portwatch.fieldid.search import PreparedLibrary

#: Metadata key holding how many acquisitions a spectrum is the mean of.
ACQUISITIONS_KEY = "acquisitions"
#: Pixel axes of one instrument agree to the digits a file keeps; beyond this (cm-1)
#: two acquisitions were not recorded on the same axis.
AXIS_TOLERANCE_CM1 = 0.01


def acquisitions_of(spectrum: Spectrum) -> int:
    """How many acquisitions ``spectrum`` is the mean of (1 unless co-added here)."""
    try:
        return max(int(spectrum.metadata.get(ACQUISITIONS_KEY, "1")), 1)
    except ValueError:
        return 1


def _check_same(first: Spectrum, other: Spectrum) -> None:
    """Refuse ``other`` unless it shares ``first``'s laser and pixel axis."""
    known = first.laser_nm is not None and other.laser_nm is not None
    if known and first.laser_nm != other.laser_nm:
        raise InputError(
            f"{other.source}: laser {other.laser_nm} nm differs from {first.source}'s "
            f"{first.laser_nm} nm; acquisitions of one sample must share the laser"
        )
    a, b = first.shift_cm1, other.shift_cm1
    if a.size != b.size:
        raise InputError(
            f"{other.source}: axis has {b.size} points, {first.source} has {a.size}; "
            "acquisitions of one sample must share the pixel axis"
        )
    off = float(np.abs(a - b).max())
    if off > AXIS_TOLERANCE_CM1:
        raise InputError(
            f"{other.source}: axis differs from {first.source}'s by up to {off:.2f} cm-1; "
            "acquisitions of one sample must share the pixel axis"
        )


def coadd(spectra: Sequence[Spectrum]) -> Spectrum:
    """The mean of acquisitions of one sample, weighted by how many each already holds.

    Raises ``InputError`` (one line, naming the acquisition) when there is none, or when
    two differ in laser or pixel axis. Saturation is for ``saturated_acquisition``.
    """
    if not spectra:
        raise InputError("acquisitions: at least one is needed")
    first = spectra[0]
    for other in spectra[1:]:
        _check_same(first, other)
    weights = np.array([acquisitions_of(s) for s in spectra], dtype=float)
    stack = np.stack([np.asarray(s.intensity, dtype=float) for s in spectra])
    mean = weights @ stack / weights.sum()
    laser = next((s.laser_nm for s in spectra if s.laser_nm is not None), None)
    meta = dict(first.metadata, **{ACQUISITIONS_KEY: str(int(weights.sum()))})
    return Spectrum(first.shift_cm1, mean, laser, first.source, meta)


def saturated_acquisition(spectra: Sequence[Spectrum]) -> GateFailure | None:
    """The first acquisition whose detector clipped (``gates.check_saturation``), if any."""
    for s in spectra:
        failure = check_saturation(s)
        if failure is not None:
            return GateFailure(failure.code, f"acquisition {s.source}: {failure.reason}")
    return None


def identify_coadded(
    spectra: Sequence[Spectrum],
    library: Library | None = None,
    laser_nm: int | None = None,
    calibration: Calibration | None = None,
    calibration_shift_cm1: float | None = None,
    prepared: PreparedLibrary | None = None,
) -> Identification:
    """Identify the co-added acquisitions of one sample (each checked for saturation)."""
    from portwatch.fieldid.identify import (
        DEFAULT_LASER_NM,
        Analysis,
        Thresholds,
        decide,
        identify,
        load_calibration,
    )

    spectrum = coadd(spectra)
    failure = saturated_acquisition(spectra)
    if failure is not None:
        laser = laser_nm or spectrum.laser_nm or DEFAULT_LASER_NM
        analysis = Analysis(spectrum.source, laser, failure, acquisitions=acquisitions_of(spectrum))
        return decide(analysis, Thresholds(), calibration or load_calibration())
    return identify(
        spectrum, library, laser_nm, calibration, calibration_shift_cm1, prepared=prepared
    )


def identify_acquisitions(
    paths: Sequence[Path],
    library: Library | None = None,
    laser_nm: int | None = None,
    calibration: Calibration | None = None,
    calibration_shift_cm1: float | None = None,
    prepared: dict[int, PreparedLibrary] | None = None,
) -> Identification:
    """Identify the files ``paths`` as acquisitions of one sample, co-added.

    An oversize file is refused before it is read (the answer is ``inconclusive``); an
    unreadable one, or files of different lasers or axes, raise ``InputError``. The
    lasers compared are the files' own; ``laser_nm`` then applies to all. The result is
    named by the first path as given.
    """
    from portwatch.fieldid.identify import DEFAULT_LASER_NM, Analysis, Thresholds, decide
    from portwatch.fieldid.readers import read_spectrum
    from portwatch.fieldid.search import prepare_cached

    if not paths:
        raise InputError("acquisitions: at least one file is needed")
    label = str(paths[0])
    for path in paths:
        failure = check_file_size(Path(path))
        if failure is not None:
            failure = GateFailure(failure.code, f"acquisition {path}: {failure.reason}")
            laser = laser_nm or DEFAULT_LASER_NM
            return decide(Analysis(label, laser, failure), Thresholds(), calibration)
    own = [read_spectrum(p) for p in paths]
    spectra = [
        Spectrum(s.shift_cm1, s.intensity, s.laser_nm, str(p), s.metadata)
        for s, p in zip(own, paths, strict=True)
    ]
    coadd(spectra)  # the files' own lasers and axes must agree, before any override
    spectra = [s.with_laser(laser_nm) for s in spectra]
    laser = laser_nm or next((s.laser_nm for s in spectra if s.laser_nm), DEFAULT_LASER_NM)
    held = prepared if prepared is not None else {}
    if laser not in held:
        from portwatch.fieldid.library import default_library

        held[laser] = prepare_cached(library or default_library(), laser)
    return identify_coadded(
        spectra, library, laser_nm, calibration, calibration_shift_cm1, held[laser]
    )


__all__ = [
    "ACQUISITIONS_KEY",
    "acquisitions_of",
    "coadd",
    "identify_acquisitions",
    "identify_coadded",
    "saturated_acquisition",
]
