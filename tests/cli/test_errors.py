"""The CLI's one error path: every failure is one ``error:`` line; exit 2 for what the
user caused, 1 for a defect; a traceback only with ``--debug``."""

from __future__ import annotations

import errno
import json
import subprocess
import sys
import tomllib

import pytest

from portwatch.cli.errors import describe, one_line
from portwatch.cli.main import run
from portwatch.domain.errors import ConfigError, NotFoundError


def _decode_json() -> json.JSONDecodeError:
    try:
        json.loads("{nope")
    except json.JSONDecodeError as exc:
        return exc
    raise AssertionError("unreachable")


def _decode_toml() -> tomllib.TOMLDecodeError:
    try:
        tomllib.loads("a = = 1")
    except tomllib.TOMLDecodeError as exc:
        return exc
    raise AssertionError("unreachable")


def _pydantic_error() -> Exception:
    from pydantic import BaseModel, ValidationError

    class Port(BaseModel):
        booths: int

    try:
        Port(booths="many")
    except ValidationError as exc:
        return exc
    raise AssertionError("unreachable")


@pytest.mark.parametrize(("exc", "code", "message"), [
    (ConfigError("policy.json: coverage: must be in [0, 1], got 2"), 2,
     "policy.json: coverage: must be in [0, 1], got 2"),
    (NotFoundError("shipment NOPE: not found"), 2, "shipment NOPE: not found"),
    (FileNotFoundError(errno.ENOENT, "No such file or directory", "ship.json"), 2,
     "ship.json: No such file or directory"),
    (IsADirectoryError(errno.EISDIR, "Is a directory", "out"), 2, "out: Is a directory"),
    (FileExistsError(errno.EEXIST, "File exists", "S1.key"), 2, "S1.key: File exists"),
    (PermissionError(errno.EACCES, "Permission denied", "/root/x"), 2,
     "/root/x: Permission denied"),
    (OSError(errno.ENOSPC, "No space left on device", "big.csv"), 2,
     "big.csv: No space left on device"),
    (OSError(errno.ENOSPC, "No space left on device"), 2, "no space left on device"),
    (_decode_json(), 2, "invalid JSON: Expecting property name"),
    (_decode_toml(), 2, "invalid TOML: "),
    (_pydantic_error(), 2, "booths: Input should be a valid integer"),
    (OverflowError("cannot convert float infinity to integer"), 2,
     "bad value: cannot convert float infinity to integer"),
    (ValueError("expected non-negative integer"), 2, "bad value: expected non-negative"),
    (ModuleNotFoundError("No module named 'matplotlib'", name="matplotlib"), 2,
     "pip install 'portwatch[plot]'"),
    (ModuleNotFoundError("No module named 'psycopg'", name="psycopg"), 2,
     "pip install 'portwatch[postgres]'"),
    (KeyboardInterrupt(), 130, "interrupted"),
    (ZeroDivisionError("division by zero"), 1, "internal error: ZeroDivisionError: division"),
    (ModuleNotFoundError("No module named 'nothere'", name="nothere"), 1, "internal error"),
])
def test_describe_maps_each_failure_to_one_line(exc, code, message):
    got_code, got = describe(exc)
    assert got_code == code
    assert message in got
    assert "\n" not in got


def test_a_database_server_that_is_down_is_a_user_error():
    sa = pytest.importorskip("sqlalchemy")
    exc = sa.exc.OperationalError("connect", {}, Exception("connection refused\nis it up?"))
    code, message = describe(exc)
    assert code == 2
    assert message.startswith("database: cannot open or reach it (connection refused; is it")


def test_one_line_joins_lines():
    assert one_line("a\n  b\n\nc ") == "a; b; c"


def _stderr_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_a_portwatch_error_is_one_line_and_exit_2(capsys):
    assert run(["simulate", "no-such-port", "--days", "1"]) == 2
    lines = _stderr_lines(capsys)
    assert len(lines) == 1
    assert lines[0].startswith("error: scenario 'no-such-port': not found")


def test_a_directory_where_a_file_belongs_is_one_line(capsys, tmp_path):
    assert run(["custody", "register", str(tmp_path), "--db", str(tmp_path / "x.db")]) == 2
    lines = _stderr_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(tmp_path) in lines[0]


def test_a_defect_is_one_line_exit_1_and_debug_adds_the_traceback(capsys, monkeypatch):
    import portwatch.twin.scenario as scenario

    def broken() -> list[str]:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(scenario, "scenario_names", broken)
    assert run(["scenarios"]) == 1
    lines = _stderr_lines(capsys)
    assert lines == ["error: internal error: ZeroDivisionError: division by zero (rerun with "
                     "--debug for the traceback, and please report it)"]
    assert run(["--debug", "scenarios"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert err.rstrip().splitlines()[-1].startswith("error: internal error: ZeroDivision")


def test_usage_errors_are_one_plain_line_when_stderr_is_not_a_terminal(capsys):
    assert run(["simulate", "test-port", "--days", "many"]) == 2
    lines = _stderr_lines(capsys)
    assert len(lines) == 1
    assert lines[0].startswith("error: Invalid value for '--days'")
    assert "╭" not in lines[0] and "simulate --help" in lines[0]


def test_unknown_option_is_one_plain_line(capsys):
    assert run(["scenarios", "--no-such-option"]) == 2
    lines = _stderr_lines(capsys)
    assert len(lines) == 1 and "--no-such-option" in lines[0]


@pytest.mark.parametrize("argv", [[], ["custody"]])
def test_no_arguments_prints_the_help(argv):
    done = subprocess.run([sys.executable, "-m", "portwatch", *argv],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2  # click's convention: the help shown, nothing done
    assert "Commands" in done.stdout + done.stderr
    assert "error:" not in done.stderr
