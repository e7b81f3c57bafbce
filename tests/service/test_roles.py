"""Every endpoint for every role: what each may do, and each forbidden access."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.service.conftest import PORT, Svc, policy_doc, setup_port, trip

from portwatch.custody.tripgen import Attack

ALL = ("gateway", "carrier", "other_carrier", "officer", "other_officer", "analyst", "admin")


def _world(s: Svc) -> dict[str, Any]:
    """A shipment of CAR-0001 with its messages, an active policy, one decision, an alert."""
    t = trip(0)
    assert s.client.post("/v1/shipments", json=t.shipment, headers=s.h("admin")).status_code == 201
    forged = trip(1, Attack.FORGERY)
    s.client.post("/v1/shipments", json=forged.shipment, headers=s.h("admin"))
    r = s.client.post("/v1/telemetry", json=t.lines + forged.lines, headers=s.h("gateway"))
    assert r.status_code == 200, r.text
    version = setup_port(s)
    d = s.client.post("/v1/arrivals", json={"mode": "truck", "plate": "ABC123",
                                            "port_code": PORT}, headers=s.h("officer"))
    assert d.status_code == 200, d.text
    alerts = s.client.get("/v1/alerts", headers=s.h("admin")).json()
    assert alerts, "the forged trip raises alerts"
    spare = s.client.post("/v1/tokens", json={"role": "analyst", "name": "spare"},
                          headers=s.h("admin")).json()["token_id"]
    return {"trip": t, "version": version, "decision": d.json()["decision_id"],
            "alert": alerts[0]["alert_id"], "forged": forged, "spare": spare}


Case = tuple[str, str, Callable[[dict[str, Any], str], Any], dict[str, int]]

OK_READ = {"officer": 200, "other_officer": 200, "analyst": 200, "admin": 200}


def _expect(allowed: dict[str, int], default: int = 403) -> dict[str, int]:
    return {role: allowed.get(role, default) for role in ALL}


CASES: list[Case] = [
    # the counts are every port's: an officer reads its own port's through /v1/stats
    ("GET", "/metrics", lambda w, r: None, _expect({"analyst": 200, "admin": 200})),
    ("GET", "/v1/tokens", lambda w, r: None, _expect({"admin": 200})),
    ("POST", "/v1/tokens", lambda w, r: {"role": "analyst", "name": f"new-{r}"},
     _expect({"admin": 201})),
    ("POST", "/v1/tokens/{spare}/revoke", lambda w, r: None, _expect({"admin": 204})),
    ("POST", "/v1/shipments", lambda w, r: trip(5).shipment, _expect({"admin": 201})),
    ("GET", "/v1/shipments", lambda w, r: None,
     _expect({**OK_READ, "carrier": 200, "other_carrier": 200})),
    ("GET", "/v1/shipments/{sid}", lambda w, r: None,
     _expect({**OK_READ, "carrier": 200, "other_carrier": 404, "other_officer": 404})),
    ("GET", "/v1/shipments/NOPE-1", lambda w, r: None,
     _expect({**{k: 404 for k in OK_READ}, "carrier": 404, "other_carrier": 404})),
    ("POST", "/v1/telemetry", lambda w, r: w["trip"].lines[:3],
     _expect({"gateway": 200, "admin": 200})),
    ("POST", "/v1/arrivals",
     lambda w, r: {"mode": "truck", "plate": "P1", "port_code": PORT},
     _expect({"officer": 200, "admin": 200})),
    ("POST", "/v1/policies", lambda w, r: policy_doc(0.2), _expect({"admin": 201})),
    ("GET", "/v1/policies", lambda w, r: None, _expect({"analyst": 200, "admin": 200})),
    ("GET", "/v1/policies/{version}", lambda w, r: None, _expect({"admin": 200})),
    ("POST", "/v1/policies/{version}/activate", lambda w, r: None, _expect({"admin": 200})),
    ("POST", "/v1/policies/rollback", lambda w, r: None, _expect({"admin": 409})),
    ("POST", "/v1/inspections",
     lambda w, r: {"port_code": PORT, "action": "secondary", "outcome": "nothing_found"},
     _expect({"officer": 201, "admin": 201})),
    ("GET", "/v1/inspections", lambda w, r: None, _expect(OK_READ)),
    ("GET", "/v1/alerts", lambda w, r: None,
     _expect({**OK_READ, "carrier": 200, "other_carrier": 200})),
    ("POST", "/v1/alerts/{alert}/ack", lambda w, r: {"comment": f"seen by {r}"},
     _expect({"officer": 200, "other_officer": 404, "admin": 409})),  # not its port
    ("GET", "/v1/alerts/stream?wait_s=0.2", lambda w, r: None,
     _expect({**OK_READ, "carrier": 200, "other_carrier": 200})),
    ("GET", "/v1/stats", lambda w, r: None, _expect(OK_READ)),
]


@pytest.mark.parametrize("method,path,body,expected", CASES,
                         ids=[f"{m} {p}" for m, p, _, _ in CASES])
def test_every_role(svc: Svc, method: str, path: str, body: Any,
                    expected: dict[str, int]) -> None:
    w = _world(svc)
    url = path.format(sid=w["trip"].shipment_id, version=w["version"], alert=w["alert"],
                      spare=w["spare"])
    # no token, a malformed one and an unknown one: 401 everywhere
    for headers in ({}, {"Authorization": "Basic abc"},
                    {"Authorization": "Bearer pwt_0000000000_notatoken"}):
        r = svc.client.request(method, url, json=body(w, "anon"), headers=headers)
        assert r.status_code == 401, (headers, r.status_code, r.text)
    seen = {}
    for role in ALL:
        r = svc.client.request(method, url, json=body(w, role), headers=svc.h(role))
        seen[role] = r.status_code
    assert seen == expected


def test_carrier_sees_only_its_own(svc: Svc) -> None:
    mine, theirs = trip(0), trip(1, carrier="CAR-0002")
    for t in (mine, theirs):
        assert svc.client.post("/v1/shipments", json=t.shipment,
                               headers=svc.h("admin")).status_code == 201
    listed = svc.client.get("/v1/shipments", headers=svc.h("carrier")).json()
    assert [x["shipment_id"] for x in listed] == [mine.shipment_id]
    r = svc.client.get(f"/v1/shipments/{theirs.shipment_id}", headers=svc.h("carrier"))
    unknown = svc.client.get("/v1/shipments/SHP-NOPE", headers=svc.h("carrier"))
    assert r.status_code == unknown.status_code == 404
    # the answer does not tell "exists but not yours" from "does not exist"
    assert r.json()["detail"].replace(theirs.shipment_id, "X") == \
        unknown.json()["detail"].replace("SHP-NOPE", "X")
    a = svc.client.get(f"/v1/alerts?shipment_id={theirs.shipment_id}",
                       headers=svc.h("carrier"))
    assert a.status_code == 200 and a.json() == []


def test_officer_acts_only_at_its_port(svc: Svc) -> None:
    setup_port(svc)
    arrival = {"mode": "truck", "plate": "P1", "port_code": "2304"}
    assert svc.client.post("/v1/arrivals", json=arrival,
                           headers=svc.h("officer")).status_code == 403
    assert svc.client.post("/v1/arrivals", json=arrival,
                           headers=svc.h("other_officer")).status_code == 200


def test_revoked_token_is_refused_at_once(svc: Svc) -> None:
    assert svc.client.get("/v1/stats", headers=svc.h("analyst")).status_code == 200
    tokens = svc.client.get("/v1/tokens", headers=svc.h("admin")).json()
    ana = next(t for t in tokens if t["name"] == "ana")
    assert "token" not in ana and "token_hash" not in ana
    r = svc.client.post(f"/v1/tokens/{ana['token_id']}/revoke", headers=svc.h("admin"))
    assert r.status_code == 204
    assert svc.client.get("/v1/stats", headers=svc.h("analyst")).status_code == 401
    again = svc.client.post(f"/v1/tokens/{ana['token_id']}/revoke", headers=svc.h("admin"))
    assert again.status_code == 409


def test_a_revocation_elsewhere_takes_effect_within_the_cache_bound(
        svc: Svc, monkeypatch: pytest.MonkeyPatch) -> None:
    """Revoked by another process (here: straight in the database), a token this process
    has just checked is trusted for at most ``token_cache_s``, then refused."""
    import time

    from portwatch.service import state as state_module
    from portwatch.service.auth import revoke_token

    assert svc.client.get("/v1/stats", headers=svc.h("analyst")).status_code == 200
    tokens = svc.client.get("/v1/tokens", headers=svc.h("admin")).json()
    ana = next(t for t in tokens if t["name"] == "ana")
    revoke_token(svc.state.db, ana["token_id"], revoked_by="another process")
    assert svc.client.get("/v1/stats", headers=svc.h("analyst")).status_code == 200
    bound = svc.state.settings.token_cache_s
    later = time.monotonic() + bound + 0.001
    monkeypatch.setattr(state_module.time, "monotonic", lambda: later)
    assert svc.client.get("/v1/stats", headers=svc.h("analyst")).status_code == 401


def test_analyst_reads_a_schedule_only_after_its_shift(svc: Svc) -> None:
    v1 = setup_port(svc, 0.1)
    assert svc.client.get(f"/v1/policies/{v1}", headers=svc.h("analyst")).status_code == 403
    v2 = setup_port(svc, 0.3)
    assert svc.client.get(f"/v1/policies/{v1}", headers=svc.h("analyst")).status_code == 200
    assert svc.client.get(f"/v1/policies/{v2}", headers=svc.h("analyst")).status_code == 403
    for role in ("gateway", "carrier", "officer"):
        assert svc.client.get(f"/v1/policies/{v1}", headers=svc.h(role)).status_code == 403


def test_health_and_the_dashboard_page_need_no_token_and_tell_nothing(svc: Svc) -> None:
    h = svc.client.get("/v1/health")
    assert h.status_code == 200 and h.json()["status"] == "ok"
    assert set(h.json()) == {"status", "version", "database"}
    page = svc.client.get("/dashboard")
    assert page.status_code == 200 and "default-src 'self'" in \
        page.headers["content-security-policy"]
    assert svc.client.get("/dashboard/app.js").status_code == 200
    # the page's data all comes from the API, which wants a token
    assert svc.client.get("/v1/stats").status_code == 401
