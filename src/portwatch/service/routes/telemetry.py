"""``POST /v1/telemetry``: a batch of signed seal messages, as a JSON array (of the
lines as strings, or of the objects) or as ``application/x-ndjson``.

Every message is verified and applied by the custody ingestor, in one transaction per
batch; the answer comes after the commit, so "accepted" means stored. Each message
gets its own result: ``accepted`` (new or an exact duplicate of a stored one) or
``rejected`` with its reasons.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from portwatch.custody.envelope import canonical_json
from portwatch.custody.ingest import IngestReport
from portwatch.domain.errors import InputError
from portwatch.service.deps import Gateway, StateDep
from portwatch.service.state import ServiceState
from portwatch.service.telemetry_lag import observe_lag
from portwatch.store import service_store as ss

router = APIRouter(prefix="/v1", tags=["telemetry"])
NDJSON = "application/x-ndjson"


class Reason(BaseModel):
    kind: str
    detail: str


class MessageResult(BaseModel):
    index: int
    status: Literal["accepted", "rejected"]
    reasons: list[Reason] = []


class TelemetryResult(BaseModel):
    received: int
    accepted: int
    duplicates: int
    rejected: int
    alerts_raised: int
    results: list[MessageResult]


def lines_of(body: bytes, content_type: str) -> list[str]:
    """The message lines of a request body; ``InputError`` naming what is wrong."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("body: not UTF-8") from None
    if content_type.split(";")[0].strip().lower() == NDJSON:
        return text.split("\n")
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"body: not JSON ({exc.msg} at line {exc.lineno}); send a JSON "
                         f"array, or {NDJSON}") from None
    except RecursionError:  # the parser's stack, not ours: a hostile body, said plainly
        raise InputError("body: JSON nested too deeply; a seal message is flat") from None
    if not isinstance(items, list):
        raise InputError("body: must be a JSON array of seal messages")
    lines = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            lines.append(item)
        elif isinstance(item, dict):
            lines.append(canonical_json(item))
        else:
            raise InputError(f"body[{i}]: must be a message line (string) or object")
    return lines


def results_of(lines: list[str], report: IngestReport) -> list[MessageResult]:
    reasons: dict[int, list[Reason]] = {}
    for r in report.rejected:
        reasons.setdefault(r.line_no, []).append(Reason(kind=r.kind.value, detail=r.detail))
    out = []
    for i, line in enumerate(lines):
        if not line or line.isspace():
            continue
        why = reasons.get(i + 1)
        out.append(MessageResult(index=i, status="rejected" if why else "accepted",
                                 reasons=why or []))
    return out


def ingest(state: ServiceState, lines: list[str], who: str, via: str) -> TelemetryResult:
    """Ingest ``lines`` through the custody service; the record of who sent them is
    written in the transaction that commits the messages (both or neither)."""
    done: dict[str, object] = {}

    def record(conn: Connection, report: IngestReport) -> None:
        results = results_of(lines, report)
        n_rej = sum(1 for r in results if r.status == "rejected")
        ss.audit(conn, state.clock().isoformat(), who, "telemetry.batch", None,
                 {"via": via, "messages": len(results), "accepted": report.accepted,
                  "duplicates": report.duplicates, "rejected": n_rej})
        done.update(results=results, rejected=n_rej)

    with state.custody_lock:
        report = state.custody.ingest(lines, source=who, batch_size=max(1, len(lines)),
                                      finish=record)
    results = done["results"]
    n_rej = done["rejected"]
    assert isinstance(results, list) and isinstance(n_rej, int)
    m = state.metrics.telemetry
    m.labels("accepted", via).inc(report.accepted)
    m.labels("duplicate", via).inc(report.duplicates)
    m.labels("rejected", via).inc(n_rej)
    observe_lag(state, lines, results)
    return TelemetryResult(received=len(results), accepted=report.accepted,
                           duplicates=report.duplicates, rejected=n_rej,
                           alerts_raised=report.alerts_raised, results=results)


@router.post("/telemetry", response_model=TelemetryResult, openapi_extra={
    "requestBody": {"required": True, "content": {
        "application/json": {"schema": {"type": "array", "items": {
            "anyOf": [{"type": "string"}, {"type": "object"}]}}},
        NDJSON: {"schema": {"type": "string"}}}}})
async def telemetry(request: Request, state: StateDep, who: Gateway) -> Any:
    """Verify and store a batch of signed seal messages; one result per message."""
    lines = lines_of(await request.body(), request.headers.get("content-type", ""))
    count = sum(1 for line in lines if line and not line.isspace())
    limit = state.settings.max_telemetry_messages
    if count > limit:
        raise InputError(f"body: {count} messages, at most {limit} per request")
    return await run_in_threadpool(ingest, state, lines, who.who, "http")
