"""``/v1/inspections``: the outcome of a referral, with the field identification of an
uploaded spectrum (``portwatch.fieldid.identify``) attached."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from portwatch.domain.errors import ConflictError, InputError, NotFoundError
from portwatch.service.auth import Principal, Role
from portwatch.service.deps import Officer, Reader, StateDep, port_of
from portwatch.service.state import ServiceState
from portwatch.service.text import ID, PRINTABLE, SHORT_ID, TEXT
from portwatch.store import service_store as ss

router = APIRouter(prefix="/v1/inspections", tags=["inspections"])
_SUFFIXES = (".csv", ".txt", ".jdx", ".dx", ".jcamp", ".spc")


class SpectrumIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filename: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._ -]+$")
    content_b64: str = Field(min_length=1)
    """The file as the handheld wrote it (CSV/TXT, JCAMP-DX, SPC), base64."""
    laser_nm: int | None = Field(default=None, ge=400, le=1100)


class Seizure(BaseModel):
    model_config = ConfigDict(extra="forbid")
    substance: str = Field(min_length=1, max_length=64, pattern=PRINTABLE)
    mass_kg: float = Field(ge=0, le=100_000)


class InspectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    port_code: str = Field(pattern=r"^[0-9]{4}$")
    decision_id: str | None = Field(default=None, pattern=SHORT_ID)
    shipment_id: str | None = Field(default=None, pattern=ID)
    action: Literal["secondary", "full_search", "canine", "x_ray", "document_check"]
    outcome: Literal["nothing_found", "found", "seized"]
    seized: list[Seizure] = Field(default_factory=list, max_length=50)
    notes: str = Field(default="", max_length=4000, pattern=TEXT)
    spectrum: SpectrumIn | None = None


class InspectionOut(BaseModel):
    inspection_id: str
    inspected_at: str
    port_code: str
    decision_id: str | None
    shipment_id: str | None
    outcome: str
    inspected_by: str
    record: dict[str, Any]


def identify_upload(spec: SpectrumIn) -> dict[str, object]:
    """Read the uploaded file with fieldid's readers and identify it."""
    from portwatch.fieldid import identify, read_spectrum

    suffix = Path(spec.filename).suffix.lower()
    if suffix not in _SUFFIXES:
        raise InputError(f"spectrum.filename: suffix must be one of {_SUFFIXES}")
    try:
        raw = base64.b64decode(spec.content_b64, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("spectrum.content_b64: not base64") from None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(spec.filename).name
        path.write_bytes(raw)
        spectrum = read_spectrum(path, spec.laser_nm)
        return identify(spectrum).to_json()


def record(state: ServiceState, body: InspectionIn, who: Principal) -> InspectionOut:
    ident = None if body.spectrum is None else identify_upload(body.spectrum)
    doc = {"action": body.action, "outcome": body.outcome,
           "seized": [s.model_dump() for s in body.seized], "notes": body.notes,
           "identification": ident}
    inspection_id = "I-" + secrets.token_hex(8)
    at = state.clock().isoformat()
    with state.write() as conn:
        shipment_id = body.shipment_id
        if body.decision_id is not None:
            d = ss.decision_row(conn, body.decision_id)
            if d is None or d.port_code != body.port_code:
                raise NotFoundError(f"decision_id: decision {body.decision_id} not found "
                                    f"at port {body.port_code}")
            if shipment_id is not None and shipment_id != d.shipment_id:
                raise InputError(f"shipment_id: decision {body.decision_id} was about "
                                 f"{d.shipment_id}, not {shipment_id}")
            shipment_id = d.shipment_id
        row = {"inspection_id": inspection_id, "decision_id": body.decision_id,
               "inspected_at": at, "port_code": body.port_code, "shipment_id": shipment_id,
               "outcome": body.outcome, "document": json.dumps(doc, sort_keys=True),
               "inspected_by": who.who}
        log_id = ss.audit(conn, at, who.who, "inspection.record", inspection_id,
                          {k: v for k, v in row.items() if k != "inspected_by"})
        try:
            ss.add_inspection(conn, {**row, "log_id": log_id})
        except IntegrityError:  # the one unique column a caller chooses: decision_id
            raise ConflictError(f"decision_id: decision {body.decision_id} already "
                                "has an inspection") from None
    return InspectionOut(inspection_id=inspection_id, inspected_at=at, port_code=body.port_code,
                         decision_id=body.decision_id, shipment_id=shipment_id,
                         outcome=body.outcome, inspected_by=who.who, record=doc)


@router.post("", response_model=InspectionOut, status_code=status.HTTP_201_CREATED)
async def create(body: InspectionIn, state: StateDep, who: Officer) -> InspectionOut:
    """Record an inspection at the officer's port (a spectrum is identified first)."""
    port_of(who, body.port_code)
    return await run_in_threadpool(record, state, body, who)


@router.get("", response_model=list[InspectionOut])
def list_recent(state: StateDep, who: Reader,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[InspectionOut]:
    """The latest inspections (an officer's: at its port)."""
    port = who.port_code if who.role is Role.OFFICER else None
    with state.db.reading() as conn:
        rows = ss.inspection_rows(conn, port, max(1, min(limit, 1000)))
    return [InspectionOut(inspection_id=r.inspection_id, inspected_at=r.inspected_at,
                          port_code=r.port_code, decision_id=r.decision_id,
                          shipment_id=r.shipment_id, outcome=r.outcome,
                          inspected_by=r.inspected_by, record=json.loads(r.document))
            for r in rows]
