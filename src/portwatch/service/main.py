"""The FastAPI application: wiring only (settings, state, middleware, routers)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI

from portwatch import __version__
from portwatch.service import errors
from portwatch.service.middleware import BodyLimit, RequestMetrics
from portwatch.service.routes import (
    alerts,
    arrivals,
    dashboard,
    health,
    inspections,
    policies,
    shipments,
    stats,
    telemetry,
    tokens,
)
from portwatch.service.settings import Settings
from portwatch.service.state import ServiceState


def create_app(settings: Settings | None = None,
               clock: Callable[[], datetime] | None = None) -> FastAPI:
    """The service over ``settings`` (default: from ``PORTWATCH_*`` variables)."""
    settings = settings or Settings.load()
    state = ServiceState.open(settings) if clock is None else ServiceState.open(settings, clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(title="portwatch", version=__version__, lifespan=lifespan,
                  description="The operations service of a land port of entry.")
    app.state.portwatch = state
    errors.install(app)
    for module in (health, tokens, shipments, telemetry, arrivals, policies, inspections,
                   alerts, stats, dashboard):
        app.include_router(module.router)
    app.add_middleware(BodyLimit, max_body_bytes=settings.max_body_bytes,
                       max_upload_bytes=settings.max_upload_bytes)
    app.add_middleware(RequestMetrics, metrics=state.metrics)
    return app


__all__ = ["create_app"]
