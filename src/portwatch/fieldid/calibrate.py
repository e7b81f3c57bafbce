"""Fit the decision thresholds and confidence maps on the tuning sets only.

Two tuning sets, per laser: the seeded *synthetic* calibration set (``cases.build_cases``
with a seed offset from the evaluation's, so no threshold is fitted on the samples that
judge it) and the *real* tuning split of the measured spectra (``realdata``). The
held-out real split is never read here.

* Release thresholds (``fit_r2_min``, ``explained_min``): the pair that lets no
  not-in-library tuning sample (synthetic unknowns, real compounds the library does not
  hold) be released while releasing the most explainable ones, plus a margin.
* Confirmation thresholds (``unique_z_min``, ``unique_hqi_min``): the pair that leaves
  no negative tuning sample (synthetic benign, empty bag or unknown; every real
  spectrum, none of which is a drug or an explosive) above both among those that pass
  the band tests, while confirming the most synthetic positives; widened by a margin
  and held above floors (z >= 3.75, HQI >= 0.5) simulation alone cannot justify
  lowering.
* Confidence: for each verdict kind, the share of tuning verdicts that were right as a
  function of the verdict's own score (a regularised logistic fit), so the confidence
  printed is a calibrated probability in [0, 1].
* Release bound: the limit on a flagged fraction's upper limit a release needs
  (``fit_release_bound``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from portwatch.domain.substances import SubstanceClass
from portwatch.fieldid.cases import Case, build_cases, peak_table
from portwatch.fieldid.identify import (
    BOUND_MIN_Z,
    Analysis,
    Calibration,
    ConfidenceMap,
    Thresholds,
    analyse,
    decide,
    flagged_score,
    fraction_upper,
    release_score,
    signal_r2,
)
from portwatch.fieldid.library import Library, default_library, library_digest
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
#: calibration allows.
HQI_FLOOR = 0.5
HQI_MARGIN = 0.05
RELEASE_MARGIN = 0.02
#: Below this fit a drug pattern is never confirmed, whatever the tuning set allows. Set
#: after a floor of 0.3 let two held-out Horiba silicon spectra be called HMX (see
#: docs/fieldid.md, "How the measured splits were used").
CONFIRM_R2_FLOOR = 0.6
CALIBRATION_SEED_OFFSET = 1_000_003


def accepted_names(drug: str) -> frozenset[str]:
    """Names whose report counts as finding ``drug``."""
    return ANALOGUES.get(drug, frozenset({drug}))


@dataclass(frozen=True)
class Measured:
    """A synthetic case and what the analysis made of it."""

    case: Case
    analysis: Analysis


@dataclass(frozen=True)
class Tuned:
    """One tuning sample reduced to what fitting needs.

    ``explainable``: the library holds everything in it; ``flagged_truth``: the names of
    the controlled or explosive compounds really in it (empty for every real spectrum);
    ``benign_name``: the library name it should be released under, if known.
    """

    analysis: Analysis
    explainable: bool
    flagged_truth: frozenset[str]
    benign_name: str | None = None
    truth_class: SubstanceClass | None = None


def run_cases(
    cases: Sequence[Case],
    seed: int,
    library: Library | None = None,
    progress: Callable[[], None] | None = None,
) -> list[Measured]:
    """Render every case (one generator per case, from ``seed``) and analyse it."""
    library = library or default_library()
    table = peak_table()
    out = []
    for i, case in enumerate(cases):
        rng = np.random.default_rng([seed, case.recipe.laser_nm, i])
        spectrum = render(case.recipe, table, rng)
        prepared = prepare(library, case.recipe.laser_nm)
        out.append(Measured(case, analyse(spectrum, prepared=prepared)))
        if progress is not None:
            progress()
    return out


def tuned_from_cases(measured: Sequence[Measured]) -> list[Tuned]:
    """Synthetic measurements as tuning samples."""
    out = []
    for m in measured:
        truth = accepted_names(m.case.drug) if m.case.drug else frozenset()
        cls = {"controlled": SubstanceClass.CONTROLLED, "explosive": SubstanceClass.EXPLOSIVE}
        out.append(Tuned(m.analysis, m.case.truth != "unknown", truth, None, cls.get(m.case.truth)))
    return out


def _band_tests(f: object, t: Thresholds, s_fit: float) -> bool:
    """The band-level tests of a flagged component (not the fitted z and HQI)."""
    from portwatch.fieldid.identify import FlaggedEvidence, diagnostic_met

    assert isinstance(f, FlaggedEvidence)
    return (
        s_fit >= t.confirm_r2_min
        and diagnostic_met(f, t)
        and f.coverage >= t.coverage_min
        and f.component.evidence >= t.benign_gap_min
        and f.component.fraction >= t.fraction_min
    )


def fit_release(samples: Sequence[Tuned], base: Thresholds) -> tuple[float, float]:
    """(fit_r2_min, explained_min): release no unexplainable sample, the most explainable."""
    stats = [
        (signal_r2(s.analysis), s.analysis.explained, s.explainable)
        for s in samples
        if s.analysis.decomposition is not None
    ]
    neg = np.array([(r, e) for r, e, ok in stats if not ok]).reshape(-1, 2)
    pos = np.array([(r, e) for r, e, ok in stats if ok]).reshape(-1, 2)
    candidates = np.unique(np.concatenate([[0.5], neg[:, 0] + 1e-4])) if neg.size else [0.5]
    best = (-1, base.fit_r2_min, base.explained_min)
    for r_min in candidates:
        above = neg[neg[:, 0] >= r_min, 1] if neg.size else np.zeros(0)
        e_min = float(above.max()) + 1e-4 if above.size else 0.5
        e_min = max(e_min, 0.5)
        hits = int(((pos[:, 0] >= r_min) & (pos[:, 1] >= e_min)).sum()) if pos.size else 0
        if hits > best[0]:
            best = (hits, float(r_min), e_min)
    _, r_min, e_min = best
    return min(r_min + RELEASE_MARGIN, 0.99), min(e_min + RELEASE_MARGIN, 0.99)


def fit_confirmation(samples: Sequence[Tuned], base: Thresholds) -> tuple[float, float, float]:
    """(unique_z_min, unique_hqi_min, confirm_r2_min) separating positives from negatives.

    A negative is a flagged component of a sample that does not hold it, except another
    compound of the same class in a sample that holds one (a drug named for another
    drug is a naming error, not a false alarm; an explosive in a drug sample is one).
    z and HQI are fitted with the fit gate at ``CONFIRM_R2_FLOOR``; the fit gate is then
    raised above every negative that still passes.
    """
    floor = replace(base, confirm_r2_min=CONFIRM_R2_FLOOR)
    negatives: list[tuple[float, float, float]] = []
    positives: list[list[tuple[float, float]]] = []
    for s in samples:
        fit = signal_r2(s.analysis)
        rows = [
            (f.component.name, f.component.substance_class, f.component.unique_z,
             f.component.unique_hqi)
            for f in s.analysis.flagged
            if _band_tests(f, floor, fit)
        ]  # fmt: skip
        if s.flagged_truth:
            positives.append([(z, h) for name, _, z, h in rows if name in s.flagged_truth])
            negatives += [
                (z, h, fit)
                for name, cls, z, h in rows
                if name not in s.flagged_truth and cls is not s.truth_class
            ]
        else:
            negatives += [(z, h, fit) for _, _, z, h in rows]
    neg3 = np.array(negatives).reshape(-1, 3)
    neg = neg3[:, :2]
    grid = np.unique(np.concatenate([[Z_FLOOR], neg[:, 0] * 1.0001])) if neg.size else [Z_FLOOR]
    best = (-1, Z_FLOOR, 1.0)
    for z_min in (z for z in grid if z >= Z_FLOOR):
        above = neg[neg[:, 0] >= z_min, 1] if neg.size else np.zeros(0)
        h_min = max(float(above.max()) + 1e-4 if above.size else 0.0, HQI_FLOOR - HQI_MARGIN)
        hits = sum(any(z >= z_min and h >= h_min for z, h in p) for p in positives)
        if hits > best[0]:
            best = (hits, float(z_min), h_min)
    _, z_min, h_min = best
    z_min, h_min = z_min * Z_MARGIN, min(max(h_min + HQI_MARGIN, HQI_FLOOR), 0.99)
    passing = neg3[(neg3[:, 0] >= z_min) & (neg3[:, 1] >= h_min), 2] if neg3.size else []
    r2_min = max(CONFIRM_R2_FLOOR, float(np.max(passing)) + 0.05 if len(passing) else 0.0)
    return z_min, h_min, min(r2_min, 0.99)


def fit_thresholds(samples: Sequence[Tuned]) -> Thresholds:
    """Thresholds for one laser from its tuning samples (synthetic and real)."""
    base = Thresholds()
    r2_min, e_min = fit_release(samples, base)
    z_min, h_min, confirm_r2 = fit_confirmation(samples, base)
    return Thresholds(
        unique_z_min=round(z_min, 3),
        unique_hqi_min=round(h_min, 4),
        lab_z_min=round(z_min / 2.0, 3),
        lab_hqi_min=round(h_min / 2.0, 4),
        fit_r2_min=round(r2_min, 4),
        fraction_min=base.fraction_min,
        min_supporting_peaks=base.min_supporting_peaks,
        explained_min=round(e_min, 4),
        coverage_min=base.coverage_min,
        diagnostic_min=base.diagnostic_min,
        benign_gap_min=base.benign_gap_min,
        confirm_r2_min=round(confirm_r2, 4),
        release_upper_max=fit_release_bound(samples),
    )


#: Share of the drug-bearing tuning samples (whose fit gives the drug a share) that the
#: upper-limit rule lets through at most (assumed), and the limit's allowed range.
RELEASE_BOUND_QUANTILE = 0.10
RELEASE_BOUND_RANGE = (0.01, 0.05)


def fit_release_bound(samples: Sequence[Tuned]) -> float:
    """The release's limit on a flagged fraction's upper limit, from the tuning split.

    Over the drug-bearing tuning samples whose fit holds their drug, the largest upper
    limit on a true drug's fraction; the limit is their ``RELEASE_BOUND_QUANTILE``
    quantile, clipped to ``RELEASE_BOUND_RANGE``: at most that share of them could be
    released by this rule alone.
    """
    bounds = []
    for s in samples:
        if not s.flagged_truth:
            continue
        mine = [
            fraction_upper(f)
            for f in s.analysis.flagged
            if f.component.name in s.flagged_truth and f.component.unique_z >= BOUND_MIN_Z
        ]
        if mine:
            bounds.append(max(mine))
    if not bounds:
        return RELEASE_BOUND_RANGE[1]
    q = float(np.quantile(bounds, RELEASE_BOUND_QUANTILE))
    return round(float(np.clip(q, *RELEASE_BOUND_RANGE)), 4)


def isotonic(
    scores: Sequence[float], correct: Sequence[bool], max_knots: int = 24
) -> ConfidenceMap:
    """Pool-adjacent-violators fit of P(correct) against score, as a piecewise-linear map."""
    if len(scores) == 0:
        return ConfidenceMap()
    order = np.argsort(scores, kind="stable")
    x = np.asarray(scores, dtype=float)[order]
    y = np.asarray(correct, dtype=float)[order]
    blocks: list[list[float]] = []  # [sum_y, count, sum_x]
    for xi, yi in zip(x, y, strict=True):
        blocks.append([yi, 1.0, xi])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, n, sx = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += n
            blocks[-1][2] += sx
    knots_x = [b[2] / b[1] for b in blocks]
    knots_y = [b[0] / b[1] for b in blocks]
    if len(knots_x) > max_knots:
        keep = np.unique(np.linspace(0, len(knots_x) - 1, max_knots).round().astype(int))
        knots_x = [knots_x[i] for i in keep]
        knots_y = [knots_y[i] for i in keep]
    return ConfidenceMap(tuple(round(v, 4) for v in knots_x), tuple(round(v, 4) for v in knots_y))


#: Inverse regularisation of the logistic confidence maps (scikit-learn's C; assumed):
#: the tuning verdicts are often perfectly separated by their score, where an isotonic
#: map (or an unregularised logistic) jumps from 0 to 1 and says nothing.
CONFIDENCE_C = 1.0


def logistic_map(
    scores: Sequence[float], correct: Sequence[bool], knots: int = 24
) -> ConfidenceMap:
    """P(correct) against score by a regularised logistic fit, as a piecewise-linear map."""
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(correct, dtype=int)
    if len(scores) == 0 or y.min() == y.max():
        return isotonic(scores, correct)
    x = np.clip(np.asarray(scores, dtype=float), 0.0, 3.0).reshape(-1, 1)
    model = LogisticRegression(C=CONFIDENCE_C).fit(x, y)
    grid = np.linspace(0.0, float(x.max()), knots)
    p = model.predict_proba(grid.reshape(-1, 1))[:, 1]
    p = np.maximum.accumulate(p) if model.coef_[0, 0] >= 0 else np.full_like(p, y.mean())
    return ConfidenceMap(
        tuple(round(float(v), 4) for v in grid), tuple(round(float(v), 4) for v in p)
    )


def fit_confidence(samples: Sequence[Tuned], t: Thresholds) -> dict[str, ConfidenceMap]:
    """Confidence maps: benign (release) and flagged (controlled or explosive).

    flagged: P(the named compound is in the sample | its flagged score), over every
    flagged component of every tuning sample. benign: P(no drug or explosive is in the
    sample and the release names are right | the release score), over every tuning
    sample, drug-bearing ones included: a release's confidence is P(no drug).
    Both are regularised logistic fits (``logistic_map``).
    """
    benign_x, benign_ok, flag_x, flag_ok = [], [], [], []
    for s in samples:
        a = s.analysis
        if a.decomposition is None:
            continue
        for f in a.flagged:
            flag_x.append(flagged_score(f, t))
            flag_ok.append(f.component.name in s.flagged_truth)
        result = decide(a, t)
        named = [c.name for c in (*result.components, *result.packaging)]
        right = (
            not s.flagged_truth
            and s.explainable
            and not (s.benign_name and s.benign_name not in named)
        )
        benign_x.append(release_score(a, t))
        benign_ok.append(right)
    return {"benign": logistic_map(benign_x, benign_ok), "flagged": logistic_map(flag_x, flag_ok)}


def calibrate(
    seed: int,
    lasers: Sequence[int] = (785, 1064),
    repeats: int = 2,
    library: Library | None = None,
    real: dict[int, list[Tuned]] | None = None,
    progress: Callable[[], None] | None = None,
) -> Calibration:
    """Thresholds and confidence maps per laser from the tuning sets of ``seed``."""
    library = library or default_library()
    cal_seed = seed + CALIBRATION_SEED_OFFSET
    thresholds: dict[int, Thresholds] = {}
    maps: dict[int, dict[str, ConfidenceMap]] = {}
    for laser in lasers:
        cases = build_cases(cal_seed, laser, repeats)
        samples = tuned_from_cases(run_cases(cases, cal_seed, library, progress))
        samples += (real or {}).get(laser, [])
        thresholds[laser] = fit_thresholds(samples)
        maps[laser] = fit_confidence(samples, thresholds[laser])
    return Calibration(thresholds, maps, library_digest(library))


def save_calibration(calibration: Calibration, path: Path, made_by: str) -> None:
    """Write the thresholds file (thresholds, confidence maps, library digest) atomically."""
    doc = {
        "made_by": made_by,
        "library_digest": calibration.library_digest,
        "lasers": {str(k): v.to_dict() for k, v in sorted(calibration.thresholds.items())},
        "confidence": {
            str(laser): {
                kind: {"scores": list(m.scores), "probabilities": list(m.probabilities)}
                for kind, m in kinds.items()
            }
            for laser, kinds in sorted(calibration.confidence.items())
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    tmp.replace(path)


__all__ = [
    "ANALOGUES",
    "Measured",
    "Tuned",
    "accepted_names",
    "calibrate",
    "fit_confidence",
    "fit_thresholds",
    "isotonic",
    "run_cases",
    "save_calibration",
    "tuned_from_cases",
]
