"""``/v1/policies``: store policy versions, activate one, roll back (admin).

The referral probabilities of a policy are the port's randomised schedule: an admin
reads any version, an analyst only one whose shift is over (activated once, active no
longer); nobody else reads them.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, status
from pydantic import BaseModel

from portwatch.domain.errors import InputError
from portwatch.service import policies as pol
from portwatch.service.auth import Role
from portwatch.service.deps import Admin, Reader, StateDep
from portwatch.store import service_store as ss
from portwatch.targeting.policy import Policy

router = APIRouter(prefix="/v1/policies", tags=["policies"])
VersionPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
MAX_NAME = 128
"""The column's length (``policies.name``)."""


class PolicyVersion(BaseModel):
    version: int
    name: str
    created_at: str
    created_by: str
    active: bool


class Activation(BaseModel):
    version: int
    action: str
    activated_at: str
    activated_by: str


class PolicyIndex(BaseModel):
    active_version: int | None
    versions: list[PolicyVersion]
    history: list[Activation]


@router.post("", response_model=PolicyVersion, status_code=status.HTTP_201_CREATED)
def create(state: StateDep, who: Admin,
           document: Annotated[dict[str, Any], Body()]) -> PolicyVersion:
    """Store a policy (its JSON form, ``format: portwatch.policy``) as a new version."""
    policy = Policy.from_dict(document, where="policy")
    if not 0 < len(policy.name) <= MAX_NAME or not policy.name.isprintable():
        raise InputError(f"policy.name: must be 1-{MAX_NAME} printable characters")
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


@router.get("", response_model=PolicyIndex)
def index(state: StateDep, who: Reader) -> PolicyIndex:
    """Versions and the activation history (no referral probabilities)."""
    if who.role is Role.OFFICER:
        raise HTTPException(403, "role officer may not do this")
    with state.db.reading() as conn:
        current = ss.active_version(conn)
        rows, history = ss.policy_rows(conn), ss.activations(conn)
    return PolicyIndex(
        active_version=current,
        versions=[PolicyVersion(version=r.version, name=r.name, created_at=r.created_at,
                                created_by=r.created_by, active=r.version == current)
                  for r in rows],
        history=[Activation(version=a.version, action=a.action, activated_at=a.activated_at,
                            activated_by=a.activated_by) for a in history])


@router.get("/{version}")
def read(version: VersionPath, state: StateDep, who: Reader) -> dict[str, Any]:
    """A version's full policy: admins always, analysts once its shift is over."""
    if who.role is Role.OFFICER:
        raise HTTPException(403, "role officer may not do this")
    with state.db.reading() as conn:
        policy = pol.load(state, conn, version)
        if who.role is not Role.ADMIN and not pol.ever_ended(conn, version):
            raise HTTPException(403, f"policy {version}: its schedule is readable by "
                                     "analysts only after its shift")
    return policy.to_dict()


def _activate(state: Any, who: Any, version: int | None, action: str) -> Activation:
    """Record an activation; ``version=None`` picks the previous one (a rollback), in the
    same transaction, so two rollbacks cannot race."""
    at = state.clock().isoformat()
    with state.write() as conn:
        chosen = pol.previous_version(conn) if version is None else version
        pol.load(state, conn, chosen)
        log_id = ss.audit(conn, at, who.who, f"policy.{action}", str(chosen),
                          {"version": chosen})
        ss.add_activation(conn, {"version": chosen, "action": action, "activated_at": at,
                                 "activated_by": who.who, "log_id": log_id})
    return Activation(version=chosen, action=action, activated_at=at, activated_by=who.who)


@router.post("/rollback", response_model=Activation)
def rollback(state: StateDep, who: Admin) -> Activation:
    """Re-activate the version that was active before the current one."""
    return _activate(state, who, None, "rollback")


@router.post("/{version}/activate", response_model=Activation)
def activate(version: VersionPath, state: StateDep, who: Admin) -> Activation:
    """Make ``version`` the policy every following decision uses."""
    return _activate(state, who, version, "activate")
