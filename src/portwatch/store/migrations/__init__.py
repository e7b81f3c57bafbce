"""Alembic migrations of the portwatch schema (run by ``portwatch.store.migrate``)."""
