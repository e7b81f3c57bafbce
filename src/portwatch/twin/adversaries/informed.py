"""The informed adversary: a Stackelberg follower of the defender's policy."""

from __future__ import annotations

from typing import Any

import numpy as np

from portwatch.domain.errors import InputError
from portwatch.twin.adversaries.base import Adversary, AdversaryView, register_adversary
from portwatch.twin.adversaries.helpers import (
    PEDESTRIAN,
    PEDESTRIAN_MAX_KG,
    cell_arrivals_per_hour,
    cell_index,
    check_non_negative,
    daily_counts,
    draw_drugs,
    fits,
    make_plan,
    open_cells,
    times_in_hours,
    unravel,
)
from portwatch.twin.process.interdiction import InterdictionModel, interdiction_model
from portwatch.twin.process.plan import SEALED, LoadPlan
from portwatch.twin.scenario.schema import CONCEALMENTS, CompiledScenario


@register_adversary("informed")
class InformedAdversary(Adversary):
    """Knows the defender's policy and best-responds to it, as the follower of a
    Stackelberg game: for each load (drug drawn by the scenario's shares) it picks the
    cell and concealment that maximise the expected value delivered, value x (1 - P),
    with P from ``portwatch.twin.process.interdiction.interdiction_model`` (the one model,
    computed from the process the kernel simulates) and the value reduced where the
    conveyance carries less (a pedestrian: at most ``PEDESTRIAN_MAX_KG``). ``rationality``
    is the precision of a quantal response (large: the pure best response; 0: uniform
    over cells); ``top`` spreads loads over that many best options. Like a business that
    plans its crossings, it sends into one (mode, lane, hour) cell at most
    ``max_cell_share`` (default: the scenario's ``contraband.economics.max_cell_share``)
    of that cell's legitimate conveyances an hour: its loads stay a small share of the
    traffic they hide in, so they neither stand out nor congest the lane, and the
    model's chance (measured on legitimate traffic) is the chance they meet.
    """

    def __init__(self, rationality: float = 50.0, top: int = 3,
                 loads_per_day: float | None = None,
                 decoys_per_day: float | None = None,
                 max_cell_share: float | None = None) -> None:
        super().__init__()
        check_non_negative("rationality", rationality)
        if top < 1:
            raise InputError(f"top: must be >= 1, got {top}")
        check_non_negative("loads_per_day", loads_per_day)
        check_non_negative("decoys_per_day", decoys_per_day)
        if max_cell_share is not None and not max_cell_share > 0.0:  # inf: no cap
            raise InputError(f"max_cell_share: must be > 0, got {max_cell_share}")
        self.max_cell_share = max_cell_share
        self.rationality, self.top = rationality, top
        self.model: InterdictionModel | None = None  # derived: the model it responds to
        self.predicted: list[np.ndarray] = []  # derived: per plan, each load's chance
        self.loads_per_day, self.decoys_per_day = loads_per_day, decoys_per_day

    def params(self) -> dict[str, Any]:
        return {"rationality": self.rationality, "top": self.top,
                "loads_per_day": self.loads_per_day, "decoys_per_day": self.decoys_per_day,
                "max_cell_share": self.max_cell_share}

    def options(self, view: AdversaryView) -> tuple[np.ndarray, np.ndarray]:
        """Feasible (flat cell, concealment) options and their seizure chance [option, drug]."""
        sc = view.scenario
        self.model = interdiction_model(sc, view.policy)
        p = self.model.p
        cells = cell_index(open_cells(sc))
        mode, lane, _ = unravel(cells)
        rows, probs = [], []
        for c in range(len(CONCEALMENTS)):
            ok = fits(mode, c)
            if c in SEALED:
                ok &= (lane == 1) | ~sc.has_express[mode]
            for i in np.flatnonzero(ok):
                rows.append((cells[i], c))
                m, ln, h = unravel(np.array([cells[i]]))
                probs.append(p[m[0], ln[0], h[0], :, c])
        return np.array(rows, dtype=np.int64).reshape(-1, 2), np.array(probs).reshape(
            len(rows), len(sc.drugs))

    def _delivered(self, sc: CompiledScenario, opts: np.ndarray, p_seize: np.ndarray,
                   ) -> np.ndarray:
        """Expected share of a load's value delivered [option, drug]: 1 - P, less where
        the conveyance carries less (a pedestrian)."""
        opt_mode = unravel(opts[:, 0])[0]
        carried = np.ones_like(p_seize)
        on_foot = opt_mode == PEDESTRIAN
        carried[on_foot] = (np.minimum(sc.drug_mass_kg_mean, PEDESTRIAN_MAX_KG)
                            / sc.drug_mass_kg_mean)[None, :]
        return carried * (1.0 - p_seize)

    def _cell_cap(self, sc: CompiledScenario) -> np.ndarray:
        """Loads a day each flat cell takes: ``max_cell_share`` of its legitimate
        conveyances an hour (``EconomicsSpec``), so the loads stay a small share of the
        traffic the interdiction model was measured on."""
        share = (self.max_cell_share if self.max_cell_share is not None
                 else sc.spec.contraband.economics.max_cell_share)
        legit = cell_arrivals_per_hour(sc).ravel()
        cap = np.zeros_like(legit)
        cap[legit > 0] = share * legit[legit > 0]  # inf x 0 would be NaN
        return cap

    def _pick(self, delivered: np.ndarray, order: np.ndarray, opt_cell: np.ndarray,
              cap: np.ndarray, used: np.ndarray, rng: np.random.Generator) -> int:
        """One load's option: a quantal response over the ``top`` best options whose
        cell has room under its cap; when every cell is full, over those whose cell the
        load would fill least (loads beyond the caps spread in proportion to traffic)."""
        fill = (used[opt_cell[order]] + 1.0) / np.maximum(cap[opt_cell[order]], 1e-12)
        room = fill <= 1.0
        if not room.any():
            room = fill <= fill.min() * (1.0 + 1e-9)
        best = order[room][: self.top]
        logits = self.rationality * (delivered[best] - delivered[best].max())
        weights = np.exp(logits) / np.exp(logits).sum()
        return int(best[rng.choice(len(best), p=weights)])

    def plan_day(self, view: AdversaryView, rng: np.random.Generator) -> LoadPlan:
        sc = view.scenario
        n_loads, n_decoys = daily_counts(view, rng, self.loads_per_day, self.decoys_per_day)
        opts, p_seize = self.options(view)
        if not len(opts):
            return LoadPlan.empty()
        n = n_loads + n_decoys
        drug, mass = draw_drugs(sc, n, rng)
        choice = np.empty(n, dtype=np.int64)
        delivered = self._delivered(sc, opts, p_seize)
        order = np.argsort(-delivered, axis=0, kind="stable")  # [rank, drug]: best first
        cap = self._cell_cap(sc)
        used = np.zeros_like(cap)
        for i in range(n_loads):
            choice[i] = self._pick(delivered[:, drug[i]], order[:, drug[i]], opts[:, 0],
                                   cap, used, rng)
            used[opts[choice[i], 0]] += 1.0
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
