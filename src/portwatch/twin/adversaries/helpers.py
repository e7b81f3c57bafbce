"""Helpers shared by the adversaries: daily counts, drugs and masses, instants, the cells
where traffic flows, concealments that fit a conveyance, and a plan sorted by arrival.

A **cell** is a (mode, lane, hour) triple where traffic of that mode flows through an
open booth: the smuggler blends in with real traffic, so only cells with traffic are
candidates (``open_cells``).
"""

from __future__ import annotations

import math

import numpy as np

from portwatch.domain.errors import InputError
from portwatch.domain.modes import Mode
from portwatch.targeting.policy import N_LANES, N_MODES, mode_index
from portwatch.twin.adversaries.base import AdversaryView
from portwatch.twin.process.plan import DAY_S, HOUR_S, SEALED, TRAP, TRUCK, LoadPlan
from portwatch.twin.scenario.schema import CONCEALMENTS, CompiledScenario

PEDESTRIAN = 2
PEDESTRIAN_MAX_KG = 5.0
"""The most a pedestrian carries on the body (kg): ``assumed`` (no public figure; body
carries in CBP's seizure releases are a few kilograms)."""
COMMINGLED = CONCEALMENTS.index("commingled")
SEALED_PRE = CONCEALMENTS.index("sealed_pre")
SEALED_POST = CONCEALMENTS.index("sealed_post")
RAIL = mode_index(Mode.RAIL)


def fits(mode: np.ndarray, concealment: int) -> np.ndarray:
    """Where ``concealment`` fits a conveyance of ``mode``: a trap anywhere, commingled
    in cargo (a truck or a rail container), a sealed (enrolled) shipment in a truck."""
    if concealment == TRAP:
        return np.ones(mode.shape[0], dtype=bool)
    cargo = (mode == TRUCK) | ((mode == RAIL) & (concealment == COMMINGLED))
    return np.asarray(cargo, dtype=bool)


def draw_counts(scenario: CompiledScenario, rng: np.random.Generator) -> tuple[int, int]:
    """Poisson numbers of loads and decoys for one day, from the scenario's daily means."""
    return int(rng.poisson(scenario.loads_per_day)), int(rng.poisson(scenario.decoys_per_day))


def draw_drugs(
    scenario: CompiledScenario, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` drugs by the scenario's shares and their lognormal masses (kg)."""
    drug = rng.choice(len(scenario.drugs), size=n, p=scenario.drug_share)
    mean = scenario.drug_mass_kg_mean[drug]
    sigma2 = np.log1p(scenario.drug_mass_kg_cv[drug] ** 2)
    mass = rng.lognormal(np.log(mean) - sigma2 / 2, np.sqrt(sigma2))
    return drug, mass


def draw_times(profile: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` instants (s since the start of the day) spread by a 24-hour ``profile``."""
    p = np.asarray(profile, dtype=np.float64)
    hour = rng.choice(24, size=n, p=p / p.sum())
    return np.minimum((hour + rng.random(n)) * 3600.0, DAY_S - 1e-6)


def fit_concealment(
    scenario: CompiledScenario, mode: np.ndarray, concealment: np.ndarray
) -> np.ndarray:
    """Commingled and sealed concealments need cargo: on other modes they become a trap;
    a sealed one in a rail container is commingled (only trucks travel enrolled)."""
    out = concealment.copy()
    rail = mode == RAIL
    out[rail & np.isin(concealment, SEALED)] = COMMINGLED
    out[(mode != TRUCK) & ~rail & (concealment != TRAP)] = TRAP
    return out


def express_lane(scenario: CompiledScenario, mode: np.ndarray, concealment: np.ndarray,
                 ) -> np.ndarray:
    """Loads in sealed (enrolled) shipments take the express lane where it is open."""
    return (np.isin(concealment, SEALED) & scenario.has_express[mode]).astype(np.int64)


def cell_arrivals_per_hour(scenario: CompiledScenario) -> np.ndarray:
    """Mean legitimate arrivals per hour in each cell, float64 [mode, lane, hour]."""
    sc = scenario
    out = np.zeros((N_MODES, N_LANES, 24))
    for m in range(N_MODES):
        if not sc.mode_present[m]:
            continue
        per_hour = sc.daily_volume[m] * sc.hourly_profile[m]
        express = sc.enrolled_share[m] if sc.has_express[m] else 0.0
        out[m, 0] = per_hour * (1.0 - express)
        out[m, 1] = per_hour * express
    return out


def open_cells(scenario: CompiledScenario) -> np.ndarray:
    """True where a cell has traffic and a staffed booth, bool [mode, lane, hour]."""
    booths = scenario.booths.reshape(N_MODES, N_LANES, 24)
    return (cell_arrivals_per_hour(scenario) > 0) & (booths > 0)


def cell_index(cells: np.ndarray) -> np.ndarray:
    """Flat indices of the True cells, in (mode, lane, hour) order."""
    return np.flatnonzero(cells.ravel())


def unravel(flat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mode, lane, hour = np.unravel_index(flat, (N_MODES, N_LANES, 24))
    return mode.astype(np.int64), lane.astype(np.int64), hour.astype(np.int64)


def times_in_hours(hour: np.ndarray, rng: np.random.Generator,
                    width_s: float = HOUR_S) -> np.ndarray:
    """A uniform instant within ``width_s`` from the start of each ``hour``."""
    at = hour * HOUR_S + rng.random(hour.shape[0]) * width_s
    return np.minimum(at, DAY_S - 1e-6)


def concealment_for(scenario: CompiledScenario, mode: np.ndarray, lane: np.ndarray,
                     rng: np.random.Generator) -> np.ndarray:
    """Concealments by the scenario's shares that fit the conveyance and its lane.

    Trucks and rail containers carry cargo (commingled); a sealed load travels enrolled,
    so it needs a truck and, where the express lane is open, goes through it: rows drawn
    as sealed in the general lane fall back to commingled, in a rail container to
    commingled, on another mode to a trap.
    """
    conc = np.asarray(rng.choice(len(CONCEALMENTS), size=mode.shape[0],
                                 p=scenario.concealment_share), dtype=np.int64)
    truck = mode == TRUCK
    rail = mode == RAIL
    conc[rail & np.isin(conc, SEALED)] = COMMINGLED
    conc[~truck & ~rail] = TRAP
    sealed = np.isin(conc, SEALED)
    conc[truck & sealed & (lane == 0) & scenario.has_express[mode]] = COMMINGLED
    return conc


def make_plan(at: np.ndarray, mode: np.ndarray, lane: np.ndarray, drug: np.ndarray,
          mass: np.ndarray, conc: np.ndarray, decoy: np.ndarray) -> LoadPlan:
    """A plan sorted by arrival, with the decoy rows cleared of drug, mass and concealment,
    and a pedestrian's load no heavier than ``PEDESTRIAN_MAX_KG``."""
    drug = np.where(decoy, -1, drug)
    mass = np.where(mode == PEDESTRIAN, np.minimum(mass, PEDESTRIAN_MAX_KG), mass)
    mass = np.where(decoy, 0.0, mass)
    conc = np.where(decoy, -1, conc)
    order = np.argsort(at, kind="stable")
    return LoadPlan(at[order], mode[order], lane[order], drug[order], mass[order],
                    conc[order], decoy[order])


def daily_counts(view: AdversaryView, rng: np.random.Generator, loads_per_day: float | None,
            decoys_per_day: float | None) -> tuple[int, int]:
    """Poisson loads and decoys for the day: the scenario's rates, or the adversary's own,
    the loads scaled by deterrence (``economics.deterred_rate``: the expected profit of a
    load at the seizure chance its own history shows)."""
    from portwatch.twin.adversaries.economics import Economics, expected_seizure_prob

    sc = view.scenario
    econ = Economics.of(sc)
    factor = econ.deterrence(expected_seizure_prob(view.history, econ.reference_seizure_prob))
    n_loads = int(rng.poisson(sc.loads_per_day * factor))
    n_decoys = int(rng.poisson(sc.decoys_per_day))
    if loads_per_day is not None:
        n_loads = int(rng.poisson(loads_per_day * factor))
    if decoys_per_day is not None:
        n_decoys = int(rng.poisson(decoys_per_day))
    return n_loads, n_decoys


def check_non_negative(name: str, value: float | None) -> None:
    if value is not None and not (value >= 0 and math.isfinite(value)):
        raise InputError(f"{name}: must be >= 0, got {value}")



__all__ = [
    "PEDESTRIAN_MAX_KG",
    "cell_arrivals_per_hour",
    "cell_index",
    "check_non_negative",
    "concealment_for",
    "daily_counts",
    "draw_counts",
    "draw_drugs",
    "draw_times",
    "express_lane",
    "fit_concealment",
    "fits",
    "make_plan",
    "open_cells",
    "times_in_hours",
    "unravel",
]
