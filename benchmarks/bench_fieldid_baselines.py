"""Which fluorescence baseline, at 785 nm: a study on the synthetic *tuning* stream.

The same identification (shipped thresholds) runs with each background-removal stage
of pybaselines in place of the shipped arPLS (lambda 1e5): arPLS at 1e4 and 1e6,
airPLS, asymmetric least squares and SNIP. Counted on the tuning stream of seed 2027
(``cases.build_cases`` with the calibration offset, 2 repeats): pure drugs and pure
explosives named, and alarms and releases among the benign, look-alike, empty-bag and
unknown samples. The evaluation stream and the measured held-out and fresh splits are
not read. Run: ``python -m benchmarks fieldid_baselines`` (a minute or two).
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np
from pybaselines import Baseline

from portwatch.fieldid.calibrate import CALIBRATION_SEED_OFFSET, accepted_names
from portwatch.fieldid.cases import build_cases, peak_table
from portwatch.fieldid.identify import analyse, decide, load_calibration
from portwatch.fieldid.library import default_library
from portwatch.fieldid.preprocess import (
    FINGERPRINT_CM1,
    GRID_STEP_CM1,
    SMOOTH_FWHM_CM1,
    Crop,
    Despike,
    Normalize,
    Pipeline,
    Resample,
    Smooth,
)
from portwatch.fieldid.samples import render
from portwatch.fieldid.search import one_blas_thread, prepare

LASER_NM = 785
NEGATIVE_KINDS = ("benign", "lookalike", "empty_bag", "unknown")


@dataclass(frozen=True)
class AnyBaseline:
    """A pybaselines background stage: ``method`` with ``lam`` or SNIP's half window."""

    method: str
    lam: float = 0.0
    half_window: int = 0

    def apply(self, shift_cm1: np.ndarray, intensity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        fitter = Baseline(x_data=shift_cm1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if self.method == "snip":
                base, _ = fitter.snip(intensity, max_half_window=self.half_window)
            elif self.method == "asls":
                base, _ = fitter.asls(intensity, lam=self.lam, p=0.01)
            else:
                base, _ = getattr(fitter, self.method)(intensity, lam=self.lam)
        return shift_cm1, intensity - base


VARIANTS = {
    "arPLS 1e5 (shipped)": AnyBaseline("arpls", 1e5),
    "arPLS 1e4": AnyBaseline("arpls", 1e4),
    "arPLS 1e6": AnyBaseline("arpls", 1e6),
    "airPLS 1e5": AnyBaseline("airpls", 1e5),
    "AsLS 1e6, p 0.01": AnyBaseline("asls", 1e6),
    "SNIP, half window 40": AnyBaseline("snip", half_window=40),
}


def _count(stage: AnyBaseline) -> Counter[str]:
    low, high = FINGERPRINT_CM1
    # the shipped pipeline with only the baseline stage swapped
    pipeline = Pipeline(
        (Despike(), Crop(low - 20.0, high + 20.0), Resample(low, high, GRID_STEP_CM1), stage,
         Smooth(SMOOTH_FWHM_CM1), Normalize("area"))
    )  # fmt: skip
    prepared = prepare(default_library(), LASER_NM, pipeline)
    calibration = load_calibration()
    thresholds = calibration.thresholds[LASER_NM]
    seed = 2027 + CALIBRATION_SEED_OFFSET
    table = peak_table()
    out: Counter[str] = Counter()
    for i, case in enumerate(build_cases(seed, LASER_NM, 2)):
        if not (case.kind.startswith("pure") or case.kind in NEGATIVE_KINDS):
            continue
        spectrum = render(case.recipe, table, np.random.default_rng([seed, LASER_NM, i]))
        result = decide(analyse(spectrum, prepared=prepared), thresholds, calibration)
        alarm = result.verdict.value in ("controlled", "explosive")
        if case.kind.startswith("pure") and case.drug is not None:
            out[case.kind] += 1
            out[f"{case.kind} named"] += alarm and bool(
                accepted_names(case.drug) & result.flagged_candidates()
            )
        else:
            out["negatives"] += 1
            out["alarms"] += alarm
            out["released"] += result.verdict.value == "benign"
    return out


def main() -> None:
    print(
        "| baseline | pure drugs named | pure explosives named | alarms on negatives "
        "| negatives released |"
    )
    print("|---|---|---|---|---|")
    with one_blas_thread():
        for name, stage in VARIANTS.items():
            c = _count(stage)
            print(
                f"| {name} | {c['pure_drug named']}/{c['pure_drug']} | "
                f"{c['pure_explosive named']}/{c['pure_explosive']} | "
                f"{c['alarms']}/{c['negatives']} | {c['released']} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
