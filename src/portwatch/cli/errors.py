"""The CLI's one error path: any exception -> one line on stderr and an exit code.

A failure the user can cause (bad value, missing or wrong file, permission, disk full,
unreachable database server, undecodable JSON or TOML, an optional extra not
installed) exits 2 with ``error: <what>: <problem>``; anything else is a defect in
portwatch and exits 1 with the exception's type and message. Neither prints a
traceback: ``portwatch --debug ...`` does.

Heavy libraries are never imported here: their exceptions are recognised by module and
class name, so the error path costs nothing when nothing failed.
"""

from __future__ import annotations

import errno
import importlib

import typer

from portwatch.domain.errors import MissingExtraError, PortwatchError

USER_ERROR = 2
INTERNAL_ERROR = 1

# An optional dependency that is missing: the extra that installs it.
# click's exceptions, from wherever this typer takes click (recent typers vendor it)
_click = importlib.import_module(typer.BadParameter.__module__)

_EXTRAS = {
    "matplotlib": "plot",
    "psycopg": "postgres",
    "dask": "distributed",
    "distributed": "distributed",
}


def _missing(module: str) -> str:
    return (f"this needs the optional package {module}: "
            f"pip install 'portwatch[{_EXTRAS[module]}]'")


def require(module: str) -> None:
    """Raise ``MissingExtraError`` now, before any work, when ``module`` (a key of the
    extras table: matplotlib, psycopg, dask) is not installed."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise MissingExtraError(_missing(module))


def one_line(text: str) -> str:
    """``text`` with its lines joined by ``; `` (a message must fit one line)."""
    return "; ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _os_error(exc: OSError) -> str:
    problem = exc.strerror or str(exc) or type(exc).__name__  # "" from OSError()
    names = [str(n) for n in (exc.filename, exc.filename2) if n is not None]
    if exc.errno == errno.ENOSPC and not names:
        return f"no space left on device ({problem})"
    where = " -> ".join(names)
    return f"{where}: {problem}" if where else problem


def _qualname(exc: BaseException) -> tuple[str, str]:
    return type(exc).__module__.split(".")[0], type(exc).__name__


def _validation_error(exc: Exception) -> str:
    """A pydantic ValidationError as ``Model: field.path: problem; ...`` on one line."""
    parts = [f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['msg']}"
             for err in exc.errors()]  # type: ignore[attr-defined]
    return f"{exc.title}: " + "; ".join(parts)  # type: ignore[attr-defined]


def _database_error(exc: Exception) -> str | None:
    """An SQLAlchemy/DBAPI error a user can cause (bad URL, server down, unopenable file)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & {"OperationalError", "InterfaceError"}:
        orig = getattr(exc, "orig", None) or exc  # the driver's own words, without SQL
        return f"database: cannot open or reach it ({one_line(str(orig))})"
    if "ArgumentError" in names:  # includes NoSuchModuleError: an unknown URL scheme
        return f"database URL: {one_line(str(exc))}"
    return None


def describe(exc: BaseException) -> tuple[int, str]:
    """The exit code and the one-line message (without ``error: ``) for ``exc``."""
    top, name = _qualname(exc)
    if isinstance(exc, PortwatchError):
        return USER_ERROR, one_line(str(exc))
    if isinstance(exc, _click.ClickException):
        hint = ""
        ctx = getattr(exc, "ctx", None)
        if isinstance(exc, _click.UsageError) and ctx is not None:
            hint = f" (see '{ctx.command_path} --help')"
        return exc.exit_code, one_line(exc.format_message()) + hint
    if isinstance(exc, KeyboardInterrupt):
        return 130, "interrupted"
    if name == "Abort":  # click's or typer's: the user declined a prompt or sent EOF
        return INTERNAL_ERROR, "aborted"
    if isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] in _EXTRAS:
        return USER_ERROR, _missing((exc.name or "").split(".")[0])
    if isinstance(exc, OSError):
        return USER_ERROR, _os_error(exc)
    if isinstance(exc, Exception) and top in {"sqlalchemy", "psycopg", "sqlite3"} and (
        msg := _database_error(exc)
    ):
        return USER_ERROR, msg
    # JSON and TOML errors by name: importing tomllib would slow every `--help`
    if (top, name) == ("json", "JSONDecodeError"):
        return USER_ERROR, f"invalid JSON: {exc}"
    if (top, name) == ("tomllib", "TOMLDecodeError"):
        return USER_ERROR, f"invalid TOML: {exc}"
    if top == "pydantic_core" and name == "ValidationError":  # pydantic's, wherever raised
        return USER_ERROR, one_line(_validation_error(exc))  # type: ignore[arg-type]
    if isinstance(exc, UnicodeDecodeError):
        return USER_ERROR, f"not UTF-8 text ({exc.reason} at byte {exc.start})"
    if isinstance(exc, OverflowError | ValueError):
        return USER_ERROR, f"bad value: {one_line(str(exc)) or name}"
    if isinstance(exc, MemoryError):
        return USER_ERROR, "out of memory: ask for a smaller size or count"
    detail = one_line(str(exc))
    return INTERNAL_ERROR, (f"internal error: {name}{': ' + detail if detail else ''} "
                            "(rerun with --debug for the traceback, and please report it)")


__all__ = ["INTERNAL_ERROR", "USER_ERROR", "describe", "one_line", "require"]
