"""Decoy triage by a handheld check, and alerts the plan selected anyway going to a bay.

A canine alert goes first to the scenario's handheld check (density meter, fiberscope,
handheld imager); an anomaly there sends the vehicle to a guided bay exam. With the
policy's ``alert_covered_to_bay`` an alert on a conveyance the policy would have
referred anyway goes straight to the bay. The interdiction model (the one the informed
adversary reads) must say what the twin does on both paths."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from portwatch.engine.decide import R_ALERT
from portwatch.targeting.policy import Policy
from portwatch.twin.process.interdiction import interdiction_model
from portwatch.twin.scenario import load_scenario
from portwatch.twin.study.replications import run_study, wilson_interval
from portwatch.twin.study.runner import rules_policy

# every load a dog screens alerts, and the dogs have time to screen many: the alert route
# decides what is found (test-port's canines screen trucks and cars)
ALERTING = ["canine.sweep_s=30", "canine.detection.*.*=1.0", "contraband.decoys_per_day=0"]


def _alerted_loads(naive_days, policy: Policy, sets: list[str], days: int = 3,
                   modes: tuple[int, ...] | None = None):
    """(found at the port, handheld-checked, predicted) over the loads a dog alerted on,
    ``naive_days`` the fixture of that name."""
    sc = load_scenario("test-port", [*ALERTING, "contraband.loads_per_day=300", *sets])
    found, checked, predicted = [], [], []
    for d in naive_days(sc, policy, days, np.random.default_rng(17)):
        tr, run = d.traffic, d.run
        rows = (tr.plan_row >= 0) & run.alert & (run.reason_code == R_ALERT)  # no broken seal
        if modes is not None:
            rows &= np.isin(tr.mode, modes)
        p_alerted = _p_found_if_alerted(sc, policy, tr, rows)
        found.append((run.detected_by[rows] > 0) & (run.detected_by[rows] < 4))  # not inland
        checked.append(run.triage[rows] == 3)
        predicted.append(p_alerted)
    return np.concatenate(found), np.concatenate(checked), np.concatenate(predicted)


def _p_found_if_alerted(sc, policy, tr, rows):
    """The model's chance that an alerted load is found at the port: its route's
    detection (bay or handheld first), mixed by the chance the policy selected it."""
    drug, conc = tr.drug[rows], tr.concealment[rows]
    guided = sc.guided_detect[drug, conc]
    first = (sc.handheld_detect[drug, conc] * guided if policy.alert_first_check == "handheld"
             else guided)
    if not policy.alert_covered_to_bay:
        return first
    hour = ((tr.arrive_at_s[rows] % 86_400) // 3600).astype(np.int64)
    sel = policy.referral_by_hour()[tr.mode[rows], tr.lane[rows], hour]
    return sel * guided + (1.0 - sel) * first


def _within(found, predicted):
    low, high = wilson_interval(int(found.sum()), len(found))
    return low <= predicted.mean() <= high, (predicted.mean(), low, high, len(found))


def test_the_scenario_names_the_handheld_check_and_its_defaults_are_assumed():
    sc = load_scenario("otay-mesa")
    trap, commingled = 0, 1
    assert sc.handheld_detect[:, trap] == pytest.approx(0.8)
    assert sc.handheld_detect[:, commingled] == pytest.approx(0.5)
    assert sc.handheld_service.mean_s == pytest.approx(300.0)
    assert "assumed" in (sc.spec.handheld.source or "")
    tuned = load_scenario("otay-mesa", ["handheld.detection.*.*=0.6"])
    assert np.all(tuned.handheld_detect == 0.6)


def test_a_handheld_check_finds_alerted_loads_as_the_model_says(naive_days):
    # the handheld's own detection (not the Raman analyzer's identification chance)
    # decides an alerted load; a clean check releases it
    policy = replace(Policy.uniform(0.0, capacity_rule="hold"), alert_first_check="handheld")
    found, checked, predicted = _alerted_loads(naive_days, policy,
                                               ["handheld.detection.*.*=0.5"])
    assert len(found) > 150 and checked.all()
    ok, info = _within(found, predicted)
    assert ok, info
    assert predicted.mean() == pytest.approx(0.5 * 0.95)


def test_the_bay_path_finds_alerted_loads_as_the_model_says(naive_days):
    found, checked, predicted = _alerted_loads(
        naive_days, Policy.uniform(0.0, capacity_rule="hold"), [])
    assert len(found) > 150 and not checked.any()
    ok, info = _within(found, predicted)
    assert ok, info


def test_an_alert_the_plan_selected_anyway_goes_straight_to_the_bay(naive_days):
    # half the traffic referred: half the alerts go to the bay, the rest to the handheld
    policy = replace(Policy.uniform(0.5, capacity_rule="hold"), alert_first_check="handheld",
                     alert_covered_to_bay=True)
    found, checked, predicted = _alerted_loads(naive_days, policy,
                                               ["handheld.detection.*.*=0.3"])
    assert 0.3 < checked.mean() < 0.7
    ok, info = _within(found, predicted)
    assert ok, info
    # triage lowers the detection of an alerted load below the bay path by exactly what
    # the model says, and with the rule by less than without it
    alone = replace(policy, alert_covered_to_bay=False)
    found_alone, _, predicted_alone = _alerted_loads(naive_days, alone,
                                                     ["handheld.detection.*.*=0.3"])
    assert predicted_alone.mean() < predicted.mean()
    assert found_alone.mean() < found.mean()


def test_the_informed_prediction_matches_the_twin_under_handheld_triage():
    policy = replace(rules_policy("hold"), name="rules-handheld", alert_first_check="handheld",
                     alert_covered_to_bay=True)
    study = run_study("otay-mesa", policy, "informed", days=4, replications=3, seed=11,
                      adversary_params={"loads_per_day": 40.0, "decoys_per_day": 0.0})
    data = json.loads(study.to_json())["policies"][policy.name]
    predicted = data["adversary"]["predicted_interdiction_rate"]
    low, high = data["interdiction_rate_ci"]
    assert data["loads"] > 300
    assert low <= predicted <= high, (predicted, low, high, data["interdiction_rate_pooled"])


def test_the_model_moves_with_the_handheld_and_the_rule():
    sc = load_scenario("otay-mesa")
    base = replace(rules_policy("hold"), alert_first_check="handheld")
    plain = interdiction_model(sc, base).p
    weak = interdiction_model(load_scenario("otay-mesa", ["handheld.detection.*.*=0.2"]),
                              base).p
    covered = interdiction_model(sc, replace(base, alert_covered_to_bay=True)).p
    bay = interdiction_model(sc, replace(base, alert_first_check="bay")).p
    assert np.all(weak <= plain + 1e-12) and weak.sum() < plain.sum()
    assert covered.sum() > plain.sum()
    # an alerted load: the handheld route never beats the guided bay exam
    assert np.all(sc.handheld_detect * sc.guided_detect <= sc.guided_detect)
    assert bay.sum() > 0


def test_a_clean_scan_then_goes_to_the_handheld_check(naive_days):
    # nii_scan_handheld: an alert is scanned first where a scanner covers the mode, and a
    # clean scan goes on to the handheld check; a load is missed only when both miss it
    sets = ["handheld.detection.*.*=0.5", "scanners.0.detection.*.*=0.4",
            "scanners.1.detection.*.*=0.4"]
    policy = replace(Policy.uniform(0.0, capacity_rule="hold"),
                     alert_first_check="nii_scan_handheld")
    sc = load_scenario("test-port", [*ALERTING, *sets])
    assert sc.scanner_modes[:, 0].any()  # trucks are scanned at test-port
    found, _, _ = _alerted_loads(naive_days, policy, sets)
    trucks = _alerted_loads(naive_days, policy, sets, modes=(0,))[0]
    expected = (1.0 - 0.6 * 0.5) * 0.95
    low, high = wilson_interval(int(trucks.sum()), len(trucks))
    assert len(trucks) > 60 and low <= expected <= high, (expected, low, high)
    model = interdiction_model(sc, policy)
    scan_only = interdiction_model(sc, replace(policy, alert_first_check="nii_scan"))
    assert model.p.sum() > scan_only.p.sum()
    assert len(found) > len(trucks)
