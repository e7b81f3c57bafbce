"""Decoys that draw the canines: a trace-tainted decoy the dog alerts on keeps the team
for the follow-up check, away from the queue the loads cross in, and the shotgun
adversary's decoys then lower the share of its loads interdicted."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from scipy import stats

from portwatch.targeting.policy import Policy
from portwatch.twin.adversaries import AdversaryView, ShotgunAdversary
from portwatch.twin.process.kernel import N_UNIFORMS, PortState, prepare, run_day
from portwatch.twin.process.traffic import compose_day, draw_legit, plan_traffic
from portwatch.twin.scenario import load_scenario
from portwatch.twin.study.replications import run_study
from portwatch.twin.study.runner import parse_policy

SWEEP = ["canine.sweep_s=30"]  # a short pass per queued vehicle (assumed, 10-120 s)


def _day_with_decoys(sets: list[str], alert_first_check: str = "bay"):
    sc = load_scenario("test-port", [*SWEEP, *sets])
    policy = replace(Policy.uniform(0.01), alert_first_check=alert_first_check)
    rng = np.random.default_rng(5)
    legit = draw_legit(sc, 0, rng)
    plan = ShotgunAdversary(loads=0, decoys=40).plan_day(AdversaryView.blank(sc, policy),
                                                         np.random.default_rng(6))
    planned = plan_traffic(sc, 0, plan, np.random.default_rng(7))
    tr, u = compose_day(legit, planned, rng.random((len(legit), N_UNIFORMS)),
                        np.random.default_rng(8).random((len(planned), N_UNIFORMS)))
    run = run_day(prepare(sc, policy), tr.arrive_at_s, tr.mode, tr.lane, tr.enrolled,
                  tr.custody, tr.risk, tr.drug, tr.concealment, tr.is_decoy, u, PortState(sc))
    return tr, run


def test_an_alert_on_a_decoy_keeps_the_team_away_from_the_queue():
    tr_off, quiet = _day_with_decoys(["canine.decoy_alert_prob=0.0"])
    tr_on, alerted = _day_with_decoys(["canine.decoy_alert_prob=1.0"])
    assert alerted.alert[tr_on.is_decoy].sum() > 3 and not quiet.alert[tr_off.is_decoy].any()
    # every alert costs the team a follow-up check, so it screens fewer vehicles
    assert alerted.screened.sum() < quiet.screened.sum()
    # and the decoys it alerted on went to secondary, where they take a bay
    assert alerted.inspected[tr_on.is_decoy].sum() >= alerted.alert[tr_on.is_decoy].sum()


def test_with_decoy_triage_an_alert_costs_the_team_only_its_pass():
    # decoy triage sends an alerted vehicle to a quick check (an NII scan here) instead
    # of the dog's follow-up check: the team returns to the queue after its pass, so
    # decoys it alerts on no longer keep it away from the loads
    tr_bay, bay = _day_with_decoys(["canine.decoy_alert_prob=1.0"])
    tr_scan, scan = _day_with_decoys(["canine.decoy_alert_prob=1.0"], "nii_scan")
    assert bay.alert[tr_bay.is_decoy].sum() > 3 and scan.alert[tr_scan.is_decoy].sum() > 3
    assert scan.screened.sum() > bay.screened.sum()
    # every alerted vehicle went to secondary all the same
    assert scan.inspected[tr_scan.is_decoy].sum() >= scan.alert[tr_scan.is_decoy].sum()


def test_without_a_sweep_time_every_screened_vehicle_gets_the_full_check():
    sc = load_scenario("test-port")
    assert sc.spec.canine.sweep_s is None
    tr, run = _day_with_decoys([])  # with the pass: many more vehicles screened
    full = load_scenario("test-port")
    policy = Policy.uniform(0.01)
    rng = np.random.default_rng(5)
    legit = draw_legit(full, 0, rng)
    base = run_day(prepare(full, policy), legit.arrive_at_s, legit.mode, legit.lane,
                   legit.enrolled, legit.custody, legit.risk, legit.drug, legit.concealment,
                   legit.is_decoy, rng.random((len(legit), N_UNIFORMS)), PortState(full))
    assert run.screened.sum() > 3 * base.screened.sum()


def test_shotgun_decoys_lower_interdiction_under_a_policy_without_triage():
    # rules: alerts go straight to a bay (no decoy triage, no capacity reserve); the same
    # 30 loads a day with and without 15 decoys (the shotgun's default of one decoy per
    # two loads), paired on common random numbers replication by replication
    sc = load_scenario("test-port", SWEEP)
    policy = parse_policy("rules")
    assert policy.alert_first_check == "bay" and policy.capacity_reserve == 0
    rates = {}
    for decoys in (0, 15):
        study = run_study(sc, policy, "shotgun", days=3, replications=24, seed=11,
                          adversary_params={"loads": 30, "decoys": decoys})
        summary = study.summary(policy.name)
        rates[decoys] = np.array(summary["per_replication"]["interdiction_rate"])
        if decoys:
            assert summary["decoys_alerted"] > 1.0
    diff = rates[15] - rates[0]
    half = stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / math.sqrt(len(diff))
    assert diff.mean() + half < 0, (diff.mean(), half)
