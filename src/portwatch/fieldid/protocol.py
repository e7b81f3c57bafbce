"""The re-measurement protocol on simulated samples: follow the engine's request.

A handheld that answers "too weak to decide" can measure the same sample again and
co-add. Here the simulator does so honestly: the extra acquisitions are of the *same*
sample (the same drawn band heights, widths, scattering strengths, fluorescence,
axis and drift: ``samples.expected_counts`` once), each with noise of its own from the
simulator's own noise model (``samples.acquire``: shot noise of bands and fluorescence,
read noise, cosmic rays), drawn from a generator keyed by the case and the
acquisition. The first acquisition is the single-acquisition rendering itself, so
a sample the engine asks nothing more of keeps its answer. The engine's request is
followed up to a budget of acquisitions per sample (``DEFAULT_BUDGET``, assumed), and
asked again after each co-add; the single-acquisition thresholds are used throughout.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from portwatch.fieldid.acquisitions import coadd, saturated_acquisition
from portwatch.fieldid.cases import Case
from portwatch.fieldid.identify import Analysis, Calibration, Identification, analyse, decide
from portwatch.fieldid.library import PeakEntry
from portwatch.fieldid.remeasure import MAX_ACQUISITIONS
from portwatch.fieldid.samples import acquire, expected_counts
from portwatch.fieldid.search import PreparedLibrary
from portwatch.fieldid.spectrum import Spectrum

#: Acquisitions per sample at most (assumed; docs/fieldid.md, "Re-measurement"):
#: the engine's own cap on what a handheld's time allows.
DEFAULT_BUDGET = MAX_ACQUISITIONS


@dataclass(frozen=True)
class Followed:
    """The answer after the protocol, and how many acquisitions it took."""

    identification: Identification
    acquisitions: int


def follow(
    case: Case,
    key: tuple[int, ...],
    first: Identification,
    table: Mapping[str, PeakEntry],
    prepared: PreparedLibrary,
    calibration: Calibration,
    budget: int = DEFAULT_BUDGET,
) -> Followed:
    """Follow ``first``'s re-measurement request on ``case`` up to ``budget`` acquisitions.

    ``key`` is the case's generator key (``calibrate.run_cases``: seed, laser, index):
    the sample and its first acquisition come from it as in the single rendering,
    acquisition ``k`` (from 1) from ``(*key, k)``.
    """
    ident = first
    if ident.remeasure is None or budget <= 1:
        return Followed(ident, 1)
    recipe = case.recipe
    rng = np.random.default_rng(list(key))
    axis, counts = expected_counts(recipe, table, rng)
    shots = [acquire(axis, counts, recipe, rng)]
    thresholds = calibration.thresholds[recipe.laser_nm]
    while ident.remeasure is not None and len(shots) < budget:
        n = min(ident.remeasure.acquisitions_needed, budget)
        for k in range(len(shots), n):
            shots.append(acquire(axis, counts, recipe, np.random.default_rng([*key, k])))
        ident = decide(_analysed(shots, prepared), thresholds, calibration)
    return Followed(ident, len(shots))


def _analysed(shots: list[Spectrum], prepared: PreparedLibrary) -> Analysis:
    """The co-added acquisitions analysed, each checked for saturation first."""
    spectrum = coadd(shots)
    failure = saturated_acquisition(shots)
    if failure is not None:
        return Analysis(spectrum.source, prepared.laser_nm, failure)
    return analyse(spectrum, prepared=prepared)


__all__ = ["DEFAULT_BUDGET", "Followed", "follow"]
