"""The decision for one arrival, and the same decision made inside the twin's kernel."""

from __future__ import annotations

import numpy as np
import pytest

from portwatch.domain.errors import InputError
from portwatch.domain.modes import Lane
from portwatch.engine.decide import CUSTODY_VALUES, LANE_CODES, REASONS, decide_lane
from portwatch.targeting.policy import LANE_ORDER, MODE_ORDER, N_MODES, Policy
from portwatch.twin.process.kernel import N_UNIFORMS, U_DECIDE, PortState, prepare, run_day
from portwatch.twin.process.traffic import draw_legit
from portwatch.twin.scenario.schema import load_scenario


def _decide(policy, **kw):
    args = dict(mode="truck", lane="general", hour=10, custody="none", risk=0.1,
                enrolled=False, in_secondary=0, secondary_capacity=10, u=0.5)
    args.update(kw)
    return decide_lane(policy=policy, **args)


def test_the_rule_in_order():
    p = Policy.uniform(0.1)
    assert _decide(p, custody="broken", in_secondary=99).lane is Lane.FULL_SEARCH
    # a custody review loses the express lane but is not referred by itself
    review = _decide(p, custody="review", enrolled=True, lane="express")
    assert (review.lane, review.reason) == (Lane.FREE, "custody review, standard lane")
    assert _decide(p, custody="review", u=0.05).lane is Lane.SECONDARY
    assert _decide(p, alert=True, in_secondary=99).reason == "alert at primary"
    assert _decide(p, u=0.05).lane is Lane.SECONDARY
    assert _decide(p, u=0.05).reason == "random referral"
    assert _decide(p, u=0.5).lane is Lane.FREE
    assert _decide(p, u=0.5, lane="express").lane is Lane.EXPRESS
    clean = _decide(p, custody="clean", enrolled=True)
    assert (clean.lane, clean.reason) == (Lane.EXPRESS, "custody clean, enrolled")


def test_capacity_rule_waves_or_holds_discretionary_referrals_only():
    wave, hold = Policy.uniform(1.0), Policy.uniform(1.0, capacity_rule="hold")
    full = dict(in_secondary=10, secondary_capacity=10)
    assert _decide(wave, **full).reason == "secondary full, waved through"
    assert _decide(wave, **full).lane is Lane.FREE
    assert _decide(hold, **full).lane is Lane.SECONDARY
    assert _decide(wave, alert=True, **full).lane is Lane.SECONDARY


def test_risk_threshold_refers_regardless_of_the_draw():
    p = Policy.risk_based(0.6)
    assert _decide(p, risk=0.6, u=0.99).reason == "risk at or above threshold"
    assert _decide(p, risk=0.59, u=0.0).lane is Lane.FREE


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"mode": "boat"}, "mode: unknown mode 'boat'"),
        ({"lane": "fast"}, "lane: must be one of"),
        ({"hour": 24}, "hour: must be in 0..23, got 24"),
        ({"u": 1.0}, "u: must be in [0, 1), got 1.0"),
        ({"custody": "open"}, "custody: must be one of"),
    ],
)
def test_bad_inputs(kw, message):
    with pytest.raises(InputError) as err:
        _decide(Policy.uniform(0.1), **kw)
    assert message in str(err.value)


def test_kernel_and_engine_make_the_same_decisions():
    """Every decision of a simulated day, remade by the live engine from the same inputs
    and the same uniform draw, comes out the same (lane and reason)."""
    sc = load_scenario("test-port")
    rng = np.random.default_rng(5)
    policy = Policy.fixed_rules(
        {("truck", "general"): list(rng.random(24) * 0.3), ("car", "express"): 0.05},
        default_rate=0.02, name="mixed",
    )
    policy = Policy(name="mixed-risk", referral_prob=policy.referral_prob, risk_threshold=0.55)
    tr = draw_legit(sc, 0, rng)
    n = len(tr)
    custody = rng.integers(0, 4, n)  # every verdict, on every mode
    enrolled = rng.random(n) < 0.5
    risk = rng.random(n)  # the kernel takes scores as input: exercise the risk rule
    u = rng.random((n, N_UNIFORMS))
    run = run_day(prepare(sc, policy), tr.arrive_at_s, tr.mode, tr.lane, enrolled, custody,
                  risk, tr.drug, tr.concealment, tr.is_decoy, u, PortState(sc))
    assert len(set(run.reason_code.tolist())) >= 6  # the day exercises most of the rule
    for i in range(n):
        if run.balked[i]:  # left the line before primary: no decision to remake
            continue
        hour = int(run.primary_end_at[i] / 3600) % 24  # the kernel's hour of the decision
        d = decide_lane(
            policy=policy, mode=MODE_ORDER[tr.mode[i]], lane=LANE_ORDER[run.lane_used[i]],
            hour=hour,
            custody=CUSTODY_VALUES[custody[i]], risk=risk[i], enrolled=bool(enrolled[i]),
            in_secondary=int(run.occupancy[i]), secondary_capacity=sc.secondary_capacity,
            u=float(u[i, U_DECIDE]), alert=bool(run.alert[i]),
        )
        assert (d.lane, d.reason) == (LANE_CODES[run.lane_code[i]], REASONS[run.reason_code[i]])


def test_engine_reads_tiers_reserve_and_alert_triage():
    arr = np.zeros((N_MODES, 2, 1, 2))
    arr[..., 1] = 1.0
    p = Policy(name="v2", referral_prob=arr, risk_tier_edges=(0.7,), capacity_rule="hold",
               alert_first_check="nii_scan", capacity_reserve=0.5)
    assert _decide(p, risk=0.69, u=0.0).reason == "not selected"
    d = _decide(p, risk=0.7, u=0.99, port_triage="canine")
    assert (d.tier, d.reason, d.first_check, d.held) == (1, "random referral", "canine", False)
    # the reserve: an alert waits once half of secondary is full, a random referral does not
    half = dict(in_secondary=5, secondary_capacity=10)
    assert _decide(p, alert=True, port_triage="scan", **half).held
    assert _decide(p, alert=True, port_triage="scan", in_secondary=4,
                   secondary_capacity=10).first_check == "nii_scan"
    assert not _decide(p, risk=0.9, **half).held
    assert _decide(p, risk=0.9, in_secondary=10, secondary_capacity=10).held
    # an alert goes to a scan only where a scanner covers the mode; a broken seal to a bay
    assert _decide(p, alert=True, port_triage="canine").first_check == "bay"
    assert _decide(p, custody="broken", port_triage="scan").first_check == "bay"
    handheld = Policy(name="h", referral_prob=arr, risk_tier_edges=(0.7,),
                      alert_first_check="handheld")
    assert _decide(handheld, alert=True).first_check == "handheld"
    assert _decide(p, risk=0.1).first_check == ""


def test_engine_rejects_an_unknown_port_triage():
    with pytest.raises(InputError, match="port_triage: must be none, scan or canine"):
        _decide(Policy.uniform(0.1), port_triage="xray")


def test_kernel_and_engine_decide_alike_on_a_version_2_policy():
    """Tiers, the capacity reserve and decoy triage: every decision of a congested day
    (lane, reason, tier, waiting for space, first check) remade by the live engine from
    the kernel's inputs and draws."""
    from portwatch.engine.decide import FIRST_CHECKS
    from portwatch.twin.process.kernel import TRIAGE_STEPS, _triage_steps

    sc = load_scenario("test-port")
    rng = np.random.default_rng(11)
    arr = rng.random((N_MODES, 2, 6, 3)) * np.array([0.05, 0.2, 0.6])  # more referral up the tiers
    policy = Policy(name="v2", referral_prob=arr, risk_tier_edges=(0.3, 0.6),
                    capacity_rule="hold", alert_first_check="nii_scan", capacity_reserve=0.4)
    tr = draw_legit(sc, 0, rng)
    n = len(tr)
    custody = rng.choice(4, n, p=[0.7, 0.2, 0.05, 0.05])
    enrolled = rng.random(n) < 0.3
    u = rng.random((n, N_UNIFORMS))
    run = run_day(prepare(sc, policy), tr.arrive_at_s, tr.mode, tr.lane, enrolled, custody,
                  tr.risk, tr.drug, tr.concealment, tr.is_decoy, u, PortState(sc))
    steps = _triage_steps(sc)
    held = 0
    checks = set()
    for i in range(n):
        if run.balked[i]:  # left the line before primary: no decision to remake
            continue
        hour = int(run.primary_end_at[i] / 3600) % 24
        d = decide_lane(
            policy=policy, mode=MODE_ORDER[tr.mode[i]], lane=LANE_ORDER[run.lane_used[i]],
            hour=hour,
            custody=CUSTODY_VALUES[custody[i]], risk=tr.risk[i], enrolled=bool(enrolled[i]),
            in_secondary=int(run.occupancy[i]), secondary_capacity=sc.secondary_capacity,
            u=float(u[i, U_DECIDE]), alert=bool(run.alert[i]),
            port_triage=TRIAGE_STEPS[steps[tr.mode[i]]],
        )
        assert (d.lane, d.reason) == (LANE_CODES[run.lane_code[i]], REASONS[run.reason_code[i]])
        assert d.tier == int(policy.tier_of(tr.risk[i]))
        if run.lane_code[i] < 2:
            continue
        assert d.held == (run.held_s[i] > 0), i
        held += d.held
        if np.isfinite(run.exit_at[i]) and not (d.held and run.triage[i] == -1 and
                                                d.first_check != "bay"):
            assert d.first_check == FIRST_CHECKS[max(int(run.triage[i]), 0)], i
            checks.add(d.first_check)
    assert held > 0 and len(checks) >= 2  # the day exercises waiting and two first checks
