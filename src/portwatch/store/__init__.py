"""Persistence: SQLite by default, PostgreSQL by URL; an append-only, hash-chained log."""
