"""The schema as release 0.1.0 made it with ``create_all`` (frozen copy of
``portwatch/store/schema.py`` before migrations), for the upgrade test."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()
# on SQLite an INTEGER PRIMARY KEY is the rowid itself: one b-tree per table, not two
_ID = BigInteger().with_variant(Integer(), "sqlite")

log_head = Table(
    "log_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("last_id", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
)

event_log = Table(
    "event_log",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=False),
    Column("recorded_at", String(32), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("subject", String(64), nullable=True),
    Column("body", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

parties = Table(
    "parties",
    metadata,
    Column("party_id", String(64), primary_key=True),
    Column("document", Text, nullable=False),
    Column("log_id", BigInteger, nullable=False),
)

seals = Table(
    "seals",
    metadata,
    Column("seal_id", String(64), primary_key=True),
    Column("public_key", String(64), nullable=False),
    Column("log_id", BigInteger, nullable=False),
)

shipments = Table(
    "shipments",
    metadata,
    Column("shipment_id", String(64), primary_key=True),
    Column("seal_id", String(64), nullable=False),
    Column("document", Text, nullable=False),
    Column("log_id", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),
    Column("armed_seq", BigInteger, nullable=True),
    Column("armed_at_ms", BigInteger, nullable=True),
    Column("last_seq", BigInteger, nullable=False),
)
Index("ix_shipments_seal", shipments.c.seal_id, shipments.c.log_id)

seal_messages = Table(
    "seal_messages",
    metadata,
    Column("seal_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("shipment_id", String(64), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("log_id", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)
Index("ix_seal_messages_shipment", seal_messages.c.shipment_id, seal_messages.c.seq)

alerts = Table(
    "alerts",
    metadata,
    Column("alert_id", String(40), primary_key=True),
    Column("shipment_id", String(64), nullable=True),
    Column("seal_id", String(64), nullable=True),
    Column("kind", String(40), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("at", String(32), nullable=True),
    Column("seq", BigInteger, nullable=True),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("detail", Text, nullable=False),
    Column("after_border", Boolean, nullable=False),
    Column("source", String(16), nullable=False),
    Column("log_id", BigInteger, nullable=False),
)
Index("ix_alerts_shipment", alerts.c.shipment_id)

__all__ = [
    "alerts",
    "event_log",
    "log_head",
    "metadata",
    "parties",
    "seal_messages",
    "seals",
    "shipments",
]
