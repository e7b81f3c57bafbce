"""Custody hardening: seal revocation, one record per rejected line, and the index a
verdict derived from the log reads by.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_event_log_subject", "event_log", ["subject", "id"])
    with op.batch_alter_table("seals") as batch:
        batch.add_column(sa.Column("revoked_at_ms", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("revoked_after_seq", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("revoked_log_id", sa.BigInteger, nullable=True))
    op.create_table(
        "rejections",
        sa.Column("rejection_id", sa.String(64), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("shipment_id", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("log_id", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rejections")
    with op.batch_alter_table("seals") as batch:
        for name in ("revoked_log_id", "revoked_after_seq", "revoked_at_ms"):
            batch.drop_column(name)
    op.drop_index("ix_event_log_subject", "event_log")
