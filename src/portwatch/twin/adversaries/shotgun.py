"""The shotgun adversary: many loads in one peak window behind decoys."""

from __future__ import annotations

from typing import Any

import numpy as np

from portwatch.domain.errors import InputError
from portwatch.targeting.policy import N_LANES, mode_index
from portwatch.twin.adversaries.base import Adversary, AdversaryView, register_adversary
from portwatch.twin.adversaries.economics import Economics, expected_seizure_prob
from portwatch.twin.adversaries.helpers import (
    check_non_negative,
    concealment_for,
    draw_drugs,
    make_plan,
)
from portwatch.twin.process.plan import DAY_S, HOUR_S, LoadPlan
from portwatch.twin.scenario.schema import CompiledScenario


@register_adversary("shotgun")
class ShotgunAdversary(Adversary):
    """Many loads in one peak window, behind decoys that draw the canines and fill secondary.

    It picks the busiest hour of the mode that carries the most loads (or ``mode``), sends
    the day's loads (``loads``, or what the budget of ``surge`` times the scenario's daily
    mean pays for once the decoys are paid: see ``counts``) over ``window_s`` seconds
    after a lead of ``decoy_lead_s`` seconds, and ``decoys`` tainted vehicles from the
    start of the lead through the window (default: one per two loads, at least the
    scenario's decoy rate times ``surge``): a dog that alerts on a decoy leaves the queue
    for the follow-up check, secondary fills with decoys, and under a wave-through
    capacity rule the loads that would have been referred are released.
    """

    def __init__(self, surge: float = 3.0, loads: int | None = None, decoys: int | None = None,
                 window_s: float = 1800.0, decoy_lead_s: float = 600.0,
                 mode: str | None = None) -> None:
        super().__init__()
        check_non_negative("surge", surge)
        if loads is not None and loads < 0:
            raise InputError(f"loads: must be >= 0, got {loads}")
        if decoys is not None and decoys < 0:
            raise InputError(f"decoys: must be >= 0, got {decoys}")
        if not 0 < window_s <= HOUR_S * 6:
            raise InputError(f"window_s: must be in (0, 21600], got {window_s}")
        if not 0 <= decoy_lead_s <= HOUR_S:
            raise InputError(f"decoy_lead_s: must be in [0, 3600], got {decoy_lead_s}")
        self.surge, self.loads, self.decoys = surge, loads, decoys
        self.window_s, self.decoy_lead_s, self.mode = window_s, decoy_lead_s, mode
        self._decoy_rng: np.random.Generator | None = None

    def params(self) -> dict[str, Any]:
        return {"surge": self.surge, "loads": self.loads, "decoys": self.decoys,
                "window_s": self.window_s, "decoy_lead_s": self.decoy_lead_s,
                "mode": self.mode}

    def target(self, scenario: CompiledScenario) -> tuple[int, int]:
        """(mode index, hour) of the window: the busiest hour of the chosen mode."""

        if self.mode is not None:
            try:
                m = mode_index(self.mode)
            except ValueError:
                raise InputError(f"mode: unknown mode {self.mode!r}") from None
            if not scenario.mode_present[m]:
                raise InputError(f"mode: {self.mode} does not cross at {scenario.name}")
        else:
            m = int(np.argmax(scenario.load_mode_share * scenario.mode_present))
        booths = scenario.booths[m * N_LANES]
        per_hour = np.where(booths > 0, scenario.hourly_profile[m], -1.0)
        return m, int(np.argmax(per_hour))

    def counts(self, view: AdversaryView, rng: np.random.Generator,
               decoy_rng: np.random.Generator) -> tuple[int, int]:
        """Loads and decoys of the day. Given ``loads``, exactly that many; otherwise the
        attack's budget is what ``surge`` times the scenario's loads (deterred by the
        seizures it has seen) would cost, and every decoy, which costs a driver, a
        vehicle and the trace drug, takes its price out of the loads."""
        sc = view.scenario
        econ = Economics.of(sc)
        if self.loads is not None:
            n_decoys = self.decoys if self.decoys is not None else max(
                int(decoy_rng.poisson(sc.decoys_per_day * self.surge)), self.loads // 2)
            return self.loads, n_decoys
        p = expected_seizure_prob(view.history, econ.reference_seizure_prob)
        target = self.surge * sc.loads_per_day * econ.deterrence(p)
        n_decoys = self.decoys if self.decoys is not None else max(
            int(decoy_rng.poisson(sc.decoys_per_day * self.surge)), int(target // 2))
        budget_usd = target * econ.load_cost_usd
        return int(rng.poisson(econ.loads_for_budget(budget_usd, n_decoys))), n_decoys

    def plan_day(self, view: AdversaryView, rng: np.random.Generator) -> LoadPlan:
        sc = view.scenario
        m, hour = self.target(sc)
        start = hour * HOUR_S
        # the decoys come from a stream of their own, so that given ``loads`` the same
        # seed sends the same loads whatever the decoys (an attack with and without
        # decoys pairs load by load, day after day)
        if self._decoy_rng is None:
            self._decoy_rng = np.random.default_rng(rng.integers(2**63))
        n_loads, n_decoys = self.counts(view, rng, self._decoy_rng)
        load_at = start + self.decoy_lead_s + rng.random(n_loads) * self.window_s
        load_mode = np.full(n_loads, m, dtype=np.int64)
        lane = np.zeros(n_loads, dtype=np.int64)
        drug, mass = draw_drugs(sc, n_loads, rng)
        conc = concealment_for(sc, load_mode, lane, rng)
        drng = self._decoy_rng
        decoy_at = start + drng.random(n_decoys) * (self.decoy_lead_s + self.window_s)
        at = np.minimum(np.concatenate([load_at, decoy_at]), DAY_S - 1e-6)
        n = n_loads + n_decoys
        pad = np.full(n_decoys, -1, dtype=np.int64)
        return make_plan(at, np.full(n, m, dtype=np.int64), np.zeros(n, dtype=np.int64),
                         np.concatenate([drug, pad]), np.concatenate([mass, np.zeros(n_decoys)]),
                         np.concatenate([conc, pad]), np.arange(n) >= n_loads)
