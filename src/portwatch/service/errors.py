"""``PortwatchError`` -> HTTP: bad input 422, not found 404, conflict 409, store 503.
The answer is ``{"detail": "<one line naming the field and the problem>"}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from portwatch.domain.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    PortwatchError,
    SecurityError,
    StoreError,
)

log = logging.getLogger("portwatch.service")

_STATUS: tuple[tuple[type[PortwatchError], int], ...] = (
    (InputError, 422),
    (NotFoundError, 404),
    (ConflictError, 409),
    (SecurityError, 422),
    (StoreError, 503),
)


def status_of(exc: PortwatchError) -> int:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 400


async def _portwatch_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PortwatchError)
    status = status_of(exc)
    if status >= 500:
        # the cause names the database (host, user, schema) and the failing statement:
        # for the operator's log, not for every caller with a token
        log.error("store failure: %s", exc)
        return JSONResponse({"detail": "database: the request failed in the database; "
                             "the service log has the cause"}, status_code=status)
    return JSONResponse({"detail": str(exc)}, status_code=status)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    lines = []
    for err in errors[:5]:
        if err.get("type") == "json_invalid":  # its loc is a character offset, not a field
            why = (err.get("ctx") or {}).get("error", "invalid")
            lines.append(f"body: not JSON ({why} at character {err['loc'][-1]})")
            continue
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        msg = str(err.get("msg", "invalid"))
        if not where and err.get("type") == "value_error":
            # a check across fields, whose message names the field itself
            lines.append(msg.removeprefix("Value error, "))
            continue
        lines.append(f"{where or 'body'}: {msg}")
    return JSONResponse({"detail": "; ".join(lines)}, status_code=422)


def install(app: FastAPI) -> None:
    app.add_exception_handler(PortwatchError, _portwatch_error)
    app.add_exception_handler(RequestValidationError, _validation_error)


__all__ = ["install", "status_of"]
