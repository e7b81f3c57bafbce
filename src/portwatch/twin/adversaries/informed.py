"""The informed adversary: a Stackelberg follower of the defender's policy."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from portwatch.domain.errors import InputError
from portwatch.targeting.policy import N_LANES, N_MODES
from portwatch.twin.adversaries.base import Adversary, AdversaryView, register_adversary
from portwatch.twin.adversaries.helpers import (
    PEDESTRIAN,
    PEDESTRIAN_MAX_KG,
    SEALED_POST,
    cell_arrivals_per_hour,
    cell_index,
    check_non_negative,
    daily_counts,
    draw_drugs,
    make_plan,
    open_cells,
    times_in_hours,
    unravel,
)
from portwatch.twin.process.plan import DAY_S, HOUR_S, SEALED, TRAP, TRUCK, LoadPlan
from portwatch.twin.scenario.schema import CONCEALMENTS


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
        check_non_negative("rationality", rationality)
        if top < 1:
            raise InputError(f"top: must be >= 1, got {top}")
        check_non_negative("loads_per_day", loads_per_day)
        check_non_negative("decoys_per_day", decoys_per_day)
        self.rationality, self.top = rationality, top
        self.loads_per_day, self.decoys_per_day = loads_per_day, decoys_per_day

    def params(self) -> dict[str, Any]:
        return {"rationality": self.rationality, "top": self.top,
                "loads_per_day": self.loads_per_day, "decoys_per_day": self.decoys_per_day}

    def options(self, view: AdversaryView) -> tuple[np.ndarray, np.ndarray]:
        """Feasible (flat cell, concealment) options and their seizure chance [option, drug]."""
        sc = view.scenario
        p = interdiction_model(view)
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
        # decoys go where the loads are not, to pull dogs and bays away from them
        load_cells = set(opts[choice[:n_loads], 0].tolist())
        others = [i for i in range(len(opts)) if opts[i, 0] not in load_cells] or list(
            range(len(opts)))
        choice[n_loads:] = rng.choice(np.array(others), size=n_decoys)
        mode, lane, hour = unravel(opts[choice, 0])
        conc = opts[choice, 1]
        decoy = np.arange(n) >= n_loads
        return make_plan(times_in_hours(hour, rng), mode, lane, drug, mass, conc, decoy)
