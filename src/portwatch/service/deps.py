"""Typed dependencies: the service state and the authenticated caller of a route."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from portwatch.service.auth import Principal, Role
from portwatch.service.state import MISS, ServiceState


# every dependency here is ``async def`` on purpose: FastAPI runs a plain ``def``
# dependency in the thread pool, one thread hop each per request; these do no I/O
# but a token lookup on a cache miss, which goes to the pool explicitly
async def get_state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.portwatch
    return state


StateDep = Annotated[ServiceState, Depends(get_state)]


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


async def current_principal(request: Request, state: StateDep) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorised("Authorization: a Bearer token is required")
    cached = state.cached_principal(token.strip())
    principal = (await run_in_threadpool(state.principal, token.strip()) if cached is MISS
                 else cast(Principal | None, cached))
    if principal is None:
        raise _unauthorised("Authorization: the token is unknown or revoked")
    request.state.principal = principal
    return principal


def require(*roles: Role) -> object:
    """A dependency admitting callers of ``roles`` (and admins) only."""
    allowed = frozenset((*roles, Role.ADMIN))

    async def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in allowed:
            raise HTTPException(403, f"role {principal.role.value} may not do this")
        return principal

    return Depends(check)


Admin = Annotated[Principal, require()]
Gateway = Annotated[Principal, require(Role.GATEWAY)]
Officer = Annotated[Principal, require(Role.OFFICER)]
Reader = Annotated[Principal, require(Role.OFFICER, Role.ANALYST)]
"""Officers, analysts and admins."""
Analyst = Annotated[Principal, require(Role.ANALYST)]
"""Analysts and admins: readers of every port."""
ShipmentReader = Annotated[Principal, require(Role.CARRIER, Role.OFFICER, Role.ANALYST)]
AlertReader = Annotated[Principal, require(Role.CARRIER, Role.OFFICER, Role.ANALYST)]


def port_of(principal: Principal, port_code: str) -> None:
    """An officer acts at its own port only."""
    if principal.role is Role.OFFICER and principal.port_code != port_code:
        raise HTTPException(403, f"port_code: officer of port {principal.port_code} "
                                 f"may not act at port {port_code}")


__all__ = ["Admin", "AlertReader", "Analyst", "Gateway", "Officer", "Reader", "ShipmentReader",
           "StateDep", "current_principal", "get_state", "port_of", "require"]
