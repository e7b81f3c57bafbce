"""Schema migrations with Alembic: bring any portwatch database to the current schema.

A database made before migrations existed (by ``create_all``, no ``alembic_version``)
is stamped at the revision its tables match, ``0001`` (release 0.1.0) or ``0002`` (with
the custody hardening's ``rejections`` table), and upgraded from there. A database
already at the head costs one query.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, inspect

BASELINE = "0001"
HARDENED = "0002"
_HERE = Path(__file__).resolve().parent / "migrations"


def target_metadata() -> MetaData:
    """Every table portwatch defines."""
    from portwatch.store import service_tables  # noqa: F401 - registers its tables
    from portwatch.store.schema import metadata

    return metadata


def _config(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    cfg.attributes["connection"] = conn
    return cfg


@cache
def head() -> str:
    """The newest revision."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    rev = ScriptDirectory.from_config(cfg).get_current_head()
    assert rev is not None
    return rev


def current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(conn: Connection) -> None:
    """Migrate the database of ``conn`` to the head, inside the caller's transaction."""
    rev = current(conn)
    if rev == head():
        return
    cfg = _config(conn)
    if rev is None and inspect(conn).has_table("event_log"):
        command.stamp(cfg, HARDENED if inspect(conn).has_table("rejections") else BASELINE)
    command.upgrade(cfg, "head")


__all__ = ["BASELINE", "HARDENED", "current", "head", "target_metadata", "upgrade"]
