"""The naive adversary: loads spread like traffic."""

from __future__ import annotations

import numpy as np

from portwatch.targeting.policy import N_MODES
from portwatch.twin.adversaries.base import Adversary, AdversaryView, register_adversary
from portwatch.twin.adversaries.helpers import (
    draw_counts,
    draw_drugs,
    draw_times,
    express_lane,
    fit_concealment,
)
from portwatch.twin.process.plan import LoadPlan
from portwatch.twin.scenario.schema import CONCEALMENTS


@register_adversary("naive")
class NaiveAdversary(Adversary):
    """Loads spread like traffic: modes, hours, drugs and concealments by the scenario's
    shares, with no regard for the policy or what it has seen. It is the fixed reference:
    unlike the others it is not deterred (its loads per day do not follow its seizures),
    so every policy of a study meets the very same loads."""

    def plan_day(self, view: AdversaryView, rng: np.random.Generator) -> LoadPlan:
        sc = view.scenario
        n_loads, n_decoys = draw_counts(sc, rng)
        n = n_loads + n_decoys
        mode = rng.choice(N_MODES, size=n, p=sc.load_mode_share)
        at = np.empty(n)
        for m in np.unique(mode):
            rows = mode == m
            at[rows] = draw_times(sc.hourly_profile[m], int(rows.sum()), rng)
        drug, mass = draw_drugs(sc, n, rng)
        conc = rng.choice(len(CONCEALMENTS), size=n, p=sc.concealment_share)
        conc = fit_concealment(sc, mode, conc)
        decoy = np.arange(n) >= n_loads
        drug[decoy] = -1
        mass[decoy] = 0.0
        conc[decoy] = -1
        lane = express_lane(sc, mode, conc)
        order = np.argsort(at, kind="stable")
        return LoadPlan(at[order], mode[order], lane[order], drug[order], mass[order],
                        conc[order], decoy[order])
