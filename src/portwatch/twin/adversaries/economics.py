"""The cartel as a business: what a load earns, what a load and a decoy cost, and how
many loads a day it sends for the seizure chance it expects (deterrence).

The figures come from the scenario: the drug table (shares, mean masses, value per kg)
and ``[contraband.economics]`` (``EconomicsSpec``, every default ``assumed``). The
seizure chance an adversary expects is what it could observe: its own loads seized so
far, shrunk towards ``reference_seizure_prob`` (the chance at which the scenario's
``loads_per_day`` is the flow) by ``PRIOR_LOADS`` pseudo-loads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from portwatch.twin.adversaries.base import DayOutcome
from portwatch.twin.scenario.schema import CompiledScenario

PRIOR_LOADS = 20.0
"""Pseudo-loads of the prior on the seizure chance: an organisation does not rewrite its
plans on a handful of loads (``assumed``)."""


@dataclass(frozen=True)
class Economics:
    """A scenario's load economics, in USD per load or decoy."""

    value_per_load_usd: float  # mean over the drug mix of mass x value per kg
    load_cost_usd: float  # driver, vehicle and the drug at its source price
    decoy_cost_usd: float  # driver, vehicle (burned) and the trace drug
    elasticity: float
    reference_seizure_prob: float

    @classmethod
    def of(cls, scenario: CompiledScenario) -> Economics:
        e = scenario.spec.contraband.economics
        value = float(np.sum(scenario.drug_share * scenario.drug_mass_kg_mean
                             * scenario.drug_value_usd_per_kg))
        return cls(
            value_per_load_usd=value,
            load_cost_usd=e.driver_fee_usd + e.vehicle_usd + e.source_price_share * value,
            decoy_cost_usd=e.driver_fee_usd + e.vehicle_usd + e.trace_drug_usd,
            elasticity=e.elasticity, reference_seizure_prob=e.reference_seizure_prob)

    def load_profit_usd(self, seizure_prob: float) -> float:
        """Expected profit of one load: its value if it crosses, less what it cost."""
        return (1.0 - seizure_prob) * self.value_per_load_usd - self.load_cost_usd

    def deterrence(self, seizure_prob: float) -> float:
        """Factor on the loads per day at this expected seizure chance (1 at the
        reference chance; 0 once a load no longer pays)."""
        now = self.load_profit_usd(seizure_prob)
        ref = self.load_profit_usd(self.reference_seizure_prob)
        if now <= 0 or ref <= 0:
            return 0.0
        return float((now / ref) ** self.elasticity)

    def loads_for_budget(self, budget_usd: float, decoys: int) -> float:
        """Loads a budget pays for once ``decoys`` decoys are paid."""
        if self.load_cost_usd <= 0:
            return 0.0
        return max(0.0, budget_usd - decoys * self.decoy_cost_usd) / self.load_cost_usd


def expected_seizure_prob(history: Sequence[DayOutcome], reference: float) -> float:
    """The seizure chance an adversary expects from its own loads seen so far."""
    sent = seized = 0.0
    for o in history:
        loads = ~o.plan.is_decoy
        sent += float(loads.sum())
        seized += float((o.interdicted & loads).sum())
    return (seized + PRIOR_LOADS * reference) / (sent + PRIOR_LOADS)


def deterred_rate(scenario: CompiledScenario, base_per_day: float,
                  history: Sequence[DayOutcome]) -> float:
    """``base_per_day`` loads scaled by the deterrence of the seizures it has seen."""
    econ = Economics.of(scenario)
    p = expected_seizure_prob(history, econ.reference_seizure_prob)
    return base_per_day * econ.deterrence(p)


__all__ = ["PRIOR_LOADS", "Economics", "deterred_rate", "expected_seizure_prob"]
