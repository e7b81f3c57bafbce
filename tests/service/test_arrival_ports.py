"""An arrival names a shipment declared for another port (or none registered): written
as the attacker, an officer at one port probing another port's shipments through
``POST /v1/arrivals``, and as the operations centre, for whom a shipment declared for
port Y at port X's booth is itself a diversion.

The answer is the same whatever the shipment's custody at its own port, the driver card
and whether the id exists at all: custody ``broken`` (what a diversion alert makes the
verdict), so a full search under a policy that sends broken custody there, with a reason
that says the shipment is not declared for this port, and nothing of the other port's
verdict, alerts or enrollment. The other port's verdict is not even read."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from portwatch.custody.tripgen import Attack
from portwatch.engine.decide import REASONS
from portwatch.service.decisions import undeclared_reason
from portwatch.store import service_store as ss
from portwatch.store.service_tables import decisions
from portwatch.targeting.policy import Policy

from .conftest import PORT, Svc, setup_port, trip

LAREDO = "2304"  # the port of the ``other_officer`` token
NOT_DECLARED = "shipment not declared for this port"


def _enroll(s: Svc, k: int, port: str | None, attack: Attack = Attack.NONE) -> tuple[str, str]:
    """Enroll trip ``k`` declared for ``port`` with its telemetry; (id, driver card)."""
    t = trip(k, attack)
    doc: dict[str, Any] = copy.deepcopy(t.shipment)
    if port is not None:
        doc["route"]["port_code"] = port
    assert s.client.post("/v1/shipments", json=doc, headers=s.h("admin")).status_code == 201
    assert s.client.post("/v1/telemetry", json=t.lines, headers=s.h("gateway")).status_code == 200
    card = next(p["card_id"] for p in doc["parties"] if p["role"] == "driver")
    return t.shipment_id, card


def _arrive(s: Svc, role: str, port: str, shipment_id: str, card: str) -> dict[str, Any]:
    r = s.client.post("/v1/arrivals", headers=s.h(role), json={
        "mode": "truck", "plate": "P", "port_code": port, "lane": "express",
        "shipment_id": shipment_id, "driver_card": card})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _answer(d: dict[str, Any]) -> tuple[Any, ...]:
    return d["lane"], d["referral"], d["reason"], d["custody"], d["enrolled"]


def test_another_ports_shipment_is_a_diversion_and_discloses_nothing(
        svc: Svc, monkeypatch: pytest.MonkeyPatch) -> None:
    setup_port(svc, 0.0)
    clean, card = _enroll(svc, 0, LAREDO)
    broken, card_b = _enroll(svc, 1, LAREDO, Attack.DIVERSION)
    # at its own port each gets its own verdict: the two differ
    home = [_arrive(svc, "other_officer", LAREDO, sid, c)
            for sid, c in ((clean, card), (broken, card_b))]
    assert [(d["custody"], d["lane"]) for d in home] == [("clean", "express"),
                                                         ("broken", "full_search")]
    read = svc.state.custody.verdict

    def verdict(shipment_id: str, **kw: Any) -> Any:
        assert shipment_id not in (clean, broken), "another port's verdict was read"
        return read(shipment_id, **kw)

    monkeypatch.setattr(svc.state.custody, "verdict", verdict)
    answers = [_arrive(svc, "officer", PORT, sid, c) for sid, c in (
        (clean, card), (broken, card_b), (clean, "FAST-0"), ("SHP-NEVER-REGISTERED", card))]
    # the same answer for a clean, a broken and an unknown shipment: nothing to learn
    assert {_answer(d) for d in answers} == {
        ("full_search", True, f"custody broken: {NOT_DECLARED}", "broken", False)}
    # the stored decision says the same (the operations centre reads it)
    with svc.state.db.reading() as conn:
        row = ss.decision_row(conn, answers[0]["decision_id"])
    assert (row.custody, row.lane, row.shipment_id) == ("broken", "full_search", clean)
    assert NOT_DECLARED in row.reason


def test_a_shipment_naming_no_port_is_declared_for_the_services_own(svc: Svc) -> None:
    setup_port(svc, 0.0)
    sid, card = _enroll(svc, 2, None)
    assert _answer(_arrive(svc, "officer", PORT, sid, card)) == (
        "express", False, "express lane", "clean", True)
    assert _answer(_arrive(svc, "other_officer", LAREDO, sid, card))[2:] == (
        f"custody broken: {NOT_DECLARED}", "broken", False)


def test_the_reason_says_not_declared_whatever_the_policy_does_with_broken_custody(
        svc: Svc) -> None:
    doc = Policy.uniform(0.0).to_dict()
    doc["triage"]["broken_to_full_search"] = False
    r = svc.client.post("/v1/policies", json=doc, headers=svc.h("admin"))
    assert r.status_code == 201, r.text
    svc.client.post(f"/v1/policies/{r.json()['version']}/activate", headers=svc.h("admin"))
    sid, card = _enroll(svc, 0, LAREDO)
    d = _arrive(svc, "officer", PORT, sid, card)
    # the policy decides what broken custody gets; the reason still says why it is broken
    assert (d["custody"], d["enrolled"]) == ("broken", False)
    assert d["lane"] != "full_search"
    assert d["reason"].endswith("; not declared for this port")


def test_every_reason_on_an_undeclared_shipment_fits_the_stored_column() -> None:
    width = decisions.c.reason.type.length
    assert all(len(undeclared_reason(r)) <= width for r in REASONS)
