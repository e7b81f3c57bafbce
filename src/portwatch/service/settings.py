"""Settings of the operations service, read from the environment (``PORTWATCH_*``) or
given in code, validated once at start-up.

Outside development the service refuses two unsafe defaults: an in-memory database
(an acknowledged message would not survive a restart) and a fixed seed for the random
referral draws (anyone who knows the seed can predict which arrivals are referred).
"""

from __future__ import annotations

import os
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from portwatch.domain.errors import ConfigError
from portwatch.domain.fields import PortCode

ENV_PREFIX = "PORTWATCH_"
_ENV_FIELDS = {
    "database_url": "DATABASE_URL",
    "environment": "ENV",
    "port_code": "PORT_CODE",
    "port_timezone": "PORT_TIMEZONE",
    "secondary_capacity": "SECONDARY_CAPACITY",
    "seed": "SEED",
    "max_body_bytes": "MAX_BODY_BYTES",
    "max_upload_bytes": "MAX_UPLOAD_BYTES",
    "max_telemetry_messages": "MAX_TELEMETRY_MESSAGES",
    "decision_streams": "DECISION_STREAMS",
}


class Settings(BaseModel):
    """What the service needs to start; every field has a ``PORTWATCH_*`` variable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str = Field(default="portwatch.db", min_length=1)
    """A SQLite file, or a SQLAlchemy URL (``postgresql+psycopg://...``)."""
    environment: Literal["development", "production"] = "production"
    port_code: PortCode = "2506"
    """The port whose queue and hours the service reports by default (2506: Otay Mesa)."""
    port_timezone: str = "America/Los_Angeles"
    """Policies refer by local hour of day; this is the port's clock."""
    secondary_capacity: int = Field(default=8, ge=0, le=10_000)
    """Conveyances secondary inspection holds at once (assumed: 8 bays)."""
    secondary_horizon_h: float = Field(default=12.0, gt=0, le=24 * 7)
    """A referral older than this with no inspection recorded no longer counts as in
    secondary (assumed: no conveyance waits half a day)."""
    seed: int | None = None
    """Seed of the referral draws; ``None`` (the only choice in production) takes OS entropy."""
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=64 * 1024 * 1024)
    max_upload_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, le=256 * 1024 * 1024)
    """Limit of telemetry batches and inspection uploads (spectra)."""
    max_telemetry_messages: int = Field(default=5_000, ge=1, le=100_000)
    token_cache_s: float = Field(default=2.0, ge=0, le=60)
    """How long a process trusts a token it looked up; a revocation through this process
    takes effect at once, through another within this time."""
    sse_poll_s: float = Field(default=0.5, gt=0, le=10)
    decision_streams: int | None = Field(default=None, ge=1, le=16)
    """Parallel audit chains decisions are committed on (``portwatch.store.streams``);
    ``None``: 1 on SQLite (one writer at a time), 4 on a server database."""

    @model_validator(mode="after")
    def _safe(self) -> Settings:
        try:
            ZoneInfo(self.port_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"port_timezone: unknown time zone {self.port_timezone!r}") from None
        if self.environment != "development":
            if self.database_url in (":memory:", "sqlite://", "sqlite:///:memory:"):
                raise ValueError("database_url: an in-memory database loses every "
                                 "acknowledged message on restart; allowed only in development")
            if self.seed is not None:
                raise ValueError("seed: a fixed seed makes referrals predictable; "
                                 "allowed only in development")
        return self

    def owning_port(self, port_code: str | None) -> str:
        """The port a shipment, or an alert, belongs to: the one its route names
        (``port_code``), else this service's own."""
        return port_code or self.port_code

    @classmethod
    def load(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``PORTWATCH_*`` variables, then ``overrides`` (not ``None``)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name, var in _ENV_FIELDS.items():
            if ENV_PREFIX + var in env:
                values[name] = env[ENV_PREFIX + var]
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "settings"
            env_var = _ENV_FIELDS.get(where)
            label = f"{where} ({ENV_PREFIX}{env_var})" if env_var else where
            msg = err["msg"].removeprefix("Value error, ")
            raise ConfigError(f"service settings: {label}: {msg}") from None


__all__ = ["Settings"]
