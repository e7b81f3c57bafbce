"""PostgreSQL for integration tests.

``PORTWATCH_TEST_POSTGRES_URL`` names the server (CI exports it). Without it the
integration tests skip; under ``CI=true`` a missing or unreachable server fails them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL required under CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL of a fresh, empty schema-less database on the test server."""
    url = os.environ.get("PORTWATCH_TEST_POSTGRES_URL")
    if not url:
        _missing("PORTWATCH_TEST_POSTGRES_URL is not set")
    assert url is not None
    try:
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "unreachable"
        _missing(f"PostgreSQL at {make_url(url).host} unreachable: {exc}")
    # each test gets its own schema, dropped afterwards
    schema = f"pw_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
