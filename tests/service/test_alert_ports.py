"""Officers see only their port's alerts: an alert's port is its shipment's (the
route's ``port_code``; a shipment that names none belongs to the service's own port,
as do alerts that name no shipment). Another port's alert is not listed, not
streamed, and "not found" to acknowledge."""

from __future__ import annotations

import copy
import json
from typing import Any

from portwatch.custody.tripgen import Attack

from .conftest import PORT, Svc, trip

LAREDO = "2304"  # the port of the ``other_officer`` token


def _enroll(s: Svc, k: int, port: str | None) -> str:
    t = trip(k, Attack.DOOR_OPENED)
    doc: dict[str, Any] = copy.deepcopy(t.shipment)
    if port is not None:
        doc["route"]["port_code"] = port
    assert s.client.post("/v1/shipments", json=doc, headers=s.h("admin")).status_code == 201
    r = s.client.post("/v1/telemetry", json=t.lines, headers=s.h("gateway"))
    assert r.status_code == 200 and r.json()["alerts_raised"] > 0
    return t.shipment_id


def _ids(s: Svc, role: str, query: str = "") -> dict[str, str | None]:
    r = s.client.get(f"/v1/alerts?limit=1000{query}", headers=s.h(role))
    assert r.status_code == 200, r.text
    return {a["alert_id"]: a["shipment_id"] for a in r.json()}


def _streamed(s: Svc, role: str) -> set[str | None]:
    """The shipments of the alerts streamed to ``role``: as many events as the list
    shows it (the stream ends on that count, however slow the machine)."""
    n = len(_ids(s, role))
    r = s.client.get(f"/v1/alerts/stream?wait_s=60&max_events={n}", headers=s.h(role))
    assert r.status_code == 200
    return {json.loads(line[6:])["shipment_id"] for line in r.text.splitlines()
            if line.startswith("data: ")}


def test_each_officer_sees_lists_and_streams_only_its_ports_alerts(svc: Svc) -> None:
    home = _enroll(svc, 0, PORT)
    laredo = _enroll(svc, 1, LAREDO)
    unported = _enroll(svc, 2, None)  # no port named: the service's own port
    everything = set(_ids(svc, "analyst").values())
    assert {home, laredo, unported} <= everything
    assert set(_ids(svc, "officer").values()) == {home, unported}
    assert set(_ids(svc, "other_officer").values()) == {laredo}
    # a filter cannot widen the scope
    assert _ids(svc, "officer", f"&shipment_id={laredo}") == {}
    assert _streamed(svc, "officer") == {home, unported}
    assert _streamed(svc, "other_officer") == {laredo}
    listed = svc.client.get("/v1/alerts?limit=1", headers=svc.h("other_officer")).json()
    assert listed[0]["port_code"] == LAREDO


def test_another_ports_alert_is_not_found_to_acknowledge(svc: Svc) -> None:
    laredo = _enroll(svc, 1, LAREDO)
    theirs = next(a for a, sid in _ids(svc, "analyst").items() if sid == laredo)
    r = svc.client.post(f"/v1/alerts/{theirs}/ack", json={"comment": "not mine"},
                        headers=svc.h("officer"))
    assert r.status_code == 404
    assert r.json()["detail"] == svc.client.post(
        "/v1/alerts/no-such-alert/ack", json={"comment": "x"},
        headers=svc.h("officer")).json()["detail"].replace("no-such-alert", theirs)
    assert svc.client.post(f"/v1/alerts/{theirs}/ack", json={"comment": "mine"},
                           headers=svc.h("other_officer")).status_code == 200


def test_the_port_statistics_count_only_the_ports_open_alerts(svc: Svc) -> None:
    _enroll(svc, 1, LAREDO)
    ours = svc.client.get("/v1/stats", headers=svc.h("officer")).json()["open_alerts"]
    theirs = svc.client.get("/v1/stats", headers=svc.h("other_officer")).json()["open_alerts"]
    assert ours == 0 and theirs == len(_ids(svc, "other_officer"))
