"""Parallel hash chains ("streams", ``portwatch.store.streams``) beside the event log,
and the stream a decision's audit record is in.

Lane decisions are audited in one of ``MAX_STREAMS`` (16) streams instead of the one
event log, so that concurrent arrivals do not wait for each other's commit. Decisions
made before this revision keep their record in the event log: their ``log_stream`` is
NULL and ``log_id`` names the event-log record, as before. Every stream starts at the
genesis hash with no record.

Revision ID: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MAX_STREAMS = 16  # portwatch.store.streams.MAX_STREAMS when this revision was written
GENESIS_HASH = "0" * 64


def upgrade() -> None:
    heads = op.create_table(
        "stream_heads",
        sa.Column("stream", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "stream_log",
        sa.Column("stream", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(64), nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(heads, [{"stream": s, "last_seq": 0, "last_hash": GENESIS_HASH}
                           for s in range(1, MAX_STREAMS + 1)])
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("log_stream", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("log_stream")
    op.drop_table("stream_log")
    op.drop_table("stream_heads")
