"""Connecting to a database (an SQLAlchemy engine): a SQLite file by default (WAL, one
file), PostgreSQL by URL. Not to be confused with `portwatch.engine`, the lane decision."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from portwatch.domain.errors import StoreError


def _sqlite_engine(url: str, memory: bool, reader: bool = False) -> Engine:
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
        if reader:
            cur.execute("PRAGMA query_only=ON")
        cur.close()

    # IMMEDIATE: writers queue here, so reading the log head and appending after it
    # cannot interleave with another writer. A reader's transaction is DEFERRED: in WAL
    # mode it reads a snapshot and never waits for the write lock (an IMMEDIATE one
    # queued behind every writer, in SQLite's busy handler, which sleeps up to 100 ms
    # at a time)
    begin = "BEGIN" if reader else "BEGIN IMMEDIATE"

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


PING_IDLE_S = 5.0
"""A server connection that sat in the pool longer than this is pinged before use."""
SERVER_POOL_SIZE = 16
"""Connections a server engine keeps open. SQLAlchemy's default (5) is below what one
service process holds at once under load (a group of decisions being committed per
audit stream, custody verdicts and token look-ups of the requests in flight): every
connection above it was opened for one transaction and closed after, and a new
PostgreSQL connection costs the server a process and an authentication exchange
(measured: 0.16 new connections per custody verdict at 200 arrivals/s)."""
SERVER_POOL_OVERFLOW = 16
"""Connections opened beyond ``SERVER_POOL_SIZE`` at a peak (closed when returned)."""


def _server_engine(url: str) -> Engine:
    """An engine for a database server whose pooled connections are checked before use
    only when they sat idle for ``PING_IDLE_S``: a connection used a moment ago is
    alive, and a ping on every checkout costs a round trip on every transaction (the
    hot path of an arrival). A connection the server dropped in between fails the one
    transaction that finds it, and the pool replaces it."""
    engine = create_engine(url, pool_size=SERVER_POOL_SIZE, max_overflow=SERVER_POOL_OVERFLOW)

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since <= PING_IDLE_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # noqa: BLE001 - any failure: the pool reconnects
            raise DisconnectionError(f"stale connection: {exc}") from exc
        if not alive:
            raise DisconnectionError("stale connection")

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
            return _server_engine(text)
        path = Path(text)
        if path.parent and not path.parent.exists():
            raise StoreError(f"--db {text}: directory {path.parent} does not exist")
        return _sqlite_engine(f"sqlite:///{path}", memory=False)
    except (ArgumentError, ImportError) as exc:
        raise StoreError(f"--db {safe_name(text)}: cannot open ({exc})") from exc


def open_read_engine(db: str | Path, engine: Engine) -> Engine:
    """The engine for reads of ``db``, whose write engine is ``engine``: for a SQLite
    file a second pool whose connections are read-only and begin DEFERRED transactions
    (snapshots that never take the write lock); for a server, ``engine``'s pool in
    autocommit (each statement reads what is committed when it starts, as it did
    inside a READ COMMITTED transaction, without the ``BEGIN`` and ``ROLLBACK`` round
    trips around it); otherwise ``engine`` itself (an in-memory SQLite database has one
    connection)."""
    if engine.dialect.name != "sqlite":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    if isinstance(engine.pool, StaticPool):
        return engine
    return _sqlite_engine(engine.url.render_as_string(), memory=False, reader=True)


def describe_failure(exc: SQLAlchemyError, db: str) -> StoreError:
    """A one-line ``StoreError`` for a database failure."""
    if isinstance(exc, OperationalError):
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return StoreError(f"database {db}: {reason}")
    return StoreError(f"database {db}: {type(exc).__name__}: {str(exc).splitlines()[0]}")


__all__ = ["describe_failure", "open_engine", "open_read_engine", "safe_name"]
