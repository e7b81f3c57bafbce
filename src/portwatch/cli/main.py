"""The ``portwatch`` command: wires the sub-commands of each capability together.

Every error a user can cause surfaces as one line on stderr, ``error: ...``, and exit
2; a defect in portwatch exits 1, also on one line (see ``portwatch.cli.errors``). A
traceback is printed only with ``portwatch --debug``. Usage errors are typer's boxed
panels on a terminal and one plain line otherwise (a log, a pipe, a test).

The command modules import numpy, scipy, numba, SQLAlchemy and the like only inside
their commands, so ``portwatch --help`` starts in about the time of importing typer.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback

import typer

from portwatch.cli import custody as custody_cli
from portwatch.cli import demo as demo_cli
from portwatch.cli import fieldid as fieldid_cli
from portwatch.cli import plan as plan_cli
from portwatch.cli import service as service_cli
from portwatch.cli import targeting as targeting_cli
from portwatch.cli import twin as twin_cli
from portwatch.cli.errors import describe

app = typer.Typer(
    name="portwatch",
    help="An open decision system for land ports of entry.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from portwatch import __version__

        typer.echo(f"portwatch {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
    debug: bool = typer.Option(
        False, "--debug", help="On an error, print the traceback as well."
    ),
) -> None:
    """An open decision system for land ports of entry."""
    _state["debug"] = debug


_state = {"debug": False}
# click's exceptions, from wherever this typer takes click (recent typers vendor it)
_click = importlib.import_module(typer.BadParameter.__module__)


custody_cli.register(app)
twin_cli.register(app)
fieldid_cli.register(app)
demo_cli.register(app)
service_cli.register(app)
targeting_cli.register(app)
plan_cli.register(app)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    _state["debug"] = False
    command = typer.main.get_command(app)
    try:
        code = command.main(args=args, prog_name="portwatch", standalone_mode=False)
    except _click.ClickException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # rich has printed it, click has not
            if exc.format_message().strip():
                exc.show()
            return exc.exit_code
        if sys.stderr.isatty():  # a person at a terminal: typer's boxed panel
            from typer import rich_utils

            rich_utils.rich_format_error(exc)
            return exc.exit_code
        return _fail(exc)
    except BrokenPipeError:  # e.g. `portwatch ... | head`: the reader left, not an error
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - silences the flush at exit
        return 1
    except BaseException as exc:  # noqa: BLE001 - the one place every failure ends up
        if isinstance(exc, SystemExit):
            raise
        return _fail(exc)
    return code if isinstance(code, int) else 0


def _fail(exc: BaseException) -> int:
    """Print ``exc`` as one ``error:`` line (after its traceback with --debug)."""
    code, message = describe(exc)
    if _state["debug"]:
        traceback.print_exception(exc)
    print(f"error: {message}", file=sys.stderr)
    return code


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())
