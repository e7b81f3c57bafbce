"""Policies as the service keeps them: numbered versions, an activation history, the
active one (the last activation or rollback), and the reads of their schedules by
non-admins, which keep a version from becoming active again without an override."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection

from portwatch.domain.errors import ConflictError, NotFoundError
from portwatch.service.state import ServiceState
from portwatch.store import service_store as ss
from portwatch.targeting.policy import Policy


def active(state: ServiceState, conn: Connection) -> tuple[int, Policy]:
    """The active version and its policy (``ConflictError`` when none is active)."""
    return active_as(state, conn, ss.active_version(conn))


def active_as(state: ServiceState, conn: Connection, version: int | None,
              ) -> tuple[int, Policy]:
    """``active`` from the active ``version`` the caller read in this transaction."""
    if version is None:
        raise ConflictError("policy: none is active; POST /v1/policies, then activate it")
    return version, load(state, conn, version)


def load(state: ServiceState, conn: Connection, version: int) -> Policy:
    policy = state.policies.get(version)
    if policy is None:
        row = ss.policy_row(conn, version)
        if row is None:
            raise NotFoundError(f"policy {version}: no such version")
        policy = Policy.from_json(row.document, where=f"stored policy {version}")
        state.policies[version] = policy
    return policy


def ever_ended(conn: Connection, version: int) -> bool:
    """Whether ``version`` was active once and is not now (its shift is over)."""
    history = ss.activations(conn)
    was = any(a.version == version for a in history)
    return was and (not history or history[-1].version != version)


def previous_version(conn: Connection) -> int:
    """The version active before the current activation (for a rollback)."""
    history = [a.version for a in ss.activations(conn)]
    if not history:
        raise ConflictError("policy: none is active, nothing to roll back")
    current = history[-1]
    for v in reversed(history[:-1]):
        if v != current:
            return v
    raise ConflictError(f"policy {current}: no earlier version was active")


def read_refusal(version: int, reads: int, last: Any) -> str:
    """The one-line reason an activation of ``version`` is refused: ``reads`` reads of
    its schedule by non-admins, ``last`` the last one's row (``policy_reads``)."""
    times = f" ({reads} reads by non-admins)" if reads > 1 else ""
    return (f"policy {version}: read by {last.role} at {last.read_at}{times}, so its "
            "schedule may be known outside the admins; store a newly planned policy and "
            "activate it instead (or send force with a reason)")


def canonical(policy: Policy) -> str:
    return json.dumps(policy.to_dict(), sort_keys=True, separators=(",", ":"))


__all__ = ["active", "active_as", "canonical", "ever_ended", "load", "previous_version",
           "read_refusal"]
