"""Rail: trains with their containers, the rail NII portal, the rail yard, loads by rail.

Bad scenario files first (each refused on one line naming the field), then the trains
against the BTS volumes they are drawn from, the portal and yard against what they must
do, and loads hidden in rail containers as an attacker would send them.
"""

from __future__ import annotations

import dataclasses
import tomllib

import numpy as np
import pytest

from portwatch.cli.main import run
from portwatch.domain.errors import ConfigError
from portwatch.domain.modes import Mode
from portwatch.targeting.policy import N_LANES, N_MODES, Policy, mode_index
from portwatch.twin.adversaries import AdversaryView, make_adversary
from portwatch.twin.process.interdiction import interdiction_model
from portwatch.twin.process.kernel import DETECTED_NONE, N_UNIFORMS, PortState, prepare, run_day
from portwatch.twin.process.plan import DAY_S, LoadPlan
from portwatch.twin.process.traffic import draw_legit, draw_trains, ride_trains
from portwatch.twin.scenario import bts
from portwatch.twin.scenario.build import YEAR
from portwatch.twin.scenario.schema import (
    CONCEALMENTS,
    load_scenario,
    parse_scenario,
    scenario_path,
)

RAIL = mode_index(Mode.RAIL)
COMMINGLED = CONCEALMENTS.index("commingled")


def _laredo() -> dict:
    return tomllib.loads(scenario_path("laredo").read_text())


# ---- bad input ----------------------------------------------------------------------------
@pytest.mark.parametrize("edit, message", [
    (lambda d: d.pop("rail"), "rail: required where modes.rail is"),
    (lambda d: (d["modes"].pop("rail"), d["contraband"]["mode_share"].pop("rail")),
     "rail: given, but modes.rail is not"),
    (lambda d: d["modes"]["rail"].update(express=d["modes"]["rail"]["general"]),
     "modes.rail.express: trains have no express lane"),
    (lambda d: d["modes"]["rail"].update(enrolled_share=0.2),
     "modes.rail.enrolled_share: must be 0"),
    (lambda d: d["canine"]["modes"].append("rail"), "canine.modes: rail is inspected by"),
    (lambda d: d["scanners"][0]["modes"].append("rail"),
     "scanners.legacy-xray.modes: rail is inspected by"),
    (lambda d: d["rail"].update(trains_per_day=5000.0), "rail.trains_per_day: more trains"),
    (lambda d: d["rail"].update(yard_teams=0), "rail.yard_teams: must be >= 1, got 0"),
    (lambda d: d["rail"].update(portal_false_alarm_prob=1.5),
     "rail.portal_false_alarm_prob: must be <= 1, got 1.5"),
    (lambda d: d["rail"]["portal_detection"].update(opium={"*": 0.5}),
     "rail.portal_detection.opium: unknown drug"),
    (lambda d: d["rail"]["portal_detection"]["*"].update(hull=0.5),
     "rail.portal_detection: *.hull: unknown concealment"),
])
def test_a_bad_rail_table_is_refused_on_one_line_naming_the_field(edit, message):
    data = _laredo()
    edit(data)
    with pytest.raises(ConfigError) as err:
        parse_scenario(data, "laredo.toml")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_bad_rail_override_is_exit_2_on_the_command_line(capsys):
    code = run(["simulate", "laredo", "--days", "1", "-r", "1", "--set", "rail.yard_teams=-1"])
    assert code == 2
    err = capsys.readouterr().err
    assert "rail.yard_teams: must be >= 1" in err and "Traceback" not in err


# ---- trains against BTS ---------------------------------------------------------------------
def test_the_shipped_rail_volumes_are_the_bts_counts():
    sc = load_scenario("laredo")
    days = bts.days_in_year(YEAR)
    assert sc.daily_volume[RAIL] == pytest.approx(bts.annual_count("laredo", Mode.RAIL, YEAR)
                                                  / days, abs=0.05)
    assert sc.trains_per_day == pytest.approx(
        sum(bts.monthly_measure("laredo", bts.TRAINS, YEAR)) / days, abs=5e-4)
    # every port BTS lists with trains has rail in the pooled southern border
    border = load_scenario("southern-border")
    rail_ports = [p for p in bts.ports() if sum(bts.monthly_measure(p.code, bts.TRAINS, YEAR))]
    assert {p.name for p in rail_ports} >= {"Laredo", "El Paso", "Eagle Pass", "Nogales",
                                            "Brownsville", "Calexico East"}
    assert border.trains_per_day == pytest.approx(
        sum(sum(bts.monthly_measure(p.code, bts.TRAINS, YEAR)) for p in rail_ports) / days,
        abs=0.01)
    assert not load_scenario("san-ysidro").mode_present[RAIL]


def test_trains_bring_their_containers_at_one_instant_at_the_bts_rates():
    sc = load_scenario("laredo")
    rng = np.random.default_rng(5)
    days = 60
    trains, containers = 0, 0
    for day in range(days):
        t = draw_trains(sc, day, rng)
        assert np.all(t.mode == RAIL) and np.all(np.diff(t.arrive_at_s) >= 0)
        assert np.all((t.arrive_at_s >= day * DAY_S) & (t.arrive_at_s < (day + 1) * DAY_S))
        instants = np.unique(t.arrive_at_s)
        trains += instants.shape[0]
        containers += t.arrive_at_s.shape[0]
    # Poisson counts: a 4-sigma band around the BTS means the scenario holds
    mean_t = sc.trains_per_day * days
    assert abs(trains - mean_t) < 4 * np.sqrt(mean_t)
    per_train = sc.daily_volume[RAIL] / sc.trains_per_day
    sd_c = np.sqrt(mean_t * (per_train - 1) + mean_t * per_train**2)  # compound Poisson
    assert abs(containers - sc.daily_volume[RAIL] * days) < 4 * sd_c


def test_a_port_day_has_its_trains_merged_in_arrival_order():
    sc = load_scenario("laredo")
    day = draw_legit(sc, 3, np.random.default_rng(1))
    assert np.all(np.diff(day.arrive_at_s) >= 0)
    rail = day.mode == RAIL
    assert 500 < rail.sum() < 2500
    assert not day.enrolled[rail].any() and np.all(day.lane[rail] == 0)


def test_a_load_in_a_rail_container_rides_a_train():
    sc = load_scenario("laredo")
    legit = draw_legit(sc, 0, np.random.default_rng(2))
    trains = np.unique(legit.arrive_at_s[legit.mode == RAIL])
    plan = LoadPlan(np.array([100.0, 50_000.0, 86_000.0]), np.array([RAIL, RAIL, 0]),
                    np.zeros(3, dtype=np.int64), np.zeros(3, dtype=np.int64), np.ones(3),
                    np.full(3, COMMINGLED), np.zeros(3, dtype=bool))
    from portwatch.twin.process.traffic import plan_traffic

    planned = ride_trains(legit, plan_traffic(sc, 0, plan, np.random.default_rng(0)))
    assert set(planned.arrive_at_s[:2]) <= set(trains)
    assert planned.arrive_at_s[0] >= 100.0 and planned.arrive_at_s[2] == 86_000.0


# ---- the portal and the yard ----------------------------------------------------------------
def _rail_day(sc, policy, seed=4, drug=None):
    """One Laredo day run through the kernel; ``drug`` puts that drug (commingled) in
    every rail container."""
    rng = np.random.default_rng(seed)
    tr = draw_legit(sc, 0, rng)
    if drug is not None:
        rail = tr.mode == RAIL
        tr = dataclasses.replace(tr, drug=np.where(rail, drug, -1),
                                 concealment=np.where(rail, COMMINGLED, -1),
                                 mass_kg=np.where(rail, 10.0, 0.0))
    u = np.random.default_rng(seed + 1).random((len(tr), N_UNIFORMS))
    run = run_day(prepare(sc, policy), tr.arrive_at_s, tr.mode, tr.lane, tr.enrolled,
                  tr.custody, tr.risk, tr.drug, tr.concealment, tr.is_decoy, u, PortState(sc))
    return tr, run


def _rail_rate(rate: float) -> Policy:
    return Policy.fixed_rules({("truck", "general"): 0.1, ("rail", "general"): rate},
                              n_blocks=1)


def test_rail_never_touches_the_road_lanes_or_the_bays():
    """Refer every rail container or none: every road conveyance's outcome is the same,
    and the bays are never busier: rail has its own portal, yard and capacity."""
    sc = load_scenario("laredo")
    tr, none = _rail_day(sc, _rail_rate(0.0))
    _, every = _rail_day(sc, _rail_rate(1.0))
    road = tr.mode != RAIL
    for name in ("primary_start_at", "exit_at", "lane_code", "detected_by", "held_s"):
        assert np.array_equal(getattr(none, name)[road], getattr(every, name)[road]), name
    assert none.busy_s[-1] == every.busy_s[-1]  # the bays
    assert every.busy_s[-2] > none.busy_s[-2] > 0  # the rail yard
    rail = tr.mode == RAIL
    assert every.inspected[rail].all() and every.examined[rail].all()


def test_the_portal_images_every_container_and_refers_its_anomalies():
    sc = load_scenario("laredo")
    tr, run = _rail_day(sc, _rail_rate(0.0))
    rail = tr.mode == RAIL
    n = int(rail.sum())
    # every container passes the portal: its busy time is one scan per container
    scan_s = sc.primary_service[RAIL * N_LANES].mean_s
    assert run.busy_s[RAIL * N_LANES] == pytest.approx(n * scan_s, rel=0.1)
    # clean containers show an anomaly at the portal's false-alarm rate (binomial band)
    p = sc.portal_false_alarm
    alerts = int(run.alert[rail].sum())
    assert abs(alerts - n * p) < 4 * np.sqrt(n * p * (1 - p))
    assert np.array_equal(run.inspected[rail], run.alert[rail])  # referred: the anomalies


@pytest.mark.parametrize("detect, expected", [(1.0, True), (0.0, False)])
def test_a_load_in_a_container_is_caught_by_the_image_or_not_at_all(detect, expected):
    data = _laredo()
    data["rail"]["portal_detection"] = {"*": {"*": detect}}
    data["secondary"]["guided_detection"] = {"*": {"*": 1.0}}
    sc = parse_scenario(data, "laredo.toml")
    tr, run = _rail_day(sc, _rail_rate(0.0), drug=0)
    rail = tr.mode == RAIL
    caught = run.detected_by[rail] != DETECTED_NONE
    assert caught.all() if expected else not caught.any()


# ---- adversaries ------------------------------------------------------------------------------
def test_loads_and_adversaries_use_rail_where_the_port_has_it():
    nan = np.full((N_MODES, N_LANES, 24), np.nan)
    for name, has_rail in (("laredo", True), ("san-ysidro", False)):
        sc = load_scenario(name, ["contraband.loads_per_day=400"])
        assert (sc.load_mode_share[RAIL] > 0) == has_rail
        view = AdversaryView(sc, Policy.uniform(0.05), 0, nan, nan, ())
        plan = make_adversary("naive").plan_day(view, np.random.default_rng(0))
        rail = (plan.mode == RAIL) & ~plan.is_decoy
        assert rail.any() == has_rail
        # a rail container carries commingled cargo or a trap, never a sealed shipment
        assert set(plan.concealment[rail].tolist()) <= {COMMINGLED, CONCEALMENTS.index("trap")}


def test_the_informed_adversary_sends_its_loads_by_rail_when_the_portal_is_blind():
    """An attacker who learns the rail image misses everything and rail is never
    referred at random puts its loads in rail containers, and the one model says so."""
    data = _laredo()
    data["rail"]["portal_detection"] = {"*": {"*": 0.0}}
    sc = parse_scenario(data, "laredo.toml")
    policy = Policy.fixed_rules({("truck", "general"): 0.2, ("car", "general"): 0.05,
                                 ("pedestrian", "general"): 0.05, ("bus", "general"): 0.2},
                                default_rate=0.05, n_blocks=1)
    policy = dataclasses.replace(policy, referral_prob=np.where(
        np.arange(N_MODES)[:, None, None] == RAIL, 0.0, policy.referral_prob))
    model = interdiction_model(sc, policy, days=1)
    assert np.all(model.p[RAIL, 0] == 0.0)
    nan = np.full((N_MODES, N_LANES, 24), np.nan)
    view = AdversaryView(sc, policy, 0, nan, nan, ())
    plan = make_adversary("informed", loads_per_day=20).plan_day(view, np.random.default_rng(3))
    loads = ~plan.is_decoy
    assert (plan.mode[loads] == RAIL).mean() > 0.5


def test_the_one_model_predicts_what_the_kernel_does_to_loads_in_rail_containers():
    """Loads all sent by rail, spread like the trains (a plan the model did not choose):
    the model's mean chance lies in the realised 95% interval."""
    from portwatch.twin.process.traffic import compose_day, legit_uniforms, plan_traffic
    from portwatch.twin.study.replications import wilson_interval

    data = _laredo()
    data["contraband"].update(loads_per_day=150.0, decoys_per_day=0.0,
                              mode_share={"rail": 1.0})
    sc = parse_scenario(data, "laredo.toml")
    policy = Policy.uniform(0.05)
    model = interdiction_model(sc, policy)
    naive = make_adversary("naive")
    rng = np.random.default_rng(17)
    kernel, state = prepare(sc, policy), PortState(sc)
    predicted, caught = [], []
    for day in range(4):
        legit = draw_legit(sc, day, rng)
        plan = naive.plan_day(AdversaryView.blank(sc, policy, day), rng)
        assert np.all(plan.mode == RAIL)
        planned = plan_traffic(sc, day, plan, rng)
        tr, u = compose_day(legit, planned, legit_uniforms(legit, rng),
                            rng.random((len(planned), N_UNIFORMS)))
        run = run_day(kernel, tr.arrive_at_s, tr.mode, tr.lane, tr.enrolled, tr.custody,
                      tr.risk, tr.drug, tr.concealment, tr.is_decoy, u, state)
        rows = tr.plan_row >= 0
        predicted.append(model.of_plan(plan)[tr.plan_row[rows]])
        caught.append(run.detected_by[rows] > 0)
    p, hit = np.concatenate(predicted), np.concatenate(caught)
    low, high = wilson_interval(int(hit.sum()), len(hit))
    assert len(hit) > 400 and 0.2 < p.mean() < 0.9
    assert low <= p.mean() <= high, (p.mean(), low, high)


def batch_poisson_wait_s(trains_per_s: float, mean_batch: float, batch_second_moment: float,
                         mean_s: float, service_second_moment: float) -> float:
    """Mean wait in queue of a customer of M^X/G/1 (Poisson batches, one server, FIFO):
    the work a batch finds ahead of it (the M/G/1 wait of the batch as one customer,
    by PASTA) plus the customers ahead in its own batch, written in the usual form
    ``(rho E[S^2] / (2 E[S]) + E[S] (E[X^2] - E[X]) / (2 E[X])) / (1 - rho)``."""
    rho = trains_per_s * mean_batch * mean_s
    ahead = trains_per_s * mean_batch * service_second_moment / (2.0 * (1.0 - rho))
    own = mean_s * (batch_second_moment - mean_batch) / (2.0 * mean_batch * (1.0 - rho))
    return ahead + own


def test_the_portal_queue_matches_batch_poisson_theory():
    """Trains are Poisson batches of containers at one portal: the mean wait of a
    container is M^X/G/1's, within the simulation's 95% interval (or 3%)."""
    sc = load_scenario("laredo")
    rng = np.random.default_rng(11)
    policy = Policy.uniform(0.0)
    kernel, state = prepare(sc, policy), PortState(sc)
    waits = []
    for day in range(120):
        tr = draw_trains(sc, day, rng)
        u = rng.random((len(tr), N_UNIFORMS))
        run = run_day(kernel, tr.arrive_at_s, tr.mode, tr.lane, tr.enrolled, tr.custody,
                      tr.risk, tr.drug, tr.concealment, tr.is_decoy, u, state)
        waits.append(run.primary_start_at - tr.arrive_at_s)
    per_block = [np.concatenate(waits[k:k + 12]).mean() for k in range(0, 120, 12)]
    sim = float(np.mean(per_block))
    half = 2.262 * float(np.std(per_block, ddof=1)) / np.sqrt(len(per_block))  # t(0.975, 9)
    m = sc.daily_volume[RAIL] / sc.trains_per_day
    service = sc.primary_service[RAIL * N_LANES]
    theory = batch_poisson_wait_s(sc.trains_per_day / DAY_S, m, (m - 1.0) + m * m,
                                  service.mean_s, service.variance_s2 + service.mean_s ** 2)
    assert abs(sim - theory) <= max(half, 0.03 * theory), (sim, theory, half)
