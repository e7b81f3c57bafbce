"""Drivers and pedestrians who see the queue: the enrolled pick the shorter lane, anyone
(but a smuggler) whose visible wait passes the mode's limit leaves the line, and studies
report the waits per lane, the share eligible for express and those who left."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from portwatch.domain.errors import ConfigError
from portwatch.targeting.policy import Policy
from portwatch.twin.process.kernel import N_UNIFORMS, PortState, prepare, run_day
from portwatch.twin.process.traffic import draw_legit
from portwatch.twin.scenario.schema import load_scenario, parse_scenario, scenario_data

CAR = 1
BASE, _ = scenario_data("test-port")
POLICY = Policy.uniform(0.02)


def _scenario(drivers=None, **car):
    data = copy.deepcopy(BASE)
    data["modes"]["car"].update(car)
    data.pop("drivers", None)
    if drivers is not None:
        data["drivers"] = drivers
    return parse_scenario(data, "test")


def _day(sc, seed=3, loads_every=0):
    """One day of legitimate traffic (every ``loads_every``-th conveyance made a load)."""
    rng = np.random.default_rng(seed)
    tr = draw_legit(sc, 0, rng)
    drug = tr.drug.copy()
    if loads_every:
        drug[::loads_every] = 0
    u = np.random.default_rng(seed + 1).random((len(tr), N_UNIFORMS))
    run = run_day(prepare(sc, POLICY), tr.arrive_at_s, tr.mode, tr.lane, tr.enrolled,
                  tr.custody, tr.risk, drug, tr.concealment, tr.is_decoy, u, PortState(sc))
    return tr, drug, run


def test_without_a_drivers_table_lanes_stay_and_nobody_leaves():
    tr, _, run = _day(_scenario())
    assert np.array_equal(run.lane_used, tr.lane)
    assert not run.balked.any()


def test_the_enrolled_move_to_the_general_lane_when_express_is_longer():
    # 90% enrolled, one express booth: the express queue grows, general booths idle
    crowded = {"enrolled_share": 0.9}
    tr, _, fixed = _day(_scenario(**crowded))
    _, _, choosing = _day(_scenario({"choose_lane": ["car"]}, **crowded))
    car_express = (tr.mode == CAR) & (tr.lane == 1)
    moved = car_express & (choosing.lane_used == 0)
    assert moved.sum() > 100
    assert not ((tr.mode == CAR) & ~tr.enrolled & (choosing.lane_used == 1)).any()
    wait_fixed = (fixed.primary_start_at - tr.arrive_at_s)[tr.mode == CAR].mean()
    wait_choosing = (choosing.primary_start_at - tr.arrive_at_s)[tr.mode == CAR].mean()
    assert wait_choosing < 0.5 * wait_fixed, (wait_choosing, wait_fixed)


def test_long_visible_waits_make_travellers_leave_but_never_smugglers():
    # one car booth an hour for 3,000 cars a day: the line grows past 20 minutes
    one_booth = {"general": {**BASE["modes"]["car"]["general"], "booths_by_hour": [1] * 24}}
    drivers = {"balk_wait_min": {"car": 20.0}, "divert_share": 0.25}
    tr, drug, run = _day(_scenario(drivers, **one_booth), loads_every=7)
    cars = tr.mode == CAR
    left = run.balked > 0
    assert left[cars].mean() > 0.3
    assert not left[~cars].any()  # no limit for the other modes
    assert not left[drug >= 0].any()  # the cartel's drivers keep to their plan
    diverted = (run.balked == 2).sum() / left.sum()
    n = left.sum()
    assert abs(diverted - 0.25) < 4 * np.sqrt(0.25 * 0.75 / n)
    stayed = cars & ~left
    wait = run.primary_start_at - tr.arrive_at_s
    _, _, patient = _day(_scenario(None, **one_booth), loads_every=7)
    assert wait[stayed].mean() < (patient.primary_start_at - tr.arrive_at_s)[cars].mean()


def test_drivers_table_names_only_modes_of_the_port():
    data = copy.deepcopy(BASE)
    data["drivers"] = {"choose_lane": ["pedestrian"]}
    with pytest.raises(ConfigError, match="drivers: pedestrian: mode not in modes"):
        parse_scenario(data, "test.toml")
    data["drivers"] = {"balk_wait_min": {"car": -5}}
    with pytest.raises(ConfigError, match="balk_wait_min.car: must be > 0"):
        parse_scenario(data, "test.toml")


def test_study_reports_lanes_express_gain_and_those_who_left():
    from portwatch.twin.study.replications import run_study
    from portwatch.twin.study.report import headline_table

    sc = load_scenario("san-ysidro")
    study = run_study(sc, POLICY, "naive", days=1, replications=2, seed=5)
    summary = study.summary(POLICY.name)
    for mode in ("car", "pedestrian"):
        express = summary["express"][mode]
        assert 0 < express["eligible_share"] < 1
        assert express["gain_s"] == pytest.approx(
            summary["wait_s_by_lane"][f"{mode}.general"]["mean"]
            - summary["wait_s_by_lane"][f"{mode}.express"]["mean"])
    assert summary["balked"] >= 0 and summary["diverted"] >= 0
    labels = [label for label, _ in headline_table(study.to_dict())]
    assert "car express gain, mean wait saved (min)" in labels
    assert "pedestrian share eligible for express" in labels
    assert "left the line for another port / day" in labels


def test_html_report_has_the_lane_rows():
    from portwatch.twin.study.replications import run_study
    from portwatch.twin.study.report import _html

    data = run_study("test-port", POLICY, "naive", days=1, replications=2, seed=5).to_dict()
    page = _html(data, {})
    assert "car express gain, mean wait saved (min)" in page
    assert "car share eligible for express" in page
    assert "left the line and gave up / day" in page
