"""The reads of a policy version's schedule by non-admins (``policy_reads``), and an
admin's reason for activating such a version anyway (``policy_activations.
override_reason``).

A version read by a non-admin is not made active again without an override. Reads made
before this revision were not recorded: every stored activation keeps its row, with no
override reason, and no version counts as read.

Revision ID: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "policy_reads",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("read_at", sa.String(32), nullable=False),
        sa.Column("read_by", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("log_id", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_policy_reads_version", "policy_reads", ["version"])
    with op.batch_alter_table("policy_activations") as batch:
        batch.add_column(sa.Column("override_reason", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("policy_activations") as batch:
        batch.drop_column("override_reason")
    op.drop_index("ix_policy_reads_version", "policy_reads")
    op.drop_table("policy_reads")
