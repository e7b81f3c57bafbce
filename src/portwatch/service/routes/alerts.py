"""``/v1/alerts``: list with filters, acknowledge with a comment, and a server-sent
event stream resumable with ``Last-Event-ID``.

An alert's event id is the id of its record in the event log, so ids only grow and a
client that reconnects with the last id it saw misses nothing. A carrier sees only the
alerts of its own shipments.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from portwatch.domain.custody import AlertKind, Severity
from portwatch.domain.errors import ConflictError, InputError, NotFoundError
from portwatch.service.auth import Principal, Role
from portwatch.service.deps import AlertReader, Officer, StateDep
from portwatch.service.routes.shipments import readable
from portwatch.service.state import ServiceState
from portwatch.service.text import ID, SHORT_ID, TEXT
from portwatch.store import custody_store as cs
from portwatch.store import service_store as ss

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])


class AlertOut(BaseModel):
    event_id: int
    alert_id: str
    kind: str
    severity: str
    at: str | None
    shipment_id: str | None
    seal_id: str | None
    seq: int | None
    lat: float | None
    lon: float | None
    detail: str
    after_border: bool
    source: str
    acked_at: str | None
    acked_by: str | None
    ack_comment: str | None
    port_code: str
    """The port whose officers see it: its shipment's route ``port_code``, else the
    service's own port."""


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str = Field(min_length=1, max_length=2000, pattern=TEXT)


class AckOut(BaseModel):
    alert_id: str
    acked_at: str
    acked_by: str
    comment: str


def _out(r: Any, state: ServiceState) -> AlertOut:
    return AlertOut(event_id=int(r.log_id), alert_id=r.alert_id, kind=r.kind,
                    severity=r.severity, at=r.at, shipment_id=r.shipment_id,
                    seal_id=r.seal_id, seq=r.seq, lat=r.lat, lon=r.lon, detail=r.detail,
                    after_border=bool(r.after_border), source=r.source, acked_at=r.acked_at,
                    acked_by=r.acked_by, ack_comment=r.comment,
                    port_code=state.settings.owning_port(r.port_code))


def port_scope(state: ServiceState, who: Principal) -> tuple[str, bool] | None:
    """An officer's alerts: those of its port, and when its port is the service's own,
    those that belong to no other (a shipment naming no port, or no shipment)."""
    if who.role is not Role.OFFICER or who.port_code is None:
        return None
    return who.port_code, who.port_code == state.settings.port_code


def _carrier_shipments(state: ServiceState, who: Principal) -> list[str] | None:
    if who.role is not Role.CARRIER:
        return None
    with state.db.reading() as conn:
        rows = cs.shipment_rows(conn)
    return [r.shipment_id for r in rows if readable(state, who, r, json.loads(r.document))]


def query(state: ServiceState, who: Principal, after: int, kind: str | None,
          severity: str | None, shipment_id: str | None, acked: bool | None,
          limit: int) -> list[AlertOut]:
    if kind is not None and kind not in {k.value for k in AlertKind}:
        raise InputError(f"kind: unknown alert kind {kind!r}")
    if severity is not None and severity not in {s.value for s in Severity}:
        raise InputError(f"severity: must be one of {[s.value for s in Severity]}")
    scope = _carrier_shipments(state, who)
    if shipment_id is not None:
        scope = [shipment_id] if scope is None or shipment_id in scope else []
    with state.db.reading() as conn:
        rows = ss.alert_rows(conn, after_log_id=after, kind=kind, severity=severity,
                             shipment_ids=scope, acked=acked, limit=max(1, min(limit, 1000)),
                             port=port_scope(state, who))
    return [_out(r, state) for r in rows]


@router.get("", response_model=list[AlertOut])
def list_alerts(state: StateDep, who: AlertReader, after: int = Query(0, ge=0, le=2**62),
                kind: str | None = None, severity: str | None = None,
                shipment_id: str | None = Query(None, pattern=ID),
                acked: bool | None = None,
                limit: int = Query(100, ge=1, le=1000)) -> list[AlertOut]:
    """Alerts after event id ``after``, oldest first, filtered."""
    return query(state, who, after, kind, severity, shipment_id, acked, limit)


@router.post("/{alert_id}/ack", response_model=AckOut)
def ack(alert_id: Annotated[str, Path(pattern=SHORT_ID)], body: AckIn, state: StateDep,
        who: Officer) -> AckOut:
    """Acknowledge an alert with a comment (once); another port's alert is "not found",
    so that its id tells an officer nothing."""
    at = state.clock().isoformat()
    scope = port_scope(state, who)
    with state.write() as conn:
        exists, port = ss.alert_port(conn, alert_id)
        if not exists or (scope is not None and state.settings.owning_port(port) != scope[0]):
            raise NotFoundError(f"alert {alert_id}: no such alert")
        prior = ss.ack_row(conn, alert_id)
        if prior is not None:
            raise ConflictError(f"alert {alert_id}: already acknowledged by {prior.acked_by}")
        log_id = ss.audit(conn, at, who.who, "alert.ack", alert_id, {"comment": body.comment})
        ss.add_ack(conn, {"alert_id": alert_id, "acked_at": at, "acked_by": who.who,
                          "comment": body.comment, "log_id": log_id})
    return AckOut(alert_id=alert_id, acked_at=at, acked_by=who.who, comment=body.comment)


async def _events(state: ServiceState, who: Principal, after: int, wait_s: float,
                  max_events: int) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    sent = 0
    yield b"retry: 2000\n\n"
    while sent < max_events and loop.time() < deadline:
        rows = await run_in_threadpool(query, state, who, after, None, None, None, None,
                                       min(100, max_events - sent))
        for a in rows:
            after = a.event_id
            sent += 1
            yield f"id: {a.event_id}\nevent: alert\ndata: {a.model_dump_json()}\n\n".encode()
        if not rows:
            yield b": keep-alive\n\n"
            await asyncio.sleep(state.settings.sse_poll_s)


@router.get("/stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
async def stream(state: StateDep, who: AlertReader,
                 last_event_id: str | None = Header(default=None),
                 after: int = Query(0, ge=0, le=2**62),
                 wait_s: float = Query(25.0, gt=0, le=300),
                 max_events: int = Query(10_000, ge=1, le=100_000)) -> StreamingResponse:
    """New alerts as server-sent events (``event: alert``, ``id`` = event id). The
    stream ends after ``wait_s`` or ``max_events``; reconnect with ``Last-Event-ID``
    (as a browser's EventSource does) to resume where it stopped."""
    start = after
    if last_event_id:
        try:
            start = max(start, int(last_event_id))
            if not 0 <= start <= 2**62:
                raise ValueError
        except ValueError:
            raise InputError("Last-Event-ID: must be an event id (an integer)") from None
    return StreamingResponse(_events(state, who, start, wait_s, max_events),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-store"})
