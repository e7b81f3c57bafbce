"""``GET /v1/health`` (no authentication) and ``GET /metrics`` (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel

from portwatch import __version__
from portwatch.service.deps import Analyst, StateDep
from portwatch.store import service_store as ss

router = APIRouter()


class Health(BaseModel):
    status: str
    version: str
    database: str


@router.get("/v1/health", response_model=Health, tags=["health"])
def health(state: StateDep) -> Health:
    """Whether the service answers and reaches its database."""
    with state.db.reading() as conn:
        ss.active_version(conn)
    return Health(status="ok", version=__version__, database=state.db.engine.dialect.name)


@router.get("/metrics", tags=["health"], response_class=Response,
            responses={200: {"content": {"text/plain": {}}}})
def metrics(state: StateDep, _who: Analyst) -> Response:
    """Prometheus text format: requests, latencies, alerts by kind, decisions by lane,
    telemetry and ingest lag, counted over every port (a Bearer token of an analyst
    or admin; an officer reads its own port's counts on ``/v1/stats``)."""

    def count() -> dict[str, int]:
        with state.db.reading() as conn:
            return ss.alert_counts(conn)

    state.metrics.alerts.count = count
    return Response(state.metrics.render(), media_type="text/plain; version=0.0.4")
