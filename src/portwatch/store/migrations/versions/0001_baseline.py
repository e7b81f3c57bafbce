"""The schema before migrations: the event log and the chain-of-custody tables.

A database made by ``create_all`` before Alembic holds exactly these tables and is
stamped at this revision instead of running it.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "log_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("last_id", sa.BigInteger, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "event_log",
        sa.Column("id", _ID, primary_key=True, autoincrement=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(64), nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "parties",
        sa.Column("party_id", sa.String(64), primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("log_id", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "seals",
        sa.Column("seal_id", sa.String(64), primary_key=True),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("log_id", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "shipments",
        sa.Column("shipment_id", sa.String(64), primary_key=True),
        sa.Column("seal_id", sa.String(64), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("log_id", sa.BigInteger, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("armed_seq", sa.BigInteger, nullable=True),
        sa.Column("armed_at_ms", sa.BigInteger, nullable=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_shipments_seal", "shipments", ["seal_id", "log_id"])
    op.create_table(
        "seal_messages",
        sa.Column("seal_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("shipment_id", sa.String(64), nullable=False),
        sa.Column("at_ms", sa.BigInteger, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("log_id", sa.BigInteger, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_seal_messages_shipment", "seal_messages", ["shipment_id", "seq"])
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.String(40), primary_key=True),
        sa.Column("shipment_id", sa.String(64), nullable=True),
        sa.Column("seal_id", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("at", sa.String(32), nullable=True),
        sa.Column("seq", sa.BigInteger, nullable=True),
        sa.Column("lat", sa.Float, nullable=True),
        sa.Column("lon", sa.Float, nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("after_border", sa.Boolean, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("log_id", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_alerts_shipment", "alerts", ["shipment_id"])


def downgrade() -> None:
    for name in ("alerts", "seal_messages", "shipments", "seals", "parties", "event_log",
                 "log_head"):
        op.drop_table(name)
