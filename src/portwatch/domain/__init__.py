"""The shared vocabulary of portwatch: modes, lanes and errors, exported here, and the
value types the other packages exchange, in their own modules because both name a
``Verdict``: ``portwatch.domain.custody`` (seal events, alerts, the custody verdict)
and ``portwatch.domain.substances`` (substance classes, the identification verdict,
actions)."""

from portwatch.domain.errors import (
    AuditError,
    ConfigError,
    ConflictError,
    InputError,
    NotFoundError,
    PortwatchError,
    SecurityError,
    SpectrumFormatError,
    StoreError,
)
from portwatch.domain.modes import Lane, Mode

__all__ = [
    "AuditError",
    "ConfigError",
    "ConflictError",
    "InputError",
    "Lane",
    "Mode",
    "NotFoundError",
    "PortwatchError",
    "SecurityError",
    "SpectrumFormatError",
    "StoreError",
]
