"""The shipped scenarios: they load, their volumes are the BTS file's, and the generator
reproduces them byte for byte (so every number is traceable)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from portwatch.domain.errors import InputError
from portwatch.domain.modes import Mode
from portwatch.targeting.policy import MODE_ORDER
from portwatch.twin.scenario import bts
from portwatch.twin.scenario.build import (
    SHIPPED_PORTS,
    YEAR,
    _rail_counts,
    port_scenario,
    write_scenarios,
)
from portwatch.twin.scenario.schema import (
    load_scenario,
    parse_scenario,
    scenario_names,
    scenario_path,
)

SHIPPED = ["laredo", "otay-mesa", "san-ysidro", "southern-border"]
REPO = Path(__file__).resolve().parents[2]


def test_the_four_calibrated_scenarios_are_shipped():
    assert set(SHIPPED) <= set(scenario_names())


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_scenario_loads(name):
    sc = load_scenario(name)
    assert sc.name == name
    assert sc.daily_volume.sum() > 0
    assert len(sc.drugs) == 5


def test_scenario_loads_by_the_root_path_too():
    sc = load_scenario(REPO / "scenarios" / "otay-mesa.toml")
    assert sc.name == "otay-mesa"


@pytest.mark.parametrize("name", sorted(SHIPPED_PORTS))
def test_port_volumes_match_the_bts_file(name):
    sc = load_scenario(name)
    expected = bts.daily_volume(SHIPPED_PORTS[name], YEAR)
    for m, mode in enumerate(MODE_ORDER):
        assert sc.daily_volume[m] == pytest.approx(expected[mode], abs=0.05), mode


def test_southern_border_is_every_port_of_the_bts_file():
    sc = load_scenario("southern-border")
    header = scenario_path("southern-border").read_text().split("\nname =")[0]
    for port in bts.ports():
        assert f"{port.code}  {port.name}" in header
    for m, mode in enumerate(MODE_ORDER):
        year_count = bts.total_crossings(YEAR, [mode])
        # each port's volume is rounded to 0.1 a day in its file
        assert sc.daily_volume[m] == pytest.approx(year_count / 365, abs=0.05 * 27), mode
    # the ~130 M road conveyances a year the benchmark simulates, and 1.09 M rail containers
    road = [MODE_ORDER.index(m) for m in bts.ROAD_MODES]
    assert sc.daily_volume[road].sum() * 365 == pytest.approx(129_565_111, rel=1e-4)
    assert bts.total_crossings(YEAR, [Mode.RAIL]) == 1_088_303


def test_calibration_figures_are_in_the_files():
    sc = load_scenario("laredo")
    truck = sc.spec.modes[Mode.TRUCK]
    assert truck.general.service.mean_s == 90.0  # 1-2 min standard truck primary
    assert truck.express is not None and truck.express.service.mean_s == 27.0  # FAST
    car = sc.spec.modes[Mode.CAR]
    assert car.express is not None
    assert car.express.service.mean_s == pytest.approx(0.8 * car.general.service.mean_s)
    assert sc.canine_service.mean_s == 330.0  # 5-6 min per vehicle
    assert {s: sc.scanner_service[i].mean_s for i, s in enumerate(sc.scanner_names)} == {
        "legacy-xray": 480.0, "drive-through-portal": 45.0}
    el_paso = port_scenario("el-paso")
    assert el_paso["modes"]["car"]["general"]["service"]["mean_s"] == 34.0


def test_every_table_names_its_source():
    spec = load_scenario("otay-mesa").spec
    assert spec.source and spec.cost.source and spec.contraband.source
    for mode in spec.modes.values():
        assert mode.source and mode.general.service.source
    for drug in spec.contraband.drugs.values():
        assert drug.source and "DHS" in drug.source


def test_the_generator_reproduces_the_shipped_files(tmp_path):
    for path in write_scenarios(tmp_path):
        shipped = scenario_path(path.stem)
        assert path.read_text() == shipped.read_text(), path.name


@settings(max_examples=20, deadline=None)
@given(port=st.sampled_from([p.code for p in bts.ports()]),
       year=st.integers(bts.FIRST_YEAR, bts.LAST_YEAR))
@example(port="2305", year=1998)
def test_any_bts_port_and_year_gives_a_valid_scenario(port, year):
    if sum(bts.daily_volume(port, year).values()) < 0.05:
        with pytest.raises(InputError, match="no inbound traffic"):
            port_scenario(port, year)
        return
    sc = parse_scenario(port_scenario(port, year), f"{port}-{year}")
    expected = bts.daily_volume(port, year)
    if _rail_counts(port, year, None)[0] == 0:  # containers without trains (Hidalgo 1998)
        expected[Mode.RAIL] = 0.0
    for m, mode in enumerate(MODE_ORDER):
        assert sc.daily_volume[m] == pytest.approx(expected[mode], abs=0.05)
        if sc.mode_present[m]:
            # every hour with arrivals has a booth open
            busy = sc.hourly_profile[m] > 0
            assert np.all(sc.booths[m * 2][busy] > 0)


def test_a_month_of_a_port_uses_that_months_bts_count(tmp_path, capsys):
    from portwatch.twin.scenario import build as scenario_build

    sc = parse_scenario(port_scenario("otay-mesa", 2018, month=12), "dec")
    assert sc.name == "otay-mesa-2018-12"
    for m, mode in enumerate(MODE_ORDER):
        count = bts.monthly_counts("otay-mesa", mode, 2018)[11]
        assert sc.daily_volume[m] == pytest.approx(count / 31, abs=0.05)
    with pytest.raises(InputError, match="month"):
        port_scenario("otay-mesa", 2018, month=13)
    assert scenario_build.main(["--port", "laredo", "--month", "2", "--out", str(tmp_path)]) == 0
    assert load_scenario(tmp_path / "laredo-2018-02.toml").name == "laredo-2018-02"
    assert scenario_build.main(["--port", "atlantis", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("error: port 'atlantis'")
