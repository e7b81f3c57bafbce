"""The informed adversary: a Stackelberg follower of the defender's policy."""

from __future__ import annotations

from typing import Any

import numpy as np

from portwatch.domain.errors import InputError
from portwatch.twin.adversaries.base import Adversary, AdversaryView, register_adversary
from portwatch.twin.adversaries.helpers import (
    PEDESTRIAN,
    PEDESTRIAN_MAX_KG,
    cell_index,
    check_non_negative,
    daily_counts,
    draw_drugs,
    make_plan,
    open_cells,
    times_in_hours,
    unravel,
)
from portwatch.twin.process.interdiction import InterdictionModel, interdiction_model
from portwatch.twin.process.plan import SEALED, TRAP, TRUCK, LoadPlan
from portwatch.twin.scenario.schema import CONCEALMENTS


@register_adversary("informed")
class InformedAdversary(Adversary):
    """Knows the defender's policy and best-responds to it, as the follower of a
    Stackelberg game: for each load (drug drawn by the scenario's shares) it picks the
    cell and concealment that maximise the expected value delivered, value x (1 - P),
    with P from ``portwatch.twin.process.interdiction.interdiction_model`` (the one model,
    computed from the process the kernel simulates) and the value reduced where the
    conveyance carries less (a pedestrian: at most ``PEDESTRIAN_MAX_KG``). ``rationality``
    is the precision of a quantal response (large: the pure best response; 0: uniform
    over cells); ``top`` spreads loads over that many best options so one cell is not
    flooded.
    """

    def __init__(self, rationality: float = 50.0, top: int = 3,
                 loads_per_day: float | None = None,
                 decoys_per_day: float | None = None) -> None:
        super().__init__()
        check_non_negative("rationality", rationality)
        if top < 1:
            raise InputError(f"top: must be >= 1, got {top}")
        check_non_negative("loads_per_day", loads_per_day)
        check_non_negative("decoys_per_day", decoys_per_day)
        self.rationality, self.top = rationality, top
        self.model: InterdictionModel | None = None  # derived: the model it responds to
        self.predicted: list[np.ndarray] = []  # derived: per plan, each load's chance
        self.loads_per_day, self.decoys_per_day = loads_per_day, decoys_per_day

    def params(self) -> dict[str, Any]:
        return {"rationality": self.rationality, "top": self.top,
                "loads_per_day": self.loads_per_day, "decoys_per_day": self.decoys_per_day}

    def options(self, view: AdversaryView) -> tuple[np.ndarray, np.ndarray]:
        """Feasible (flat cell, concealment) options and their seizure chance [option, drug]."""
        sc = view.scenario
        self.model = interdiction_model(sc, view.policy)
        p = self.model.p
        cells = cell_index(open_cells(sc))
        mode, lane, _ = unravel(cells)
        rows, probs = [], []
        for c in range(len(CONCEALMENTS)):
            ok = (mode == TRUCK) if c != TRAP else np.ones(len(cells), dtype=bool)
            if c in SEALED:
                ok &= (lane == 1) | ~sc.has_express[mode]
            for i in np.flatnonzero(ok):
                rows.append((cells[i], c))
                m, ln, h = unravel(np.array([cells[i]]))
                probs.append(p[m[0], ln[0], h[0], :, c])
        return np.array(rows, dtype=np.int64).reshape(-1, 2), np.array(probs).reshape(
            len(rows), len(sc.drugs))

    def plan_day(self, view: AdversaryView, rng: np.random.Generator) -> LoadPlan:
        sc = view.scenario
        n_loads, n_decoys = daily_counts(view, rng, self.loads_per_day, self.decoys_per_day)
        opts, p_seize = self.options(view)
        if not len(opts):
            return LoadPlan.empty()
        n = n_loads + n_decoys
        drug, mass = draw_drugs(sc, n, rng)
        choice = np.empty(n, dtype=np.int64)
        opt_mode = unravel(opts[:, 0])[0]
        for d in np.unique(drug[:n_loads]):
            rows = np.flatnonzero(drug[:n_loads] == d)
            mean_kg = sc.drug_mass_kg_mean[d]
            carried = np.where(opt_mode == PEDESTRIAN, min(mean_kg, PEDESTRIAN_MAX_KG) / mean_kg,
                               1.0)
            delivered = carried * (1.0 - p_seize[:, d])
            best = np.argsort(-delivered, kind="stable")[: self.top]
            logits = self.rationality * (delivered[best] - delivered[best].max())
            weights = np.exp(logits) / np.exp(logits).sum()
            choice[rows] = best[rng.choice(len(best), size=len(rows), p=weights)]
        # decoys ride in the hours and lanes of the loads: a dog that alerts on one is
        # away from the queue for the follow-up check while the loads cross (a decoy in
        # another hour would draw a dog that is back before the loads come)
        if n_loads:
            choice[n_loads:] = choice[rng.integers(0, n_loads, size=n_decoys)]
        else:
            choice[n_loads:] = rng.choice(len(opts), size=n_decoys)
        mode, lane, hour = unravel(opts[choice, 0])
        conc = opts[choice, 1]
        decoy = np.arange(n) >= n_loads
        plan = make_plan(times_in_hours(hour, rng), mode, lane, drug, mass, conc, decoy)
        assert self.model is not None  # set by options()
        self.predicted.append(self.model.of_plan(plan))
        return plan
