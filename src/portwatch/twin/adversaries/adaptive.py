"""The adaptive adversary: EXP3 over cells, from what it could observe."""

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


@register_adversary("adaptive")
class AdaptiveAdversary(Adversary):
    """Learns day by day where to cross, with multiplicative weights over the open cells,
    from what a smuggling organisation could observe and nothing else.

    Each day it draws every load's cell from ``p = (1 - gamma) w / sum(w) + gamma q``
    (EXP3, Auer et al. 2002, exploring along the traffic shares ``q`` instead of uniformly,
    and starting from ``w = q``: it first blends in like the naive smuggler). From the
    outcome it learns in two ways:

    - its own loads (bandit feedback): a seized load is a loss of 1, one that crossed 0;
      each of the day's loads updates its cell as one EXP3 round, with the loss
      importance-weighted by ``1 / p``: ``w *= exp(-gamma * seized / (p K))`` summed over
      the cell's loads (the loss form of EXP3: unbiased, and quiet where nothing is
      seized, so cells it cannot tell apart keep their weights);
    - the public wait times (full information): the mean primary wait per mode, lane and
      hour, as CBP publishes border wait times per port and lane type; a cell earns
      ``wait_bonus`` times its wait relative to the longest (crowded queues outrun the
      canine teams and press officers to move traffic), with learning rate ``eta_watch``.

    It does not read the defender's policy, nor the share of other traffic inspected
    (the port's internal state): ``DayOutcome.inspection_share`` and ``AdversaryView.policy``
    are left unread, and a test holds it to that.
    """

    def __init__(self, gamma: float = 0.1, eta_watch: float = 0.5, wait_bonus: float = 0.2,
                 loads_per_day: float | None = None,
                 decoys_per_day: float | None = None) -> None:
        super().__init__()
        if not 0 < gamma <= 1:
            raise InputError(f"gamma: must be in (0, 1], got {gamma}")
        check_non_negative("eta_watch", eta_watch)
        self._arrivals = np.zeros((N_MODES, N_LANES, 24))
        self._traffic_share = np.zeros(0)
        check_non_negative("wait_bonus", wait_bonus)
        check_non_negative("loads_per_day", loads_per_day)
        check_non_negative("decoys_per_day", decoys_per_day)
        self.gamma, self.eta_watch, self.wait_bonus = gamma, eta_watch, wait_bonus
        self.loads_per_day, self.decoys_per_day = loads_per_day, decoys_per_day
        self.log_weights: np.ndarray | None = None  # learned state, [mode * lane * hour]
        self._cells: np.ndarray | None = None
        self._last_p: np.ndarray | None = None

    def params(self) -> dict[str, Any]:
        return {"gamma": self.gamma, "eta_watch": self.eta_watch,
                "wait_bonus": self.wait_bonus,
                "loads_per_day": self.loads_per_day,
                "decoys_per_day": self.decoys_per_day}

    def probabilities(self) -> np.ndarray:
        """The current EXP3 distribution over the open cells."""
        assert self.log_weights is not None and self._cells is not None
        w = np.exp(self.log_weights - self.log_weights.max())
        return (1.0 - self.gamma) * w / w.sum() + self.gamma * self._traffic_share

    def plan_day(self, view: AdversaryView, rng: np.random.Generator) -> LoadPlan:
        sc = view.scenario
        if self._cells is None:
            self._cells = cell_index(open_cells(sc))
            self._arrivals = cell_arrivals_per_hour(sc)
            lam = self._arrivals.ravel()[self._cells]
            # it starts by blending in like the naive smuggler: weights follow traffic
            self._traffic_share = lam / lam.sum() if lam.sum() > 0 else lam
            self.log_weights = np.log(np.maximum(self._traffic_share, 1e-300))
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

    def observe(self, outcome: DayOutcome) -> None:
        super().observe(outcome)
        if self._cells is None or self.log_weights is None or self._last_p is None:
            return
        k = len(self._cells)
        plan = outcome.plan
        loads = ~plan.is_decoy
        if loads.any():
            flat = np.ravel_multi_index((plan.mode[loads], plan.lane[loads],
                                         (plan.arrive_at_s[loads] // HOUR_S).astype(np.int64)),
                                        (N_MODES, N_LANES, 24))
            arm_of = {int(c): i for i, c in enumerate(self._cells)}
            lost = np.zeros(k)
            for cell, seized in zip(flat, outcome.interdicted[loads], strict=True):
                i = arm_of.get(int(cell))
                if i is not None and seized:
                    lost[i] += 1.0
            # one EXP3 round per load, all drawn from the day's p: the importance-weighted
            # loss of a cell sums its seized loads over p (dividing a cell's mean reward
            # by p instead favours the cells it plays least, whatever their seizures)
            self.log_weights -= self.gamma * lost / self._last_p / k
        wait = outcome.mean_wait_s.ravel()[self._cells]  # public: border wait times
        seen = np.isfinite(wait)
        if seen.any() and self.eta_watch > 0 and self.wait_bonus > 0:
            longest = float(np.nanmax(wait))
            rel_wait = np.where(seen, wait / max(longest, 1e-9), 0.0)
            signal = self.wait_bonus * rel_wait
            self.log_weights += self.eta_watch * np.where(seen, signal - signal[seen].mean(), 0)
