"""A write transaction on PostgreSQL (psycopg) in two round trips: its ``BEGIN`` goes
with its first reads, and its writes with its ``COMMIT``.

Every round trip is a point where the caller's thread waits for the server's process
to be scheduled, and then for a CPU and the GIL to come back; on a machine whose cores
are busy that wait, not the statements, is most of a short transaction's time. (An
arrival's decision measured six round trips: ``BEGIN``, the active policy, the
secondary queue, the audit stream's head, the writes, ``COMMIT``.) A batched
transaction sends

1. ``BEGIN; <reads>`` as one message (``Batch.first``), answered with every read's
   rows; row locks the reads take (``FOR UPDATE``) hold until the end;
2. ``<deferred writes>; COMMIT`` as one more (``Batch.commit``), answered once the
   commit has reached the disk (with the server's ``synchronous_commit`` as it is).

Several statements in one message need the simple query protocol, which carries no
parameters: psycopg binds them on the client (``ClientCursor.mogrify``, which quotes
with the connection's encoding and escaping rules). An error in any statement aborts
the transaction: the statements after it, the ``COMMIT`` with them, are not run, and
the transaction is rolled back; nothing of it is stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql import ClauseElement

from portwatch.domain.errors import StoreError

BATCH_INFO = "portwatch_batch"
"""conn.info key: the ``Batch`` of the transaction, while one is open."""

Params = Mapping[str, Any] | Sequence[Any]


def supported(conn: Connection) -> bool:
    """Whether ``conn`` can run a batched transaction (PostgreSQL through psycopg)."""
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"


def active(conn: Connection) -> Batch | None:
    """The batch of the transaction on ``conn``, if it is batched."""
    found: Batch | None = conn.info.get(BATCH_INFO)
    return found


_COMPILED: dict[int, tuple[ClauseElement, str, dict[str, Any]]] = {}


def _compiled(conn: Connection, stmt: ClauseElement) -> tuple[str, dict[str, Any]]:
    """``stmt`` as the driver's SQL text and its fixed parameters (compiled once; the
    statements batched are module-level constants)."""
    hit = _COMPILED.get(id(stmt))
    if hit is None or hit[0] is not stmt:
        c = stmt.compile(dialect=conn.dialect)
        hit = (stmt, str(c), dict(c.params))
        _COMPILED[id(stmt)] = hit
    return hit[1], hit[2]


class Batch:
    """The batch of one transaction on ``conn`` (which must not have sent anything
    yet); ``close`` hands the connection back as it came, rolled back if the batch
    did not commit."""

    def __init__(self, conn: Connection, db_name: str) -> None:
        import psycopg
        from psycopg.pq import TransactionStatus

        raw = conn.connection.driver_connection
        assert isinstance(raw, psycopg.Connection)
        if raw.info.transaction_status != TransactionStatus.IDLE:
            raise StoreError(f"database {db_name}: a batched transaction must start "
                             "before any statement of it")
        self._raw = raw
        self._idle = TransactionStatus.IDLE
        self._db_name = db_name
        self._conn = conn
        # psycopg sends BEGIN itself before the first statement outside autocommit, as
        # a round trip of its own; here the BEGIN is sent with the first reads
        raw.autocommit = True
        self._cur = psycopg.ClientCursor(raw)
        self._begun = False
        self._deferred: list[str] = []
        conn.info[BATCH_INFO] = self

    def _failed(self, exc: Exception) -> StoreError:
        lines = str(exc).strip().splitlines() or [type(exc).__name__]
        return StoreError(f"database {self._db_name}: {lines[0]}")

    def first(self, queries: Sequence[tuple[ClauseElement, Mapping[str, Any]]],
              ) -> list[list[tuple[Any, ...]]]:
        """``BEGIN`` and ``queries`` (SQLAlchemy statements with their parameters) in one
        round trip; every query's rows, in order. Must come before any other statement
        of the transaction."""
        import psycopg

        if self._begun:
            raise StoreError(f"database {self._db_name}: the batch has begun already")
        texts = ["BEGIN"]
        try:
            for stmt, params in queries:
                sql, fixed = _compiled(self._conn, stmt)
                texts.append(self._cur.mogrify(sql, {**fixed, **params}))
            self._cur.execute("; ".join(texts))
            self._begun = True
            out: list[list[tuple[Any, ...]]] = []
            while self._cur.nextset():  # the first result is BEGIN's
                out.append(list(self._cur.fetchall()))
        except psycopg.Error as exc:
            raise self._failed(exc) from exc
        if len(out) != len(queries):
            raise StoreError(f"database {self._db_name}: {len(queries)} queries gave "
                             f"{len(out)} results")
        return out

    def defer(self, sql: str, params: Params) -> None:
        """A write (driver SQL text with ``%s`` or ``%(name)s`` parameters) sent with
        the ``COMMIT``; ``StoreError`` for a value the server cannot hold (a NUL in
        text)."""
        import psycopg

        try:
            self._deferred.append(self._cur.mogrify(sql, params))
        except psycopg.Error as exc:
            raise self._failed(exc) from exc

    def commit(self) -> None:
        """The deferred writes and ``COMMIT`` in one round trip (with ``BEGIN`` too when
        ``first`` was not called); ``StoreError`` unless the server committed."""
        import psycopg

        texts = [*([] if self._begun else ["BEGIN"]), *self._deferred, "COMMIT"]
        self._deferred.clear()
        self._begun = True
        try:
            self._cur.execute("; ".join(texts))
            while self._cur.nextset():  # to the last result: the COMMIT's
                pass
        except psycopg.Error as exc:
            raise self._failed(exc) from exc
        if self._cur.statusmessage != "COMMIT" or \
                self._raw.info.transaction_status != self._idle:
            raise StoreError(f"database {self._db_name}: the commit ended as "
                             f"{self._cur.statusmessage!r}, nothing was stored")

    def close(self) -> None:
        """Roll back what did not commit; the connection back out of autocommit."""
        self._conn.info.pop(BATCH_INFO, None)
        try:
            if self._raw.info.transaction_status != self._idle:
                self._raw.rollback()
        finally:
            self._cur.close()
            if self._raw.info.transaction_status == self._idle:
                self._raw.autocommit = False


__all__ = ["BATCH_INFO", "Batch", "active", "supported"]
