"""Persistence: SQLite by default, PostgreSQL by URL; an append-only, hash-chained log."""

from portwatch.store.anchor import Anchor, Checkpoint
from portwatch.store.connection import open_engine
from portwatch.store.database import Database
from portwatch.store.eventlog import GENESIS_HASH, AuditReport, LogRecord, append, audit

__all__ = [
    "GENESIS_HASH",
    "Anchor",
    "AuditReport",
    "Checkpoint",
    "Database",
    "LogRecord",
    "append",
    "audit",
    "open_engine",
]
