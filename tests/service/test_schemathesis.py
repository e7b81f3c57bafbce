"""Property-based calls generated from ``/openapi.json`` (schemathesis): whatever a
caller sends, the service never answers with a server error."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from tests.service.conftest import PORT, policy_doc, trip

from portwatch.service import Settings, create_app
from portwatch.service.auth import create_token

_DB = Path(__import__("tempfile").mkdtemp(prefix="pw-schemathesis-")) / "api.db"
APP = create_app(Settings(database_url=str(_DB), environment="development", seed=3))
_db = APP.state.portwatch.db
TOKENS = {r: create_token(_db, r, f"fuzz-{r}", carrier_id="CAR-0001" if r == "carrier" else None,
                          port_code=PORT if r == "officer" else None).token
          for r in ("admin", "officer", "gateway", "carrier", "analyst")}
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).exclude(
    path="/v1/alerts/stream")  # an open stream; its own tests cover it


@pytest.fixture(scope="module", autouse=True)
def _world() -> None:
    from fastapi.testclient import TestClient

    with TestClient(APP) as c:
        admin = {"Authorization": f"Bearer {TOKENS['admin']}"}
        c.post("/v1/shipments", json=trip(0).shipment, headers=admin)
        c.post("/v1/telemetry", json=trip(0).lines[:50], headers=admin)
        v = c.post("/v1/policies", json=policy_doc(0.1), headers=admin).json()["version"]
        c.post(f"/v1/policies/{v}/activate", headers=admin)


@schema.parametrize()
@settings(max_examples=25, deadline=None,
          suppress_health_check=list(HealthCheck))
@pytest.mark.parametrize("role", ["admin", "officer"])
def test_no_server_error(case: schemathesis.Case, role: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKENS[role]}"},
                           checks=[not_a_server_error])
