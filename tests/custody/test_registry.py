"""Enrollment: shipment validation, eligibility, idempotent and conflicting registration."""

from __future__ import annotations

import json

import pytest

from portwatch.custody.example_route import OTAY_MESA_ROUTE
from portwatch.custody.keys import private_key_from_seed, public_key_b64
from portwatch.custody.registry import iso6346_check_digit, shipment_from_mapping
from portwatch.custody.verdict import decide
from portwatch.domain.custody import CustodyState, Verdict
from portwatch.domain.errors import ConflictError, InputError

from .conftest import registered, shipment_doc

REPO_ROUTE = "examples/otay-mesa/route.json"


def test_errors_name_the_file_field_and_value(key):
    doc = shipment_doc(key)
    doc["route"] = dict(doc["route"], corridor_width_m=-5)
    with pytest.raises(InputError) as err:
        shipment_from_mapping(doc, "shipment.json")
    assert str(err.value).startswith("shipment.json: route.corridor_width_m:")
    assert "-5" in str(err.value)


def test_container_number_check_digit(key):
    assert iso6346_check_digit("CSQU305438") == 3  # the standard's own example
    doc = shipment_doc(key)
    doc["container_id"] = "CSQU3054384"
    with pytest.raises(InputError, match="check digit"):
        shipment_from_mapping(doc)


def test_driver_needs_a_card(key):
    doc = shipment_doc(key)
    doc["parties"][3] = dict(doc["parties"][3], card_id=None)
    with pytest.raises(InputError, match="card_id"):
        shipment_from_mapping(doc)


@pytest.mark.parametrize("change, reason", [
    ({"enrolled": False}, "carrier CAR-1 not enrolled"),
    ({"standing": "suspended"}, "carrier CAR-1 in suspended standing"),
])
def test_every_party_must_be_enrolled_in_good_standing(key, change, reason):
    doc = shipment_doc(key)
    doc["parties"][1] = dict(doc["parties"][1], **change)
    s = shipment_from_mapping(doc)
    v = decide(s, CustodyState.DELIVERED, [])
    assert v.verdict is Verdict.REVIEW and reason in v.reasons


def test_registration_is_idempotent_and_conflicts_are_refused(service, key):
    doc = shipment_doc(key)
    registered(service, doc)
    assert service.register(shipment_from_mapping(doc)) is False
    other = json.loads(json.dumps(doc))
    other["container_id"] = "CSQU3054383"
    other["route"]["corridor_width_m"] = 300.0
    with pytest.raises(ConflictError, match="SHP-T1"):
        service.register(shipment_from_mapping(other))
    clone = shipment_doc(private_key_from_seed(b"\x09" * 32), shipment_id="SHP-T2")
    with pytest.raises(ConflictError, match="SEAL-T1: already registered with a different key"):
        service.register(shipment_from_mapping(clone))


def test_example_route_file_matches_the_packaged_route():
    with open(REPO_ROUTE) as handle:
        assert json.load(handle) == OTAY_MESA_ROUTE
    doc = {"shipment_id": "SHP-X", "container_id": "CSQU3054383",
           "seal": {"seal_id": "S", "public_key": public_key_b64(private_key_from_seed(
               b"\x02" * 32))},
           "parties": shipment_doc(private_key_from_seed(b"\x02" * 32))["parties"],
           "route": OTAY_MESA_ROUTE}
    plan = shipment_from_mapping(doc).route
    assert 6_000 < plan.corridor.length_m < 8_000
    assert 0 < plan.crossing_along_m < plan.corridor.length_m
