"""The ``portwatch`` command: wires the sub-commands of each capability together.

Every error a user can cause surfaces as one line on stderr and a non-zero exit:
a ``PortwatchError`` (bad input, not found, conflict) exits 2 with ``error: ...``,
and usage errors exit 2 as typer reports them.
"""

from __future__ import annotations

import sys

import typer

from portwatch import __version__
from portwatch.cli import custody as custody_cli
from portwatch.cli import demo as demo_cli
from portwatch.cli import fieldid as fieldid_cli
from portwatch.cli import service as service_cli
from portwatch.cli import twin as twin_cli
from portwatch.domain.errors import PortwatchError

app = typer.Typer(
    name="portwatch",
    help="An open decision system for land ports of entry.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"portwatch {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """An open decision system for land ports of entry."""


custody_cli.register(app)
twin_cli.register(app)
fieldid_cli.register(app)
demo_cli.register(app)
service_cli.register(app)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    try:
        app(args=argv, prog_name="portwatch")
    except PortwatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # typer's standalone mode ends every run this way
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    return 0


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())
