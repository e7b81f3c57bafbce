"""Connecting to a database (an SQLAlchemy engine): a SQLite file by default (WAL, one
file), PostgreSQL by URL. Not to be confused with `portwatch.engine`, the lane decision."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from portwatch.domain.errors import StoreError


def _sqlite_engine(url: str, memory: bool) -> Engine:
    kwargs: dict[str, Any] = {}
    if memory:
        kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # manage transactions ourselves so each one can take the write lock up front
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE: writers queue here, so reading the log head and appending after it
        # cannot interleave with another writer
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def safe_name(db: str | Path) -> str:
    """``db`` as it may appear in messages: a URL's password is masked."""
    text = str(db)
    if "://" not in text:
        return text
    try:
        return make_url(text).render_as_string(hide_password=True)
    except ArgumentError:
        return text.split("://", 1)[0] + "://..."


def open_engine(db: str | Path) -> Engine:
    """An engine for ``db``: a file path (SQLite), ``:memory:``, or a SQLAlchemy URL
    such as ``postgresql+psycopg://user:pass@host/dbname``."""
    text = str(db)
    try:
        if text == ":memory:":
            return _sqlite_engine("sqlite://", memory=True)
        if "://" in text:
            if text.startswith("sqlite"):
                return _sqlite_engine(text, memory=text in ("sqlite://", "sqlite:///:memory:"))
            return create_engine(text, pool_pre_ping=True)
        path = Path(text)
        if path.parent and not path.parent.exists():
            raise StoreError(f"--db {text}: directory {path.parent} does not exist")
        return _sqlite_engine(f"sqlite:///{path}", memory=False)
    except (ArgumentError, ImportError) as exc:
        raise StoreError(f"--db {safe_name(text)}: cannot open ({exc})") from exc


def describe_failure(exc: SQLAlchemyError, db: str) -> StoreError:
    """A one-line ``StoreError`` for a database failure."""
    if isinstance(exc, OperationalError):
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return StoreError(f"database {db}: {reason}")
    return StoreError(f"database {db}: {type(exc).__name__}: {str(exc).splitlines()[0]}")


__all__ = ["describe_failure", "open_engine", "safe_name"]
