"""``portwatch --help`` and every subcommand's ``--help`` import no heavy library: the
command modules import numpy, scipy, numba, SQLAlchemy and the like inside commands."""

from __future__ import annotations

import json
import subprocess
import sys

import typer

from portwatch.cli.main import app

HEAVY = ("numpy", "numba", "scipy", "sqlalchemy", "pyproj", "matplotlib", "fastapi",
         "sklearn", "highspy", "cryptography", "pybaselines", "dask", "pandas", "shapely")

# In a fresh interpreter: run each command's --help, and after each list the heavy
# top-level packages loaded so far (the first command to load one is its culprit).
_PROBE = """
import contextlib, io, json, sys
from portwatch.cli.main import run
heavy, paths, seen = set(json.loads(sys.argv[1])), json.loads(sys.argv[2]), {}
for path in paths:
    with contextlib.redirect_stdout(io.StringIO()):
        code = run([*path, "--help"])
    loaded = sorted({m.split(".")[0] for m in sys.modules} & heavy)
    seen[" ".join(path) or "(root)"] = [code, loaded]
print(json.dumps(seen))
"""


def command_paths() -> list[list[str]]:
    """Every command and group of the CLI, as argv prefixes (the root is ``[]``)."""
    paths: list[list[str]] = []

    def walk(command, prefix: list[str]) -> None:  # noqa: ANN001 - a click command
        paths.append(prefix)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*prefix, name])

    walk(typer.main.get_command(app), [])
    return paths


def test_the_walk_finds_every_command():
    names = {" ".join(p) for p in command_paths()}
    assert {"", "simulate", "custody", "custody ingest", "seal keygen", "identify",
            "fieldid library add", "demo"} <= names


def test_help_imports_no_heavy_library():
    paths = command_paths()
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(HEAVY), json.dumps(paths)],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert len(seen) == len(paths)
    assert all(code == 0 for code, _ in seen.values()), seen
    offenders = {path: loaded for path, (_, loaded) in seen.items() if loaded}
    assert offenders == {}, f"--help imported heavy libraries: {offenders}"


def test_the_probe_would_see_a_heavy_import():
    """The check above can fail: a module that imports numpy is caught."""
    probe = _PROBE.replace("from portwatch.cli.main import run",
                           "from portwatch.cli.main import run\nimport numpy")
    done = subprocess.run(
        [sys.executable, "-c", probe, json.dumps(HEAVY), json.dumps([[]])],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert json.loads(done.stdout) == {"(root)": [0, ["numpy"]]}


def test_the_cli_spells_every_attack_of_the_trip_generator():
    from portwatch.cli.custody import ATTACKS
    from portwatch.custody.tripgen import Attack

    assert tuple(a.value for a in Attack) == ATTACKS
