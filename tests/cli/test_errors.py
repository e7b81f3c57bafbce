"""The CLI's one error path: every failure is one ``error:`` line; exit 2 for what the
user caused, 1 for a defect; a traceback only with ``--debug``."""

from __future__ import annotations

import errno
import json
import subprocess
import sys
import tomllib

import pytest
import typer

from portwatch.cli.errors import _click, describe, one_line
from portwatch.cli.main import run
from portwatch.domain.errors import ConfigError, NotFoundError


def _raised(call, kind: type[Exception]) -> Exception:
    """The exception ``call()`` raises (it must raise ``kind``)."""
    with pytest.raises(kind) as err:
        call()
    return err.value


def _pydantic_error(**fields: object) -> Exception:
    from pydantic import BaseModel, ValidationError, model_validator

    class Lane(BaseModel):
        booths: int

    class Port(BaseModel):
        booths: int
        lanes: list[Lane] = []

        @model_validator(mode="after")
        def _some_booths(self) -> Port:
            if self.booths == 0:
                raise ValueError("a port needs booths")
            return self

    return _raised(lambda: Port(**fields), ValidationError)


class ValidationError(ValueError):
    """Not pydantic's: an error of the same name from elsewhere is a bad value."""


class Abort(RuntimeError):
    """Named as click's and typer's Abort are: recognised by name."""


def _usage_error() -> Exception:
    from portwatch.cli.main import app

    command = typer.main.get_command(app)
    ctx = command.make_context("portwatch", ["scenarios"], resilient_parsing=True)
    return typer.BadParameter("must be 1 or 2", ctx=ctx, param_hint="'--n'")


INTERNAL = " (rerun with --debug for the traceback, and please report it)"


@pytest.mark.parametrize(("exc", "code", "message"), [
    (ConfigError("policy.json: coverage: must be in [0, 1], got 2"), 2,
     "policy.json: coverage: must be in [0, 1], got 2"),
    (NotFoundError("shipment NOPE:\n not found"), 2, "shipment NOPE:; not found"),
    (FileNotFoundError(errno.ENOENT, "No such file or directory", "ship.json"), 2,
     "ship.json: No such file or directory"),
    (IsADirectoryError(errno.EISDIR, "Is a directory", "out"), 2, "out: Is a directory"),
    (FileExistsError(errno.EEXIST, "File exists", "a.tmp", None, "a.key"), 2,
     "a.tmp -> a.key: File exists"),
    (PermissionError(errno.EACCES, "Permission denied", "secret/x"), 2,
     "secret/x: Permission denied"),
    (OSError(errno.ENOSPC, "No space left on device", "big.csv"), 2,
     "big.csv: No space left on device"),
    (OSError(errno.ENOSPC, "No space left on device"), 2,
     "no space left on device (No space left on device)"),
    (OSError("the disk went away"), 2, "the disk went away"),
    (OSError(), 2, "OSError"),
    (_raised(lambda: json.loads("{nope"), json.JSONDecodeError), 2,
     "invalid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    (_raised(lambda: tomllib.loads("a = = 1"), tomllib.TOMLDecodeError), 2,
     "invalid TOML: Invalid value (at line 1, column 5)"),
    (_pydantic_error(booths="many"), 2, "Port: booths: Input should be a valid integer, "
     "unable to parse string as an integer"),
    (_pydantic_error(lanes=[{"booths": "x"}]), 2, "Port: booths: Field required; "
     "lanes.0.booths: Input should be a valid integer, unable to parse string as an integer"),
    (_pydantic_error(booths=0), 2, "Port: value: Value error, a port needs booths"),
    (ValidationError("port: no booths"), 2, "bad value: port: no booths"),
    (_raised(lambda: b"ab\xff".decode("utf-8"), UnicodeDecodeError), 2,
     "not UTF-8 text (invalid start byte at byte 2)"),
    (OverflowError("cannot convert float infinity to integer"), 2,
     "bad value: cannot convert float infinity to integer"),
    (ValueError(), 2, "bad value: ValueError"),
    (ModuleNotFoundError("No module named 'matplotlib.pyplot'", name="matplotlib.pyplot"), 2,
     "this needs the optional package matplotlib: pip install 'portwatch[plot]'"),
    (ModuleNotFoundError("No module named 'psycopg'", name="psycopg"), 2,
     "this needs the optional package psycopg: pip install 'portwatch[postgres]'"),
    (MemoryError(), 2, "out of memory: ask for a smaller size or count"),
    (KeyboardInterrupt(), 130, "interrupted"),
    (Abort(), 1, "aborted"),
    (_usage_error(), 2, "Invalid value for '--n': must be 1 or 2 (see 'portwatch --help')"),
    (typer.BadParameter("must be 1 or 2"), 2, "Invalid value: must be 1 or 2"),
    (_click.ClickException("the editor failed"), 1, "the editor failed"),
    (ZeroDivisionError("division by zero"), 1,
     "internal error: ZeroDivisionError: division by zero" + INTERNAL),
    (RuntimeError(), 1, "internal error: RuntimeError" + INTERNAL),
    (ModuleNotFoundError("No module named 'nothere'", name="nothere"), 1,
     "internal error: ModuleNotFoundError: No module named 'nothere'" + INTERNAL),
    (ModuleNotFoundError("No module named x"), 1,
     "internal error: ModuleNotFoundError: No module named x" + INTERNAL),
])
def test_describe_maps_each_failure_to_one_line(exc, code, message):
    assert describe(exc) == (code, message)


def test_database_failures_a_user_can_cause():
    sa = pytest.importorskip("sqlalchemy")
    down = sa.exc.OperationalError("connect", {}, Exception("connection refused\nis it up?"))
    assert describe(down) == (2, "database: cannot open or reach it (connection refused; "
                                 "is it up?)")
    gone = sa.exc.InterfaceError("connect", {}, Exception("connection closed"))
    assert describe(gone) == (2, "database: cannot open or reach it (connection closed)")
    url = sa.exc.ArgumentError("Could not parse SQLAlchemy URL from string 'x'")
    assert describe(url) == (2, "database URL: Could not parse SQLAlchemy URL from string 'x'")
    import sqlite3

    assert describe(sqlite3.OperationalError("unable to open database file")) == (
        2, "database: cannot open or reach it (unable to open database file)")
    psycopg = pytest.importorskip("psycopg")
    assert describe(psycopg.OperationalError("server closed")) == (
        2, "database: cannot open or reach it (server closed)")
    integrity = sa.exc.IntegrityError("insert", {}, Exception("duplicate key"))
    assert describe(integrity)[0] == 1  # a defect of ours, not the user's


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


def test_a_missing_extra_fails_before_the_work(monkeypatch, capsys, tmp_path):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real(name, *a))
    assert run(["simulate", "test-port", "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == (
        "error: this needs the optional package matplotlib: pip install 'portwatch[plot]'\n")
    assert not (tmp_path / "o").exists()
    assert run(["fieldid", "evaluate", "--out", str(tmp_path / "e")]) == 2
    assert "portwatch[plot]" in capsys.readouterr().err
