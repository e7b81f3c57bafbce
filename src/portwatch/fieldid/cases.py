"""Seeded sets of simulated samples for calibration and evaluation.

One generator builds both; they differ only in their seed, so the thresholds are
never fitted on the samples they are judged by. Each set holds, per laser: pure
drugs (bare and through PE, PP and PET), drug-in-matrix sweeps over the drug fraction
at each signal-to-noise level (the detection-limit design), ternary mixtures, pure and
mixed cutting agents (the look-alikes among them), empty bags, and compounds no
library holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from portwatch.domain.substances import SubstanceClass
from portwatch.fieldid.library import PeakEntry, load_peak_table
from portwatch.fieldid.samples import Recipe, names_of, random_unknown

#: Drug mass fractions of the detection-limit sweep.
FRACTIONS = (0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75)
#: Matrices of the detection-limit sweep (the common diluents of street samples).
SWEEP_MATRICES = ("lactose", "mannitol", "caffeine", "sodium_bicarbonate")
#: Packaging the issue asks to measure through (polystyrene stays a library entry).
BAGS = ("polyethylene", "polypropylene", "pet")
#: Shot-noise-limited signal-to-noise of the tallest Raman band.
SNR_LEVELS = (20.0, 50.0, 150.0)
#: Fluorescence background height relative to the tallest Raman band, per laser:
#: strong at 785 nm, weak at 1064 nm (the reason 1064 nm handhelds exist).
FLUORESCENCE_RANGE = {785: (0.5, 20.0), 1064: (0.0, 0.5)}
#: Street heroin fluoresces much more at 785 nm (Drug Test. Anal. 2010, cited in the
#: peak table); its background is multiplied by this.
HEROIN_FLUORESCENCE_FACTOR = 3.0
MAX_DRIFT_CM1 = 2.0


@dataclass(frozen=True)
class Case:
    """A sample with its truth: ``truth`` is controlled, explosive, benign or unknown.

    ``kind`` is pure_drug, pure_explosive, sweep, ternary, benign, lookalike, empty_bag or
    unknown (for an explosive, ``drug`` names it);
    ``drug``/``drug_fraction``/``matrix`` describe the drug content, if any.
    """

    recipe: Recipe
    truth: str
    kind: str
    drug: str | None = None
    drug_fraction: float = 0.0
    matrix: str | None = None


def peak_table() -> dict[str, PeakEntry]:
    """The shipped peak table by compound name."""
    return {e.name: e for e in load_peak_table()}


def _conditions(rng: np.random.Generator, laser_nm: int, has_heroin: bool) -> dict[str, float]:
    low, high = FLUORESCENCE_RANGE[laser_nm]
    fluorescence = rng.uniform(low, high)
    if has_heroin and laser_nm == 785:
        fluorescence *= HEROIN_FLUORESCENCE_FACTOR
    return {
        "snr": float(rng.choice(SNR_LEVELS)),
        "fluorescence": float(fluorescence),
        "shift_cm1": float(rng.uniform(-MAX_DRIFT_CM1, MAX_DRIFT_CM1)),
    }


def _recipe(
    rng: np.random.Generator,
    laser_nm: int,
    contents: tuple[tuple[str, float], ...],
    bag: str | None,
    unknown: tuple[tuple[float, float], ...] = (),
    snr: float | None = None,
) -> Recipe:
    heroin = any(name == "heroin_hcl" for name, _ in contents)
    share = float(rng.uniform(0.2, 0.8)) if bag else 0.0
    conditions = _conditions(rng, laser_nm, heroin)
    if snr is not None:
        conditions["snr"] = snr
    return Recipe(contents, laser_nm, bag, share, unknown_peaks=unknown, **conditions)


def build_cases(seed: int, laser_nm: int, repeats: int = 3) -> list[Case]:
    """The seeded sample set for one laser; ``repeats`` scales every cell."""
    rng = np.random.default_rng([seed, laser_nm])
    table = peak_table()
    drugs = names_of(table, SubstanceClass.CONTROLLED)
    cutting = names_of(table, SubstanceClass.CUTTING_AGENT)
    explosives = names_of(table, SubstanceClass.EXPLOSIVE)
    cases: list[Case] = []
    bags: tuple[str | None, ...] = (None, *BAGS)
    bag_choices = np.array(bags, dtype=object)
    for _ in range(repeats):
        for drug in drugs:
            for bag in bags:
                recipe = _recipe(rng, laser_nm, ((drug, 1.0),), bag)
                cases.append(Case(recipe, "controlled", "pure_drug", drug, 1.0, None))
            for matrix in SWEEP_MATRICES:
                for f in FRACTIONS:
                    # stratified by signal-to-noise, so a detection limit exists per level
                    for snr in SNR_LEVELS:
                        binary = ((drug, f), (matrix, 1.0 - f))
                        recipe = _recipe(rng, laser_nm, binary, None, snr=snr)
                        cases.append(Case(recipe, "controlled", "sweep", drug, f, matrix))
            a, b = rng.choice(cutting, 2, replace=False)
            f = float(rng.choice(FRACTIONS[2:]))
            split = float(rng.uniform(0.3, 0.7))
            contents = ((drug, f), (str(a), (1 - f) * split), (str(b), (1 - f) * (1 - split)))
            recipe = _recipe(rng, laser_nm, contents, rng.choice(bag_choices))
            cases.append(Case(recipe, "controlled", "ternary", drug, f, f"{a}+{b}"))
        for explosive in explosives:
            for bag in bags:
                recipe = _recipe(rng, laser_nm, ((explosive, 1.0),), bag)
                cases.append(Case(recipe, "explosive", "pure_explosive", explosive, 1.0, None))
        for agent in cutting:
            for bag in bags:
                kind = "lookalike" if agent in ("procaine", "lidocaine") else "benign"
                cases.append(Case(_recipe(rng, laser_nm, ((agent, 1.0),), bag), "benign", kind))
        for _ in range(len(cutting)):
            a, b = rng.choice(cutting, 2, replace=False)
            f = float(rng.uniform(0.2, 0.8))
            recipe = _recipe(rng, laser_nm, ((str(a), f), (str(b), 1 - f)), rng.choice(bag_choices))
            cases.append(Case(recipe, "benign", "benign"))
        for bag in (*BAGS, "polystyrene"):
            cases.append(Case(_recipe(rng, laser_nm, (), bag), "benign", "empty_bag"))
        for _ in range(6):
            unknown = random_unknown(rng)
            recipe = _recipe(rng, laser_nm, (("unknown", 1.0),), rng.choice(bag_choices), unknown)
            cases.append(Case(recipe, "unknown", "unknown"))
    return cases


__all__ = ["BAGS", "FRACTIONS", "SNR_LEVELS", "SWEEP_MATRICES", "Case", "build_cases", "peak_table"]
