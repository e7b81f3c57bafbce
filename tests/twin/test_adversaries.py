"""The adversaries of ``portwatch.twin.adversaries``: a shared contract and each one's
behaviour."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portwatch.domain.errors import InputError
from portwatch.targeting.policy import MODE_ORDER, N_MODES, Policy
from portwatch.twin import AdversaryView, DayOutcome, LoadPlan, load_scenario, make_adversary
from portwatch.twin.adversaries import (
    AdaptiveAdversary,
    InformedAdversary,
    InsiderAdversary,
    PeakTimingAdversary,
    ShotgunAdversary,
)
from portwatch.twin.adversaries.helpers import (
    PEDESTRIAN_MAX_KG,
    cell_arrivals_per_hour,
    open_cells,
)
from portwatch.twin.process.interdiction import interdiction_model
from portwatch.twin.scenario.schema import CONCEALMENTS

NEW = ["peak-timing", "shotgun", "informed", "adaptive", "insider"]
SCENARIOS = ["test-port", "otay-mesa", "san-ysidro"]
TRUCK, CAR, PEDESTRIAN = 0, 1, 2


@pytest.fixture(scope="module")
def scenarios():
    return {name: load_scenario(name) for name in SCENARIOS}


def view(sc, policy=None, **kw):
    return AdversaryView.blank(sc, policy or Policy.uniform(0.05), **kw)


@pytest.mark.parametrize("name", NEW)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_contract_valid_plan_deterministic_and_params_are_json(name, scenario, scenarios):
    sc = scenarios[scenario]
    for policy in (Policy.uniform(0.05), Policy.risk_based(0.6)):
        a, b = make_adversary(name), make_adversary(name)
        plan_a = a.plan_day(view(sc, policy), np.random.default_rng(7))
        plan_b = b.plan_day(view(sc, policy), np.random.default_rng(7))
        plan_a.validate(sc)
        assert len(plan_a) > 0
        assert np.all(np.diff(plan_a.arrive_at_s) >= 0)  # sorted by arrival
        for field in ("arrive_at_s", "mode", "lane", "drug", "mass_kg", "concealment"):
            assert np.array_equal(getattr(plan_a, field), getattr(plan_b, field)), field
        # the parameters are JSON and remake the same adversary
        again = make_adversary(name, **json.loads(json.dumps(a.params())))
        plan_c = again.plan_day(view(sc, policy), np.random.default_rng(7))
        assert np.array_equal(plan_a.arrive_at_s, plan_c.arrive_at_s)
        # a pedestrian carries no more than a body carry
        assert np.all(plan_a.mass_kg[plan_a.mode == PEDESTRIAN] <= PEDESTRIAN_MAX_KG)
        # every load arrives when a booth of its lane is open
        hour = (plan_a.arrive_at_s // 3600).astype(int)
        assert np.all(sc.booths[plan_a.mode * 2 + plan_a.lane, hour] > 0)


@pytest.mark.parametrize("name", NEW)
def test_unknown_parameters_are_refused_with_the_name(name):
    with pytest.raises(InputError, match=name):
        make_adversary(name, no_such_parameter=1)


def test_bad_parameter_values_name_the_field():
    with pytest.raises(InputError, match="cells"):
        PeakTimingAdversary(cells=0)
    with pytest.raises(InputError, match="window_s"):
        ShotgunAdversary(window_s=-1)
    with pytest.raises(InputError, match="gamma"):
        AdaptiveAdversary(gamma=0)
    with pytest.raises(InputError, match="seal_phase"):
        InsiderAdversary(seal_phase="during")
    with pytest.raises(InputError, match="top"):
        InformedAdversary(top=0)


def test_cells_follow_the_traffic(scenarios):
    sc = scenarios["otay-mesa"]
    lam = cell_arrivals_per_hour(sc)
    assert lam.sum() == pytest.approx(sc.daily_volume.sum())
    cells = open_cells(sc)
    assert not cells[TRUCK, :, 2].any()  # commercial lot closed at 2 am
    assert cells[CAR, 0, 8]


def test_peak_timing_starts_in_the_busiest_cells_then_follows_what_it_sees(scenarios):
    sc = scenarios["otay-mesa"]
    a = PeakTimingAdversary(cells=1, loads_per_day=20)
    plan = a.plan_day(view(sc), np.random.default_rng(1))
    lam = cell_arrivals_per_hour(sc)
    m, lane, h = np.unravel_index(np.argmax(lam), lam.shape)
    assert set(plan.mode) == {m} and set(plan.lane) == {lane}
    assert set((plan.arrive_at_s // 3600).astype(int)) == {h}
    # it watched the port: every cell inspected at 50% except trucks, general lane, 10 am
    share = np.full(lam.shape, 0.5)
    share[TRUCK, 0, 10] = 0.0
    watched = AdversaryView(sc, Policy.uniform(0.05), 3, share, np.full(lam.shape, 60.0))
    plan = a.plan_day(watched, np.random.default_rng(1))
    assert set(plan.mode) == {TRUCK} and set(plan.lane) == {0}
    assert set((plan.arrive_at_s // 3600).astype(int)) == {10}


def test_shotgun_sends_decoys_first_then_the_loads_in_one_peak_window(scenarios):
    sc = scenarios["otay-mesa"]
    a = ShotgunAdversary(loads=30, decoys=12, window_s=1800, decoy_lead_s=600)
    plan = a.plan_day(view(sc), np.random.default_rng(3))
    assert plan.n_loads == 30 and plan.n_decoys == 12
    m, hour = a.target(sc)
    assert MODE_ORDER[m] == "car" and hour == int(np.argmax(sc.hourly_profile[m]))
    start = hour * 3600
    decoys, loads = plan.arrive_at_s[plan.is_decoy], plan.arrive_at_s[~plan.is_decoy]
    # decoys start before the loads and keep coming while the loads cross, so that a
    # team back from an alert meets decoys again
    assert np.all((decoys >= start) & (decoys < start + 600 + 1800))
    assert decoys.min() < loads.min() and decoys.max() > loads.min()
    assert np.all((loads >= start + 600) & (loads < start + 600 + 1800))
    # the same seed sends the same loads whatever the decoys
    none = ShotgunAdversary(loads=30, decoys=0).plan_day(view(sc), np.random.default_rng(3))
    np.testing.assert_array_equal(none.arrive_at_s, loads)
    # default size: a surge over the scenario's daily mean, at least one decoy per two loads
    plan = ShotgunAdversary(surge=4).plan_day(view(sc), np.random.default_rng(3))
    assert plan.n_loads > 2 * sc.loads_per_day
    assert plan.n_decoys >= plan.n_loads // 2
    with pytest.raises(InputError, match="truck"):
        ShotgunAdversary(mode="truck").target(scenarios["san-ysidro"])


def test_interdiction_model_grows_with_the_referral_rate(scenarios):
    sc = scenarios["otay-mesa"]
    low = interdiction_model(sc, Policy.uniform(0.01)).p
    high = interdiction_model(sc, Policy.uniform(0.3)).p
    assert np.all((low >= 0) & (low <= 1))
    assert high.mean() > low.mean()
    # a cell where nothing is referred at random can only be caught by dogs, seals and
    # the inland checkpoint: far less often than one referred at 30%
    assert np.median(high - low) > 0


def test_informed_goes_where_the_policy_does_not_look(scenarios):
    sc = scenarios["test-port"]
    # refer every car and every truck in the general lane at random; the FAST lane is never
    policy = Policy.fixed_rules({("truck", "general"): 1.0, ("car", "general"): 1.0,
                                 ("car", "express"): 1.0}, default_rate=0.0)
    # uncapped (one cell may take any number of loads): only the FAST lane
    plan = InformedAdversary(loads_per_day=40, decoys_per_day=0,
                             max_cell_share=np.inf).plan_day(view(sc, policy),
                                                             np.random.default_rng(5))
    assert set(plan.mode) == {TRUCK} and set(plan.lane) == {1}
    # never after sealing: the custody monitor would see the seal broken
    assert CONCEALMENTS.index("sealed_post") not in set(plan.concealment)
    # capped at its share of each cell's traffic, it fills every FAST cell to its cap
    # before a single load goes where the policy looks
    share = sc.spec.contraband.economics.max_cell_share
    plan = InformedAdversary(loads_per_day=40, decoys_per_day=0).plan_day(
        view(sc, policy), np.random.default_rng(5))
    hour = (plan.arrive_at_s // 3600).astype(int)
    fast = (plan.mode == TRUCK) & (plan.lane == 1)
    room = np.floor(share * cell_arrivals_per_hour(sc)[TRUCK, 1])
    assert np.array_equal(np.bincount(hour[fast], minlength=24), room)
    assert (~fast).sum() == len(plan) - room.sum() > 0


def test_informed_with_zero_rationality_spreads_over_its_top_options(scenarios):
    sc = scenarios["test-port"]
    a = InformedAdversary(rationality=0.0, top=5, loads_per_day=200, decoys_per_day=0,
                          max_cell_share=np.inf)  # uncapped: the top options have room
    plan = a.plan_day(view(sc), np.random.default_rng(2))
    hour = (plan.arrive_at_s // 3600).astype(int)
    for d in np.unique(plan.drug):  # each drug has its own best options
        rows = plan.drug == d
        cells = set(zip(plan.mode[rows], plan.lane[rows], hour[rows], plan.concealment[rows],
                        strict=True))
        assert 1 < len(cells) <= 5


def _outcome(plan, seized_cell, share, day):
    hour = (plan.arrive_at_s // 3600).astype(int)
    seized = np.zeros(len(plan), dtype=bool)
    for i in range(len(plan)):
        seized[i] = (plan.mode[i], plan.lane[i], hour[i]) == seized_cell
    return DayOutcome(day, plan, seized, seized.copy(), share, np.full(share.shape, 60.0))


def test_adaptive_learns_to_avoid_the_cell_where_its_loads_are_seized(scenarios):
    sc = scenarios["test-port"]
    a = AdaptiveAdversary(gamma=0.3, wait_bonus=0.0, loads_per_day=60, decoys_per_day=0)
    rng = np.random.default_rng(11)
    share = np.full((N_MODES, 2, 24), 0.05)
    first = a.plan_day(view(sc), rng)
    hot = (int(first.mode[0]), int(first.lane[0]), int(first.arrive_at_s[0] // 3600))
    arm = int(np.flatnonzero(a._cells == np.ravel_multi_index(hot, (N_MODES, 2, 24)))[0])
    p_before = a.probabilities()[arm]
    a.observe(_outcome(first, hot, share, 0))
    for day in range(1, 15):
        plan = a.plan_day(view(sc, day=day), rng)
        a.observe(_outcome(plan, hot, share, day))
    assert a.probabilities()[arm] < p_before
    assert a.probabilities().sum() == pytest.approx(1.0)


def _run_adaptive(sc, policy, share, wait, days=8):
    a = AdaptiveAdversary(gamma=0.1, wait_bonus=1.0, loads_per_day=20)
    rng = np.random.default_rng(4)
    plans = []
    for day in range(days):
        v = AdversaryView(sc, policy, day, share, wait)
        plan = a.plan_day(v, rng)
        plans.append(plan)
        seized = plan.arrive_at_s < 8 * 3600  # its own loads seized before 08:00
        a.observe(DayOutcome(day, plan, seized & ~plan.is_decoy, seized.copy(), share, wait))
    return a, plans


def test_adaptive_learns_only_from_what_it_could_observe(scenarios):
    # the port's internal state (the share of all traffic inspected per cell) and the
    # defender's policy are not visible to a smuggler: changing them changes nothing
    sc = scenarios["test-port"]
    wait = np.full((N_MODES, 2, 24), 60.0)
    a, plans_a = _run_adaptive(sc, Policy.uniform(0.05), np.full((N_MODES, 2, 24), 0.3), wait)
    hidden = np.full((N_MODES, 2, 24), 0.3)
    hidden[CAR, 0, 16] = 0.0
    b, plans_b = _run_adaptive(sc, Policy.uniform(0.5), hidden, wait)
    np.testing.assert_array_equal(a.probabilities(), b.probabilities())
    for pa, pb in zip(plans_a, plans_b, strict=True):
        np.testing.assert_array_equal(pa.arrive_at_s, pb.arrive_at_s)


def test_adaptive_follows_the_public_wait_times(scenarios):
    # published waits (CBP's border wait times) are public: a long queue is a cell where
    # inspectors are pressed to move traffic, and the adaptive smuggler leans towards it
    sc = scenarios["test-port"]
    wait = np.full((N_MODES, 2, 24), 60.0)
    wait[CAR, 0, 16] = 3600.0
    a, _ = _run_adaptive(sc, Policy.uniform(0.05), np.full((N_MODES, 2, 24), 0.3), wait, days=15)
    best = a._cells[np.argmax(a.probabilities())]
    assert np.unravel_index(best, (N_MODES, 2, 24)) == (CAR, 0, 16)


def test_insider_rides_the_express_lane_in_sealed_trucks(scenarios):
    sc = scenarios["otay-mesa"]
    before = InsiderAdversary(loads_per_day=30).plan_day(view(sc), np.random.default_rng(9))
    assert set(before.mode) == {TRUCK} and set(before.lane) == {1}
    assert set(before.concealment) == {CONCEALMENTS.index("sealed_pre")}
    assert before.enrolled.all()
    after = InsiderAdversary(seal_phase="after", loads_per_day=30).plan_day(
        view(sc), np.random.default_rng(9))
    assert set(after.concealment) == {CONCEALMENTS.index("sealed_post")}
    # San Ysidro has no commercial traffic: a compromised SENTRI traveller instead
    sy = InsiderAdversary(loads_per_day=10).plan_day(view(scenarios["san-ysidro"]),
                                                      np.random.default_rng(9))
    assert set(sy.mode) == {CAR} and set(sy.lane) == {1}
    assert set(sy.concealment) == {CONCEALMENTS.index("trap")}


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), name=st.sampled_from(NEW),
       rate=st.floats(0.0, 1.0))
def test_any_seed_and_policy_gives_a_valid_plan(seed, name, rate):
    sc = load_scenario("test-port")
    plan = make_adversary(name).plan_day(view(sc, Policy.uniform(rate)),
                                         np.random.default_rng(seed))
    plan.validate(sc)
    assert isinstance(plan, LoadPlan)
    assert np.all(plan.mass_kg[~plan.is_decoy] > 0)


def test_canine_screening_is_measured_on_the_swept_modes_only(scenarios):
    sc = scenarios["otay-mesa"]
    model = interdiction_model(sc, Policy.uniform(0.05))
    screened = model.pathways.screened
    assert np.all((screened >= 0) & (screened <= 1))
    assert screened[TRUCK].mean() > 0 and screened[CAR].mean() > 0
    assert not sc.canine_modes[PEDESTRIAN] and not screened[PEDESTRIAN].any()


def test_informed_decoys_ride_in_the_hours_and_lanes_of_its_loads(scenarios):
    sc = scenarios["otay-mesa"]
    plan = InformedAdversary(loads_per_day=20, decoys_per_day=10).plan_day(
        view(sc), np.random.default_rng(5))
    assert plan.n_decoys > 0

    def cells(rows):
        return set(zip(plan.mode[rows].tolist(), plan.lane[rows].tolist(),
                       (plan.arrive_at_s[rows] // 3600).astype(int).tolist(), strict=True))

    assert cells(plan.is_decoy) <= cells(~plan.is_decoy)


def test_adaptive_does_not_drift_when_every_cell_is_alike(scenarios):
    # No load is ever seized and no wait is published: nothing tells one cell from
    # another, so the learner must stay where it started (the traffic shares), up to
    # sampling noise. A reward estimate that divides each tried cell's mean reward by
    # its probability (rather than summing rewards over the day's loads) favours the
    # cells it plays least and drifts towards an even spread over cells.
    sc = scenarios["otay-mesa"]
    a = AdaptiveAdversary(gamma=0.1, wait_bonus=0.0, loads_per_day=100, decoys_per_day=0)
    rng = np.random.default_rng(12)
    nan = np.full((N_MODES, 2, 24), np.nan)
    for day in range(200):
        plan = a.plan_day(view(sc, day=day), rng)
        none = np.zeros(len(plan), dtype=bool)
        a.observe(DayOutcome(day, plan, none, none.copy(), nan, nan))
    drift = 0.5 * np.abs(a.probabilities() - a._traffic_share).sum()
    assert drift < 0.05, drift
