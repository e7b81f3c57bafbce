"""One interdiction model: the chance that a load crossing a given way is interdicted.

``interdiction_model(scenario, policy)`` returns an ``InterdictionModel`` whose
``p[mode, lane, hour, drug, concealment]`` is the probability that a load crossing by
that mode, primary lane and hour of day, hidden that way, is seized at the port or at the
inland checkpoint. It is computed from the same process the kernel simulates, in two
parts:

- **by simulation, where the queues decide**: the kernel runs the port's legitimate
  traffic under the policy (``days`` days after a day of warm-up, seeded), and per
  (mode, lane, hour) cell it measures the share of conveyances a canine team screened
  at primary, the share of discretionary referrals released because secondary was
  full (``wave`` rule), and the share of each mode's scans made by each scanner type;
- **analytically, where the rule is known**: the policy's referral for the cell and the
  load's risk tier and the risk threshold (the port's risk model,
  ``portwatch.twin.study.riskmodel.port_risk_lookup``, summed exactly over the advance
  information a load hidden that way shows, ``advance.class_pmfs``' law), the custody
  monitor catching a seal broken after loading, the alert route
  the policy names (``alert_first_check``; with ``alert_covered_to_bay`` only for
  alerts the policy did not select anyway), the triage step of the mode, and the
  detection tables by drug and concealment; then the inland checkpoint.

The informed adversary best-responds to it and the study reports its prediction beside
the realised rate; a test checks the prediction against the realised 95% interval on
every shipped port scenario.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from portwatch.engine.decide import R_RANDOM, R_RISK, R_WAVED
from portwatch.targeting.policy import N_LANES, N_MODES, Policy
from portwatch.twin.process import advance
from portwatch.twin.process.kernel import (
    TRIAGE_CANINE,
    TRIAGE_SCAN,
    PortState,
    _triage_steps,
    prepare,
    run_day,
)
from portwatch.twin.process.plan import DAY_S, HOUR_S, SEALED, TRUCK, LoadPlan
from portwatch.twin.process.traffic import draw_legit, legit_uniforms, score_traffic
from portwatch.twin.scenario.schema import CONCEALMENTS, CompiledScenario

SEALED_POST = CONCEALMENTS.index("sealed_post")
MODEL_DAYS = 8
"""Days of legitimate traffic the queue-decided shares are measured over (after a day of
warm-up). A quiet cell (a car express lane at midnight, about 80 conveyances an hour)
then has some 650 conveyances, so a canine-screened share near 5% is known to about
0.9 points (1.7 points over 2 days); the informed adversary picks the cells the model
rates safest, so a noisy estimate there is a low one (the optimiser's curse)."""
PRIOR_WEIGHT = 50.0
"""Conveyances of pseudo-evidence that shrink a quiet cell's measured share towards its
mode's share over the day (so one night hour's handful of cars does not decide it)."""


@dataclass(frozen=True, eq=False)
class Pathways:
    """What the simulation measured per cell [mode, lane, hour]."""

    screened: np.ndarray  # share screened by a canine team at primary
    waved: np.ndarray  # share of discretionary referrals released, secondary full
    scan_share: np.ndarray  # [mode, scanner type]: share of the mode's scans by type
    conveyances: np.ndarray  # legitimate conveyances seen per cell


@dataclass(frozen=True, eq=False)
class InterdictionModel:
    """``p[mode, lane, hour, drug, concealment]``: the chance a load is interdicted."""

    scenario: CompiledScenario
    policy: Policy
    p: np.ndarray
    pathways: Pathways

    def probability(self, mode: int, lane: int, hour: int, drug: int,
                    concealment: int) -> float:
        """The chance for one way of crossing (indices as in ``LoadPlan``)."""
        return float(self.p[mode, lane, hour, drug, concealment])

    def of_plan(self, plan: LoadPlan) -> np.ndarray:
        """The chance for each load of ``plan`` (NaN on decoys)."""
        hour = np.clip((plan.arrive_at_s // HOUR_S).astype(np.int64), 0, 23)
        loads = ~plan.is_decoy
        out = np.full(len(plan), np.nan)
        out[loads] = self.p[plan.mode[loads], plan.lane[loads], hour[loads], plan.drug[loads],
                            plan.concealment[loads]]
        return out


def _shrunk(count: np.ndarray, hits: np.ndarray) -> np.ndarray:
    """Per-cell shares hits / count, shrunk towards each mode's pooled share."""
    pooled = hits.sum(axis=(1, 2)) / np.maximum(count.sum(axis=(1, 2)), 1.0)
    prior = pooled[:, None, None] * PRIOR_WEIGHT
    return (hits + prior) / (count + PRIOR_WEIGHT)


def measure_pathways(scenario: CompiledScenario, policy: Policy, days: int = MODEL_DAYS,
                     seed: int = 0) -> Pathways:
    """Run the kernel on legitimate traffic (one warm-up day, then ``days``) and measure
    the per-cell shares the model needs."""
    sc = scenario
    model = prepare(sc, policy)
    state = PortState(sc)
    rng = np.random.default_rng(seed)
    shape = (N_MODES, N_LANES, 24)
    size = N_MODES * N_LANES * 24
    count = np.zeros(size)
    screened = np.zeros(size)
    discretionary = np.zeros(size)
    waved = np.zeros(size)
    n_types = max(1, len(sc.scanner_names))
    scans = np.zeros((N_MODES, n_types))
    lookup = _port_lookup(sc, policy)
    for day in range(days + 1):
        tr = score_traffic(sc, draw_legit(sc, day, rng), lookup)
        u = legit_uniforms(tr, rng)
        run = run_day(model, tr.arrive_at_s, tr.mode, tr.lane, tr.enrolled, tr.custody,
                      tr.risk, tr.drug, tr.concealment, tr.is_decoy, u, state)
        if day == 0:
            continue  # warm-up: the port starts empty
        hour = ((tr.arrive_at_s - day * DAY_S) // HOUR_S).astype(np.int64).clip(0, 23)
        cell = (tr.mode * N_LANES + run.lane_used) * 24 + hour
        reason = run.reason_code
        disc = (reason == R_RANDOM) | (reason == R_RISK) | (reason == R_WAVED)
        count += np.bincount(cell, weights=run.balked == 0, minlength=size)
        screened += np.bincount(cell, weights=run.screened, minlength=size)
        discretionary += np.bincount(cell, weights=disc, minlength=size)
        waved += np.bincount(cell, weights=reason == R_WAVED, minlength=size)
        scanned = run.scan_type >= 0
        np.add.at(scans, (tr.mode[scanned], run.scan_type[scanned]), 1.0)
    count, screened = count.reshape(shape), screened.reshape(shape)
    discretionary, waved = discretionary.reshape(shape), waved.reshape(shape)
    total = scans.sum(axis=1, keepdims=True)
    share = np.where(total > 0, scans / np.maximum(total, 1.0), 0.0)
    # a mode never scanned in the run: its types in proportion to their unit counts
    for m in range(N_MODES):
        if total[m, 0] == 0 and len(sc.scanner_names):
            units = np.array([(sc.scanner_type == t).sum() * sc.scanner_modes[t, m]
                              for t in range(len(sc.scanner_names))], dtype=np.float64)
            share[m, : len(units)] = units / units.sum() if units.sum() > 0 else 0.0
    return Pathways(screened=_shrunk(count, screened), waved=_shrunk(discretionary, waved),
                    scan_share=share, conveyances=count)


def _port_lookup(scenario: CompiledScenario, policy: Policy) -> advance.RiskLookup | None:
    """The port's risk model when ``policy`` reads risk scores, else None."""
    # imported here: the study package sits above the process package (its history
    # runs the adversaries, one of which uses this model)
    from portwatch.twin.study.riskmodel import port_risk_lookup, uses_risk

    return port_risk_lookup(scenario) if uses_risk(policy) else None


def _load_tier_mass(scenario: CompiledScenario, policy: Policy, lookup: advance.RiskLookup,
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(P(tier t and below the threshold) [mode, hour, concealment, tier], P(at or above
    the threshold) [mode, hour, concealment]) of a load's score, summed exactly over the
    advance information it shows (``advance.class_pmfs``' law for one concealment)."""
    sc = scenario
    score = lookup.table.reshape(lookup.shape)  # [m, h, e, cust, k, b, n, f]
    thr = policy.risk_threshold_value()
    tier = policy.tier_of(score)
    n_tiers = policy.n_tiers
    profile = advance._cartel_profile(sc, sc.spec.advance.mimicry)  # [m, k, b, n, f]
    catch = sc.spec.custody.post_seal_catch_prob
    n_conc = len(CONCEALMENTS)
    mass = np.zeros((N_MODES, 24, n_conc, n_tiers))
    above = np.zeros((N_MODES, 24, n_conc))
    for m in range(N_MODES):
        for c in range(n_conc):
            sealed = m == TRUCK and c in SEALED
            # (enrolled, custody, probability) of a load hidden this way
            shows = ([(1, 1, 1.0 - catch), (1, 3, catch)] if sealed and c == SEALED_POST
                     else [(1, 1, 1.0)] if sealed else [(0, 0, 1.0)])
            for e, cust, p in shows:
                s = score[m, :, e, cust]  # [h, k, b, n, f]
                w = p * profile[m][None]
                above[m, :, c] += (w * (s >= thr)).reshape(24, -1).sum(axis=1)
                for t in range(n_tiers):
                    hit = (tier[m, :, e, cust] == t) & (s < thr)
                    mass[m, :, c, t] += (w * hit).reshape(24, -1).sum(axis=1)
    return mass, above


def _referral_chance(scenario: CompiledScenario, policy: Policy) -> np.ndarray:
    """P(discretionary referral) per [mode, lane, hour, concealment] of a load, its risk
    score given by the port's model on the advance information it shows."""
    ref = policy.referral_by_hour_tier()  # [mode, lane, hour, tier]
    n_conc = len(CONCEALMENTS)
    lookup = _port_lookup(scenario, policy)
    if lookup is None:
        return np.repeat(ref[..., 0][..., None], n_conc, axis=3)
    mass, above = _load_tier_mass(scenario, policy, lookup)
    out = np.einsum("mhct,mlht->mlhc", mass, ref)
    return out + above[:, None, :, :]


def _found_after_triage(scenario: CompiledScenario, share: np.ndarray, step: int, m: int,
                        ) -> np.ndarray:
    """P(found) [drug, concealment] of a discretionary referral of mode ``m``."""
    sc = scenario
    if step == TRIAGE_SCAN:
        scan = np.tensordot(share[m, : len(sc.scanner_names)], sc.scanner_detect, axes=1)
        return scan * sc.guided_detect
    if step == TRIAGE_CANINE:
        return sc.canine_detect * sc.guided_detect
    return sc.bay_detect


def _found_after_alert(scenario: CompiledScenario, policy: Policy, share: np.ndarray,
                       scanned: bool, m: int) -> np.ndarray:
    """P(found) [drug, concealment] of a load the dog alerted on, by the alert route."""
    sc = scenario
    if policy.alert_first_check == "nii_scan" and scanned:
        scan = np.tensordot(share[m, : len(sc.scanner_names)], sc.scanner_detect, axes=1)
        return scan * sc.guided_detect
    if policy.alert_first_check == "nii_scan_handheld" and scanned:
        scan = np.tensordot(share[m, : len(sc.scanner_names)], sc.scanner_detect, axes=1)
        return (1.0 - (1.0 - scan) * (1.0 - sc.handheld_detect)) * sc.guided_detect
    if policy.alert_first_check in ("handheld", "nii_scan_handheld"):
        return sc.handheld_detect * sc.guided_detect
    return sc.guided_detect


def interdiction_model(scenario: CompiledScenario, policy: Policy, days: int = MODEL_DAYS,
                       seed: int = 0) -> InterdictionModel:
    """The model for ``scenario`` under ``policy`` (see the module docstring)."""
    return _cached(scenario, policy, days, seed)


@lru_cache(maxsize=32)
def _cached(scenario: CompiledScenario, policy: Policy, days: int, seed: int,
            ) -> InterdictionModel:
    paths = measure_pathways(scenario, policy, days, seed)
    return InterdictionModel(scenario=scenario, policy=policy,
                             p=probabilities_given(scenario, policy, paths), pathways=paths)


def probabilities_given(scenario: CompiledScenario, policy: Policy, paths: Pathways,
                        ) -> np.ndarray:
    """``p[mode, lane, hour, drug, concealment]`` under ``policy`` with the queue-decided
    shares ``paths`` measured elsewhere (the analytic part of the model). Given the
    pathways, ``p`` is linear in each cell's referral probability, so the port game reads
    a cell's seizure chance uncovered and covered from two calls at the plan's own
    pathways."""
    sc = scenario
    steps = _triage_steps(sc)
    n_drugs, n_conc = len(sc.drugs), len(CONCEALMENTS)
    p = np.zeros((N_MODES, N_LANES, 24, n_drugs, n_conc))
    refer = _referral_chance(sc, policy)
    for m in range(N_MODES):
        if not sc.mode_present[m]:
            continue
        triaged = _found_after_triage(sc, paths.scan_share, int(steps[m]), m)
        alerted = _found_after_alert(sc, policy, paths.scan_share, steps[m] == TRIAGE_SCAN, m)
        if sc.yard_modes[m]:  # rail: the yard's exam, guided after an image anomaly
            triaged, alerted = sc.bay_detect, sc.guided_detect
        inland = (sc.inland_coverage * sc.inland_detect if sc.inland_modes[m]
                  else np.zeros((n_drugs, n_conc)))
        for lane in range(N_LANES):
            for c in range(n_conc):
                clean = lane == 1 or c in SEALED
                alert = (paths.screened[m, lane][:, None] * sc.canine_detect[None, :, c]
                         if sc.canine_modes[m] else np.zeros((24, n_drugs)))
                if sc.portal_modes[m]:  # every rail container is imaged at the portal
                    alert = np.broadcast_to(sc.portal_detect[None, :, c], (24, n_drugs))
                discretionary = refer[m, lane, :, c] * (1.0 - paths.waved[m, lane])
                on_alert = alerted[None, :, c]
                if policy.alert_covered_to_bay and not sc.portal_modes[m]:
                    # an alert on a conveyance the policy selected anyway goes to a bay
                    sel = refer[m, lane, :, c][:, None]
                    on_alert = sel * sc.guided_detect[None, :, c] + (1.0 - sel) * on_alert
                port = (alert * on_alert
                        + (1.0 - alert) * (discretionary[:, None] * triaged[None, :, c]))
                if c == SEALED_POST and m == TRUCK and clean and policy.broken_to_full_search:
                    broken = sc.spec.custody.post_seal_catch_prob
                    port = broken * sc.full_detect[None, :, c] + (1.0 - broken) * port
                p[m, lane, :, :, c] = 1.0 - (1.0 - port) * (1.0 - inland[None, :, c])
    return p


__all__ = ["MODEL_DAYS", "InterdictionModel", "Pathways", "interdiction_model", "measure_pathways",
           "probabilities_given"]
