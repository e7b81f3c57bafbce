"""Telemetry, shipments, arrivals, policies, inspections, alerts, metrics, limits."""

from __future__ import annotations

import base64
import copy
import json
import logging
from pathlib import Path

import numpy as np
import pytest
from tests.service.conftest import PORT, Svc, policy_doc, setup_port, trip

from portwatch.custody.tripgen import Attack
from portwatch.store import service_store as ss


def test_telemetry_json_and_ndjson_give_the_same_per_message_results(svc: Svc) -> None:
    t = trip(0)
    svc.client.post("/v1/shipments", json=t.shipment, headers=svc.h("admin"))
    half = len(t.lines) // 2
    r1 = svc.client.post("/v1/telemetry", json=t.lines[:half], headers=svc.h("gateway"))
    body = "\n".join(t.lines[half:]) + "\n"
    r2 = svc.client.post("/v1/telemetry", content=body, headers={
        **svc.h("gateway"), "Content-Type": "application/x-ndjson"})
    assert r1.status_code == r2.status_code == 200
    a, b = r1.json(), r2.json()
    assert a["received"] + b["received"] == len(t.lines)
    assert all(x["status"] == "accepted" for x in a["results"] + b["results"])
    # objects instead of lines: the canonical form is the line, so these are duplicates
    objs = [json.loads(line) for line in t.lines[:5]]
    r3 = svc.client.post("/v1/telemetry", json=objs, headers=svc.h("gateway")).json()
    assert r3["accepted"] == 0 and r3["duplicates"] == 5 and r3["rejected"] == 0
    got = svc.client.get(f"/v1/shipments/{t.shipment_id}", headers=svc.h("analyst")).json()
    assert got["verdict"] == "clean" and got["messages"] == len(set(t.lines))


def test_telemetry_rejections_name_each_message_and_keep_the_rest(svc: Svc) -> None:
    t = trip(0)
    svc.client.post("/v1/shipments", json=t.shipment, headers=svc.h("admin"))
    bad = t.lines[1].replace('"sig":"', '"sig":"AAAA', 1)
    lines = [t.lines[0], "{not json", bad, t.lines[2]]
    r = svc.client.post("/v1/telemetry", json=lines, headers=svc.h("gateway")).json()
    status = [(x["index"], x["status"]) for x in r["results"]]
    assert status == [(0, "accepted"), (1, "rejected"), (2, "rejected"), (3, "accepted")]
    assert r["results"][1]["reasons"][0]["kind"] == "malformed"
    assert r["results"][2]["reasons"][0]["kind"] in ("malformed", "bad_signature")
    assert r["accepted"] == 2


@pytest.mark.parametrize("body,ctype,needle", [
    (b"{}", "application/json", "JSON array"),
    (b"[1, 2]", "application/json", "body[0]"),
    (b"\xff\xfe", "application/json", "UTF-8"),
    (b"[", "application/json", "not JSON"),
])
def test_telemetry_bad_bodies_are_422_with_a_reason(svc: Svc, body: bytes, ctype: str,
                                                    needle: str) -> None:
    r = svc.client.post("/v1/telemetry", content=body,
                        headers={**svc.h("gateway"), "Content-Type": ctype})
    assert r.status_code == 422 and needle in r.json()["detail"]


def test_body_limits(svc: Svc) -> None:
    big = json.dumps({"comment": "x" * 70_000})
    r = svc.client.post("/v1/alerts/A/ack", content=big,
                        headers={**svc.h("officer"), "Content-Type": "application/json"})
    assert r.status_code == 413
    huge = "[" + ",".join(['"x"'] * 2_000_000) + "]"
    r = svc.client.post("/v1/telemetry", content=huge,
                        headers={**svc.h("gateway"), "Content-Type": "application/json"})
    assert r.status_code == 413

    def chunks():  # no Content-Length: counted as it streams
        for _ in range(100):
            yield b"x" * 1000

    r = svc.client.post("/v1/policies", content=chunks(),
                        headers={**svc.h("admin"), "Content-Type": "application/json"})
    assert r.status_code == 413


def test_arrival_decisions_come_from_the_engine_with_the_policy_version(svc: Svc) -> None:
    arrival = {"mode": "truck", "plate": "P1", "port_code": PORT}
    r = svc.client.post("/v1/arrivals", json=arrival, headers=svc.h("officer"))
    assert r.status_code == 409 and "none is active" in r.json()["detail"]
    v1 = setup_port(svc, 0.0)
    d = svc.client.post("/v1/arrivals", json=arrival, headers=svc.h("officer")).json()
    assert (d["lane"], d["reason"], d["policy_version"]) == ("free", "not selected", v1)
    v2 = setup_port(svc, 1.0)
    d = svc.client.post("/v1/arrivals", json=arrival, headers=svc.h("officer")).json()
    assert (d["lane"], d["reason"], d["policy_version"]) == ("secondary", "random referral", v2)
    rb = svc.client.post("/v1/policies/rollback", headers=svc.h("admin")).json()
    assert rb["version"] == v1 and rb["action"] == "rollback"
    d = svc.client.post("/v1/arrivals", json=arrival, headers=svc.h("officer")).json()
    assert d["policy_version"] == v1
    # the stored decision and its audit record
    with svc.state.db.reading() as conn:
        row = ss.decision_row(conn, d["decision_id"])
    assert row.policy_version == v1 and row.decided_by.startswith("officer:booth-3#")


def test_custody_verdicts_drive_the_lane(svc: Svc) -> None:
    setup_port(svc, 0.0)
    clean, forged = trip(0), trip(1, Attack.DIVERSION)
    for t in (clean, forged):
        svc.client.post("/v1/shipments", json=t.shipment, headers=svc.h("admin"))
        svc.client.post("/v1/telemetry", json=t.lines, headers=svc.h("gateway"))
    card = next(p["card_id"] for p in clean.shipment["parties"] if p["role"] == "driver")
    base = {"mode": "truck", "plate": "P", "port_code": PORT}
    d = svc.client.post("/v1/arrivals", headers=svc.h("officer"), json={
        **base, "shipment_id": clean.shipment_id, "driver_card": card}).json()
    assert (d["custody"], d["enrolled"], d["lane"]) == ("clean", True, "express")
    d = svc.client.post("/v1/arrivals", headers=svc.h("officer"), json={
        **base, "shipment_id": clean.shipment_id, "driver_card": "FAST-0"}).json()
    assert (d["enrolled"], d["lane"]) == (False, "free")
    d = svc.client.post("/v1/arrivals", headers=svc.h("officer"), json={
        **base, "shipment_id": forged.shipment_id}).json()
    assert (d["custody"], d["lane"]) == ("broken", "full_search")
    # an id nobody registered answers as another port's shipment (test_arrival_ports)
    d = svc.client.post("/v1/arrivals", headers=svc.h("officer"), json={
        **base, "shipment_id": "SHP-NONE"}).json()
    assert (d["custody"], d["lane"]) == ("broken", "full_search")
    assert d["reason"] == "custody broken: shipment not declared for this port"
    r = svc.client.post("/v1/arrivals", headers=svc.h("officer"), json={**base, "mode": "boat"})
    assert r.status_code == 422 and "mode" in r.json()["detail"]


def test_inspection_with_a_spectrum_is_identified(svc: Svc) -> None:
    setup_port(svc, 1.0)
    d = svc.client.post("/v1/arrivals", headers=svc.h("officer"), json={
        "mode": "truck", "plate": "P", "port_code": PORT}).json()
    stats = svc.client.get("/v1/stats", headers=svc.h("officer")).json()
    assert stats["in_secondary"] == 1
    # a measured polystyrene spectrum (B&W Tek i-Raman Plus, 785 nm; tests/fieldid/data)
    raw = (Path(__file__).parents[1] / "fieldid" / "data" /
           "PST02_iRPlus785_Z050_100_3200ms.txt").read_bytes()
    body = {"port_code": PORT, "decision_id": d["decision_id"], "action": "secondary",
            "outcome": "found", "spectrum": {"filename": "wrap.txt", "laser_nm": 785,
            "content_b64": base64.b64encode(raw).decode()}}
    r = svc.client.post("/v1/inspections", json=body, headers=svc.h("officer"))
    assert r.status_code == 201, r.text
    ident = r.json()["record"]["identification"]
    assert ident["top_hits"][0]["name"] == "polystyrene"
    assert ident["action"] != "alarm"
    assert svc.client.get("/v1/stats", headers=svc.h("officer")).json()["in_secondary"] == 0
    again = svc.client.post("/v1/inspections", json={**body, "spectrum": None},
                            headers=svc.h("officer"))
    assert again.status_code == 409
    bad = {**body, "decision_id": None, "spectrum": {"filename": "x.csv",
                                                     "content_b64": "bm90IGEgc3BlY3RydW0="}}
    r = svc.client.post("/v1/inspections", json=bad, headers=svc.h("officer"))
    assert r.status_code == 422 and "x.csv" in r.json()["detail"]


def _sse(text: str) -> list[tuple[int, dict]]:
    out = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines()
                      if ": " in line and not line.startswith(":"))
        if "id" in fields:
            out.append((int(fields["id"]), json.loads(fields["data"])))
    return out


def test_alerts_filter_ack_and_resumable_stream(svc: Svc) -> None:
    t = trip(3, Attack.FORGERY)
    svc.client.post("/v1/shipments", json=t.shipment, headers=svc.h("admin"))
    svc.client.post("/v1/telemetry", json=t.lines, headers=svc.h("gateway"))
    alerts = svc.client.get("/v1/alerts", headers=svc.h("officer")).json()
    assert alerts and {a["kind"] for a in alerts} >= {"bad_signature"}
    only = svc.client.get("/v1/alerts?kind=bad_signature", headers=svc.h("officer")).json()
    assert only and all(a["kind"] == "bad_signature" for a in only)
    assert svc.client.get("/v1/alerts?kind=nonsense",
                          headers=svc.h("officer")).status_code == 422
    first = alerts[0]
    r = svc.client.post(f"/v1/alerts/{first['alert_id']}/ack", json={"comment": "unit sent"},
                        headers=svc.h("officer"))
    assert r.status_code == 200
    assert svc.client.post("/v1/alerts/NOPE/ack", json={"comment": "x"},
                           headers=svc.h("officer")).status_code == 404
    unacked = svc.client.get("/v1/alerts?acked=false", headers=svc.h("officer")).json()
    assert first["alert_id"] not in {a["alert_id"] for a in unacked}
    # the stream: all, then resume after the first event. It ends once it has sent
    # the events expected (``max_events``), not after a time that a slow machine
    # could spend on the first page
    n = len(alerts)
    s1 = svc.client.get(f"/v1/alerts/stream?wait_s=60&max_events={n}",
                        headers=svc.h("analyst"))
    assert s1.headers["content-type"].startswith("text/event-stream")
    events = _sse(s1.text)
    assert [e[0] for e in events] == [a["event_id"] for a in alerts]
    s2 = svc.client.get(f"/v1/alerts/stream?wait_s=60&max_events={n - 1}", headers={
        **svc.h("analyst"), "Last-Event-ID": str(events[0][0])})
    assert [e[0] for e in _sse(s2.text)] == [e[0] for e in events[1:]]


def test_metrics(svc: Svc) -> None:
    setup_port(svc, 0.5)
    forged = trip(4, Attack.FORGERY)
    svc.client.post("/v1/shipments", json=forged.shipment, headers=svc.h("admin"))
    tel = svc.client.post("/v1/telemetry", json=forged.lines, headers=svc.h("gateway")).json()
    kinds = {a["kind"] for a in svc.client.get("/v1/alerts?limit=1000",
                                                headers=svc.h("analyst")).json()}
    for _ in range(5):
        svc.client.post("/v1/arrivals", headers=svc.h("officer"),
                        json={"mode": "car", "plate": "P", "port_code": PORT})
    text = svc.client.get("/metrics", headers=svc.h("analyst")).text
    assert "portwatch_http_requests_total" in text
    assert 'route="/v1/arrivals"' in text
    lanes = sum(float(line.split()[-1]) for line in text.splitlines()
                if line.startswith("portwatch_decisions_total{"))
    assert lanes == 5
    assert "portwatch_http_request_seconds_bucket" in text
    values = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
              for line in text.splitlines() if line and not line.startswith("#")}
    assert kinds and all(values[f'portwatch_alerts{{kind="{k}"}}'] > 0 for k in kinds)
    assert values['portwatch_telemetry_messages_total{result="accepted",via="http"}'] == \
        tel["accepted"]
    assert values['portwatch_telemetry_messages_total{result="rejected",via="http"}'] == \
        tel["rejected"] > 0
    assert values["portwatch_ingest_lag_seconds_count"] > 0
    for stage in ("wait", "decide", "append", "commit"):  # one observation per decision
        line = f'portwatch_decision_stage_seconds_count{{stage="{stage}"}} 5.0'
        assert line in text.splitlines(), stage


def test_every_write_is_audited_with_who_and_no_token_is_logged(svc: Svc, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    setup_port(svc, 0.2)
    t = trip(0)
    svc.client.post("/v1/shipments", json=t.shipment, headers=svc.h("admin"))
    svc.client.post("/v1/telemetry", json=t.lines[:10], headers=svc.h("gateway"))
    d = svc.client.post("/v1/arrivals", headers=svc.h("officer"),
                        json={"mode": "truck", "plate": "P", "port_code": PORT}).json()
    svc.client.post("/v1/inspections", headers=svc.h("officer"), json={
        "port_code": PORT, "decision_id": d["decision_id"], "action": "secondary",
        "outcome": "nothing_found"})
    forged = trip(4, Attack.FORGERY)
    svc.client.post("/v1/shipments", json=forged.shipment, headers=svc.h("admin"))
    svc.client.post("/v1/telemetry", json=forged.lines, headers=svc.h("gateway"))
    alert = svc.client.get("/v1/alerts", headers=svc.h("officer")).json()[0]["alert_id"]
    svc.client.post(f"/v1/alerts/{alert}/ack", json={"comment": "seen"},
                    headers=svc.h("officer"))
    setup_port(svc, 0.3)
    svc.client.post("/v1/policies/rollback", headers=svc.h("admin"))
    made = svc.client.post("/v1/tokens", json={"role": "analyst", "name": "temp"},
                           headers=svc.h("admin")).json()
    svc.client.post(f"/v1/tokens/{made['token_id']}/revoke", headers=svc.h("admin"))
    report = svc.state.db.audit()
    assert report.records > 0
    from sqlalchemy import select

    from portwatch.store.schema import event_log, stream_log
    with svc.state.db.reading() as conn:  # decisions are audited on the parallel streams
        rows = [r for log in (event_log, stream_log) for r in conn.execute(
            select(log.c.kind, log.c.body).where(log.c.kind.like("service.%")))]
    # every kind of write, each recorded with the caller that made it
    by_kind: dict[str, set[str]] = {}
    for r in rows:
        by_kind.setdefault(r.kind, set()).add(json.loads(r.body)["who"].split("#")[0])
    admin, officer, gateway = "admin:root", "officer:booth-3", "gateway:gw-1"
    expected = {"service.policy.create": {admin}, "service.policy.activate": {admin},
                "service.policy.rollback": {admin}, "service.shipment.register": {admin},
                "service.telemetry.batch": {gateway}, "service.arrival.decide": {officer},
                "service.inspection.record": {officer}, "service.alert.ack": {officer},
                "service.token.revoke": {admin}}
    for kind, who in expected.items():
        assert by_kind.get(kind) == who, (kind, by_kind.get(kind))
    assert admin in by_kind["service.token.create"]  # the API's; the fixture's are "cli"
    assert report.problems == ()
    secrets_ = list(svc.tokens.values())
    everything = "\n".join(r.body for r in rows) + "\n".join(
        rec.getMessage() for rec in caplog.records)
    assert not any(tok in everything for tok in secrets_)
    assert not any(tok[15:] in everything for tok in secrets_)  # the secret part


def test_settings_refuse_unsafe_defaults() -> None:
    from portwatch.domain.errors import ConfigError
    from portwatch.service import Settings

    with pytest.raises(ConfigError, match="seed"):
        Settings.load({}, seed=3)
    with pytest.raises(ConfigError, match="in-memory"):
        Settings.load({"PORTWATCH_DATABASE_URL": ":memory:"})
    with pytest.raises(ConfigError, match="PORTWATCH_SECONDARY_CAPACITY"):
        Settings.load({"PORTWATCH_SECONDARY_CAPACITY": "-1"})
    with pytest.raises(ConfigError, match="port_timezone"):
        Settings.load({"PORTWATCH_PORT_TIMEZONE": "Mars/Olympus"})
    ok = Settings.load({"PORTWATCH_ENV": "development", "PORTWATCH_SEED": "3"})
    assert ok.seed == 3
    assert np.isfinite(ok.max_body_bytes)


@pytest.mark.parametrize("code", ["2506", "\u0662\u0665\u0660\u0666", "2506\n", "250",
                                  "25060", " 2506", "\u0662506"])
def test_settings_shipments_and_tokens_take_the_same_port_codes(code: str,
                                                                 tmp_path: Path) -> None:
    """One pattern of a port code everywhere: the settings, a shipment's route and a
    token's port (Arabic-Indic digits and a trailing newline refused by all, each
    naming its field)."""
    from portwatch.custody.registry import shipment_from_mapping
    from portwatch.domain.errors import PortwatchError
    from portwatch.service import Settings
    from portwatch.service.auth import create_token
    from portwatch.store.database import Database

    doc = copy.deepcopy(trip(0).shipment)  # its route is the example's, shared
    doc["route"]["port_code"] = code
    db = Database(str(tmp_path / "tokens.db"))
    takes = {
        "PORTWATCH_PORT_CODE": lambda: Settings.load({"PORTWATCH_PORT_CODE": code}),
        "port_code": lambda: shipment_from_mapping(doc, "shipment"),
        "--port": lambda: create_token(db, "officer", "booth", port_code=code),
    }
    for field, take in takes.items():
        try:
            take()
        except PortwatchError as exc:
            assert code != "2506" and field in str(exc)
        else:
            assert code == "2506", f"{field} took {code!r}"
    db.close()


def test_service_writes_do_not_make_the_ingestor_drop_its_caches(svc: Svc, monkeypatch) -> None:
    """The service's own log records (audit, decisions) are not another writer's."""
    t = trip(0)
    svc.client.post("/v1/shipments", json=t.shipment, headers=svc.h("admin"))
    svc.client.post("/v1/telemetry", json=t.lines[:40], headers=svc.h("gateway"))
    setup_port(svc, 0.2)
    dropped: list[int] = []
    ingestor = svc.state.custody.ingestor
    real = ingestor.forget
    monkeypatch.setattr(ingestor, "forget", lambda: (dropped.append(1), real())[1])
    for _ in range(3):
        svc.client.post("/v1/arrivals", headers=svc.h("officer"), json={
            "mode": "truck", "plate": "P", "port_code": PORT, "shipment_id": t.shipment_id})
    r = svc.client.post("/v1/telemetry", json=t.lines[40:80], headers=svc.h("gateway"))
    assert r.json()["accepted"] > 0
    assert dropped == []
    # a write by someone else (another process's token) is noticed
    from portwatch.service.auth import create_token

    create_token(svc.state.db, "analyst", "elsewhere")
    svc.client.post("/v1/telemetry", json=t.lines[80:90], headers=svc.h("gateway"))
    assert dropped


def test_a_rail_container_is_decided_by_the_rail_row_and_an_old_policy_has_none(
        svc: Svc) -> None:
    arrival = {"mode": "rail", "plate": "TFMX-123456", "port_code": PORT}
    setup_port(svc, 1.0)
    d = svc.client.post("/v1/arrivals", json=arrival, headers=svc.h("officer")).json()
    assert (d["lane"], d["reason"]) == ("secondary", "random referral")
    # a policy written before rail (version 2, four mode rows) refers no rail container
    old = policy_doc(1.0)
    old.update(version=2, modes=["truck", "car", "pedestrian", "bus"],
               referral_prob=old["referral_prob"][:4])
    r = svc.client.post("/v1/policies", json=old, headers=svc.h("admin"))
    assert r.status_code == 201, r.text
    version = r.json()["version"]
    assert svc.client.post(f"/v1/policies/{version}/activate",
                           headers=svc.h("admin")).status_code == 200
    d = svc.client.post("/v1/arrivals", json=arrival, headers=svc.h("officer")).json()
    assert (d["lane"], d["reason"], d["policy_version"]) == ("free", "not selected", version)
    truck = {**arrival, "mode": "truck"}
    assert svc.client.post("/v1/arrivals", json=truck,
                           headers=svc.h("officer")).json()["lane"] == "secondary"
