"""An alert the policy selected anyway goes straight to a bay (``alert_covered_to_bay``):
the live engine and the twin's kernel route every alert of a day alike, and the policy
file keeps the rule."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from portwatch.engine.decide import (
    CUSTODY_VALUES,
    FIRST_CHECKS,
    R_ALERT,
    decide_lane,
)
from portwatch.targeting.policy import LANE_ORDER, MODE_ORDER, N_MODES, Policy
from portwatch.twin.process.kernel import (
    N_UNIFORMS,
    TRIAGE_STEPS,
    U_DECIDE,
    PortState,
    _triage_steps,
    prepare,
    run_day,
)
from portwatch.twin.process.traffic import draw_legit
from portwatch.twin.scenario import load_scenario


def _policy(covered: bool) -> Policy:
    arr = np.random.default_rng(3).random((N_MODES, 2, 6)) * 0.3
    return Policy(name="hh", referral_prob=arr, capacity_rule="hold",
                  alert_first_check="handheld", alert_covered_to_bay=covered)


def test_the_engine_and_the_kernel_route_alerts_alike():
    sc = load_scenario("test-port", ["canine.sweep_s=30", "canine.false_alarm_prob=0.3"])
    policy = _policy(True)
    rng = np.random.default_rng(5)
    tr = draw_legit(sc, 0, rng)
    u = rng.random((len(tr), N_UNIFORMS))
    custody = np.zeros(len(tr), dtype=np.int64)
    run = run_day(prepare(sc, policy), tr.arrive_at_s, tr.mode, tr.lane, tr.enrolled, custody,
                  tr.risk, tr.drug, tr.concealment, tr.is_decoy, u, PortState(sc))
    steps = _triage_steps(sc)
    routes = set()
    alerts = np.flatnonzero((run.reason_code == R_ALERT) & np.isfinite(run.exit_at)
                            & (run.held_s == 0))
    assert len(alerts) > 20
    for i in alerts:
        d = decide_lane(
            policy=policy, mode=MODE_ORDER[tr.mode[i]], lane=LANE_ORDER[run.lane_used[i]],
            hour=int(run.primary_end_at[i] / 3600) % 24, custody=CUSTODY_VALUES[0],
            risk=float(tr.risk[i]), enrolled=bool(tr.enrolled[i]),
            in_secondary=int(run.occupancy[i]), secondary_capacity=sc.secondary_capacity,
            u=float(u[i, U_DECIDE]), alert=True, port_triage=TRIAGE_STEPS[steps[tr.mode[i]]])
        assert d.first_check == FIRST_CHECKS[max(int(run.triage[i]), 0)], i
        routes.add(d.first_check)
    assert routes == {"bay", "handheld"}  # the day exercises both routes
    # without the rule every alert goes to the handheld first
    plain = run_day(prepare(sc, _policy(False)), tr.arrive_at_s, tr.mode, tr.lane,
                    tr.enrolled, custody, tr.risk, tr.drug, tr.concealment, tr.is_decoy, u,
                    PortState(sc))
    entered = (plain.reason_code == R_ALERT) & (plain.triage >= 0)
    assert entered.sum() > 20 and np.all(plain.triage[entered] == 3)


def test_the_policy_file_keeps_the_rule():
    p = _policy(True)
    back = Policy.from_dict(p.to_dict())
    assert back.alert_covered_to_bay and back.alert_first_check == "handheld"
    off = Policy.from_dict(replace(p, alert_covered_to_bay=False).to_dict())
    assert not off.alert_covered_to_bay
    assert "covered_alert_to_bay" not in replace(p, alert_covered_to_bay=False).to_dict()["triage"]
