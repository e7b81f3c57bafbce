"""Fixtures of the service tests: an app over a fresh SQLite file (or PostgreSQL when
``--service-db=postgres`` runs through ``pg_app``), a token per role, trips."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from tests.store.conftest import postgres_url  # noqa: F401 - the shared fixture

from portwatch.custody.tripgen import Attack, SimulatedTrip, simulate_trip
from portwatch.service import Settings, create_app
from portwatch.service.auth import create_token
from portwatch.targeting.policy import Policy

ROLES = ("gateway", "carrier", "officer", "analyst", "admin")
PORT = "2506"


@dataclass
class Svc:
    client: TestClient
    tokens: dict[str, str]
    db_url: str

    def h(self, role: str | None) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}

    @property
    def state(self) -> Any:
        return self.client.app.state.portwatch  # type: ignore[attr-defined]


def make_svc(db_url: str, **settings: Any) -> Iterator[Svc]:
    app = create_app(Settings(database_url=db_url, environment="development", seed=7,
                              **settings))
    db = app.state.portwatch.db
    tokens = {
        "gateway": create_token(db, "gateway", "gw-1").token,
        "carrier": create_token(db, "carrier", "frontera", carrier_id="CAR-0001").token,
        "other_carrier": create_token(db, "carrier", "other", carrier_id="CAR-0002").token,
        "officer": create_token(db, "officer", "booth-3", port_code=PORT).token,
        "other_officer": create_token(db, "officer", "laredo", port_code="2304").token,
        "analyst": create_token(db, "analyst", "ana").token,
        "admin": create_token(db, "admin", "root").token,
    }
    with TestClient(app) as client:
        yield Svc(client, tokens, db_url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def svc(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Svc]:
    """The app on a SQLite file, and again on PostgreSQL (``PORTWATCH_TEST_POSTGRES_URL``)."""
    if request.param == "postgres":
        yield from make_svc(request.getfixturevalue("postgres_url"))
    else:
        yield from make_svc(str(tmp_path / "svc.db"))


def trip(k: int = 0, attack: Attack = Attack.NONE, carrier: str = "CAR-0001") -> SimulatedTrip:
    t = simulate_trip(np.random.default_rng([11, k]), attack, trip_no=k)
    if carrier != "CAR-0001":
        doc = copy.deepcopy(t.shipment)
        for p in doc["parties"]:
            if p["role"] == "carrier":
                p["party_id"] = carrier
        t.shipment.clear()
        t.shipment.update(doc)
    return t


def policy_doc(rate: float = 0.1, name: str | None = None) -> dict[str, Any]:
    return Policy.uniform(rate, name=name).to_dict()


def setup_port(s: Svc, rate: float = 0.1) -> int:
    """Store and activate a uniform policy; return its version."""
    r = s.client.post("/v1/policies", json=policy_doc(rate), headers=s.h("admin"))
    assert r.status_code == 201, r.text
    version = r.json()["version"]
    assert s.client.post(f"/v1/policies/{version}/activate",
                         headers=s.h("admin")).status_code == 200
    return int(version)
