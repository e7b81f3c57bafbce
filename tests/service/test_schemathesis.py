"""Property-based calls generated from ``/openapi.json`` (schemathesis): whatever a
caller sends, the service never answers with a server error, on SQLite and on
PostgreSQL (``PORTWATCH_TEST_POSTGRES_URL``; a value PostgreSQL refuses, such as a NUL
in text, fails only there)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from tests.service.conftest import PORT, policy_doc, trip

from portwatch.service import Settings, create_app
from portwatch.service.auth import create_token

ROLES = ("admin", "officer", "gateway", "carrier", "analyst")


def _app(url: str) -> tuple[Any, dict[str, str]]:
    app = create_app(Settings(database_url=url, environment="development", seed=3))
    db = app.state.portwatch.db
    tokens = {r: create_token(db, r, f"fuzz-{r}",
                              carrier_id="CAR-0001" if r == "carrier" else None,
                              port_code=PORT if r == "officer" else None).token
              for r in ROLES}
    return app, tokens


def _schema(app: Any) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", app).exclude(
        path="/v1/alerts/stream")  # an open stream; its own tests cover it


_DB = Path(__import__("tempfile").mkdtemp(prefix="pw-schemathesis-")) / "api.db"
APP, TOKENS = _app(str(_DB))
schema = _schema(APP)

# the same on PostgreSQL, in a schema of its own made at collection (the schemathesis
# cases are generated from an app, so the app exists before any fixture runs)
PG_PROBLEM: str | None = None
PG_SCHEMA = f"pw_fuzz_{uuid.uuid4().hex[:10]}"
PG_BASE = os.environ.get("PORTWATCH_TEST_POSTGRES_URL")
PG_APP, PG_TOKENS = APP, TOKENS  # replaced below; the test fails or skips without it
if not PG_BASE:
    PG_PROBLEM = "PORTWATCH_TEST_POSTGRES_URL is not set"
else:
    try:
        from sqlalchemy import create_engine, text

        _admin = create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
        with _admin.connect() as _conn:
            _conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
        _sep = "&" if "?" in PG_BASE else "?"
        PG_APP, PG_TOKENS = _app(f"{PG_BASE}{_sep}options=-csearch_path%3D{PG_SCHEMA}")
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "unreachable"
        PG_PROBLEM = f"PostgreSQL unreachable: {exc}"
pg_schema = _schema(PG_APP)


def _populate(app: Any, tokens: dict[str, str]) -> None:
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        admin = {"Authorization": f"Bearer {tokens['admin']}"}
        c.post("/v1/shipments", json=trip(0).shipment, headers=admin)
        c.post("/v1/telemetry", json=trip(0).lines[:50], headers=admin)
        v = c.post("/v1/policies", json=policy_doc(0.1), headers=admin).json()["version"]
        c.post(f"/v1/policies/{v}/activate", headers=admin)


@pytest.fixture(scope="module", autouse=True)
def _world() -> Iterator[None]:
    _populate(APP, TOKENS)
    if PG_PROBLEM is None:
        _populate(PG_APP, PG_TOKENS)
    yield
    if PG_PROBLEM is None:
        PG_APP.state.portwatch.close()
        with _admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {PG_SCHEMA} CASCADE"))
        _admin.dispose()


@schema.parametrize()
@settings(max_examples=25, deadline=None,
          suppress_health_check=list(HealthCheck))
@pytest.mark.parametrize("role", ["admin", "officer"])
def test_no_server_error(case: schemathesis.Case, role: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKENS[role]}"},
                           checks=[not_a_server_error])


@pytest.fixture
def _postgres() -> None:
    if PG_PROBLEM is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL required under CI=true: {PG_PROBLEM}")
        pytest.skip(PG_PROBLEM)


@pytest.mark.integration
@pg_schema.parametrize()
@settings(max_examples=25, deadline=None,
          suppress_health_check=list(HealthCheck))
@pytest.mark.parametrize("role", ["admin", "officer"])
def test_no_server_error_on_postgresql(case: schemathesis.Case, role: str,
                                       _postgres: None) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {PG_TOKENS[role]}"},
                           checks=[not_a_server_error])
