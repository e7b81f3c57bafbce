"""Tables. ``event_log`` is the append-only, hash-chained history every capability
can append to; the other tables are indexes over it that queries use."""

from __future__ import annotations

from typing import Any

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


def _chained_record() -> list[Column[Any]]:
    """The columns of one hash-chained record, the same in the event log and in each
    audit stream (``portwatch.store.eventlog``, ``portwatch.store.streams``)."""
    return [
        Column("recorded_at", String(32), nullable=False),
        Column("kind", String(64), nullable=False),
        Column("subject", String(64), nullable=True),
        Column("body", Text, nullable=False),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
    ]


event_log = Table(
    "event_log",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=False),
    *_chained_record(),
)
# a verdict reads the records about its shipment (and seal) straight from the log
Index("ix_event_log_subject", event_log.c.subject, event_log.c.id)

# Parallel hash chains (``portwatch.store.streams``): each stream is its own chain
# with its own head, so writers on different streams do not wait for each other.
stream_heads = Table(
    "stream_heads",
    metadata,
    Column("stream", Integer, primary_key=True, autoincrement=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
)

stream_log = Table(
    "stream_log",
    metadata,
    Column("stream", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    *_chained_record(),
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
    # a revoked key: messages stamped at or after revoked_at_ms, or with a seq above
    # revoked_after_seq (the highest stored when it was revoked), are refused
    Column("revoked_at_ms", BigInteger, nullable=True),
    Column("revoked_after_seq", BigInteger, nullable=True),
    Column("revoked_log_id", BigInteger, nullable=True),
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
    # the port of entry the shipment crosses at (its route's ``port_code``), if given
    Column("port_code", String(8), nullable=True),
)
Index("ix_shipments_seal", shipments.c.seal_id, shipments.c.log_id)
Index("ix_shipments_port", shipments.c.port_code)

# each shipment's verdict kept current during ingestion: what it is judged from as of
# the last log record about the shipment or its seal (``log_id``), written in the same
# transaction as that record; ``mac`` is keyed with the anchor's key when there is one
custody_verdicts = Table(
    "custody_verdicts",
    metadata,
    Column("shipment_id", String(64), primary_key=True),
    Column("log_id", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),
    Column("document", Text, nullable=False),
    Column("mac", String(64), nullable=False),
)

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

# every rejected line once per shipment it was held against (``rejection_id`` is the
# SHA-256 of the line's digest and that shipment): a line delivered again is
# recognised, not classified a second time
rejections = Table(
    "rejections",
    metadata,
    Column("rejection_id", String(64), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("shipment_id", String(64), nullable=True),
    Column("kind", String(40), nullable=False),
    Column("log_id", BigInteger, nullable=False),
)

__all__ = [
    "alerts",
    "custody_verdicts",
    "event_log",
    "log_head",
    "stream_heads",
    "stream_log",
    "metadata",
    "parties",
    "rejections",
    "seal_messages",
    "seals",
    "shipments",
]
