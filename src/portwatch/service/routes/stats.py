"""``GET /v1/stats``: what the dashboard shows of the last hours at a port."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

from fastapi import APIRouter, Query
from pydantic import BaseModel

from portwatch.service.auth import Role
from portwatch.service.decisions import queue_since
from portwatch.service.deps import Reader, StateDep
from portwatch.service.text import PORT_CODE
from portwatch.store import service_store as ss

router = APIRouter(prefix="/v1", tags=["stats"])


class HourCount(BaseModel):
    hour: str
    """The UTC hour, ``YYYY-MM-DDTHH``."""
    decisions: int
    by_lane: dict[str, int]


class Stats(BaseModel):
    port_code: str
    hours: int
    decisions: int
    express_share: float | None
    referral_rate: float | None
    in_secondary: int
    secondary_capacity: int
    per_hour: list[HourCount]
    inspections: dict[str, int]
    identifications: dict[str, int]
    open_alerts: int


@router.get("/stats", response_model=Stats)
def stats(state: StateDep, who: Reader, port_code: str | None = Query(None,
          pattern=PORT_CODE), hours: int = Query(24, ge=1, le=24 * 31)) -> Stats:
    """Decisions per hour, express share, referral rate, the secondary queue,
    inspection outcomes and identifications at a port (an officer: its own)."""
    port = who.port_code if who.role is Role.OFFICER else (port_code or
                                                           state.settings.port_code)
    assert port is not None
    since = (state.clock() - timedelta(hours=hours)).isoformat()
    with state.db.reading() as conn:
        rows = ss.decision_rows(conn, since, port)
        queue = ss.in_secondary(conn, port, queue_since(state, state.clock()))
        insp = ss.inspection_rows(conn, port, 1000)
        # the port's own alerts (see ``routes.alerts.port_scope``)
        open_alerts = len(ss.alert_rows(conn, acked=False, limit=100_000,
                                        port=(port, port == state.settings.port_code)))
    per: dict[str, Counter[str]] = {}
    for r in rows:
        per.setdefault(r.decided_at[:13], Counter())[r.lane] += 1
    n = len(rows)
    idents: Counter[str] = Counter()
    for r in insp:
        ident = json.loads(r.document).get("identification")
        if ident:
            idents[str(ident.get("verdict"))] += 1
    return Stats(
        port_code=port, hours=hours, decisions=n,
        express_share=None if n == 0 else sum(r.lane == "express" for r in rows) / n,
        referral_rate=None if n == 0 else sum(bool(r.referral) for r in rows) / n,
        in_secondary=queue, secondary_capacity=state.settings.secondary_capacity,
        per_hour=[HourCount(hour=h, decisions=sum(c.values()), by_lane=dict(c))
                  for h, c in sorted(per.items())],
        inspections=dict(Counter(r.outcome for r in insp)), identifications=dict(idents),
        open_alerts=open_alerts)
