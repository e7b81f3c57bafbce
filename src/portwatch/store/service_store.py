"""Queries and writes of the operations service over its tables.

Each write happens inside the caller's transaction together with an event-log record
that names who did it (``audit``), so the hash-chained log holds every change the
service made and by whom.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update

from portwatch.store import batch, streams
from portwatch.store.bulk import bulk_insert
from portwatch.store.eventlog import LogRecord, append
from portwatch.store.schema import alerts, shipments
from portwatch.store.service_tables import (
    alert_acks,
    api_tokens,
    decisions,
    inspections,
    policies,
    policy_activations,
    policy_reads,
)


def audit(conn: Connection, at: str, who: str, action: str, subject: str | None,
          detail: dict[str, Any]) -> int:
    """Append one ``service.<action>`` record naming ``who``; return its log id."""
    body = json.dumps({"who": who, **detail}, sort_keys=True, separators=(",", ":"))
    return append(conn, [LogRecord(f"service.{action}", subject, body)], at)[0]


def audits(conn: Connection, at: str,
           items: Sequence[tuple[str, str, str | None, dict[str, Any]]]) -> list[int]:
    """``audit`` for several (who, action, subject, detail) at once; their log ids."""
    return append(conn, [LogRecord(f"service.{action}", subject, json.dumps(
        {"who": who, **detail}, sort_keys=True, separators=(",", ":")))
        for who, action, subject, detail in items], at)


def stream_audits(conn: Connection, stream: int, at: str,
                  items: Sequence[tuple[str, str, str | None, dict[str, Any]]],
                  with_rows: Callable[[list[int]], streams.Rows] | None = None,
                  head: tuple[Any, ...] | None = None) -> list[int]:
    """``audits`` on one of the parallel chains of ``portwatch.store.streams``; the
    records' sequence numbers in that stream (``with_rows``, ``head``: see
    ``streams.append``)."""
    return streams.append(conn, stream, [LogRecord(f"service.{action}", subject, json.dumps(
        {"who": who, **detail}, sort_keys=True, separators=(",", ":")))
        for who, action, subject, detail in items], at, with_rows, head)


# ---------------------------------------------------------------- tokens
def add_token(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(insert(api_tokens).values(**row))


# statements on the hot path of every request are built once
_TOKEN_BY_HASH = select(api_tokens).where(api_tokens.c.token_hash == bindparam("h"))
_ACTIVE = (select(policy_activations.c.version)
           .order_by(policy_activations.c.id.desc()).limit(1))
_IN_SECONDARY = (
    select(func.count())
    .select_from(decisions.outerjoin(
        inspections, inspections.c.decision_id == decisions.c.decision_id))
    .where(and_(decisions.c.port_code == bindparam("port"),
                decisions.c.decided_at >= bindparam("since"),
                decisions.c.referral.is_(True),
                inspections.c.inspection_id.is_(None)))
)
_ADD_DECISION = insert(decisions)


def token_by_hash(conn: Connection, token_hash: str) -> Any | None:
    return conn.execute(_TOKEN_BY_HASH, {"h": token_hash}).first()


def token_rows(conn: Connection) -> list[Any]:
    return list(conn.execute(select(api_tokens).order_by(api_tokens.c.created_at)).all())


def revoke_token(conn: Connection, token_id: str, at: str) -> bool:
    """Mark a token revoked; ``False`` when there is no such live token."""
    done = conn.execute(
        update(api_tokens)
        .where(and_(api_tokens.c.token_id == token_id, api_tokens.c.revoked_at.is_(None)))
        .values(revoked_at=at)
    )
    return bool(done.rowcount)


# ---------------------------------------------------------------- policies
def next_policy_version(conn: Connection) -> int:
    top = conn.execute(select(func.max(policies.c.version))).scalar_one_or_none()
    return 1 if top is None else int(top) + 1


def add_policy(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(insert(policies).values(**row))


def policy_row(conn: Connection, version: int) -> Any | None:
    return conn.execute(select(policies).where(policies.c.version == version)).first()


def policy_rows(conn: Connection) -> list[Any]:
    return list(conn.execute(select(policies).order_by(policies.c.version)).all())


def activations(conn: Connection) -> list[Any]:
    """Every activation and rollback, oldest first."""
    return list(conn.execute(select(policy_activations).order_by(policy_activations.c.id)).all())


def active_version(conn: Connection) -> int | None:
    row = conn.execute(_ACTIVE).first()
    return None if row is None else int(row.version)


def add_activation(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(insert(policy_activations).values(**row))


def add_policy_read(conn: Connection, row: dict[str, Any]) -> None:
    """Record a read of a version's schedule by a non-admin."""
    conn.execute(insert(policy_reads).values(**row))


def policy_reads_of(conn: Connection, version: int) -> tuple[int, Any | None]:
    """How many reads by non-admins ``version`` has had, and the last one (in the order
    they were committed)."""
    mine = policy_reads.c.version == version
    count = int(conn.execute(select(func.count()).select_from(policy_reads)
                            .where(mine)).scalar_one())
    last = conn.execute(select(policy_reads).where(mine)
                        .order_by(policy_reads.c.id.desc()).limit(1)).first()
    return count, last


def policy_read_counts(conn: Connection) -> dict[int, tuple[int, str]]:
    """Version -> (reads by non-admins, the instant of the last), for read versions."""
    per = (select(policy_reads.c.version, func.count().label("n"),
                  func.max(policy_reads.c.id).label("last"))
           .group_by(policy_reads.c.version).subquery())
    rows = conn.execute(select(per.c.version, per.c.n, policy_reads.c.read_at)
                        .join(policy_reads, policy_reads.c.id == per.c.last))
    return {int(r.version): (int(r.n), str(r.read_at)) for r in rows}


# ---------------------------------------------------------------- decisions
def add_decision(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(_ADD_DECISION, row)


def add_decisions(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Several decision rows (every column given) in one statement."""
    bulk_insert(conn, *decision_rows_in_order(rows))


def decision_rows_in_order(rows: Sequence[dict[str, Any]]) -> streams.Rows:
    """Decision rows (every column given) as tuples in the table's column order."""
    names = [c.name for c in decisions.columns]
    return decisions, [tuple(r[n] for n in names) for r in rows]


def group_inputs(conn: Connection, since: dict[str, str], stream: int,
                 ) -> tuple[int | None, dict[str, int], tuple[Any, ...] | None]:
    """What a group of decisions reads before deciding: the active policy version, the
    referrals in secondary at each port of ``since`` (port -> ISO UTC instant, see
    ``in_secondary``), and, in a batched transaction (``portwatch.store.batch``), the
    head of audit ``stream``, locked, all with the transaction's ``BEGIN`` in one round
    trip. Outside a batch the head is ``None`` (``streams.append`` reads it)."""
    ports = sorted(since)
    b = batch.active(conn)
    if b is None:
        return (active_version(conn), {p: in_secondary(conn, p, since[p]) for p in ports},
                None)
    found = b.first([(_ACTIVE, {}),
                     *[(_IN_SECONDARY, {"port": p, "since": since[p]}) for p in ports],
                     (streams.HEAD_LOCKED, {"s": stream})])
    version = None if not found[0] else int(found[0][0][0])
    counts = {p: int(rows[0][0]) for p, rows in zip(ports, found[1:-1], strict=True)}
    return version, counts, (found[-1][0] if found[-1] else None)


def decision_row(conn: Connection, decision_id: str) -> Any | None:
    return conn.execute(select(decisions).where(decisions.c.decision_id == decision_id)).first()


def in_secondary(conn: Connection, port_code: str, since: str) -> int:
    """Referrals at the port since ``since`` (ISO UTC) with no inspection recorded yet."""
    return int(conn.execute(_IN_SECONDARY, {"port": port_code, "since": since}).scalar_one())


def decision_rows(conn: Connection, since: str, port_code: str | None = None) -> list[Any]:
    q = select(decisions).where(decisions.c.decided_at >= since)
    if port_code is not None:
        q = q.where(decisions.c.port_code == port_code)
    return list(conn.execute(q.order_by(decisions.c.decided_at)).all())


# ---------------------------------------------------------------- inspections
def add_inspection(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(insert(inspections).values(**row))


def inspection_rows(conn: Connection, port_code: str | None = None,
                    limit: int = 100) -> list[Any]:
    q = select(inspections).order_by(inspections.c.inspected_at.desc()).limit(limit)
    if port_code is not None:
        q = q.where(inspections.c.port_code == port_code)
    return list(conn.execute(q).all())


# ---------------------------------------------------------------- alerts
def alert_rows(
    conn: Connection,
    *,
    after_log_id: int = 0,
    kind: str | None = None,
    severity: str | None = None,
    shipment_ids: Sequence[str] | None = None,
    acked: bool | None = None,
    limit: int = 100,
    port: tuple[str, bool] | None = None,
) -> list[Any]:
    """Alerts with their log id, acknowledgement and port (their shipment's
    ``port_code``, ``None`` when it names none), oldest first. ``port`` = (code,
    also_unported) keeps the alerts of that port, and with ``also_unported`` those of
    no known port too."""
    q = (
        select(alerts, alert_acks.c.acked_at, alert_acks.c.acked_by, alert_acks.c.comment,
               shipments.c.port_code)
        .select_from(alerts
                     .outerjoin(alert_acks, alert_acks.c.alert_id == alerts.c.alert_id)
                     .outerjoin(shipments, shipments.c.shipment_id == alerts.c.shipment_id))
        .where(alerts.c.log_id > after_log_id)
        .order_by(alerts.c.log_id, alerts.c.alert_id)
        .limit(limit)
    )
    if port is not None:
        code, also_unported = port
        mine = shipments.c.port_code == code
        q = q.where(or_(mine, shipments.c.port_code.is_(None)) if also_unported else mine)
    if kind is not None:
        q = q.where(alerts.c.kind == kind)
    if severity is not None:
        q = q.where(alerts.c.severity == severity)
    if shipment_ids is not None:
        q = q.where(alerts.c.shipment_id.in_(list(shipment_ids)))
    if acked is True:
        q = q.where(alert_acks.c.alert_id.is_not(None))
    elif acked is False:
        q = q.where(alert_acks.c.alert_id.is_(None))
    return list(conn.execute(q).all())


def alert_exists(conn: Connection, alert_id: str) -> bool:
    return conn.execute(
        select(alerts.c.alert_id).where(alerts.c.alert_id == alert_id)
    ).first() is not None


def alert_port(conn: Connection, alert_id: str) -> tuple[bool, str | None]:
    """Whether the alert exists, and its port (its shipment's ``port_code``)."""
    row = conn.execute(
        select(alerts.c.alert_id, shipments.c.port_code)
        .select_from(alerts.outerjoin(shipments,
                                      shipments.c.shipment_id == alerts.c.shipment_id))
        .where(alerts.c.alert_id == alert_id)).first()
    return (False, None) if row is None else (True, row.port_code)


def ack_row(conn: Connection, alert_id: str) -> Any | None:
    return conn.execute(select(alert_acks).where(alert_acks.c.alert_id == alert_id)).first()


def add_ack(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(insert(alert_acks).values(**row))


def alert_counts(conn: Connection) -> dict[str, int]:
    """Stored alerts by kind."""
    rows = conn.execute(select(alerts.c.kind, func.count()).group_by(alerts.c.kind))
    return {r[0]: int(r[1]) for r in rows}


__all__ = [
    "ack_row",
    "activations",
    "active_version",
    "add_ack",
    "add_activation",
    "add_decision",
    "add_decisions",
    "add_inspection",
    "add_policy",
    "add_policy_read",
    "add_token",
    "alert_counts",
    "alert_exists",
    "alert_port",
    "alert_rows",
    "audit",
    "audits",
    "decision_row",
    "decision_rows_in_order",
    "decision_rows",
    "group_inputs",
    "in_secondary",
    "inspection_rows",
    "next_policy_version",
    "policy_read_counts",
    "policy_reads_of",
    "policy_row",
    "policy_rows",
    "revoke_token",
    "stream_audits",
    "token_by_hash",
    "token_rows",
]
