"""The one exception hierarchy of portwatch.

Every error a user can cause is a ``PortwatchError``: the CLI prints its message
as one line on stderr and exits non-zero, the HTTP service answers 4xx with it.

    PortwatchError
     +-- InputError              bad input: a file, a field, a value
     |    +-- ConfigError        a scenario, policy or settings file is invalid
     |    +-- SpectrumFormatError a spectrum file cannot be read
     +-- NotFoundError           a named thing (shipment, seal, scenario) does not exist
     +-- ConflictError           the request contradicts what is already stored
     +-- SecurityError           a message failed verification (signature, replay, clone)
     +-- StoreError              persistence failed or the stored history is inconsistent
     |    +-- AuditError         the hash chain of the event log is broken
     +-- MissingExtraError       an optional package (an extra, e.g. plot) is not installed

Messages name the field or thing and the problem, e.g.
``shipment.json: route.corridor_width_m: must be > 0, got -5``.
"""

from __future__ import annotations


class PortwatchError(Exception):
    """Base of every error portwatch raises on purpose."""


class InputError(PortwatchError, ValueError):
    """Input that does not meet its contract (a file, a field, a value)."""


class ConfigError(InputError):
    """A scenario, policy, library or settings file is invalid."""


class SpectrumFormatError(InputError):
    """A spectrum file cannot be read or holds no usable spectrum."""


class NotFoundError(PortwatchError, LookupError):
    """A named thing (shipment, seal, scenario, reference) does not exist."""


class ConflictError(PortwatchError):
    """The request contradicts what is already stored."""


class SecurityError(PortwatchError):
    """A message failed verification: bad signature, replay, clone, equivocation."""


class StoreError(PortwatchError):
    """Persistence failed, or the stored history is inconsistent."""


class AuditError(StoreError):
    """The hash chain of the append-only event log does not verify."""


class MissingExtraError(PortwatchError):
    """An optional package the request needs is not installed (``pip install
    'portwatch[EXTRA]'`` installs it)."""


__all__ = [
    "AuditError",
    "ConfigError",
    "ConflictError",
    "InputError",
    "MissingExtraError",
    "NotFoundError",
    "PortwatchError",
    "SecurityError",
    "SpectrumFormatError",
    "StoreError",
]
