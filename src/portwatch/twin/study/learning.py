"""The adaptive adversary offline: how close it comes to the best response of a fixed
policy when its loads are seized with the interdiction model's own chances.

No twin run: each day the learner plans its loads, each load is seized with the chance
``portwatch.twin.process.interdiction`` gives it (the one model, which the informed
adversary best-responds to), and the learner observes that (no public waits). Against
the model's expected loss per cell (``cell_loss``) its regret and its distance to the
best response can then be followed day by day. Used by the tests and by the figures in
``docs/targeting.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from portwatch.targeting.policy import N_LANES, N_MODES
from portwatch.twin.adversaries.adaptive import AdaptiveAdversary
from portwatch.twin.adversaries.base import AdversaryView, DayOutcome
from portwatch.twin.adversaries.economics import Economics
from portwatch.twin.adversaries.helpers import (
    COMMINGLED,
    PEDESTRIAN,
    PEDESTRIAN_MAX_KG,
    RAIL,
    unravel,
)
from portwatch.twin.process.interdiction import InterdictionModel
from portwatch.twin.process.plan import SEALED, TRAP, TRUCK
from portwatch.twin.scenario.schema import CompiledScenario


def concealment_pmf(scenario: CompiledScenario, mode: int, lane: int) -> np.ndarray:
    """The law of the concealment ``helpers.concealment_for`` draws in a cell."""
    pmf = np.asarray(scenario.concealment_share, dtype=np.float64).copy()
    sealed = list(SEALED)
    if mode == RAIL or (mode == TRUCK and lane == 0 and scenario.has_express[mode]):
        pmf[COMMINGLED] += pmf[sealed].sum()
        pmf[sealed] = 0.0
    elif mode != TRUCK:
        pmf = np.zeros_like(pmf)
        pmf[TRAP] = 1.0
    return pmf


def _mean_value_usd(scenario: CompiledScenario, drug: int, mode: int) -> float:
    """Mean value of a load of ``drug`` (lognormal mass; a pedestrian carries at most
    ``PEDESTRIAN_MAX_KG``: the partial expectation of the capped mass)."""
    sc = scenario
    mean = float(sc.drug_mass_kg_mean[drug])
    if mode == PEDESTRIAN:
        s = float(np.sqrt(np.log1p(sc.drug_mass_kg_cv[drug] ** 2)))
        mu = np.log(mean) - s * s / 2
        c = PEDESTRIAN_MAX_KG
        z = (np.log(c) - mu) / s
        mean = float(mean * stats.norm.cdf(z - s) + c * stats.norm.sf(z))
    return mean * float(sc.drug_value_usd_per_kg[drug])


def _expected_per_load(scenario: CompiledScenario, model: InterdictionModel,
                       cells: np.ndarray, weight: Callable[[int, int], float]) -> np.ndarray:
    """Sum over drugs of share x ``weight(drug, mode)`` x the chance a load of that drug
    is interdicted in each flat cell, concealment drawn as ``concealment_for`` draws it."""
    sc = scenario
    mode, lane, hour = unravel(cells)
    out = np.zeros(len(cells))
    for i in range(len(cells)):
        conc = concealment_pmf(sc, int(mode[i]), int(lane[i]))
        p = model.p[mode[i], lane[i], hour[i]]  # [drug, concealment]
        for d in range(len(sc.drugs)):
            out[i] += sc.drug_share[d] * weight(d, int(mode[i])) * float(p[d] @ conc)
    return out


def cell_loss(scenario: CompiledScenario, model: InterdictionModel,
              cells: np.ndarray) -> np.ndarray:
    """Expected value seized per load sent into each flat cell, as a share of the mean
    load's value (``Economics.value_per_load_usd``): the loss the adaptive adversary
    learns, with the drug drawn by the scenario's shares and the concealment as
    ``concealment_for`` draws it."""
    sc = scenario
    value = Economics.of(sc).value_per_load_usd
    return _expected_per_load(sc, model, cells,
                              lambda d, m: _mean_value_usd(sc, d, m)) / value


def cell_harm_caught(scenario: CompiledScenario, model: InterdictionModel,
                     cells: np.ndarray) -> np.ndarray:
    """Expected harm interdicted per load sent into each flat cell, with the drug drawn
    by the scenario's shares and the concealment as ``concealment_for`` draws it (the
    adaptive adversary's loads), in the scenario's harm units."""
    sc = scenario

    def harm(d: int, m: int) -> float:
        mass_kg = _mean_value_usd(sc, d, m) / float(sc.drug_value_usd_per_kg[d])
        return mass_kg * float(sc.drug_harm_per_kg[d])

    return _expected_per_load(sc, model, cells, harm)


@dataclass(frozen=True)
class LearningTrace:
    """Per day (before that day's plan): the learner's expected loss per load, its
    regret against the best cell, and the total variation between its distribution and
    the best responses (its loads in the cells within ``tie_tolerance`` of the least
    loss): the share of its loads elsewhere."""

    loss: np.ndarray
    regret: np.ndarray
    tv_to_best: np.ndarray
    best_loss: float


def learn_offline(scenario: CompiledScenario, model: InterdictionModel,
                  adversary: AdaptiveAdversary, days: int, rng: np.random.Generator,
                  tie_tolerance: float = 0.005) -> LearningTrace:
    """Run ``adversary`` for ``days`` days against ``model``'s seizure chances (see the
    module docstring). Decoys are seized never, as the model counts them. Cells whose
    loss is within ``tie_tolerance`` (a share of a load's value) of the least are all
    best responses."""
    nan = np.full((N_MODES, N_LANES, 24), np.nan)
    losses, regrets, tvs = [], [], []
    loss_of: np.ndarray | None = None
    best: np.ndarray | None = None
    for day in range(days):
        plan = adversary.plan_day(AdversaryView.blank(scenario, model.policy, day), rng)
        if loss_of is None:
            assert adversary.cells is not None  # set by its first plan
            loss_of = cell_loss(scenario, model, adversary.cells)
            best = loss_of <= loss_of.min() + tie_tolerance
        p = adversary.last_probabilities
        assert p is not None and best is not None
        losses.append(float(p @ loss_of))
        regrets.append(float(p @ loss_of - loss_of.min()))
        tvs.append(float(1.0 - p[best].sum()))
        chance = np.nan_to_num(model.of_plan(plan), nan=0.0)
        seized = rng.random(len(plan)) < chance
        adversary.observe(DayOutcome(day, plan, seized, seized.copy(), nan, nan))
    assert loss_of is not None
    return LearningTrace(np.array(losses), np.array(regrets), np.array(tvs),
                         float(loss_of.min()))


__all__ = ["LearningTrace", "cell_harm_caught", "cell_loss", "concealment_pmf", "learn_offline"]
