"""The shared checks of values at the edges (portwatch.domain.validate and .fields)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from portwatch.domain import validate as v
from portwatch.domain.errors import InputError
from portwatch.domain.fields import Count, PositiveFinite, Probability, Seed


@pytest.mark.parametrize(("call", "message"), [
    (lambda: v.finite("--size", math.inf), "--size: must be finite, got inf"),
    (lambda: v.finite("--size", float("nan")), "--size: must be finite, got nan"),
    (lambda: v.finite("--size", "3"), "--size: must be a number, got '3'"),
    (lambda: v.finite("x", True), "x: must be a number, got True"),
    (lambda: v.finite("x", None), "x: must be a number, got None"),
    (lambda: v.probability("identify_prob", 1.9), "identify_prob: must be <= 1, got 1.9"),
    (lambda: v.probability("identify_prob", -5), "identify_prob: must be >= 0, got -5"),
    (lambda: v.positive("gap_periods", 0), "gap_periods: must be > 0, got 0"),
    (lambda: v.positive("gap_periods", math.inf), "gap_periods: must be finite, got inf"),
    (lambda: v.positive("--size", 1e12, maximum=1e5, unit="m"),
     "--size: must be <= 100000 m, got 1000000000000.0"),
    (lambda: v.non_negative("risk", -5), "risk: must be >= 0, got -5"),
    (lambda: v.non_negative("mass", 5, maximum=1, unit="kg"), "mass: must be <= 1 kg, got 5"),
    (lambda: v.finite("x", object()), "x: must be a number, got <object"),
    (lambda: v.in_range("p", 1.0, 0, 1, high_open=True), "p: must be < 1, got 1.0"),
    (lambda: v.count("--days", 1_000_000_000, maximum=3660), "--days: must be <= 3660"),
    (lambda: v.count("--days", 2.5), "--days: must be a whole number, got 2.5"),
    (lambda: v.count("--days", -1), "--days: must be >= 0, got -1"),
    (lambda: v.count("--days", float("inf")), "--days: must be finite"),
    (lambda: v.count("--days", "7"), "--days: must be a whole number, got '7'"),
    (lambda: v.seed("--seed", -1), "--seed: must be >= 0, got -1"),
    (lambda: v.seed("--seed", 2**64), "--seed: must be <= 9223372036854775807"),
    (lambda: v.identifier("--seal-id", ""), "--seal-id: must not be empty"),
    (lambda: v.identifier("--seal-id", "a/b"), "--seal-id: must not contain '/'"),
    (lambda: v.identifier("--seal-id", "a\\b"), "--seal-id: must not contain '\\\\'"),
    (lambda: v.identifier("--seal-id", "../escape"), "--seal-id: must not contain '/'"),
    (lambda: v.identifier("--seal-id", ".."), "--seal-id: must not contain '..'"),
    (lambda: v.identifier("--seal-id", "-rf"), "--seal-id: only letters, digits"),
    (lambda: v.identifier("--seal-id", "a b"), "--seal-id: only letters, digits"),
    (lambda: v.identifier("--seal-id", "x" * 65), "at most 64 characters, got 65"),
    (lambda: v.identifier("--seal-id", 5), "--seal-id: must be text, got 5"),
])
def test_a_bad_value_is_one_line_naming_the_field(call, message):
    with pytest.raises(InputError) as err:
        call()
    text = str(err.value)
    assert message in text
    assert "\n" not in text


def test_good_values_come_back_converted():
    assert v.finite("x", 2) == 2.0 and isinstance(v.finite("x", 2), float)
    assert v.probability("p", 0) == 0.0 and v.probability("p", 1) == 1.0
    assert v.positive("s", 1e-9) == 1e-9
    assert v.non_negative("s", 0) == 0.0
    assert v.in_range("p", 0.5, 0, 1, low_open=True, high_open=True) == 0.5
    assert v.count("n", 3.0) == 3 and isinstance(v.count("n", 3.0), int)
    assert v.count("n", 10**30) == 10**30  # exact, no float rounding
    assert v.seed("--seed", 0) == 0 and v.seed("--seed", v.MAX_SEED) == v.MAX_SEED
    assert v.identifier("--seal-id", "SEAL-0001.b_2") == "SEAL-0001.b_2"
    assert v.identifier("--seal-id", "x" * 64) == "x" * 64  # the longest allowed


def test_file_in_stays_in_its_folder(tmp_path: Path):
    assert v.file_in(tmp_path, "--seal-id", "S1", ".key") == tmp_path / "S1.key"
    assert v.file_in(tmp_path, "--seal-id", "S1") == tmp_path / "S1"
    with pytest.raises(InputError, match="^--seal-id: must not contain"):
        v.file_in(tmp_path, "--seal-id", "../S1", ".key")


class _Rule(BaseModel):
    identify_prob: Probability
    gap_periods: PositiveFinite
    days: Count = 1
    seed: Seed = 0


@pytest.mark.parametrize(("field", "value"), [
    ("identify_prob", 1.9), ("identify_prob", -5), ("identify_prob", float("nan")),
    ("gap_periods", float("inf")), ("gap_periods", 0), ("days", -1), ("days", 2.5),
    ("days", True), ("seed", -1),
])
def test_field_types_refuse_what_the_checks_refuse(field, value):
    data = {"identify_prob": 0.5, "gap_periods": 2.0, field: value}
    with pytest.raises(ValidationError) as err:
        _Rule(**data)
    assert err.value.errors()[0]["loc"] == (field,)


def test_field_types_accept_good_values():
    rule = _Rule(identify_prob=1, gap_periods=2.5, days=3, seed=7)
    assert (rule.identify_prob, rule.gap_periods, rule.days, rule.seed) == (1.0, 2.5, 3, 7)


def test_output_paths_are_checked_before_the_work(tmp_path: Path):
    a_file, a_folder = tmp_path / "f.txt", tmp_path / "d"
    a_file.write_text("x")
    a_folder.mkdir()
    assert v.output_folder("--out", a_folder) == a_folder
    assert v.output_folder("--out", tmp_path / "new") == tmp_path / "new"
    assert v.output_file("--out", a_file) == a_file
    with pytest.raises(InputError, match="exists and is not a folder"):
        v.output_folder("--out", a_file)
    with pytest.raises(InputError, match="is a folder, not a file"):
        v.output_file("--out", a_folder)
