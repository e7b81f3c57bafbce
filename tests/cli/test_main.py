"""End-to-end behaviour of the root command."""

from __future__ import annotations

import subprocess
import sys

from portwatch import __version__
from portwatch.cli.main import run


def test_version_prints_and_exits_zero(capsys):
    assert run(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"portwatch {__version__}"


def test_unknown_command_is_a_usage_error(capsys):
    assert run(["no-such-command"]) == 2
    assert "no-such-command" in capsys.readouterr().err


def test_console_script_runs():
    done = subprocess.run(
        [sys.executable, "-m", "portwatch", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert "portwatch" in done.stdout
