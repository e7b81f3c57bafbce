"""``portwatch service token ...`` and the errors of ``portwatch serve``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from portwatch.cli.main import run
from portwatch.service.auth import authenticate
from portwatch.store.database import Database


def test_token_create_prints_the_token_alone_on_the_last_line(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "t.db")
    assert run(["service", "token", "create", "--role", "carrier", "--name", "frontera",
                "--carrier", "CAR-0001", "--db", db]) == 0
    out = capsys.readouterr().out.splitlines()
    token = out[-1]
    assert token.startswith("pwt_") and " " not in token
    who = authenticate(Database(db), token)
    assert who is not None and who.carrier_id == "CAR-0001"
    assert run(["service", "token", "list", "--db", db]) == 0
    listed = capsys.readouterr().out
    assert who.token_id in listed and token not in listed and "live" in listed
    assert run(["service", "token", "revoke", who.token_id, "--db", db]) == 0
    assert authenticate(Database(db), token) is None
    assert run(["service", "token", "revoke", who.token_id, "--db", db]) == 2
    assert "already revoked" in capsys.readouterr().err


def test_serve_without_the_service_extra_says_so(monkeypatch, capsys) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "fastapi" else real(name, *a))
    assert run(["serve"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("error: fastapi is not installed: this command needs the service extra "
                   "(pip install 'portwatch[service]')")


@pytest.mark.parametrize("argv,needle", [
    (["serve", "--port", "70000"], "--port"),
    (["serve", "--seed", "1"], "fixed seed"),
])
def test_serve_refuses_bad_settings_in_one_line(tmp_path: Path, argv: list[str],
                                                needle: str, capsys) -> None:
    assert run([*argv, "--db", str(tmp_path / "s.db")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]
