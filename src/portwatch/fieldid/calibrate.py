"""Calibrate the decision thresholds on a seeded set of simulated samples.

The calibration set comes from ``cases.build_cases`` with its own seed; the
evaluation uses another, so no threshold is fitted on the samples that judge it.
For each laser the confirmation thresholds are the pair (unique-signal z-score,
unique-signal HQI) that leaves no benign, empty-bag or unknown calibration sample
above both while confirming the most drug samples, then widened by a safety margin
and held above floors (z >= 3.75, HQI >= 0.5) that simulation alone cannot justify
lowering.
The lab thresholds sit at half of each; the fit threshold (below which
nothing is confirmed or released) is the 2nd percentile of the fit of samples the
library can explain, and only samples above it enter the threshold search.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from portwatch.fieldid.cases import Case, build_cases, peak_table
from portwatch.fieldid.identify import Analysis, Thresholds, analyse, controlled_statistics
from portwatch.fieldid.library import Library, default_library
from portwatch.fieldid.samples import render
from portwatch.fieldid.search import prepare

#: Fentanyl and carfentanil share every band of the peak table but carfentanil's weak
#: ester C=O band near 1730 cm-1, so either name counts as finding the other.
ANALOGUES: dict[str, frozenset[str]] = {
    "fentanyl": frozenset({"fentanyl", "carfentanil"}),
    "carfentanil": frozenset({"fentanyl", "carfentanil"}),
}
Z_MARGIN = 1.25
Z_FLOOR = 3.0
#: The unique signal must correlate with the reference at r >= 0.7 whatever the
#: simulated calibration allows: on a measured polystyrene spectrum (tests/fieldid,
#: Horiba) a gap in the peak table left a fentanyl-like unique signal at HQI 0.41.
HQI_FLOOR = 0.5
HQI_MARGIN = 0.05
CALIBRATION_SEED_OFFSET = 1_000_003


def accepted_names(drug: str) -> frozenset[str]:
    """Names whose report counts as finding ``drug``."""
    return ANALOGUES.get(drug, frozenset({drug}))


@dataclass(frozen=True)
class Measured:
    """A case and what the analysis made of it."""

    case: Case
    analysis: Analysis


def run_cases(cases: Sequence[Case], seed: int, library: Library | None = None) -> list[Measured]:
    """Render every case (one generator per case, from ``seed``) and analyse it."""
    library = library or default_library()
    table = peak_table()
    out = []
    for i, case in enumerate(cases):
        rng = np.random.default_rng([seed, case.recipe.laser_nm, i])
        spectrum = render(case.recipe, table, rng)
        prepared = prepare(library, case.recipe.laser_nm)
        out.append(Measured(case, analyse(spectrum, prepared=prepared)))
    return out


def _controlled(m: Measured, fraction_min: float, peaks_min: int) -> list[tuple[str, float, float]]:
    """(name, unique z, unique HQI) of controlled components past the fixed gates."""
    rows = []
    for c, z, hqi in controlled_statistics(m.analysis.decomposition):
        if c.fraction < fraction_min:
            continue
        if len(m.analysis.supporting_peaks.get(c.name, ())) < peaks_min:
            continue
        rows.append((c.name, z, hqi))
    return rows


def fit_thresholds(measured: Sequence[Measured]) -> Thresholds:
    """Thresholds for one laser from its calibration measurements."""
    base = Thresholds()
    explainable = [m.analysis.decomposition.fit_r2 for m in measured if m.case.truth != "unknown"]
    fit_min = float(np.percentile(explainable, 2.0)) if explainable else base.fit_r2_min
    negatives: list[tuple[float, float]] = []
    positives: list[list[tuple[float, float]]] = []
    for m in measured:
        if m.analysis.decomposition.fit_r2 < fit_min:
            continue  # never confirmed, whatever its statistics: the fit gate sends it to the lab
        rows = _controlled(m, base.fraction_min, base.min_supporting_peaks)
        if m.case.truth == "controlled" and m.case.drug is not None:
            ok = accepted_names(m.case.drug)
            positives.append([(e, s) for name, e, s in rows if name in ok])
        else:
            negatives.extend((e, s) for _, e, s in rows)
    neg = np.array(negatives).reshape(-1, 2)
    # below z = 3 a "unique signal" is indistinguishable from noise, whatever calibration says
    grid = np.unique(np.concatenate([[Z_FLOOR], neg[:, 0] * 1.0001])) if neg.size else [Z_FLOOR]
    evidence_grid = [z for z in grid if z >= Z_FLOOR]
    best = (-1, Z_FLOOR, 1.0)
    for e_min in evidence_grid:
        # the smallest HQI threshold that clears every negative at this z level
        above = neg[neg[:, 0] >= e_min, 1] if neg.size else np.zeros(0)
        s_min = float(above.max()) + 1e-4 if above.size else 0.0
        s_min = max(s_min, HQI_FLOOR - HQI_MARGIN)
        hits = sum(any(e >= e_min and s >= s_min for e, s in p) for p in positives)
        if hits > best[0]:
            best = (hits, float(e_min), s_min)
    _, e_min, s_min = best
    z_min = e_min * Z_MARGIN
    hqi_min = min(max(s_min + HQI_MARGIN, HQI_FLOOR), 0.99)
    return Thresholds(
        unique_z_min=round(z_min, 3),
        unique_hqi_min=round(hqi_min, 4),
        lab_z_min=round(z_min / 2.0, 3),
        lab_hqi_min=round(hqi_min / 2.0, 4),
        fit_r2_min=round(fit_min, 4),
        fraction_min=base.fraction_min,
        min_supporting_peaks=base.min_supporting_peaks,
    )


def calibrate(
    seed: int,
    lasers: Sequence[int] = (785, 1064),
    repeats: int = 2,
    library: Library | None = None,
) -> dict[int, Thresholds]:
    """Thresholds per laser from the calibration set of ``seed`` (offset from evaluation)."""
    out = {}
    cal_seed = seed + CALIBRATION_SEED_OFFSET
    for laser in lasers:
        measured = run_cases(build_cases(cal_seed, laser, repeats), cal_seed, library)
        out[laser] = fit_thresholds(measured)
    return out


def save_thresholds(thresholds: dict[int, Thresholds], path: Path, seed: int, repeats: int) -> None:
    """Write the thresholds file with how it was made."""
    doc = {
        "made_by": f"portwatch fieldid calibrate --seed {seed} --repeats {repeats}",
        "calibration_seed": seed + CALIBRATION_SEED_OFFSET,
        "lasers": {str(k): v.to_dict() for k, v in sorted(thresholds.items())},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    tmp.replace(path)


__all__ = [
    "ANALOGUES",
    "Measured",
    "accepted_names",
    "calibrate",
    "fit_thresholds",
    "run_cases",
    "save_thresholds",
]
