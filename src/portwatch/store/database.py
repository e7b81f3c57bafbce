"""A database handle: migrates the schema to the current one (Alembic) and runs
transactions that fail as ``StoreError`` with one readable line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from portwatch.domain.errors import StoreError
from portwatch.store import eventlog, migrate
from portwatch.store.engine import describe_failure, open_engine, safe_name


class Database:
    """One portwatch database (SQLite file, in-memory SQLite, or PostgreSQL URL)."""

    def __init__(self, db: str | Path) -> None:
        self.name = safe_name(db)
        self.engine: Engine = open_engine(db)
        try:
            with self.engine.begin() as conn:
                migrate.upgrade(conn)
                eventlog.ensure_head(conn)
        except SQLAlchemyError as exc:
            raise describe_failure(exc, self.name) from exc

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction: committed on success, rolled back on any error."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise describe_failure(exc, self.name) from exc

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise describe_failure(exc, self.name) from exc

    def audit(self) -> eventlog.AuditReport:
        """Verify the event log's hash chain (``AuditError`` when it is broken)."""
        with self.reading() as conn:
            return eventlog.audit(conn)

    def close(self) -> None:
        self.engine.dispose()


__all__ = ["Database", "StoreError"]
