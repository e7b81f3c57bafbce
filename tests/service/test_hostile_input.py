"""What an attacker sends, on SQLite and PostgreSQL: control characters (a NUL cannot be
stored in PostgreSQL text at all) in path, query and body fields, names too long for
the columns, JSON nested past Python's recursion limit, and an officer reading another
port's shipments. Each is a 4xx naming the field, and nothing is stored."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from portwatch.custody.tripgen import Attack
from portwatch.service.auth import create_token
from portwatch.store.schema import event_log

from .conftest import PORT, Svc, policy_doc, setup_port, trip


def _records(s: Svc) -> int:
    with s.state.db.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(event_log)).scalar_one())


def _alert(s: Svc) -> str:
    t = trip(3, Attack.DOOR_OPENED)
    assert s.client.post("/v1/shipments", json=t.shipment,
                         headers=s.h("admin")).status_code == 201
    assert s.client.post("/v1/telemetry", json=t.lines,
                         headers=s.h("gateway")).json()["alerts_raised"] > 0
    return str(s.client.get("/v1/alerts", headers=s.h("admin")).json()[0]["alert_id"])


def _policy(name: str) -> dict[str, Any]:
    doc = policy_doc(0.2)
    doc["name"] = name
    return doc


# (role, method, path, json body, the field the answer must name)
HOSTILE: list[tuple[str, str, str, Any, str]] = [
    ("admin", "GET", "/v1/shipments/SHP%00X", None, "shipment_id"),
    ("carrier", "GET", "/v1/shipments/SHP%01X", None, "shipment_id"),
    ("admin", "GET", "/v1/alerts?shipment_id=SHP%00X", None, "shipment_id"),
    ("officer", "POST", "/v1/alerts/A%00B/ack", {"comment": "x"}, "alert_id"),
    ("officer", "POST", "/v1/alerts/{alert}/ack", {"comment": "seen\x00"}, "comment"),
    ("admin", "POST", "/v1/tokens/ab%00cd/revoke", None, "token_id"),
    ("admin", "POST", "/v1/tokens",
     {"role": "carrier", "name": "c", "carrier_id": "CAR\x00-1"}, "carrier_id"),
    ("admin", "POST", "/v1/tokens", {"role": "analyst", "name": "a\x1bb"}, "name"),
    ("officer", "POST", "/v1/inspections",
     {"port_code": PORT, "action": "secondary", "outcome": "found",
      "decision_id": "D\x00"}, "decision_id"),
    ("officer", "POST", "/v1/inspections",
     {"port_code": PORT, "action": "secondary", "outcome": "found",
      "shipment_id": "SHP\x00"}, "shipment_id"),
    ("officer", "POST", "/v1/inspections",
     {"port_code": PORT, "action": "secondary", "outcome": "seized",
      "seized": [{"substance": "coc\x00aine", "mass_kg": 1.0}]}, "substance"),
    ("admin", "POST", "/v1/policies", _policy("night\x00shift"), "name"),
    ("admin", "POST", "/v1/policies", _policy("p" * 200), "name"),
]


@pytest.mark.parametrize("role,method,path,body,field", HOSTILE,
                         ids=[f"{m} {p} {f}" for _, m, p, _, f in HOSTILE])
def test_hostile_strings_are_422_naming_the_field_and_store_nothing(
        svc: Svc, role: str, method: str, path: str, body: Any, field: str) -> None:
    setup_port(svc)
    url = path.format(alert=_alert(svc)) if "{alert}" in path else path
    before = _records(svc)
    r = svc.client.request(method, url, json=body, headers=svc.h(role))
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert field in detail and "\n" not in detail, detail
    assert _records(svc) == before


def test_a_token_named_at_the_limit_can_write_everywhere(svc: Svc) -> None:
    """Who did it (``role:name#id``) goes into 64-character columns: a name the token
    command accepts must fit them, on PostgreSQL too, and a longer one is refused."""
    db = svc.state.db
    with pytest.raises(Exception, match="--name"):
        create_token(db, "officer", "o" * 41, port_code=PORT)
    officer = create_token(db, "officer", "o" * 40, port_code=PORT).token
    admin = create_token(db, "admin", "a" * 40).token
    h_off, h_adm = ({"Authorization": f"Bearer {t}"} for t in (officer, admin))
    r = svc.client.post("/v1/policies", json=policy_doc(0.1), headers=h_adm)
    assert r.status_code == 201, r.text
    assert svc.client.post(f"/v1/policies/{r.json()['version']}/activate",
                           headers=h_adm).status_code == 200
    d = svc.client.post("/v1/arrivals", json={"mode": "truck", "plate": "P1",
                                              "port_code": PORT}, headers=h_off)
    assert d.status_code == 200, d.text
    i = svc.client.post("/v1/inspections", json={
        "port_code": PORT, "action": "secondary", "outcome": "nothing_found",
        "decision_id": d.json()["decision_id"]}, headers=h_off)
    assert i.status_code == 201, i.text
    a = svc.client.post(f"/v1/alerts/{_alert(svc)}/ack", json={"comment": "seen"},
                        headers=h_off)
    assert a.status_code == 200, a.text


def test_a_long_name_of_an_older_token_still_fits_the_columns() -> None:
    from portwatch.service.auth import Principal, Role

    p = Principal("0123456789", Role.ANALYST, "n" * 64)
    assert len(p.who) <= 64 and p.who.endswith("#0123456789")


@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000,
                                  b"[" + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"]"],
                         ids=["arrays", "objects"])
def test_json_nested_past_the_recursion_limit_is_422(svc: Svc, body: bytes) -> None:
    r = svc.client.post("/v1/telemetry", content=body, headers={
        **svc.h("gateway"), "content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith("body: ")


@pytest.mark.parametrize("path,role", [("/v1/policies", "admin"),
                                       ("/v1/shipments", "admin"),
                                       ("/v1/arrivals", "officer")])
def test_nested_json_bodies_of_other_endpoints_are_4xx(svc: Svc, path: str,
                                                       role: str) -> None:
    r = svc.client.post(path, content=b"[" * 30_000 + b"]" * 30_000,
                        headers={**svc.h(role), "content-type": "application/json"})
    assert 400 <= r.status_code < 500, r.text


def test_an_officer_reads_only_its_ports_shipments(svc: Svc) -> None:
    """The shipment's verdict carries its alerts as evidence: another port's officer
    would read through it the alerts it is not shown in the list."""
    alert = _alert(svc)  # on a shipment naming no port: the service's own (2506)
    sid = svc.client.get("/v1/alerts", headers=svc.h("admin")).json()[0]["shipment_id"]
    assert alert
    mine = svc.client.get(f"/v1/shipments/{sid}", headers=svc.h("officer"))
    assert mine.status_code == 200 and mine.json()["evidence"]["alerts"]
    theirs = svc.client.get(f"/v1/shipments/{sid}", headers=svc.h("other_officer"))
    unknown = svc.client.get("/v1/shipments/SHP-NOPE", headers=svc.h("other_officer"))
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json()["detail"].replace(sid, "X") == \
        unknown.json()["detail"].replace("SHP-NOPE", "X")
    assert svc.client.get("/v1/shipments", headers=svc.h("other_officer")).json() == []
    assert [x["shipment_id"] for x in
            svc.client.get("/v1/shipments", headers=svc.h("officer")).json()] == [sid]


def test_a_database_failure_does_not_tell_the_caller_where_the_database_is(
        svc: Svc, monkeypatch: pytest.MonkeyPatch) -> None:
    from portwatch.domain.errors import StoreError
    from portwatch.service import auth

    def broken(*_a: Any, **_k: Any) -> Any:
        raise StoreError(f"database {svc.state.db.name}: connection refused")

    monkeypatch.setattr(auth, "list_tokens", broken)
    r = svc.client.get("/v1/tokens", headers=svc.h("admin"))
    assert r.status_code == 503
    detail = r.json()["detail"]
    assert svc.state.db.name not in detail and "postgresql" not in detail, detail
    assert detail.startswith("database: ")


@pytest.mark.parametrize("path,role", [("/v1/arrivals", "officer"),
                                       ("/v1/policies", "admin"),
                                       ("/v1/alerts/abc/ack", "officer")])
def test_a_body_that_is_not_json_is_422_naming_the_body(svc: Svc, path: str,
                                                        role: str) -> None:
    r = svc.client.post(path, content=b'{"mode": "truck", ', headers={
        **svc.h(role), "content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith("body: not JSON"), r.text


def test_nul_and_control_characters_in_telemetry_are_rejected_messages(svc: Svc) -> None:
    """Raw or JSON-escaped, in a key, a value or the seal id: each such line is one
    rejected message (with its alert stored), never a failed batch."""
    t = trip(0)
    assert svc.client.post("/v1/shipments", json=t.shipment,
                           headers=svc.h("admin")).status_code == 201
    seal = t.shipment["seal"]["seal_id"]
    lines = ["\x00", t.lines[0].replace('"kind"', '"ki\x00nd"'),
             t.lines[1].replace(seal, seal + "\\u0000"),
             t.lines[2][:-1] + ',"x":"\\u0000\\u001b"}', t.lines[3]]
    r = svc.client.post("/v1/telemetry", content="\n".join(lines).encode(), headers={
        **svc.h("gateway"), "content-type": "application/x-ndjson"})
    assert r.status_code == 200, r.text
    status = [x["status"] for x in r.json()["results"]]
    assert status == ["rejected"] * 4 + ["accepted"]
    assert r.json()["alerts_raised"] >= 1


@pytest.mark.parametrize("body,field", [
    ({"role": "carrier", "name": "c"}, "carrier_id"),
    ({"role": "officer", "name": "o"}, "port_code"),
    ({"role": "analyst", "name": "n" * 41}, "name"),
])
def test_token_requests_name_the_api_field_not_the_cli_option(svc: Svc, body: Any,
                                                               field: str) -> None:
    r = svc.client.post("/v1/tokens", json=body, headers=svc.h("admin"))
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith(field), r.text
