"""What one running service holds: its settings, database, the custody service, the
random generator of the referral draws, and its metrics."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import Connection

from portwatch.custody.registry import Shipment
from portwatch.custody.service import CustodyService
from portwatch.service.auth import Principal, authenticate, token_hash
from portwatch.service.metrics import Metrics
from portwatch.service.settings import Settings
from portwatch.store.database import Database
from portwatch.targeting.policy import Policy

if TYPE_CHECKING:
    from portwatch.service.decisions import GroupCommit


def _group_commit(streams: int = 1) -> GroupCommit:
    from portwatch.service.decisions import GroupCommit

    return GroupCommit(streams)


DEFAULT_PG_STREAMS = 4
"""Audit streams of decisions on a server database (``Settings.decision_streams``):
enough that an arrival rarely finds every stream committing a group."""

MISS = object()
"""``ServiceState.cached_principal``: not in the cache, or no longer fresh."""


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ServiceState:
    """Shared by every request of one process.

    ``custody_lock`` serialises the writes of this process to the event log (the
    custody ingestor's caches follow the log head it writes); a verdict read needs no
    lock (it reads its row, or the log, on its own connection). ``rng_lock`` guards
    the generator of the referral draws; ``decisions`` commits arrival decisions in
    groups, on parallel audit streams.
    """

    settings: Settings
    db: Database
    custody: CustodyService
    rng: np.random.Generator
    metrics: Metrics
    clock: Callable[[], datetime] = _now
    custody_lock: threading.RLock = field(default_factory=threading.RLock)
    rng_lock: threading.Lock = field(default_factory=threading.Lock)
    policies: dict[int, Policy] = field(default_factory=dict)
    shipments: dict[str, Shipment] = field(default_factory=dict)
    tokens: dict[str, tuple[float, Principal]] = field(default_factory=dict)
    """Token hash -> (trusted until, monotonic s; principal)."""
    decisions: GroupCommit = field(default_factory=lambda: _group_commit())

    def cached_principal(self, token: str) -> Principal | None | object:
        """The caller of ``token`` from the cache while fresh, else ``MISS`` (no I/O)."""
        hit = self.tokens.get(token_hash(token))
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return MISS

    def principal(self, token: str) -> Principal | None:
        """The caller of ``token``, from the cache while fresh, else the database."""
        key = token_hash(token)
        now = time.monotonic()
        hit = self.tokens.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        found = authenticate(self.db, token)
        if found is None:
            self.tokens.pop(key, None)  # unknown tokens are never cached
            return None
        if len(self.tokens) > 10_000:
            self.tokens.clear()
        if self.settings.token_cache_s > 0:
            self.tokens[key] = (now + self.settings.token_cache_s, found)
        return found

    @classmethod
    def open(cls, settings: Settings, clock: Callable[[], datetime] = _now) -> ServiceState:
        db = Database(settings.database_url)
        db.checkpoint_in_background()  # a SQLite file's checkpoints off the commits
        # no seed: fresh OS entropy, so nobody can predict the draws
        rng = np.random.default_rng(settings.seed)
        streams = settings.decision_streams
        if streams is None:  # SQLite has one writer at a time: parallel chains gain nothing
            streams = 1 if db.engine.dialect.name == "sqlite" else DEFAULT_PG_STREAMS
        return cls(settings, db, CustodyService(db, clock=clock), rng, Metrics(), clock,
                   decisions=_group_commit(streams))

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction of the service, known to the custody ingestor of this
        process: it syncs on the log head first and records the head it leaves, so the
        service's own records (audit, decisions) do not make the ingestor take them for
        another writer's and drop its caches."""
        with self.custody_lock, self.db.transaction() as conn:
            self.custody.ingestor.sync(conn)
            yield conn
            self.custody.ingestor.wrote(conn)

    @contextmanager
    def write_decisions(self) -> Iterator[Connection]:
        """A write transaction of decisions. Their audit records go to a stream, not to
        the event log, so the custody ingestor has nothing to follow and no lock of
        this process is taken, except on SQLite: it has one writer at a time, and
        waiting here behind this process's other writes is shorter than SQLite's busy
        wait. On a server the transaction is batched (``Database.batched_transaction``):
        two round trips."""
        if self.db.engine.dialect.name == "sqlite":
            with self.custody_lock, self.db.transaction() as conn:
                yield conn
        else:
            with self.db.batched_transaction() as conn:
                yield conn

    def draw(self) -> float:
        """One uniform draw in [0, 1) for a referral."""
        with self.rng_lock:
            return float(self.rng.random())

    def close(self) -> None:
        self.db.close()


__all__ = ["ServiceState"]
