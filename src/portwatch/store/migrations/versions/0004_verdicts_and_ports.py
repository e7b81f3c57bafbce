"""Each shipment's verdict kept current during ingestion (``custody_verdicts``), and
the port of entry of a shipment (``shipments.port_code``, from its route's
``port_code``), by which officers see their port's alerts, and an index for the count
of referrals in secondary that every arrival makes.

Shipments registered before this revision get their verdict row on the first custody
write after the upgrade (computing it needs the custody monitor and the anchor's key,
which a migration has not); until then their verdict is rebuilt from the log, as
before.

Revision ID: 0004
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "custody_verdicts",
        sa.Column("shipment_id", sa.String(64), primary_key=True),
        sa.Column("log_id", sa.BigInteger, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
    )
    with op.batch_alter_table("shipments") as batch:
        batch.add_column(sa.Column("port_code", sa.String(8), nullable=True))
    op.create_index("ix_shipments_port", "shipments", ["port_code"])
    op.create_index("ix_decisions_referrals", "decisions", ["port_code", "referral",
                                                            "decided_at"])
    shipments = sa.table("shipments", sa.column("shipment_id", sa.String),
                         sa.column("document", sa.Text), sa.column("port_code", sa.String))
    conn = op.get_bind()
    for sid, document in conn.execute(sa.select(shipments.c.shipment_id,
                                                shipments.c.document)).all():
        port = json.loads(document).get("route", {}).get("port_code")
        if port is not None:
            conn.execute(sa.update(shipments).where(shipments.c.shipment_id == sid)
                         .values(port_code=port))


def downgrade() -> None:
    op.drop_index("ix_decisions_referrals", "decisions")
    op.drop_index("ix_shipments_port", "shipments")
    with op.batch_alter_table("shipments") as batch:
        batch.drop_column("port_code")
    op.drop_table("custody_verdicts")
