"""The scenario schema: loading by name or path, one-line errors, the compiled arrays."""

from __future__ import annotations

import tomllib
from importlib import resources

import numpy as np
import pytest
import tomli_w

from portwatch.domain.errors import ConfigError, NotFoundError
from portwatch.twin.scenario.schema import CONCEALMENTS, load_scenario, parse_scenario


def _test_port() -> dict:
    text = (resources.files("portwatch.twin.scenario") / "shipped" / "test-port.toml").read_text()
    return tomllib.loads(text)


def test_test_port_loads_by_name_and_compiles_to_arrays():
    sc = load_scenario("test-port")
    assert sc.name == "test-port"
    assert list(sc.mode_present) == [True, True, False, False, False]
    assert np.allclose(sc.hourly_profile[:2].sum(axis=1), 1.0)
    assert sc.booths.shape == (10, 24)
    assert sc.booths[0, 8] == 3 and sc.booths[1, 0] == 0  # truck general / express
    assert sc.has_express[0] and sc.has_express[1]
    assert sc.primary_service[0].mean_s == 90.0
    assert sc.canine_detect.shape == (len(sc.drugs), len(CONCEALMENTS))
    fentanyl = sc.drugs.index("fentanyl")
    # the drug row overrides the wildcard row, a concealment entry overrides "*"
    assert sc.canine_detect[fentanyl].tolist() == [0.4, 0.4, 0.4, 0.4]
    assert sc.canine_detect[0].tolist() == [0.6, 0.6, 0.3, 0.3]
    assert sc.scanner_type.tolist() == [0, 1]
    assert sc.secondary_capacity == 10
    assert sc.drug_share.sum() == pytest.approx(1.0)
    assert sc.hour_value_usd[0] == 91.27


def test_a_path_loads_too(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(tomli_w.dumps(_test_port()))
    assert load_scenario(path).name == "test-port"
    assert load_scenario(str(path)).name == "test-port"


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d["modes"]["truck"].update(daily_volume=-3),
         "otay-mesa.toml: modes.truck.daily_volume: must be > 0, got -3"),
        (lambda d: d["modes"]["car"].update(enrolled_share=1.5),
         "otay-mesa.toml: modes.car.enrolled_share: must be <= 1, got 1.5"),
        (lambda d: d["modes"]["car"]["general"].update(booths_by_hour=[1] * 23),
         "otay-mesa.toml: modes.car.general.booths_by_hour: must hold 24 values, got 23"),
        (lambda d: d["modes"]["truck"]["general"]["service"].pop("cv"),
         "otay-mesa.toml: modes.truck.general.service: lognormal needs cv"),
        (lambda d: d["canine"]["detection"].update(opium={"*": 0.5}),
         "otay-mesa.toml: canine.detection.opium: unknown drug"),
        (lambda d: d["secondary"]["detection"]["*"].update(trap=1.5),
         "otay-mesa.toml: secondary.detection: *.trap: must be in [0, 1], got 1.5"),
        (lambda d: d.pop("cost"), "otay-mesa.toml: cost: required"),
        (lambda d: d.update(colour="red"), "otay-mesa.toml: colour: unknown field"),
    ],
)
def test_errors_are_one_line_naming_file_and_field(edit, message):
    data = _test_port()
    edit(data)
    with pytest.raises(ConfigError) as err:
        parse_scenario(data, "otay-mesa.toml")
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_unknown_name_and_missing_file():
    with pytest.raises(NotFoundError, match="scenario 'atlantis': not found"):
        load_scenario("atlantis")
    with pytest.raises(NotFoundError, match="no such scenario file"):
        load_scenario("missing/port.toml")


def test_invalid_toml_is_a_config_error(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("name = \n")
    with pytest.raises(ConfigError, match="broken.toml: not valid TOML"):
        load_scenario(path)
