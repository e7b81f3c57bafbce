"""The adversaries beyond ``naive``: peak-timing, shotgun, informed, adaptive and insider.

Each one registers itself with ``portwatch.twin.adversary.register_adversary`` when this
module is imported (the registry imports it), so ``make_adversary("shotgun", ...)`` finds
it. They plan a day's ``LoadPlan`` from an ``AdversaryView`` and a generator passed in;
all randomness comes from that generator, so a plan is reproducible from the seed.

A **cell** is a (mode, lane, hour) triple where traffic of that mode flows through an
open booth: the smuggler blends in with real traffic, so only cells with traffic are
candidates (``open_cells``). ``interdiction_model`` is the informed adversary's estimate
of the chance that a load in a cell, with a given drug and concealment, is seized; the
other adversaries never read the policy.

Writing a new adversary: subclass ``Adversary``, decorate it with
``@register_adversary("name")``, take its parameters as keyword arguments with defaults,
return them from ``params()``, and build the plan with the helpers here and in
``portwatch.twin.adversary`` (``draw_counts``, ``draw_drugs``, ``fit_concealment``,
``express_lane``). ``docs/twin.md`` walks through one.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from portwatch.domain.errors import InputError
from portwatch.targeting.policy import N_LANES, N_MODES
from portwatch.twin.adversary import (
    DAY_S,
    SEALED,
    TRAP,
    TRUCK,
    Adversary,
    AdversaryView,
    DayOutcome,
    LoadPlan,
    draw_counts,
    draw_drugs,
    register_adversary,
)
from portwatch.twin.scenario import CONCEALMENTS, CompiledScenario

HOUR_S = 3600.0
PEDESTRIAN = 2
PEDESTRIAN_MAX_KG = 5.0
"""The most a pedestrian carries on the body (kg): no public figure, a parameter; body
carries in CBP's seizure releases are a few kilograms."""
COMMINGLED = CONCEALMENTS.index("commingled")
SEALED_PRE = CONCEALMENTS.index("sealed_pre")
SEALED_POST = CONCEALMENTS.index("sealed_post")


# ---- what any smuggler can see: where traffic flows ------------------------------------
def cell_arrivals_per_hour(scenario: CompiledScenario) -> np.ndarray:
    """Mean legitimate arrivals per hour in each cell, float64 [mode, lane, hour]."""
    sc = scenario
    out = np.zeros((N_MODES, N_LANES, 24))
    for m in range(N_MODES):
        if not sc.mode_present[m]:
            continue
        per_hour = sc.daily_volume[m] * sc.hourly_profile[m]
        express = sc.enrolled_share[m] if sc.has_express[m] else 0.0
        out[m, 0] = per_hour * (1.0 - express)
        out[m, 1] = per_hour * express
    return out


def open_cells(scenario: CompiledScenario) -> np.ndarray:
    """True where a cell has traffic and a staffed booth, bool [mode, lane, hour]."""
    booths = scenario.booths.reshape(N_MODES, N_LANES, 24)
    return (cell_arrivals_per_hour(scenario) > 0) & (booths > 0)


def _cell_index(cells: np.ndarray) -> np.ndarray:
    """Flat indices of the True cells, in (mode, lane, hour) order."""
    return np.flatnonzero(cells.ravel())


def _unravel(flat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mode, lane, hour = np.unravel_index(flat, (N_MODES, N_LANES, 24))
    return mode.astype(np.int64), lane.astype(np.int64), hour.astype(np.int64)


def _times_in_hours(hour: np.ndarray, rng: np.random.Generator,
                    width_s: float = HOUR_S) -> np.ndarray:
    """A uniform instant within ``width_s`` from the start of each ``hour``."""
    at = hour * HOUR_S + rng.random(hour.shape[0]) * width_s
    return np.minimum(at, DAY_S - 1e-6)


def _concealment_for(scenario: CompiledScenario, mode: np.ndarray, lane: np.ndarray,
                     rng: np.random.Generator) -> np.ndarray:
    """Concealments by the scenario's shares that fit the conveyance and its lane.

    Only trucks carry cargo (commingled, sealed); a sealed load travels enrolled, so it
    needs a truck and, where the express lane is open, goes through it: rows drawn as
    sealed in the general lane, or on another mode, fall back to commingled or a trap.
    """
    conc = np.asarray(rng.choice(len(CONCEALMENTS), size=mode.shape[0],
                                 p=scenario.concealment_share), dtype=np.int64)
    truck = mode == TRUCK
    conc[~truck] = TRAP
    sealed = np.isin(conc, SEALED)
    conc[truck & sealed & (lane == 0) & scenario.has_express[mode]] = COMMINGLED
    return conc


def _plan(at: np.ndarray, mode: np.ndarray, lane: np.ndarray, drug: np.ndarray,
          mass: np.ndarray, conc: np.ndarray, decoy: np.ndarray) -> LoadPlan:
    """A plan sorted by arrival, with the decoy rows cleared of drug, mass and concealment,
    and a pedestrian's load no heavier than ``PEDESTRIAN_MAX_KG``."""
    drug = np.where(decoy, -1, drug)
    mass = np.where(mode == PEDESTRIAN, np.minimum(mass, PEDESTRIAN_MAX_KG), mass)
    mass = np.where(decoy, 0.0, mass)
    conc = np.where(decoy, -1, conc)
    order = np.argsort(at, kind="stable")
    return LoadPlan(at[order], mode[order], lane[order], drug[order], mass[order],
                    conc[order], decoy[order])


def _counts(view: AdversaryView, rng: np.random.Generator, loads_per_day: float | None,
            decoys_per_day: float | None) -> tuple[int, int]:
    n_loads, n_decoys = draw_counts(view.scenario, rng)
    if loads_per_day is not None:
        n_loads = int(rng.poisson(loads_per_day))
    if decoys_per_day is not None:
        n_decoys = int(rng.poisson(decoys_per_day))
    return n_loads, n_decoys


def _check_non_negative(name: str, value: float | None) -> None:
    if value is not None and not (value >= 0 and math.isfinite(value)):
        raise InputError(f"{name}: must be >= 0, got {value}")


# ---- the informed adversary's model of the defender --------------------------------------
def expected_wait_s(view: AdversaryView) -> np.ndarray:
    """Primary wait per cell [mode, lane, hour] (s): what the adversary watched where it
    has seen the cell, else Sakasegawa's M/M/c approximation from the scenario,
    ``Wq = s rho^(sqrt(2(c+1)) - 1) / (c (1 - rho))``, and an hour where ``rho >= 1``."""
    sc = view.scenario
    lam = cell_arrivals_per_hour(sc)
    booths = sc.booths.reshape(N_MODES, N_LANES, 24).astype(np.float64)
    service = np.array([[d.mean_s if d is not None else 0.0 for d in
                         sc.primary_service[m * N_LANES:(m + 1) * N_LANES]]
                        for m in range(N_MODES)])[:, :, None]
    c = np.maximum(booths, 1.0)
    rho = lam * service / (c * HOUR_S)
    with np.errstate(divide="ignore", invalid="ignore"):
        wq = service * rho ** (np.sqrt(2.0 * (c + 1.0)) - 1.0) / (c * (1.0 - rho))
    model = np.where((rho >= 1.0) | (booths == 0), HOUR_S, np.nan_to_num(wq))
    seen = np.isfinite(view.mean_wait_s)
    return np.where(seen, np.nan_to_num(view.mean_wait_s), model)


def canine_coverage(view: AdversaryView) -> np.ndarray:
    """Chance that a canine team screens a conveyance, per cell [mode, lane, hour].

    A team takes a conveyance if it is free before that conveyance reaches the booth, so
    teams end up booked some horizon ``H`` ahead, and only conveyances waiting longer
    than ``H`` are screened: those queueing long (trucks, buses) rather than those
    through primary in seconds. With waits exponential around each cell's mean ``W``, a
    conveyance waits longer than ``H`` with chance ``exp(-H / W)``; each hour's ``H``
    is where the screened flow, ``sum(arrivals x exp(-H / W))``, equals the teams'
    capacity, ``teams x 3600 / service`` (``H = 0`` when the teams keep up).
    """
    sc = view.scenario
    out = np.zeros((N_MODES, N_LANES, 24))
    if sc.canine_teams == 0 or not sc.canine_modes.any():
        return out
    lam = cell_arrivals_per_hour(sc) * sc.canine_modes[:, None, None]
    wait = np.maximum(expected_wait_s(view), 1e-3)
    capacity = sc.canine_teams * HOUR_S / sc.canine_service.mean_s
    low, high = np.zeros(24), np.full(24, DAY_S)
    for _ in range(60):  # bisection on each hour's horizon
        mid = (low + high) / 2
        flow = (lam * np.exp(-mid[None, None, :] / wait)).sum(axis=(0, 1))
        over = flow > capacity
        low, high = np.where(over, mid, low), np.where(over, high, mid)
    horizon = np.where(lam.sum(axis=(0, 1)) > capacity, high, 0.0)
    out[:] = np.exp(-horizon[None, None, :] / wait)
    return out * sc.canine_modes[:, None, None]


def interdiction_model(view: AdversaryView) -> np.ndarray:
    """Estimated chance that a load is seized, float64 [mode, lane, hour, drug, concealment].

    Built from the scenario and the policy (what a Stackelberg follower knows) and the
    waits it watched: canine coverage from ``canine_coverage``; a discretionary
    referral (random or by risk) happens with the policy's probability, thinned by the
    share of referrals secondary can absorb that hour when the capacity rule waves the
    rest through; a referred load is found by the best scanner for its mode or the bay
    exam; a sealed-after-loading shipment may break its custody verdict and go to a full
    search; a crossed load may still meet the inland checkpoint.
    """
    sc, policy = view.scenario, view.policy
    lam = cell_arrivals_per_hour(sc)
    ref = policy.referral_by_hour()
    risk = sc.spec.risk
    thr = policy.risk_threshold_value()

    def p_risk(mean: float) -> float:
        if thr > 1.0:
            return 0.0
        a, b = mean * risk.concentration, (1.0 - mean) * risk.concentration
        return float(stats.beta.sf(thr, a, b))

    p_risk_load, p_risk_clean = p_risk(risk.load_mean), p_risk(risk.clean_mean)
    coverage = canine_coverage(view)  # [mode, lane, hour]
    # secondary absorbs bays * 3600 / mean exam time referrals an hour
    exam_s = [d.mean_s for d in sc.secondary_service if d is not None]
    sec_capacity = sc.bays * HOUR_S / (float(np.mean(exam_s)) if exam_s else HOUR_S)
    demand = (lam * (ref + (1.0 - ref) * p_risk_clean)).sum(axis=(0, 1))  # [hour]
    absorbed = np.minimum(1.0, sec_capacity / np.maximum(demand, 1e-9))
    if policy.capacity_rule == "hold":
        absorbed = np.ones(24)
    n_drugs = len(sc.drugs)
    out = np.zeros((N_MODES, N_LANES, 24, n_drugs, len(CONCEALMENTS)))
    for m in range(N_MODES):
        best_scan = np.zeros((n_drugs, len(CONCEALMENTS)))
        for t in range(len(sc.scanner_names)):
            if sc.scanner_modes[t, m] and (sc.scanner_type == t).any():
                best_scan = np.maximum(best_scan, sc.scanner_detect[t])
        found = 1.0 - (1.0 - best_scan) * (1.0 - sc.bay_detect)  # [drug, conc]
        for lane in range(N_LANES):
            enrolled_lane = lane == 1
            for c in range(len(CONCEALMENTS)):
                looks_clean = enrolled_lane or c in SEALED
                pr = p_risk_clean if looks_clean else p_risk_load
                discretionary = ref[m, lane] + (1.0 - ref[m, lane]) * pr  # [hour]
                alert = coverage[m, lane][:, None] * sc.canine_detect[None, :, c]
                refer = 1.0 - (1.0 - alert) * (1.0 - (absorbed * discretionary)[:, None])
                at_port = refer * found[None, :, c]
                if c == SEALED_POST and m == TRUCK:
                    broken = sc.spec.custody.post_seal_catch_prob
                    if policy.broken_to_full_search:
                        at_port = broken * sc.full_detect[None, :, c] + (1 - broken) * at_port
                inland = sc.inland_coverage * sc.inland_detect[:, c] if sc.inland_modes[m] else 0
                out[m, lane, :, :, c] = 1.0 - (1.0 - at_port) * (1.0 - inland)
    return out


# ---- peak-timing ----------------------------------------------------------------------
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
        _check_non_negative("prior_weight", prior_weight)
        _check_non_negative("loads_per_day", loads_per_day)
        _check_non_negative("decoys_per_day", decoys_per_day)
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
        n_loads, n_decoys = _counts(view, rng, self.loads_per_day, self.decoys_per_day)
        flat = _cell_index(open_cells(sc))
        if not len(flat):
            return LoadPlan.empty()
        est = self.inspection_estimate(view).ravel()[flat]
        lam = cell_arrivals_per_hour(sc).ravel()[flat]
        # among equal estimates, the busier cell: more vehicles to hide among
        best = flat[np.lexsort((-lam, est))[: self.cells]]
        n = n_loads + n_decoys
        mode, lane, hour = _unravel(rng.choice(best, size=n))
        drug, mass = draw_drugs(sc, n, rng)
        conc = _concealment_for(sc, mode, lane, rng)
        decoy = np.arange(n) >= n_loads
        return _plan(_times_in_hours(hour, rng), mode, lane, drug, mass, conc, decoy)


# ---- shotgun ----------------------------------------------------------------------------
@register_adversary("shotgun")
class ShotgunAdversary(Adversary):
    """Many loads in one peak window, behind decoys that draw the canines and fill secondary.

    It picks the busiest hour of the mode that carries the most loads (or ``mode``), sends
    ``decoys`` tainted vehicles in the first ``decoy_lead_s`` seconds of the window and the
    day's loads (``loads`` or ``surge`` times the scenario's daily mean) over the next
    ``window_s`` seconds: dogs alert on the decoys, secondary fills with them, and under a
    wave-through capacity rule the loads that would have been referred are released.
    """

    def __init__(self, surge: float = 3.0, loads: int | None = None, decoys: int | None = None,
                 window_s: float = 1800.0, decoy_lead_s: float = 600.0,
                 mode: str | None = None) -> None:
        super().__init__()
        _check_non_negative("surge", surge)
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

    def params(self) -> dict[str, Any]:
        return {"surge": self.surge, "loads": self.loads, "decoys": self.decoys,
                "window_s": self.window_s, "decoy_lead_s": self.decoy_lead_s,
                "mode": self.mode}

    def target(self, scenario: CompiledScenario) -> tuple[int, int]:
        """(mode index, hour) of the window: the busiest hour of the chosen mode."""
        from portwatch.targeting.policy import mode_index

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

    def plan_day(self, view: AdversaryView, rng: np.random.Generator) -> LoadPlan:
        sc = view.scenario
        m, hour = self.target(sc)
        n_loads = self.loads if self.loads is not None else int(
            rng.poisson(self.surge * sc.loads_per_day))
        n_decoys = self.decoys if self.decoys is not None else max(
            int(rng.poisson(sc.decoys_per_day * self.surge)), n_loads // 2)
        start = hour * HOUR_S
        decoy_at = start + rng.random(n_decoys) * self.decoy_lead_s
        load_at = start + self.decoy_lead_s + rng.random(n_loads) * self.window_s
        at = np.minimum(np.concatenate([load_at, decoy_at]), DAY_S - 1e-6)
        n = n_loads + n_decoys
        mode = np.full(n, m, dtype=np.int64)
        lane = np.zeros(n, dtype=np.int64)
        drug, mass = draw_drugs(sc, n, rng)
        conc = _concealment_for(sc, mode, lane, rng)
        decoy = np.arange(n) >= n_loads
        return _plan(at, mode, lane, drug, mass, conc, decoy)


# ---- informed (Stackelberg follower) ---------------------------------------------------
@register_adversary("informed")
class InformedAdversary(Adversary):
    """Knows the defender's policy and best-responds to it, as the follower of a
    Stackelberg game: for each load (drug drawn by the scenario's shares) it picks the
    cell and concealment that maximise the expected value delivered, value x (1 - P),
    with P from ``interdiction_model`` and the value reduced where the conveyance carries
    less (a pedestrian: at most ``PEDESTRIAN_MAX_KG``). ``rationality`` is the precision
    of a quantal response (large: the pure best response; 0: uniform over cells); ``top``
    spreads loads over that many best options so one cell is not flooded.
    """

    def __init__(self, rationality: float = 50.0, top: int = 3,
                 loads_per_day: float | None = None,
                 decoys_per_day: float | None = None) -> None:
        super().__init__()
        _check_non_negative("rationality", rationality)
        if top < 1:
            raise InputError(f"top: must be >= 1, got {top}")
        _check_non_negative("loads_per_day", loads_per_day)
        _check_non_negative("decoys_per_day", decoys_per_day)
        self.rationality, self.top = rationality, top
        self.loads_per_day, self.decoys_per_day = loads_per_day, decoys_per_day

    def params(self) -> dict[str, Any]:
        return {"rationality": self.rationality, "top": self.top,
                "loads_per_day": self.loads_per_day, "decoys_per_day": self.decoys_per_day}

    def options(self, view: AdversaryView) -> tuple[np.ndarray, np.ndarray]:
        """Feasible (flat cell, concealment) options and their seizure chance [option, drug]."""
        sc = view.scenario
        p = interdiction_model(view)
        cells = _cell_index(open_cells(sc))
        mode, lane, _ = _unravel(cells)
        rows, probs = [], []
        for c in range(len(CONCEALMENTS)):
            ok = (mode == TRUCK) if c != TRAP else np.ones(len(cells), dtype=bool)
            if c in SEALED:
                ok &= (lane == 1) | ~sc.has_express[mode]
            for i in np.flatnonzero(ok):
                rows.append((cells[i], c))
                m, ln, h = _unravel(np.array([cells[i]]))
                probs.append(p[m[0], ln[0], h[0], :, c])
        return np.array(rows, dtype=np.int64).reshape(-1, 2), np.array(probs).reshape(
            len(rows), len(sc.drugs))

    def plan_day(self, view: AdversaryView, rng: np.random.Generator) -> LoadPlan:
        sc = view.scenario
        n_loads, n_decoys = _counts(view, rng, self.loads_per_day, self.decoys_per_day)
        opts, p_seize = self.options(view)
        if not len(opts):
            return LoadPlan.empty()
        n = n_loads + n_decoys
        drug, mass = draw_drugs(sc, n, rng)
        choice = np.empty(n, dtype=np.int64)
        opt_mode = _unravel(opts[:, 0])[0]
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
        # decoys go where the loads are not, to pull dogs and bays away from them
        load_cells = set(opts[choice[:n_loads], 0].tolist())
        others = [i for i in range(len(opts)) if opts[i, 0] not in load_cells] or list(
            range(len(opts)))
        choice[n_loads:] = rng.choice(np.array(others), size=n_decoys)
        mode, lane, hour = _unravel(opts[choice, 0])
        conc = opts[choice, 1]
        decoy = np.arange(n) >= n_loads
        return _plan(_times_in_hours(hour, rng), mode, lane, drug, mass, conc, decoy)


# ---- adaptive (EXP3 + watching) -------------------------------------------------------
@register_adversary("adaptive")
class AdaptiveAdversary(Adversary):
    """Learns day by day where to cross, with multiplicative weights over the open cells.

    Each day it draws every load's cell from ``p = (1 - gamma) w / sum(w) + gamma q``
    (EXP3, Auer et al. 2002, exploring along the traffic shares ``q`` instead of uniformly,
    and starting from ``w = q``: it first blends in like the naive smuggler). From the
    outcome it learns in two ways:

    - its own loads (bandit feedback): a load that crossed earns reward 1, a seized one 0;
      the reward of a cell is importance-weighted by ``1 / p`` and ``w *= exp(gamma r / K)``;
    - what it watches at the port (full information): the share of conveyances inspected
      in every cell (shrunk towards the port-wide share by ``prior_weight``
      pseudo-conveyances, so a quiet cell's one-day share does not dominate) and the
      queue (mean primary wait); a cell earns ``1 - share`` plus ``wait_bonus`` times its
      wait relative to the longest, since crowded queues outrun the canine teams, with
      learning rate ``eta_watch``.
    """

    def __init__(self, gamma: float = 0.1, eta_watch: float = 0.5, wait_bonus: float = 0.2,
                 prior_weight: float = 200.0, loads_per_day: float | None = None,
                 decoys_per_day: float | None = None) -> None:
        super().__init__()
        if not 0 < gamma <= 1:
            raise InputError(f"gamma: must be in (0, 1], got {gamma}")
        _check_non_negative("eta_watch", eta_watch)
        _check_non_negative("prior_weight", prior_weight)
        self.prior_weight = prior_weight
        self._arrivals = np.zeros((N_MODES, N_LANES, 24))
        self._traffic_share = np.zeros(0)
        _check_non_negative("wait_bonus", wait_bonus)
        _check_non_negative("loads_per_day", loads_per_day)
        _check_non_negative("decoys_per_day", decoys_per_day)
        self.gamma, self.eta_watch, self.wait_bonus = gamma, eta_watch, wait_bonus
        self.loads_per_day, self.decoys_per_day = loads_per_day, decoys_per_day
        self.log_weights: np.ndarray | None = None  # learned state, [mode * lane * hour]
        self._cells: np.ndarray | None = None
        self._last_p: np.ndarray | None = None

    def params(self) -> dict[str, Any]:
        return {"gamma": self.gamma, "eta_watch": self.eta_watch,
                "wait_bonus": self.wait_bonus, "prior_weight": self.prior_weight,
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
            self._cells = _cell_index(open_cells(sc))
            self._arrivals = cell_arrivals_per_hour(sc)
            lam = self._arrivals.ravel()[self._cells]
            # it starts by blending in like the naive smuggler: weights follow traffic
            self._traffic_share = lam / lam.sum() if lam.sum() > 0 else lam
            self.log_weights = np.log(np.maximum(self._traffic_share, 1e-300))
        if not len(self._cells):
            return LoadPlan.empty()
        n_loads, n_decoys = _counts(view, rng, self.loads_per_day, self.decoys_per_day)
        p = self.probabilities()
        self._last_p = p
        n = n_loads + n_decoys
        arm = rng.choice(len(self._cells), size=n, p=p)
        mode, lane, hour = _unravel(self._cells[arm])
        drug, mass = draw_drugs(sc, n, rng)
        conc = _concealment_for(sc, mode, lane, rng)
        decoy = np.arange(n) >= n_loads
        return _plan(_times_in_hours(hour, rng), mode, lane, drug, mass, conc, decoy)

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
            reward = np.zeros(k)
            count = np.zeros(k)
            for cell, seized in zip(flat, outcome.interdicted[loads], strict=True):
                i = arm_of.get(int(cell))
                if i is not None:
                    reward[i] += 0.0 if seized else 1.0
                    count[i] += 1
            tried = count > 0
            estimate = np.zeros(k)
            estimate[tried] = reward[tried] / count[tried] / self._last_p[tried]
            self.log_weights += self.gamma * estimate / k
        share = outcome.inspection_share.ravel()[self._cells]
        wait = outcome.mean_wait_s.ravel()[self._cells]
        seen = np.isfinite(share)
        if seen.any() and self.eta_watch > 0:
            # one day's share in a quiet cell is noise: shrink it towards the port-wide
            # share by prior_weight pseudo-conveyances (as peak-timing does)
            lam = self._arrivals.ravel()[self._cells]
            watched = np.where(seen, lam, 0.0)
            share = np.where(seen, share, 0.0)
            pooled = (share * watched).sum() / max(watched.sum(), 1e-9)
            share = (share * watched + pooled * self.prior_weight) / (watched + self.prior_weight)
            longest = np.nanmax(wait) if np.isfinite(wait).any() else 0.0
            rel_wait = np.where(np.isfinite(wait) & (longest > 0), wait / max(longest, 1e-9), 0)
            signal = np.where(seen, 1.0 - share + self.wait_bonus * rel_wait, 0.0)
            self.log_weights += self.eta_watch * np.where(seen, signal - signal[seen].mean(), 0)


# ---- insider ------------------------------------------------------------------------------
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
        _check_non_negative("loads_per_day", loads_per_day)
        _check_non_negative("decoys_per_day", decoys_per_day)
        self.seal_phase, self.after_share = seal_phase, after_share
        self.loads_per_day, self.decoys_per_day = loads_per_day, decoys_per_day

    def params(self) -> dict[str, Any]:
        return {"seal_phase": self.seal_phase, "after_share": self.after_share,
                "loads_per_day": self.loads_per_day, "decoys_per_day": self.decoys_per_day}

    def plan_day(self, view: AdversaryView, rng: np.random.Generator) -> LoadPlan:
        sc = view.scenario
        n_loads, n_decoys = _counts(view, rng, self.loads_per_day, self.decoys_per_day)
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
        return _plan(_times_in_hours(hour, rng), mode, lane, drug, mass, conc, decoy)


__all__ = [
    "AdaptiveAdversary",
    "InformedAdversary",
    "InsiderAdversary",
    "PeakTimingAdversary",
    "ShotgunAdversary",
    "canine_coverage",
    "cell_arrivals_per_hour",
    "expected_wait_s",
    "interdiction_model",
    "open_cells",
]
