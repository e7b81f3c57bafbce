"""The operations service: API tokens, policies and activations, decisions,
inspections and alert acknowledgements.

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("token_id", sa.String(16), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("carrier_id", sa.String(64), nullable=True),
        sa.Column("port_code", sa.String(8), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32), nullable=True),
        sa.Column("log_id", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "policies",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("log_id", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "policy_activations",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("activated_at", sa.String(32), nullable=False),
        sa.Column("activated_by", sa.String(64), nullable=False),
        sa.Column("log_id", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "decisions",
        sa.Column("decision_id", sa.String(40), primary_key=True),
        sa.Column("decided_at", sa.String(32), nullable=False),
        sa.Column("port_code", sa.String(8), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("plate", sa.String(32), nullable=False),
        sa.Column("driver_card", sa.String(64), nullable=True),
        sa.Column("shipment_id", sa.String(64), nullable=True),
        sa.Column("custody", sa.String(16), nullable=False),
        sa.Column("lane", sa.String(16), nullable=False),
        sa.Column("referral", sa.Boolean, nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("policy_version", sa.Integer, nullable=False),
        sa.Column("u", sa.Float, nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("log_id", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_decisions_port_at", "decisions", ["port_code", "decided_at"])
    op.create_table(
        "inspections",
        sa.Column("inspection_id", sa.String(40), primary_key=True),
        sa.Column("decision_id", sa.String(40), nullable=True, unique=True),
        sa.Column("inspected_at", sa.String(32), nullable=False),
        sa.Column("port_code", sa.String(8), nullable=False),
        sa.Column("shipment_id", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("inspected_by", sa.String(64), nullable=False),
        sa.Column("log_id", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "alert_acks",
        sa.Column("alert_id", sa.String(40), primary_key=True),
        sa.Column("acked_at", sa.String(32), nullable=False),
        sa.Column("acked_by", sa.String(64), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("log_id", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for name in ("alert_acks", "inspections", "decisions", "policy_activations", "policies",
                 "api_tokens"):
        op.drop_table(name)
