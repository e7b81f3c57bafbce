"""Bulk inserts straight through the driver: ``executemany`` (SQLite, and PostgreSQL
for a few rows), ``COPY`` (PostgreSQL with psycopg, many rows).

SQLAlchemy's per-row parameter processing costs more than SQLite's insert itself;
on the ingestion hot path the rows are plain tuples in table column order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table

_PLACEHOLDER = {"qmark": "?", "format": "%s", "pyformat": "%s"}
COPY_MIN_ROWS = 64
"""Below this, one multi-row ``INSERT ... VALUES (...), (...)`` (one statement, one round
trip) beats ``COPY`` (the statement, then the data) and psycopg's ``executemany``
(which enters and leaves pipeline mode); a group of decisions is a few rows."""


def bulk_insert(conn: Connection, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (tuples in the order of ``table.columns``) in one executemany."""
    if not rows:
        return
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        if len(rows) >= COPY_MIN_ROWS:
            _copy(conn, table, rows)
        else:
            _values(conn, table, rows)
        return
    mark = _PLACEHOLDER.get(conn.dialect.paramstyle)
    if mark is None:  # a driver with another style: let SQLAlchemy translate
        names = [c.name for c in table.columns]
        conn.execute(table.insert(), [dict(zip(names, r, strict=True)) for r in rows])
        return
    cols = ", ".join(c.name for c in table.columns)
    marks = ", ".join([mark] * len(table.columns))
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({cols}) VALUES ({marks})", list(rows))


def _values(conn: Connection, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
    """PostgreSQL: every row in one ``INSERT ... VALUES`` statement."""
    cols = ", ".join(c.name for c in table.columns)
    one = "(" + ", ".join(["%s"] * len(table.columns)) + ")"
    params = tuple(v for row in rows for v in row)
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({cols}) VALUES "
                         + ", ".join([one] * len(rows)), params)


def _copy(conn: Connection, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
    """PostgreSQL: ``COPY ... FROM STDIN`` on the transaction's own connection, one
    statement for all the rows (psycopg's ``executemany`` pays Python per row)."""
    cols = ", ".join(c.name for c in table.columns)
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


__all__ = ["bulk_insert"]
