"""Bearer tokens and roles.

A token is ``pwt_<id>_<secret>`` with a 256-bit secret; the database keeps only its
SHA-256 (a secret that long needs no slow hash), so a stolen database grants nothing.
Revocation takes effect on the next request: every request looks its token up.

Roles, and what each may do:

- ``gateway``: post telemetry;
- ``carrier``: read its own shipments (another carrier's shipment is "not found");
- ``officer``: decide arrivals, record inspections, read and acknowledge alerts, at its port;
- ``analyst``: read shipments, alerts, statistics, metrics and past policies;
- ``admin``: everything, including enrollment, policies and tokens.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from portwatch.domain.errors import ConflictError, InputError, NotFoundError
from portwatch.store import service_store as ss
from portwatch.store.database import Database

TOKEN_PREFIX = "pwt_"
MAX_NAME = 40
"""Longest token name: who did a write (``role:name#token_id``, see ``Principal.who``)
is stored in 64-character columns, which PostgreSQL enforces."""
_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class Role(StrEnum):
    GATEWAY = "gateway"
    CARRIER = "carrier"
    OFFICER = "officer"
    ANALYST = "analyst"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's id, role, name and scope."""

    token_id: str
    role: Role
    name: str
    carrier_id: str | None = None
    port_code: str | None = None

    @property
    def who(self) -> str:
        """How the audit log names the caller (never the token itself); the name is cut
        to ``MAX_NAME`` (a token made before that limit), the id keeps it unique."""
        return f"{self.role.value}:{self.name[:MAX_NAME]}#{self.token_id}"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    principal: Principal
    token: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat()


def create_token(db: Database, role: str, name: str, carrier_id: str | None = None,
                 port_code: str | None = None, created_by: str = "cli") -> IssuedToken:
    """Issue a token; only its hash is stored. Carriers need ``carrier_id``, officers
    ``port_code``."""
    try:
        r = Role(role)
    except ValueError:
        raise InputError(f"--role: must be one of {[x.value for x in Role]}, "
                         f"got {role!r}") from None
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise InputError(f"--name: must be 1-{MAX_NAME} printable characters")
    if r is Role.CARRIER and not carrier_id:
        raise InputError("--carrier: a carrier token needs the carrier's party id")
    if carrier_id is not None and not _ID.match(carrier_id):
        raise InputError(f"--carrier: must be a party id (letters, digits, '._:-', at most "
                         f"64), got {carrier_id!r}")
    if r is Role.OFFICER and not port_code:
        raise InputError("--port: an officer token needs its port code")
    if port_code is not None and not (len(port_code) == 4 and port_code.isdigit()):
        raise InputError(f"--port: must be a 4-digit port code, got {port_code!r}")
    token_id = secrets.token_hex(5)
    token = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    principal = Principal(token_id, r, name, carrier_id, port_code)
    at = _now()
    with db.transaction() as conn:
        log_id = ss.audit(conn, at, created_by, "token.create", token_id,
                          {"role": r.value, "name": name, "carrier_id": carrier_id,
                           "port_code": port_code})
        ss.add_token(conn, {"token_id": token_id, "token_hash": token_hash(token),
                            "role": r.value, "name": name, "carrier_id": carrier_id,
                            "port_code": port_code, "created_at": at, "revoked_at": None,
                            "log_id": log_id})
    return IssuedToken(principal, token)


def revoke_token(db: Database, token_id: str, revoked_by: str = "cli") -> None:
    at = _now()
    with db.transaction() as conn:
        if not ss.revoke_token(conn, token_id, at):
            known = any(r.token_id == token_id for r in ss.token_rows(conn))
            if known:
                raise ConflictError(f"token {token_id}: already revoked")
            raise NotFoundError(f"token {token_id}: no such token")
        ss.audit(conn, at, revoked_by, "token.revoke", token_id, {})


def list_tokens(db: Database) -> list[dict[str, Any]]:
    with db.reading() as conn:
        return [{"token_id": r.token_id, "role": r.role, "name": r.name,
                 "carrier_id": r.carrier_id, "port_code": r.port_code,
                 "created_at": r.created_at, "revoked_at": r.revoked_at}
                for r in ss.token_rows(conn)]


def authenticate(db: Database, token: str) -> Principal | None:
    """The live principal of ``token``, or ``None`` (unknown, malformed or revoked)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    with db.reading() as conn:
        row = ss.token_by_hash(conn, token_hash(token))
    if row is None or row.revoked_at is not None:
        return None
    return Principal(row.token_id, Role(row.role), row.name, row.carrier_id, row.port_code)


__all__ = ["MAX_NAME", "IssuedToken", "Principal", "Role", "authenticate", "create_token",
           "list_tokens", "revoke_token", "token_hash"]
