"""The adaptive adversary: EXP3 over cells, from what a smuggler could observe."""

from __future__ import annotations

from typing import Any

import numpy as np

from portwatch.domain.errors import InputError
from portwatch.targeting.policy import N_LANES, N_MODES
from portwatch.twin.adversaries.base import (
    Adversary,
    AdversaryView,
    DayOutcome,
    register_adversary,
)
from portwatch.twin.adversaries.economics import Economics
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
from portwatch.twin.process.plan import HOUR_S, LoadPlan
from portwatch.twin.scenario.schema import CompiledScenario

#: The share of loads the learner spreads along the traffic whatever it has learned
#: (EXP3's gamma; assumed). The planner scores its plans against the same exploration.
EXPLORATION = 0.1


@register_adversary("adaptive")
class AdaptiveAdversary(Adversary):
    """Learns day by day where to cross, with exponential weights over the open cells,
    from what a smuggling organisation could observe and nothing else.

    Each day it draws every load's cell from ``p = (1 - gamma) w / sum(w) + gamma q``
    (EXP3, Auer et al. 2002, exploring along the traffic shares ``q`` instead of uniformly,
    and starting from ``w = q``: it first blends in like the naive smuggler). It learns
    one loss per cell and day, in units of its mean load's value
    (``Economics.value_per_load_usd``), and moves ``log w -= eta * loss``:

    - **its own seizures** (bandit feedback): an organisation knows exactly which of its
      loads were seized (they do not arrive), and what each was worth. The loss of a
      cell is the value seized there over the day's loads, importance-weighted by the
      cell's probability, ``sum(value seized in the cell) / (n_loads p)``: an unbiased
      estimate of the expected value lost per load sent there, quiet where nothing is
      seized (cells it cannot tell apart keep their weights). Its limit under a fixed
      policy is the cell of least expected loss: the informed adversary's best response
      over cells, with the concealment and drug drawn as here
      (``portwatch.twin.study.learning`` follows it offline);
    - **the public wait times** (full information): the mean primary wait per mode, lane
      and hour, as CBP publishes border wait times per port and lane type. A long queue
      is believed to outrun the canine teams and press officers to move traffic: a cell
      earns ``wait_bonus`` (a share of a load's value, on the seizure loss's scale) times
      its wait relative to the longest, centred over the cells seen. With ``wait_bonus``
      below the spread of the seizure losses, what it sees seized dominates what it
      believes of the queues.

    ``gamma``, ``eta`` and ``wait_bonus`` are ``assumed``. It does not read the
    defender's policy, nor the share of other traffic inspected (the port's internal
    state): ``DayOutcome.inspection_share`` and ``AdversaryView.policy`` are left unread,
    and a test holds it to that.
    """

    def __init__(self, gamma: float = EXPLORATION, eta: float = 1.0, wait_bonus: float = 0.01,
                 loads_per_day: float | None = None,
                 decoys_per_day: float | None = None) -> None:
        super().__init__()
        if not 0 < gamma <= 1:
            raise InputError(f"gamma: must be in (0, 1], got {gamma}")
        check_non_negative("eta", eta)
        check_non_negative("wait_bonus", wait_bonus)
        check_non_negative("loads_per_day", loads_per_day)
        check_non_negative("decoys_per_day", decoys_per_day)
        self.gamma, self.eta, self.wait_bonus = gamma, eta, wait_bonus
        self.loads_per_day, self.decoys_per_day = loads_per_day, decoys_per_day
        self._traffic_share = np.zeros(0)
        self._value_usd_per_kg = np.zeros(0)
        self._mean_load_usd = 1.0
        self.log_weights: np.ndarray | None = None  # learned state, [open cell]
        self._cells: np.ndarray | None = None  # flat (mode, lane, hour), sorted
        self._last_p: np.ndarray | None = None

    def params(self) -> dict[str, Any]:
        return {"gamma": self.gamma, "eta": self.eta, "wait_bonus": self.wait_bonus,
                "loads_per_day": self.loads_per_day,
                "decoys_per_day": self.decoys_per_day}

    @property
    def cells(self) -> np.ndarray | None:
        """The open cells it plays, flat (mode, lane, hour) indices (None before its
        first plan)."""
        return self._cells

    @property
    def last_probabilities(self) -> np.ndarray | None:
        """The distribution its last plan was drawn from, one entry per cell."""
        return self._last_p

    def probabilities(self) -> np.ndarray:
        """The current EXP3 distribution over the open cells."""
        assert self.log_weights is not None and self._cells is not None
        w = np.exp(self.log_weights - self.log_weights.max())
        return (1.0 - self.gamma) * w / w.sum() + self.gamma * self._traffic_share

    def _start(self, sc: CompiledScenario) -> None:
        self._cells = cell_index(open_cells(sc))
        lam = cell_arrivals_per_hour(sc).ravel()[self._cells]
        # it starts by blending in like the naive smuggler: weights follow traffic
        self._traffic_share = lam / lam.sum() if lam.sum() > 0 else lam
        self.log_weights = np.log(np.maximum(self._traffic_share, 1e-300))
        self._value_usd_per_kg = np.asarray(sc.drug_value_usd_per_kg, dtype=np.float64)
        self._mean_load_usd = max(Economics.of(sc).value_per_load_usd, 1e-9)

    def plan_day(self, view: AdversaryView, rng: np.random.Generator) -> LoadPlan:
        sc = view.scenario
        if self._cells is None:
            self._start(sc)
        assert self._cells is not None
        if not len(self._cells):
            return LoadPlan.empty()
        n_loads, n_decoys = daily_counts(view, rng, self.loads_per_day, self.decoys_per_day)
        p = self.probabilities()
        self._last_p = p
        n = n_loads + n_decoys
        arm = rng.choice(len(self._cells), size=n, p=p)
        mode, lane, hour = unravel(self._cells[arm])
        drug, mass = draw_drugs(sc, n, rng)
        conc = concealment_for(sc, mode, lane, rng)
        decoy = np.arange(n) >= n_loads
        return make_plan(times_in_hours(hour, rng), mode, lane, drug, mass, conc, decoy)

    def seizure_loss(self, outcome: DayOutcome) -> np.ndarray:
        """The day's importance-weighted value lost per load, per open cell, in units of
        the mean load's value (see the class docstring)."""
        assert self._cells is not None and self._last_p is not None
        plan = outcome.plan
        loads = ~plan.is_decoy
        lost = np.zeros(len(self._cells))
        n = int(loads.sum())
        if not n:
            return lost
        flat = np.ravel_multi_index((plan.mode, plan.lane,
                                     (plan.arrive_at_s // HOUR_S).astype(np.int64)),
                                    (N_MODES, N_LANES, 24))
        arm = np.searchsorted(self._cells, flat).clip(0, len(self._cells) - 1)
        seized = loads & outcome.interdicted & (self._cells[arm] == flat)
        value = plan.mass_kg[seized] * self._value_usd_per_kg[plan.drug[seized]]
        np.add.at(lost, arm[seized], value / self._mean_load_usd)
        return lost / (n * self._last_p)

    def wait_credit(self, outcome: DayOutcome) -> np.ndarray:
        """What the public waits are believed worth per cell, in the loss's units."""
        assert self._cells is not None
        wait = outcome.mean_wait_s.ravel()[self._cells]  # public: border wait times
        seen = np.isfinite(wait)
        if not seen.any() or self.wait_bonus == 0:
            return np.zeros(len(self._cells))
        rel_wait = np.where(seen, wait / max(float(np.nanmax(wait)), 1e-9), 0.0)
        return np.where(seen, self.wait_bonus * (rel_wait - rel_wait[seen].mean()), 0.0)

    def observe(self, outcome: DayOutcome) -> None:
        super().observe(outcome)
        if self._cells is None or self.log_weights is None or self._last_p is None:
            return
        self.log_weights -= self.eta * (self.seizure_loss(outcome) - self.wait_credit(outcome))
