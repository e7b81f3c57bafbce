"""The live service: HTTP API with roles, alert stream, NATS consumer and dashboard,
a thin layer over custody, engine, targeting and fieldid."""

from portwatch.service.main import create_app
from portwatch.service.settings import Settings

__all__ = ["Settings", "create_app"]
