"""The deployment files cannot be run here (no container runtime), so this checks that
they still say what the code does: ``deploy/compose.yaml`` parses, its services and
environment use the real settings' variable names, every ``portwatch`` command in it,
in ``deploy/Dockerfile`` and in ``docs/deploy.md`` parses with the real CLI, and the
database and NATS addresses point at the services that provide them."""

from __future__ import annotations

import importlib
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from sqlalchemy.engine import make_url

from portwatch.cli.main import app
from portwatch.service.settings import _ENV_FIELDS, ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose.yaml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
KNOWN_ENV = {ENV_PREFIX + v for v in _ENV_FIELDS.values()}
# click as typer uses it (recent typers vendor their own copy)
UsageError = importlib.import_module(typer.BadParameter.__module__).UsageError


def _compose(password: str = "s3cret") -> dict[str, Any]:
    """The compose file with ``${VAR:?message}`` substituted as compose would."""
    text = re.sub(r"\$\{POSTGRES_PASSWORD:\?[^}]*\}", password, COMPOSE.read_text())
    assert "${" not in text, "a variable the test does not substitute"
    doc: dict[str, Any] = yaml.safe_load(text)
    return doc


def _parses(argv: list[str]) -> None:
    """``argv`` (without ``portwatch``) parses with the real CLI: every subcommand and
    option exists and every value converts; nothing is run."""
    cmd: Any = typer.main.get_command(app)
    ctx = cmd.make_context("portwatch", list(argv), resilient_parsing=False)
    args = list(argv)
    while hasattr(cmd, "resolve_command"):  # a group: descend to the subcommand
        name, sub, args = cmd.resolve_command(ctx, args)
        assert sub is not None, f"no subcommand {name!r} in {argv}"
        cmd, ctx = sub, sub.make_context(name or "", args, parent=ctx)


def test_the_parser_check_can_fail() -> None:
    with pytest.raises(UsageError):
        _parses(["serve", "--database", "x"])
    with pytest.raises(UsageError):
        _parses(["service", "consume", "--batch", "0"])


def test_compose_services_environment_and_commands_match_the_code() -> None:
    doc = _compose()
    services = doc["services"]
    assert set(services) == {"nats", "postgres", "api", "consumer"}
    pg = services["postgres"]["environment"]
    for name in ("api", "consumer"):
        svc = services[name]
        env = svc["environment"]
        assert set(env) <= KNOWN_ENV, set(env) - KNOWN_ENV  # no misspelt variable
        Settings.load(environ={k: str(v) for k, v in env.items()})  # valid, production
        url = make_url(env["PORTWATCH_DATABASE_URL"])
        assert (url.drivername, url.host, url.port) == ("postgresql+psycopg", "postgres", 5432)
        assert (url.username, url.password, url.database) == (
            pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"], pg["POSTGRES_DB"])
        assert svc["depends_on"]["postgres"]["condition"] == "service_healthy"
    consume = services["consumer"]["command"]
    assert consume[0] == "portwatch"
    _parses(consume[1:])
    nats_url = consume[consume.index("--nats") + 1]
    assert nats_url == "nats://nats:4222"
    assert "-js" in services["nats"]["command"]  # JetStream, which the consumer needs
    assert "api" not in json.dumps(services["api"].get("command", ""))  # the image's CMD


def test_dockerfile_command_and_extras_exist() -> None:
    text = DOCKERFILE.read_text()
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", text, re.M).group(1))  # type: ignore[union-attr]
    assert cmd[0] == "portwatch"
    _parses(cmd[1:])
    port = cmd[cmd.index("--port") + 1]
    assert f"EXPOSE {port}" in text
    assert _compose()["services"]["api"]["ports"][0].endswith(f":{port}")
    extras = re.search(r"pip install [^']*'\.\[([a-z,]+)\]'", text).group(1)  # type: ignore[union-attr]
    pyproject = (ROOT / "pyproject.toml").read_text()
    for extra in extras.split(","):
        assert re.search(rf"^{extra} = \[", pyproject, re.M), extra
    # the image's own default database lies in a directory its user owns
    env = dict(re.findall(r"^ENV (PORTWATCH_[A-Z_]+)=(\S+)$", text, re.M))
    assert set(env) <= KNOWN_ENV and "PORTWATCH_DATABASE_URL" in env
    data_dir = env["PORTWATCH_DATABASE_URL"].rsplit("/", 1)[0]
    assert re.search(rf"chown portwatch {re.escape(data_dir)}\b", text)
    assert re.search(r"^USER portwatch$", text, re.M)


def test_deploy_doc_commands_parse_with_the_cli() -> None:
    text = DEPLOY_DOC.read_text()
    blocks = re.findall(r"```text\n(.*?)```", text, re.S)
    commands = [line for b in blocks for line in b.splitlines()
                if re.match(r"^(/opt/portwatch/bin/)?portwatch ", line)]
    assert len(commands) >= 4
    for line in commands:
        _parses(shlex.split(line)[1:])
    exported = re.findall(r"^export (PORTWATCH_[A-Z_]+)=", text, re.M)
    assert exported and set(exported) <= KNOWN_ENV
    assert "was not run" in text  # the doc says the compose file is untested here
