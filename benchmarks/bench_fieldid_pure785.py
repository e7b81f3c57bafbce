"""Pure drugs at 785 nm: where the misses are, and how much evidence the drug leaves.

The evaluation misses a few pure drugs at 785 nm (docs/fieldid.md, "Targets and what
is reached"). This study asks whether a threshold or a better test could find them, or
whether the spectrum does not hold the evidence. Two parts, both at 785 nm with the
shipped thresholds:

1. **The development seeds' misses.** The pure drugs of the evaluation streams of seeds
   ``DEV_SEEDS`` (the seeds the engine is developed on; never the reported one), as
   ``portwatch fieldid evaluate --repeats 2`` builds them. Each miss is measured again
   ``DRAWS`` times with fresh noise (same drug, bag, signal-to-noise and background):
   the share found at that condition, and the medians of the drug's own evidence, the
   matched-filter z of its diagnostic bands (a call needs 4) and the F statistic of
   replacing it by the best benign reference (a call needs ``benign_gap_min``).
2. **Detection by condition.** Each drug, through a random bag or none, at each
   signal-to-noise level and fluorescence band (``BANDS``, relative to the tallest band;
   heroin's times 3, as in the evaluation), ``N_PER_CELL`` samples: found, with its
   95% Wilson interval, and the same two medians.

A sample counts as found when the verdict is controlled and names the drug (or its
analogue). Seeded: a rerun gives the same tables. Run: ``python -m benchmarks
fieldid_pure785`` (about 30 s on one core, as docs/fieldid.md says).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from portwatch.domain.substances import SubstanceClass, Verdict
from portwatch.fieldid.calibrate import Measured, accepted_names
from portwatch.fieldid.cases import BAGS, HEROIN_FLUORESCENCE_FACTOR, MAX_DRIFT_CM1, build_cases
from portwatch.fieldid.cases import peak_table as load_table
from portwatch.fieldid.evaluate import Outcome
from portwatch.fieldid.identify import Analysis, Calibration, analyse, decide, load_calibration
from portwatch.fieldid.library import PeakEntry, default_library
from portwatch.fieldid.realeval import wilson
from portwatch.fieldid.samples import Recipe, names_of, render
from portwatch.fieldid.search import PreparedLibrary, one_blas_thread, prepare

LASER_NM = 785
DEV_SEEDS = (3001, 3002, 3003)
REPEATS = 2
DRAWS = 20
SEED = 7851
N_PER_CELL = 12
BANDS = ((0.5, 6.0), (6.0, 12.0), (12.0, 20.0))
SNR_LEVELS = (20.0, 50.0)
PeakTable = dict[str, PeakEntry]


def own_evidence(a: Analysis, drug: str) -> tuple[float, float] | None:
    """The drug's diagnostic-band matched-filter z and benign-gap F, if it is in the fit."""
    mine = [f for f in a.flagged if f.component.name in accepted_names(drug)]
    if not mine:
        return None
    return mine[0].matched.z, mine[0].component.evidence


def _found(a: Analysis, drug: str, cal: Calibration) -> bool:
    result = decide(a, cal.thresholds[LASER_NM], cal)
    return result.verdict is Verdict.CONTROLLED and bool(
        accepted_names(drug) & result.flagged_candidates()
    )


def _medians(rows: Sequence[tuple[float, float] | None]) -> str:
    seen = [r for r in rows if r is not None]
    if not seen:
        return "- | -"
    z, f = np.median([r[0] for r in seen]), np.median([r[1] for r in seen])
    return f"{z:.1f} | {f:.0f}"


def _redraw(
    recipe: Recipe,
    drug: str,
    key: Sequence[int],
    prepared: PreparedLibrary,
    cal: Calibration,
    table: PeakTable,
) -> str:
    found, evidence = 0, []
    for k in range(DRAWS):
        rng = np.random.default_rng([*key, k])
        a = analyse(render(recipe, table, rng), prepared=prepared)
        found += _found(a, drug, cal)
        evidence.append(None if a.gate is not None else own_evidence(a, drug))
    return f"{found}/{DRAWS} | {_medians(evidence)}"


def dev_misses(prepared: PreparedLibrary, cal: Calibration, table: PeakTable) -> None:
    print(f"\nMisses among the pure drugs of seeds {', '.join(map(str, DEV_SEEDS))} "
          f"(--repeats {REPEATS}), each measured again {DRAWS} times")  # fmt: skip
    print("| seed | drug | bag | SNR | background | verdict | found again | "
          "diagnostic z (median) | benign-gap F (median) |")  # fmt: skip
    print("|---" * 9 + "|")
    total = hits = 0
    for seed in DEV_SEEDS:
        cases = build_cases(seed, LASER_NM, REPEATS)
        for i, case in enumerate(cases):
            if case.kind != "pure_drug":
                continue
            rng = np.random.default_rng([seed, LASER_NM, i])
            a = analyse(render(case.recipe, table, rng), prepared=prepared)
            ident = decide(a, cal.thresholds[LASER_NM], cal)
            total += 1
            if Outcome(Measured(case, a), ident).detected:
                hits += 1
                continue
            r, drug = case.recipe, str(case.drug)
            again = _redraw(r, drug, (SEED, seed, i), prepared, cal, table)
            print(f"| {seed} | {drug} | {r.packaging or 'none'} | {r.snr:g} | "
                  f"{r.fluorescence:.1f}x | {ident.reason_code} | {again} |")  # fmt: skip
    low, high = wilson(hits, total)
    print(f"\nfound {hits}/{total} ({hits / total:.1%}, 95% CI {low:.1%}-{high:.1%})")


def by_condition(prepared: PreparedLibrary, cal: Calibration, table: PeakTable) -> None:
    drugs = names_of(table, SubstanceClass.CONTROLLED)
    print(f"\nDetection by condition, {N_PER_CELL} samples per cell (random bag or none)")
    print("| drug | SNR | background | found | 95% CI | diagnostic z (median) | "
          "benign-gap F (median) |")  # fmt: skip
    print("|---" * 7 + "|")
    bags: tuple[str | None, ...] = (None, *BAGS)
    for d, drug in enumerate(drugs):
        factor = HEROIN_FLUORESCENCE_FACTOR if drug == "heroin_hcl" else 1.0
        for snr in SNR_LEVELS:
            for b, (low, high) in enumerate(BANDS):
                found, evidence = 0, []
                for i in range(N_PER_CELL):
                    rng = np.random.default_rng([SEED, d, int(snr), b, i])
                    bag = bags[int(rng.integers(len(bags)))]
                    recipe = Recipe(
                        ((drug, 1.0),), LASER_NM, bag,
                        float(rng.uniform(0.2, 0.8)) if bag else 0.0, snr,
                        factor * float(rng.uniform(low, high)),
                        float(rng.uniform(-MAX_DRIFT_CM1, MAX_DRIFT_CM1)),
                    )  # fmt: skip
                    a = analyse(render(recipe, table, rng), prepared=prepared)
                    found += _found(a, drug, cal)
                    evidence.append(None if a.gate is not None else own_evidence(a, drug))
                lo, hi = wilson(found, N_PER_CELL)
                print(f"| {drug} | {snr:g} | {low:g}-{high:g}x | {found}/{N_PER_CELL} | "
                      f"{lo:.0%}-{hi:.0%} | {_medians(evidence)} |")  # fmt: skip


def main() -> None:
    cal = load_calibration()
    table = load_table()
    with one_blas_thread():
        prepared = prepare(default_library(), LASER_NM)
        dev_misses(prepared, cal, table)
        by_condition(prepared, cal, table)


if __name__ == "__main__":
    main()
