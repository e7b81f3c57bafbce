"""The peak-timing adversary: the hours and lanes least inspected."""

from __future__ import annotations

from typing import Any

import numpy as np

from portwatch.domain.errors import InputError
from portwatch.twin.adversaries.base import Adversary, AdversaryView, register_adversary
from portwatch.twin.adversaries.helpers import (
    cell_arrivals_per_hour,
    cell_index,
    check_non_negative,
    concealment_for,
    daily_counts,
    draw_drugs,
    make_plan,
    open_cells,
    times_in_hours,
    unravel,
)
from portwatch.twin.process.plan import LoadPlan


@register_adversary("peak-timing")
class PeakTimingAdversary(Adversary):
    """Sends loads through the hours and lanes where a vehicle is least likely inspected.

    Before it has watched the port, it assumes inspection is spread thin where traffic is
    heaviest (chance of inspection proportional to 1 / arrivals per hour); once it has
    seen days, it uses the observed share of conveyances inspected per cell, shrunk
    towards the port-wide share by ``prior_weight`` pseudo-conveyances, so that a quiet
    cell where nobody happened to be inspected (a few buses at night) does not look safe
    on a handful of observations. Loads go to the ``cells`` best cells (ties broken in
    favour of busier cells), with drugs and concealments by the scenario's shares.
    """

    def __init__(self, cells: int = 3, prior_weight: float = 200.0,
                 loads_per_day: float | None = None,
                 decoys_per_day: float | None = None) -> None:
        super().__init__()
        if cells < 1:
            raise InputError(f"cells: must be >= 1, got {cells}")
        check_non_negative("prior_weight", prior_weight)
        check_non_negative("loads_per_day", loads_per_day)
        check_non_negative("decoys_per_day", decoys_per_day)
        self.cells, self.prior_weight = cells, prior_weight
        self.loads_per_day, self.decoys_per_day = loads_per_day, decoys_per_day

    def params(self) -> dict[str, Any]:
        return {"cells": self.cells, "prior_weight": self.prior_weight,
                "loads_per_day": self.loads_per_day, "decoys_per_day": self.decoys_per_day}

    def inspection_estimate(self, view: AdversaryView) -> np.ndarray:
        """Estimated chance of inspection per cell [mode, lane, hour] (lower is better)."""
        lam = cell_arrivals_per_hour(view.scenario)
        seen = np.isfinite(view.inspection_share)
        if not seen.any():
            prior = 1.0 / np.maximum(lam, 1e-9)
            return prior / prior[lam > 0].max() if (lam > 0).any() else prior
        # conveyances watched per cell: its mean hourly traffic times the days seen
        watched = np.where(seen, lam * max(view.day, 1), 0.0)
        share = np.where(seen, view.inspection_share, 0.0)
        pooled = float((share * watched).sum() / max(watched.sum(), 1e-9))
        k = self.prior_weight
        return (share * watched + pooled * k) / (watched + k)

    def plan_day(self, view: AdversaryView, rng: np.random.Generator) -> LoadPlan:
        sc = view.scenario
        n_loads, n_decoys = daily_counts(view, rng, self.loads_per_day, self.decoys_per_day)
        flat = cell_index(open_cells(sc))
        if not len(flat):
            return LoadPlan.empty()
        est = self.inspection_estimate(view).ravel()[flat]
        lam = cell_arrivals_per_hour(sc).ravel()[flat]
        # among equal estimates, the busier cell: more vehicles to hide among
        best = flat[np.lexsort((-lam, est))[: self.cells]]
        n = n_loads + n_decoys
        mode, lane, hour = unravel(rng.choice(best, size=n))
        drug, mass = draw_drugs(sc, n, rng)
        conc = concealment_for(sc, mode, lane, rng)
        decoy = np.arange(n) >= n_loads
        return make_plan(times_in_hours(hour, rng), mode, lane, drug, mass, conc, decoy)
