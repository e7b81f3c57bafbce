"""The shared vocabulary of portwatch: modes, lanes, errors, and the value types
that the other packages exchange."""

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
