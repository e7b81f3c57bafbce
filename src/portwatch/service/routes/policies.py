"""``/v1/policies``: store policy versions, activate one, roll back (admin).

The referral probabilities of a policy are the port's randomised schedule: an admin
reads any version, an analyst only one whose shift is over (activated once, active no
longer); nobody else reads them. Each analyst's read is recorded, and a version so read
becomes active again only when an admin forces it with a reason.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, status
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from portwatch.domain.errors import ConflictError, InputError
from portwatch.service import policies as pol
from portwatch.service.auth import Role
from portwatch.service.deps import Admin, Reader, StateDep
from portwatch.service.text import PRINTABLE
from portwatch.store import service_store as ss
from portwatch.targeting.policy import Policy

router = APIRouter(prefix="/v1/policies", tags=["policies"])
VersionPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
MAX_POLICY_NAME = 128
"""The column's length (``policies.name``)."""
MAX_OVERRIDE_REASON = 500


class PolicyVersion(BaseModel):
    version: int
    name: str
    created_at: str
    created_by: str
    active: bool
    non_admin_reads: int = 0
    """Reads of its schedule by non-admins (each blocks its activation)."""
    last_read_at: str | None = None


class Activation(BaseModel):
    version: int
    action: str
    activated_at: str
    activated_by: str
    override_reason: str | None = None
    """Set when an admin forced it (``force``), whether or not it had been read."""


class ActivateIn(BaseModel):
    """An admin's override: activate a version even though a non-admin has read it."""

    model_config = ConfigDict(extra="forbid")
    force: StrictBool = False
    reason: str | None = Field(None, min_length=1, max_length=MAX_OVERRIDE_REASON,
                               pattern=PRINTABLE)

    @model_validator(mode="after")
    def _reason_goes_with_force(self) -> ActivateIn:
        if self.force and self.reason is None:
            raise ValueError("reason: required with force (kept in the activation history)")
        if not self.force and self.reason is not None:
            raise ValueError("reason: only with force true")
        return self


Override = Annotated[ActivateIn | None, Body()]


class PolicyIndex(BaseModel):
    active_version: int | None
    versions: list[PolicyVersion]
    history: list[Activation]


@router.post("", response_model=PolicyVersion, status_code=status.HTTP_201_CREATED)
def create(state: StateDep, who: Admin,
           document: Annotated[dict[str, Any], Body()]) -> PolicyVersion:
    """Store a policy (its JSON form, ``format: portwatch.policy``) as a new version."""
    policy = Policy.from_dict(document, where="policy")
    if not 0 < len(policy.name) <= MAX_POLICY_NAME or not policy.name.isprintable():
        raise InputError(f"policy.name: must be 1-{MAX_POLICY_NAME} printable characters")
    at = state.clock().isoformat()
    with state.write() as conn:
        version = ss.next_policy_version(conn)
        text = pol.canonical(policy)
        log_id = ss.audit(conn, at, who.who, "policy.create", str(version),
                          {"version": version, "policy": json.loads(text)})
        ss.add_policy(conn, {"version": version, "name": policy.name, "document": text,
                             "created_at": at, "created_by": who.who, "log_id": log_id})
    return PolicyVersion(version=version, name=policy.name, created_at=at,
                         created_by=who.who, active=False)


def _reads(found: tuple[int, str] | None) -> dict[str, Any]:
    return {} if found is None else {"non_admin_reads": found[0], "last_read_at": found[1]}


@router.get("", response_model=PolicyIndex)
def index(state: StateDep, who: Reader) -> PolicyIndex:
    """Versions and the activation history (no referral probabilities)."""
    if who.role is Role.OFFICER:
        raise HTTPException(403, "role officer may not do this")
    with state.db.reading() as conn:
        current = ss.active_version(conn)
        rows, history = ss.policy_rows(conn), ss.activations(conn)
        reads = ss.policy_read_counts(conn)
    return PolicyIndex(
        active_version=current,
        versions=[PolicyVersion(version=r.version, name=r.name, created_at=r.created_at,
                                created_by=r.created_by, active=r.version == current,
                                **_reads(reads.get(r.version)))
                  for r in rows],
        history=[Activation(version=a.version, action=a.action, activated_at=a.activated_at,
                            activated_by=a.activated_by, override_reason=a.override_reason)
                 for a in history])


@router.get("/{version}")
def read(version: VersionPath, state: StateDep, who: Reader) -> dict[str, Any]:
    """A version's full policy: admins always, analysts once its shift is over; an
    analyst's read is recorded before the answer."""
    if who.role is Role.OFFICER:
        raise HTTPException(403, "role officer may not do this")
    if who.role is Role.ADMIN:
        with state.db.reading() as conn:
            return pol.load(state, conn, version).to_dict()
    at = state.clock().isoformat()
    # a write transaction, which holds the log head's lock from its start, as every
    # activation's does: no activation commits between this check and this record
    with state.write() as conn:
        policy = pol.load(state, conn, version)
        if not pol.ever_ended(conn, version):
            raise HTTPException(403, f"policy {version}: its schedule is readable by "
                                     "analysts only after its shift")
        log_id = ss.audit(conn, at, who.who, "policy.read", str(version),
                          {"version": version, "role": who.role.value})
        ss.add_policy_read(conn, {"version": version, "read_at": at, "read_by": who.who,
                                  "role": who.role.value, "log_id": log_id})
    return policy.to_dict()


def _activate(state: Any, who: Any, version: int | None, action: str,
              override: ActivateIn | None) -> Activation:
    """Record an activation; ``version=None`` picks the previous one (a rollback), in the
    same transaction, so two rollbacks cannot race. A version read by a non-admin is
    refused (409) unless ``override`` forces it."""
    at = state.clock().isoformat()
    reason = None if override is None else override.reason
    with state.write() as conn:
        chosen = pol.previous_version(conn) if version is None else version
        pol.load(state, conn, chosen)
        reads, last = ss.policy_reads_of(conn, chosen)
        if last is not None and reason is None:
            raise ConflictError(pol.read_refusal(chosen, reads, last))
        detail: dict[str, Any] = {"version": chosen}
        if reason is not None:
            detail |= {"override_reason": reason, "non_admin_reads": reads}
        log_id = ss.audit(conn, at, who.who, f"policy.{action}", str(chosen), detail)
        ss.add_activation(conn, {"version": chosen, "action": action, "activated_at": at,
                                 "activated_by": who.who, "log_id": log_id,
                                 "override_reason": reason})
    return Activation(version=chosen, action=action, activated_at=at, activated_by=who.who,
                      override_reason=reason)


@router.post("/rollback", response_model=Activation)
def rollback(state: StateDep, who: Admin, override: Override = None) -> Activation:
    """Re-activate the version that was active before the current one (409 when a
    non-admin has read it, unless forced with a reason)."""
    return _activate(state, who, None, "rollback", override)


@router.post("/{version}/activate", response_model=Activation)
def activate(version: VersionPath, state: StateDep, who: Admin,
             override: Override = None) -> Activation:
    """Make ``version`` the policy every following decision uses (409 when a non-admin
    has read it, unless forced with a reason)."""
    return _activate(state, who, version, "activate", override)
