"""Policies against adversaries in the twin, on common random numbers.

The five policies, all with the ``hold`` capacity rule so that none wins by waving
referrals through: uniform random referral at the same bay time the game-theoretic plan
uses (the baseline of every paired difference), the twin's fixed ``rules``, a risk
threshold on the port's learned risk model set to refer as many crossings as uniform
does (``risk_threshold``), the game-theoretic plan, and the plan with decoy
triage, planned in its own game: the planner solves the game under each triage option
(an alert first to an NII scan or to the handheld check; with or without alerts the plan
selected anyway going straight to a bay), each with the interdiction model under that
option (a dog's alert decided by the quick check, the dog back to its pass), and keeps
the option best for the defender at the same bay capacity among those whose p95 truck
wait is within 10% of uniform's, on legitimate traffic and on days with the shotgun's
loads and decoys (the game prices no waits; decoys the freed dogs alert on queue at the
quick check); so
its coverage is optimal for the process it runs, not the bay-exam plan's coverage with
triage switched on. Each adversary is run by the twin's ``run_study``: within a
replication every policy sees the same traffic and the same adversary seeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from portwatch.plan.portgame import (
    TRIAGE_OPTIONS,
    PlanSettings,
    PortPlan,
    choose_triage,
    plan_port,
    with_triage,
)
from portwatch.targeting.policy import Policy
from portwatch.twin.scenario import CompiledScenario
from portwatch.twin.study.replications import run_study
from portwatch.twin.study.riskmodel import port_risk_lookup, threshold_for_share
from portwatch.twin.study.runner import rules_policy

ADVERSARIES = ("naive", "peak-timing", "shotgun", "informed", "adaptive", "insider")
METRICS = ("harm_interdicted", "interdiction_rate", "share_uninspected")
DECOY_KEYS = ("decoys_sent", "decoys_screened", "decoys_alerted", "decoys_inspected")
"""Per day: decoys sent, screened by a canine at primary, alerted on, sent to secondary."""


@dataclass(frozen=True)
class Comparison:
    """Per adversary, per policy: summaries and paired differences against uniform."""

    scenario: str
    days: int
    replications: int
    seed: int
    uniform_rate: float
    rows: list[dict[str, Any]]
    predicted_harm_per_load: dict[str, float]
    adversary_params: dict[str, Any]
    plan_proven_optimal: bool = False
    warmup_days: int = 0
    decoy_triage: dict[str, Any] | None = None
    triage_choice: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form ``portwatch compare`` writes."""
        return {"scenario": self.scenario, "days": self.days,
                "replications": self.replications, "seed": self.seed,
                "uniform_rate": self.uniform_rate, "adversary_params": self.adversary_params,
                "plan_proven_optimal": self.plan_proven_optimal,
                "warmup_days": self.warmup_days,
                "decoy_triage": self.decoy_triage,
                "triage_choice": self.triage_choice,
                "predicted_harm_per_load_informed": self.predicted_harm_per_load,
                "rows": self.rows}


def equal_capacity_rate(sc: CompiledScenario, plan: PortPlan) -> float:
    """The uniform referral rate that uses the bay time the plan uses."""
    used = float(plan.cost_s @ plan.coverage)
    return min(1.0, used / float(plan.cost_s.sum()))


def risk_threshold(sc: CompiledScenario, rate: float) -> float:
    """The threshold on the port's learned risk score that refers about ``rate`` of the
    crossings (scores are calibrated probabilities, far below 0.5 at a real port)."""
    return threshold_for_share(sc, port_risk_lookup(sc), max(rate, 1e-9))


def policies(sc: CompiledScenario, plan: PortPlan,
             triaged: PortPlan | None = None) -> list[Policy]:
    """Uniform (at the plan's bay time), rules, risk threshold, the plan, and the plan
    with decoy triage: ``triaged`` (the game solved with triage) when given, else the
    plan's coverage with triage switched on."""
    rate = equal_capacity_rate(sc, plan)
    return [
        Policy.uniform(rate, capacity_rule="hold", name="uniform"),
        rules_policy("hold"),
        Policy.risk_based(min(1.0, risk_threshold(sc, rate)), capacity_rule="hold",
                          name="risk-threshold"),
        plan.policy,
        with_triage(plan.policy, "nii_scan") if triaged is None else triaged.policy,
    ]


def _p95_truck_wait(summary: dict[str, Any]) -> float:
    return float(summary.get("wait_s", {}).get("truck", {}).get("p95", float("nan")))


def compare(sc: CompiledScenario, *, adversaries: tuple[str, ...] = ADVERSARIES,
            days: int = 2, replications: int = 3, seed: int = 0,
            settings: PlanSettings | None = None,
            adversary_params: dict[str, Any] | None = None,
            warmup_days: int = 0, decoy_pairs: bool = False,
            triage_options: tuple[tuple[str, bool], ...] = TRIAGE_OPTIONS) -> Comparison:
    """Plan the port, then run every policy against every adversary (see the module).
    ``adversary_params`` go to every adversary (e.g. ``loads_per_day``); in the
    ``warmup_days`` before the measured days the adversaries plan, observe and learn as
    in the measured ones (each under its own policy). With ``decoy_pairs`` the shotgun
    is run a second time with ``decoys=0`` on the same seed (the same loads, paired
    replication by replication) and ``decoy_triage`` says what decoys take from each
    policy and how much of what they take from the plan its triage recovers. The plan
    with decoy triage is the best of ``triage_options`` in the game
    (``portgame.choose_triage``); ``triage_choice`` lists each option's value."""
    # the plan reads the interdiction model at the days and seed the informed adversary
    # reads it with (PlanSettings' defaults), not at the study's seed: one model
    settings = settings or PlanSettings()
    plan = plan_port(sc, settings)
    uniform = policies(sc, plan)[0]
    # the wait guard also runs days with the shotgun's decoys: the one compared, or the
    # scenario's own when the shotgun is not among the adversaries
    shotgun = dict(adversary_params or {}) if "shotgun" in adversaries else {}
    choice = choose_triage(sc, settings, triage_options, reference=uniform,
                           guard_adversary=("shotgun", shotgun))
    triaged = choice.best
    pols = policies(sc, plan, triaged)
    rows = []
    for adversary in adversaries:
        res = run_study(sc, pols, adversary, days=days, replications=replications,
                        seed=seed, adversary_params=adversary_params,
                        warmup_days=warmup_days)
        diffs = res.differences()
        for p in pols:
            s = res.summary(p.name)
            row: dict[str, Any] = {"adversary": adversary, "policy": p.name,
                                   "loads": s["loads"], "p95_truck_wait_s": _p95_truck_wait(s)}
            for k in METRICS:
                row[k] = float(s[k]) if np.isscalar(s[k]) else s[k]
                if p.name in diffs:
                    row[f"{k}_minus_uniform"] = diffs[p.name][k]
            row.update({k: float(s.get(k, float("nan"))) for k in DECOY_KEYS})
            if p.name != pols[0].name:
                row["harm_interdicted_ratio_to_uniform"] = ratio_of_means(
                    s["per_replication"]["harm_interdicted"],
                    res.summary(pols[0].name)["per_replication"]["harm_interdicted"])
            rows.append(row)
    triage = None
    if decoy_pairs and "shotgun" in adversaries:
        triage = _decoy_triage(sc, pols, days=days, replications=replications, seed=seed,
                               adversary_params=adversary_params, warmup_days=warmup_days)
    lpd = (adversary_params or {}).get("loads_per_day")
    predicted = {p.name: predicted_harm_per_load(sc, p, None if lpd is None else float(lpd))
                 for p in pols}
    return Comparison(sc.name, days, replications, seed, equal_capacity_rate(sc, plan), rows,
                      predicted, dict(adversary_params or {}),
                      all(bool(p.solution.details.get("proven_optimal", False))
                          for p in (plan, triaged)), warmup_days,
                      triage, _choice_summary(plan, choice))


def _choice_summary(plan: PortPlan, choice: Any) -> dict[str, Any]:
    """The triage the planner chose and each option's value in the game (minus the harm
    per attempted load), beside the bay-exam plan's."""
    return {"chosen": choice.best.policy.name,
            "alert_first_check": choice.option[0], "covered_alert_to_bay": choice.option[1],
            "defender_utility": {"bay": float(plan.solution.defender_utility),
                                 **choice.values()},
            "proven_optimal": {k: bool(p.solution.details.get("proven_optimal", False))
                               for k, p in choice.plans.items()},
            "p95_truck_wait_s_legit": choice.p95_truck_wait_s,
            "uniform_p95_truck_wait_s_legit": choice.reference_p95_s,
            "p95_truck_wait_s_with_decoys": choice.p95_truck_wait_with_decoys_s,
            "uniform_p95_truck_wait_s_with_decoys": choice.reference_p95_with_decoys_s,
            "wait_guard_met": choice.wait_guard_met,
            "robust": {k: p.solution.details.get("robust")
                       for k, p in {"bay": plan, **choice.plans}.items()}}


def _decoy_triage(sc: CompiledScenario, pols: list[Policy], *, days: int,
                  replications: int, seed: int, adversary_params: dict[str, Any] | None,
                  warmup_days: int) -> dict[str, Any]:
    """The shotgun with its decoys and with none, same seed: per policy what the decoys
    take (without minus with, paired by replication), and for the plan with triage what
    it recovers (triage minus plan, both with decoys) as a share of what decoys take
    from the plan."""
    from portwatch.twin.study.replications import confidence_interval

    params = dict(adversary_params or {})
    runs = {d: run_study(sc, pols, "shotgun", days=days, replications=replications,
                         seed=seed, adversary_params=params if d else {**params, "decoys": 0},
                         warmup_days=warmup_days) for d in (True, False)}

    def per_rep(with_decoys: bool, policy: str, key: str) -> np.ndarray:
        return np.asarray(runs[with_decoys].summary(policy)["per_replication"][key], float)

    def paired(x: np.ndarray) -> dict[str, Any]:
        return {"mean": float(x.mean()), "ci95": list(confidence_interval(list(x)))}

    plan, triaged = pols[-2].name, pols[-1].name
    out: dict[str, Any] = {"decoys_take": {}, "triage_recovers": {}}
    for key in ("harm_interdicted", "interdiction_rate"):
        out["decoys_take"][key] = {p.name: paired(per_rep(False, p.name, key)
                                                  - per_rep(True, p.name, key)) for p in pols}
        taken = out["decoys_take"][key][plan]["mean"]
        gain = paired(per_rep(True, triaged, key) - per_rep(True, plan, key))
        out["triage_recovers"][key] = {
            **gain, "share_of_taken": gain["mean"] / taken if taken > 0 else float("nan")}
    out["decoys_screened_per_day"] = {
        p.name: float(runs[True].summary(p.name).get("decoys_screened", float("nan")))
        for p in pols}
    return out




def ratio_of_means(x: list[float], y: list[float]) -> dict[str, Any]:
    """``mean(x) / mean(y)`` over paired replications, with a 95% interval by the delta
    method (t quantile, n - 1 degrees of freedom; the pairing enters through the
    covariance). NaN where ``mean(y)`` is 0 or there are fewer than 2 replications."""
    from scipy import stats

    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n = len(a)
    if n < 2 or b.mean() <= 0:
        return {"mean": float("nan"), "ci95": [float("nan"), float("nan")]}
    r = a.mean() / b.mean()
    cov = np.cov(a, b, ddof=1)
    var = (cov[0, 0] - 2 * r * cov[0, 1] + r * r * cov[1, 1]) / (n * b.mean() ** 2)
    half = float(stats.t.ppf(0.975, n - 1) * np.sqrt(max(var, 0.0)))
    return {"mean": float(r), "ci95": [float(r - half), float(r + half)]}


def predicted_harm_per_load(sc: CompiledScenario, policy: Policy,
                            loads_per_day: float | None = None, min_loads: int = 2_000,
                            max_days: int = 400, seed: int = 0) -> float:
    """Harm the one interdiction model expects to be interdicted per load of the twin's
    informed adversary under ``policy``: the adversary's own ``plan_day`` draws its loads
    (drugs, masses and ways, its decoys off) day after day at its own ``loads_per_day``
    (default: the scenario's) until ``min_loads`` are drawn (at most ``max_days``), and
    each counts its harm times the model's chance for it. A prediction, set beside what
    the twin realises. The loads are drawn at the adversary's own daily rate because it
    sends at most ``max_cell_share`` of a cell's traffic a day: many loads in one day
    overflow its best cells and spread with the traffic."""
    from portwatch.twin.adversaries import make_adversary
    from portwatch.twin.adversaries.base import AdversaryView

    adv = make_adversary("informed", loads_per_day=loads_per_day, decoys_per_day=0.0)
    rng = np.random.default_rng(seed)
    caught, n = 0.0, 0
    for day in range(max_days):
        plan = adv.plan_day(AdversaryView.blank(sc, policy, day), rng)
        p = adv.predicted[-1]  # type: ignore[attr-defined]
        caught += float(np.nansum(sc.drug_harm_per_kg[plan.drug] * plan.mass_kg * p))
        n += len(plan)
        if n >= min_loads:
            break
    return caught / max(n, 1)


__all__ = ["ADVERSARIES", "Comparison", "compare", "equal_capacity_rate", "policies",
           "predicted_harm_per_load", "ratio_of_means"]
