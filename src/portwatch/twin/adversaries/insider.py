"""The insider adversary: a compromised enrolled shipper."""

from __future__ import annotations

from typing import Any

import numpy as np

from portwatch.domain.errors import InputError
from portwatch.targeting.policy import N_LANES
from portwatch.twin.adversaries.base import Adversary, AdversaryView, register_adversary
from portwatch.twin.adversaries.helpers import (
    SEALED_POST,
    SEALED_PRE,
    check_non_negative,
    daily_counts,
    draw_drugs,
    make_plan,
    times_in_hours,
)
from portwatch.twin.process.plan import TRAP, TRUCK, LoadPlan


@register_adversary("insider")
class InsiderAdversary(Adversary):
    """A compromised enrolled shipper: loads ride in its trusted trucks through the express
    (FAST) lane, hidden before the container is sealed (``seal_phase="before"``: custody
    stays clean) or after (``"after"``: the custody monitor may see the seal broken), or a
    mix (``"mixed"``, share ``after_share`` after). It ships on the trucks' usual hours.
    Where trucks do not cross or have no express lane, the insider is an enrolled
    SENTRI / Ready traveller in the car express lane, with the load in a trap.
    """

    def __init__(self, seal_phase: str = "before", after_share: float = 0.5,
                 loads_per_day: float | None = None,
                 decoys_per_day: float | None = 0.0) -> None:
        super().__init__()
        if seal_phase not in ("before", "after", "mixed"):
            raise InputError(f"seal_phase: must be before, after or mixed, got {seal_phase!r}")
        if not 0 <= after_share <= 1:
            raise InputError(f"after_share: must be in [0, 1], got {after_share}")
        check_non_negative("loads_per_day", loads_per_day)
        check_non_negative("decoys_per_day", decoys_per_day)
        self.seal_phase, self.after_share = seal_phase, after_share
        self.loads_per_day, self.decoys_per_day = loads_per_day, decoys_per_day

    def params(self) -> dict[str, Any]:
        return {"seal_phase": self.seal_phase, "after_share": self.after_share,
                "loads_per_day": self.loads_per_day, "decoys_per_day": self.decoys_per_day}

    def plan_day(self, view: AdversaryView, rng: np.random.Generator) -> LoadPlan:
        sc = view.scenario
        n_loads, n_decoys = daily_counts(view, rng, self.loads_per_day, self.decoys_per_day)
        n = n_loads + n_decoys
        truck_ok = bool(sc.mode_present[TRUCK] and sc.has_express[TRUCK])
        m = TRUCK if truck_ok else 1  # car, the SENTRI / Ready lane
        if not sc.has_express[m]:
            raise InputError(f"insider: {sc.name} has no express lane for trucks or cars")
        open_hours = np.flatnonzero(sc.booths[m * N_LANES + 1] > 0)
        profile = sc.hourly_profile[m][open_hours]
        weights = profile / profile.sum() if profile.sum() > 0 else None
        hour = rng.choice(open_hours, size=n, p=weights)
        mode = np.full(n, m, dtype=np.int64)
        lane = np.ones(n, dtype=np.int64)
        drug, mass = draw_drugs(sc, n, rng)
        if truck_ok:
            after = {"before": 0.0, "after": 1.0, "mixed": self.after_share}[self.seal_phase]
            conc = np.where(rng.random(n) < after, SEALED_POST, SEALED_PRE).astype(np.int64)
        else:
            conc = np.full(n, TRAP, dtype=np.int64)
        decoy = np.arange(n) >= n_loads
        return make_plan(times_in_hours(hour, rng), mode, lane, drug, mass, conc, decoy)
