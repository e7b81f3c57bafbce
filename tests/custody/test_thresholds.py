"""Thresholds: documented defaults, TOML overrides, one-line errors."""

from __future__ import annotations

import pytest

from portwatch.cli.main import run
from portwatch.custody.thresholds import Thresholds, load_thresholds
from portwatch.domain.errors import ConfigError


def test_defaults_match_the_documented_rules():
    th = Thresholds()
    assert th.gap_s == 120.0 and th.low_battery_pct == 15.0
    assert th.unplanned_stop_max_s == 600.0 and th.off_corridor_min_fixes == 3


def test_toml_overrides_some_keys(tmp_path):
    path = tmp_path / "th.toml"
    path.write_text("reporting_period_s = 300\nunplanned_stop_max_s = 900\n")
    th = load_thresholds(path)
    assert th.gap_s == 600.0 and th.unplanned_stop_max_s == 900.0
    assert th.low_battery_pct == Thresholds().low_battery_pct


@pytest.mark.parametrize("text, message", [
    ("stop_radius_m = -5\n", "th.toml: stop_radius_m: input should be greater than 0"),
    ("no_such_key = 1\n", "th.toml: no_such_key: extra inputs are not permitted"),
    ("reporting_period_s = \n", "th.toml: not valid TOML"),
])
def test_bad_files_are_one_line_errors(tmp_path, capsys, text, message):
    path = tmp_path / "th.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_thresholds(path)
    assert message in str(err.value).replace(str(tmp_path) + "/", "")
    ingest = ["custody", "ingest", str(path), "--thresholds", str(path),
              "--db", str(tmp_path / "x.db")]
    assert run(ingest) == 2
    assert capsys.readouterr().err.count("\n") == 1
