"""``/v1/shipments``: enroll a shipment (admin) and read its status and verdict.

A carrier sees only shipments naming it as their carrier, an officer only those of its
port (the route's ``port_code``; a route naming none: the service's own port, as for
alerts, since a verdict's evidence lists the shipment's alerts); any other id answers
404, exactly as an unknown one, so ids do not leak.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Response, status
from pydantic import BaseModel

from portwatch.custody.registry import shipment_from_mapping
from portwatch.domain.errors import NotFoundError
from portwatch.service.auth import Principal, Role
from portwatch.service.deps import Admin, ShipmentReader, StateDep
from portwatch.service.state import ServiceState
from portwatch.service.text import ID
from portwatch.store import custody_store as cs
from portwatch.store import service_store as ss

router = APIRouter(prefix="/v1/shipments", tags=["shipments"])


class Registered(BaseModel):
    shipment_id: str
    created: bool


class ShipmentSummary(BaseModel):
    shipment_id: str
    container_id: str
    seal_id: str
    state: str
    carrier_id: str | None
    route_name: str
    route_line: list[tuple[float, float]]


def carrier_of(document: dict[str, Any]) -> str | None:
    for party in document.get("parties", []):
        if party.get("role") == "carrier":
            return str(party.get("party_id"))
    return None


def readable(state: ServiceState, principal: Principal, row: Any,
             document: dict[str, Any]) -> bool:
    """Whether ``principal`` may read the shipment of ``row`` (its ``document``) and
    with it its alerts: a carrier those naming it as their carrier, an officer those of
    its port, an analyst or an admin every one."""
    if principal.role is Role.OFFICER:
        return state.settings.owning_port(row.port_code) == principal.port_code
    if principal.role is Role.CARRIER:
        return carrier_of(document) == principal.carrier_id
    return True


def _document(state: ServiceState, principal: Principal, shipment_id: str) -> dict[str, Any]:
    with state.db.reading() as conn:
        row = cs.shipment_row(conn, shipment_id)
    doc = None if row is None else json.loads(row.document)
    if doc is None or not readable(state, principal, row, doc):
        raise NotFoundError(f"shipment {shipment_id}: not registered")
    return doc


@router.post("", response_model=Registered, status_code=status.HTTP_201_CREATED,
             responses={200: {"model": Registered, "description": "already registered"}})
def register(response: Response, state: StateDep, who: Admin,
             document: Annotated[dict[str, Any], Body()]) -> Registered:
    """Enroll a shipment: the ``shipment.json`` of ``portwatch custody register``."""
    shipment = shipment_from_mapping(document, "shipment")
    with state.custody_lock:
        created = state.custody.register(shipment)
    with state.write() as conn:
        ss.audit(conn, state.clock().isoformat(), who.who, "shipment.register",
                 shipment.shipment_id, {"created": created})
    if not created:
        response.status_code = status.HTTP_200_OK
    return Registered(shipment_id=shipment.shipment_id, created=created)


@router.get("", response_model=list[ShipmentSummary])
def list_shipments(state: StateDep, who: ShipmentReader,
                   limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> list[ShipmentSummary]:
    """Shipments the caller may see, oldest first, with their route lines."""
    with state.db.reading() as conn:
        rows = cs.shipment_rows(conn)
    out = []
    for row in rows:
        doc = json.loads(row.document)
        if not readable(state, who, row, doc):
            continue
        out.append(ShipmentSummary(
            shipment_id=row.shipment_id, container_id=doc["container_id"], seal_id=row.seal_id,
            state=row.state, carrier_id=carrier_of(doc), route_name=doc["route"]["name"],
            route_line=[(float(a), float(b)) for a, b in doc["route"]["line"]]))
        if len(out) >= max(1, min(limit, 5_000)):
            break
    return out


@router.get("/{shipment_id}")
def read(shipment_id: Annotated[str, Path(pattern=ID)], state: StateDep,
         who: ShipmentReader) -> dict[str, Any]:
    """Status (state, last position, progress, silence) and the custody verdict, with
    the alerts and reasons that decided it."""
    _document(state, who, shipment_id)
    with state.custody_lock:
        status_ = state.custody.status(shipment_id)
        verdict = state.custody.verdict(shipment_id, as_of=status_.as_of)
    v = verdict.to_json()
    return {**status_.to_json(), "verdict": v["verdict"], "lane": v["lane"],
            "evidence": {"reasons": v["reasons"], "alerts": v["alerts"]}}
