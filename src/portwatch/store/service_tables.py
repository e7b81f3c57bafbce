"""Tables of the operations service: API tokens, policies, their activations and the
reads of their schedules by non-admins, lane decisions, inspections and alert
acknowledgements.

Every row also has a record in the event log (``log_id``), written in the same
transaction, which says who did it; a decision's record is in one of the parallel
chains of ``portwatch.store.streams`` instead (``log_stream``, ``log_id``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, Index, Integer, String, Table, Text

from portwatch.store.schema import metadata

_ID = BigInteger().with_variant(Integer(), "sqlite")

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", String(16), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("name", String(64), nullable=False),
    Column("carrier_id", String(64), nullable=True),
    Column("port_code", String(8), nullable=True),
    Column("created_at", String(32), nullable=False),
    Column("revoked_at", String(32), nullable=True),
    Column("log_id", BigInteger, nullable=False),
)

policies = Table(
    "policies",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(128), nullable=False),
    Column("document", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("log_id", BigInteger, nullable=False),
)

policy_activations = Table(
    "policy_activations",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("version", Integer, nullable=False),
    Column("action", String(16), nullable=False),
    Column("activated_at", String(32), nullable=False),
    Column("activated_by", String(64), nullable=False),
    Column("log_id", BigInteger, nullable=False),
    # an admin's reason for activating a version read by a non-admin (NULL: not forced)
    Column("override_reason", Text, nullable=True),
)

# each read of a version's schedule by a non-admin: such a version is never made live
# again without an admin's recorded override (portwatch.service.routes.policies)
policy_reads = Table(
    "policy_reads",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("version", Integer, nullable=False),
    Column("read_at", String(32), nullable=False),
    Column("read_by", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("log_id", BigInteger, nullable=False),
)
Index("ix_policy_reads_version", policy_reads.c.version)

decisions = Table(
    "decisions",
    metadata,
    Column("decision_id", String(40), primary_key=True),
    Column("decided_at", String(32), nullable=False),
    Column("port_code", String(8), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("plate", String(32), nullable=False),
    Column("driver_card", String(64), nullable=True),
    Column("shipment_id", String(64), nullable=True),
    Column("custody", String(16), nullable=False),
    Column("lane", String(16), nullable=False),
    Column("referral", Boolean, nullable=False),
    Column("reason", String(64), nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("u", Float, nullable=False),
    Column("decided_by", String(64), nullable=False),
    Column("log_id", BigInteger, nullable=False),
    # the stream (portwatch.store.streams) of the audit record ``log_id``; NULL: the
    # event log (decisions made before revision 0005)
    Column("log_stream", Integer, nullable=True),
)
Index("ix_decisions_port_at", decisions.c.port_code, decisions.c.decided_at)
# the secondary queue counts the referrals at a port since an instant, on every arrival
Index("ix_decisions_referrals", decisions.c.port_code, decisions.c.referral,
      decisions.c.decided_at)

inspections = Table(
    "inspections",
    metadata,
    Column("inspection_id", String(40), primary_key=True),
    Column("decision_id", String(40), nullable=True, unique=True),
    Column("inspected_at", String(32), nullable=False),
    Column("port_code", String(8), nullable=False),
    Column("shipment_id", String(64), nullable=True),
    Column("outcome", String(16), nullable=False),
    Column("document", Text, nullable=False),
    Column("inspected_by", String(64), nullable=False),
    Column("log_id", BigInteger, nullable=False),
)

alert_acks = Table(
    "alert_acks",
    metadata,
    Column("alert_id", String(40), primary_key=True),
    Column("acked_at", String(32), nullable=False),
    Column("acked_by", String(64), nullable=False),
    Column("comment", Text, nullable=False),
    Column("log_id", BigInteger, nullable=False),
)

__all__ = [
    "alert_acks",
    "api_tokens",
    "decisions",
    "inspections",
    "policies",
    "policy_activations",
    "policy_reads",
]
