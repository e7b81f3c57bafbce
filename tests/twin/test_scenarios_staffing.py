"""Booth staffing calibrated on published waits: trucks by hour (20-30 min mean, 70-85 min
95th percentile) within the ports' booth counts; cars and pedestrians by a cap on the
general lanes' booths, each port and mode on its own published mean wait."""

from __future__ import annotations

import pytest

from portwatch.domain.modes import Mode
from portwatch.twin.scenario import build as scenario_build
from portwatch.twin.scenario.build import (
    FLAT,
    GENERAL_BOOTH_CAP,
    PUBLISHED_WAIT_MIN,
    SHIPPED_PORTS,
    TRUCK_PRIMARY_BOOTHS,
    TRUCK_STAFFING_SHAPE,
    capped_booths,
    describe_shape,
    port_scenario,
    published_wait_min,
    shaped_booths,
)
from portwatch.twin.scenario.schema import load_scenario
from portwatch.twin.scenario.staffing import (
    Candidate,
    general_booth_limit,
    lane_wait_min,
    neighbours,
    truck_waits_min,
)

CALIBRATED = {"otay-mesa": "2506", "laredo": "2304"}


@pytest.mark.parametrize("name", sorted(CALIBRATED))
def test_shipped_truck_waits_are_in_the_published_ranges(name):
    data = port_scenario(CALIBRATED[name])
    mean_min, p95_min = truck_waits_min(data)  # rules, naive, 4 days x 4 replications, seed 0
    assert Candidate(TRUCK_STAFFING_SHAPE[CALIBRATED[name]], (), mean_min, p95_min).inside, (
        mean_min, p95_min)


@pytest.mark.parametrize("name", sorted(CALIBRATED))
def test_staffing_never_exceeds_the_ports_booths(name):
    code = CALIBRATED[name]
    truck = load_scenario(name).spec.modes[Mode.TRUCK]
    express = truck.express.booths_by_hour if truck.express else [0] * 24
    total = [g + e for g, e in zip(truck.general.booths_by_hour, express, strict=True)]
    assert max(total) <= TRUCK_PRIMARY_BOOTHS[code][0]
    assert max(truck.general.booths_by_hour) <= general_booth_limit(code)
    assert "booths" in truck.general.source and describe_shape(
        TRUCK_STAFFING_SHAPE[code]) in truck.general.source


@pytest.mark.parametrize("name", sorted(CALIBRATED))
def test_the_shape_moves_only_the_general_truck_lanes(name):
    shaped = port_scenario(CALIBRATED[name])
    flat = port_scenario(CALIBRATED[name], truck_shape=FLAT)
    flat_booths = flat["modes"]["truck"]["general"].pop("booths_by_hour")
    shaped_booths_now = shaped["modes"]["truck"]["general"].pop("booths_by_hour")
    assert shaped_booths_now == shaped_booths(flat_booths, TRUCK_STAFFING_SHAPE[CALIBRATED[name]])
    for mode in ("car", "pedestrian", "bus"):
        assert shaped["modes"][mode] == flat["modes"][mode]
    assert shaped["modes"]["truck"]["express"] == flat["modes"]["truck"]["express"]


@pytest.mark.parametrize("key", sorted(PUBLISHED_WAIT_MIN, key=str))
def test_shipped_car_and_pedestrian_waits_are_in_the_published_ranges(key):
    code, mode = key
    lo, hi, source = PUBLISHED_WAIT_MIN[key]
    assert (code, mode.value) in GENERAL_BOOTH_CAP and "20" in source  # a dated figure
    mean_min = lane_wait_min(port_scenario(code), mode)  # rules, naive, 4 x 4, seed 0
    assert lo <= mean_min <= hi, (key, mean_min)


def test_lanes_without_a_published_wait_keep_their_demand_sized_staffing():
    for code in ("2506", "2304"):  # Otay Mesa and Laredo pedestrians: no published average
        assert published_wait_min(code, Mode.PEDESTRIAN) is None
        capped = port_scenario(code)["modes"]["pedestrian"]
        assert capped == port_scenario(code, booth_caps={})["modes"]["pedestrian"]
    express = port_scenario("2504")["modes"]["car"]["express"]
    assert express == port_scenario("2504", booth_caps={})["modes"]["car"]["express"]


def test_capped_booths_follow_demand_under_the_cap_and_spread_a_fraction():
    assert capped_booths([2, 5, 5, 5, 5, 3], 4.0) == [2, 4, 4, 4, 4, 3]
    assert capped_booths([2, 5, 5, 5, 5, 3], 4.5) == [2, 4, 5, 4, 5, 3]
    assert capped_booths([0, 3], 0.5) == [0, 1]  # an open hour keeps a booth


def test_cap_search_brackets_the_middle_of_the_published_range(monkeypatch):
    from portwatch.twin.scenario import staffing as staffing_search

    def waits(data, mode):
        # a stand-in for the twin: waits fall by 10 min per booth of cap
        return 200.0 - 10.0 * max(data["modes"][mode.value]["general"]["booths_by_hour"])

    monkeypatch.setattr(staffing_search, "lane_wait_min", waits)
    walk = staffing_search.search_cap("2504", Mode.CAR, (36.0, 42.0))
    assert walk[-1].mean_min in (30.0, 40.0, 50.0)
    assert abs(walk[-1].mean_min - 39.0) <= 10.0
    assert walk[-1].cap == pytest.approx(16.0, abs=1.0)


def test_uncalibrated_ports_stay_flat():
    assert set(TRUCK_STAFFING_SHAPE) == set(TRUCK_PRIMARY_BOOTHS)
    assert set(TRUCK_STAFFING_SHAPE) <= set(SHIPPED_PORTS.values())
    booths = port_scenario("el-paso")["modes"]["truck"]["general"]["booths_by_hour"]
    assert len({n for n in booths if n > 0}) == 1


def test_shaped_booths_keeps_closed_hours_closed_and_one_booth_open():
    flat = [0, 2, 2, 1]
    assert shaped_booths(flat, (1, 1, -1, -1)) == [0, 3, 1, 1]
    assert shaped_booths(flat, (0, 0, 0, 0)) == flat


def test_neighbours_change_one_open_hour_by_one_booth_within_limits():
    flat = [0, 3, 3]
    found = neighbours((0, 0, 1), flat, max_booths=4)
    assert sorted(found) == [(0, -1, 1), (0, 0, 0), (0, 1, 1)]
    assert neighbours((0, 0, 0), [0, 4, 0], max_booths=4) == [(0, -1, 0)]


def test_describe_shape_names_the_hours():
    shape = (0,) * 6 + (1,) * 4 + (0,) * 4 + (-1,) * 2 + (0,) * 8
    assert describe_shape(shape) == "+1 booth 06:00-10:00, -1 booth 14:00-16:00"
    assert describe_shape(FLAT) == "flat"


def test_candidate_inside_and_distance():
    middle = Candidate(FLAT, (), 25.0, 77.5)
    assert middle.inside and middle.distance == 0.0
    edge = Candidate(FLAT, (), 30.0, 70.0)
    assert edge.inside and edge.distance == pytest.approx(2.0)
    assert not Candidate(FLAT, (), 44.7, 93.5).inside


def test_build_command_needs_out(capsys):
    with pytest.raises(SystemExit) as exc:
        scenario_build.main([])
    assert exc.value.code == 2
    assert "--out" in capsys.readouterr().err


def test_calibrate_command_prints_the_shapes_it_found(monkeypatch, capsys):
    from portwatch.twin.scenario import staffing as staffing_search

    def walk(code, limit, year):
        # the walk itself is minutes of simulation: a two-step walk stands in for it
        assert limit == general_booth_limit(code, year)
        shape = TRUCK_STAFFING_SHAPE[code]
        return [Candidate(FLAT, (), 44.7, 93.5), Candidate(shape, (4,) * 24, 28.7, 70.9)]

    monkeypatch.setattr(staffing_search, "search", walk)
    assert staffing_search.main([]) == 0
    out = capsys.readouterr().out
    assert "step 1: mean  28.7 min, p95  70.9 min, inside the ranges" in out
    for code, shape in TRUCK_STAFFING_SHAPE.items():
        assert f"{code!r}: {shape}," in out


def test_build_command_in_a_subprocess_writes_the_shaped_staffing(tmp_path):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "portwatch.twin.scenario.build", "--port", "laredo",
         "--out", str(tmp_path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    truck = load_scenario(tmp_path / "laredo.toml").spec.modes[Mode.TRUCK]
    assert list(truck.general.booths_by_hour) == list(
        load_scenario("laredo").spec.modes[Mode.TRUCK].general.booths_by_hour)


def test_a_busier_month_never_opens_more_booths_than_the_port_has():
    for month in range(1, 13):
        truck = port_scenario("laredo", 2018, month=month)["modes"]["truck"]
        total = [g + e for g, e in zip(truck["general"]["booths_by_hour"],
                                       truck["express"]["booths_by_hour"], strict=True)]
        assert max(total) <= TRUCK_PRIMARY_BOOTHS["2304"][0], month


def test_search_walks_one_booth_hour_at_a_time_into_the_ranges(monkeypatch):
    from portwatch.twin.scenario import staffing as staffing_search

    def waits(data):
        # a stand-in for the twin: each booth-hour over the flat 4 x 18 cuts the mean
        # by 4 min, and the tail follows the mean
        booth_hours = sum(data["modes"]["truck"]["general"]["booths_by_hour"])
        mean_min = 40.0 - 4.0 * (booth_hours - 72)
        return mean_min, 2.6 * mean_min

    monkeypatch.setattr(staffing_search, "truck_waits_min", waits)
    walk = staffing_search.search("2506", max_booths=9)
    # a fourth booth-hour would take the tail under 70 min: the walk stops inside
    assert [round(c.mean_min) for c in walk] == [40, 36, 32, 28]
    assert walk[-1].inside and not walk[-2].inside
    for before, after in zip(walk, walk[1:], strict=False):
        assert after.distance < before.distance
        changed = [h for h in range(24) if before.shape[h] != after.shape[h]]
        assert len(changed) == 1 and abs(after.shape[changed[0]]) <= 1
