"""Scale-out over NATS JetStream: gateways publish signed seal messages to
``portwatch.telemetry.<region>``; any number of service instances pull them from one
durable work-queue consumer, ingest them through the custody service, and acknowledge
each message only after its batch is committed.

Choices made on purpose (JetStream's known traps):

- **Message id.** ``Nats-Msg-Id`` is ``<seal_id>:<seq>:<first 16 hex of the line's
  SHA-256>``. The stream drops a repeat of an id inside its duplicate window, even after
  the first copy was acked, so a legitimate retry carries the same id and the same bytes.
  The digest is part of the id so that a *different* message under a used seal and seq
  (an equivocation, a forgery) is not silently dropped as a duplicate but reaches the
  verifier, which raises the alert.
- **Idempotent consumers.** An ack can race a redelivery after the ack wait; a
  redelivered message is an exact duplicate to the custody ingestor, which stores it
  once and acknowledges it again.
- **In-progress heartbeats** every ``ack_wait_s / 3`` while a batch is being committed,
  so a slow commit is not redelivered to another instance.
- **Ack wait 30 s, at most 5 deliveries, back-off 1, 5, 15, 60 s** between failed
  attempts (by ``nak`` with a delay). A message still failing at its last delivery is
  published to the dead-letter subject with the reason and terminated. A line the
  verifier rejects is not a failure: its rejection is committed and it is acknowledged.
- **Stable durable name** (``portwatch-ingest``), shared by every instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("portwatch.service.nats")


@dataclass(frozen=True)
class NatsConfig:
    """Names and timings of the stream and its consumer."""

    stream: str = "PORTWATCH_TELEMETRY"
    subject_prefix: str = "portwatch.telemetry"
    durable: str = "portwatch-ingest"
    dead_letter: str = "portwatch.deadletter.telemetry"
    ack_wait_s: float = 30.0
    max_deliver: int = 5
    backoff_s: tuple[float, ...] = (1.0, 5.0, 15.0, 60.0)
    duplicate_window_s: float = 120.0
    batch: int = 200
    fetch_timeout_s: float = 1.0

    @property
    def dead_letter_stream(self) -> str:
        return f"{self.stream}_DEAD"

    @property
    def subjects(self) -> str:
        return f"{self.subject_prefix}.>"


def message_id(line: str) -> str:
    """``seal_id:seq:digest16`` of a seal message line (see the module docstring)."""
    digest = hashlib.sha256(line.encode("utf-8")).hexdigest()[:16]
    try:
        fields = json.loads(line)
        return f"{fields['seal_id']}:{int(fields['seq'])}:{digest}"
    except (ValueError, KeyError, TypeError):
        return f"unparsed:{digest}"


async def ensure_stream(js: Any, cfg: NatsConfig) -> None:
    """Create the work-queue stream and its dead-letter stream if missing."""
    from nats.js.api import RetentionPolicy, StorageType, StreamConfig
    from nats.js.errors import NotFoundError

    wanted = [
        StreamConfig(name=cfg.stream, subjects=[cfg.subjects],
                     retention=RetentionPolicy.WORK_QUEUE, storage=StorageType.FILE,
                     duplicate_window=cfg.duplicate_window_s),
        # dead letters are kept (30 days) for someone to look at
        StreamConfig(name=cfg.dead_letter_stream, subjects=[cfg.dead_letter],
                     retention=RetentionPolicy.LIMITS, storage=StorageType.FILE,
                     max_age=30 * 86400.0),
    ]
    for sc in wanted:
        try:
            await js.stream_info(sc.name)
        except NotFoundError:
            await js.add_stream(sc)


async def publish(js: Any, cfg: NatsConfig, region: str, lines: Sequence[str],
                  concurrency: int = 256) -> int:
    """Publish lines to ``<prefix>.<region>`` with their message ids; return how many the
    stream stored (duplicates inside the window are not counted)."""
    subject = f"{cfg.subject_prefix}.{region}"
    stored = 0
    for i in range(0, len(lines), concurrency):
        chunk = lines[i : i + concurrency]
        acks = await asyncio.gather(*[
            js.publish(subject, line.encode("utf-8"),
                       headers={"Nats-Msg-Id": message_id(line)}) for line in chunk])
        stored += sum(1 for a in acks if not a.duplicate)
    return stored


IngestFn = Callable[[list[str]], object]


class Consumer:
    """Pulls batches, ingests them (``ingest``, run in a thread), acks after commit."""

    def __init__(self, js: Any, cfg: NatsConfig, ingest: IngestFn) -> None:
        self.js, self.cfg, self.ingest = js, cfg, ingest
        self.sub: Any = None
        self.acked = 0
        self.dead = 0

    async def start(self) -> None:
        from nats.js.api import AckPolicy, ConsumerConfig

        await ensure_stream(self.js, self.cfg)
        self.sub = await self.js.pull_subscribe(
            self.cfg.subjects, durable=self.cfg.durable, stream=self.cfg.stream,
            config=ConsumerConfig(durable_name=self.cfg.durable, ack_policy=AckPolicy.EXPLICIT,
                                  ack_wait=self.cfg.ack_wait_s,
                                  max_deliver=self.cfg.max_deliver,
                                  max_ack_pending=20 * self.cfg.batch))

    async def _heartbeat(self, msgs: Sequence[Any]) -> None:
        while True:
            await asyncio.sleep(self.cfg.ack_wait_s / 3)
            for m in msgs:
                await m.in_progress()

    async def _commit(self, msgs: Sequence[Any]) -> None:
        lines = [m.data.decode("utf-8", "replace") for m in msgs]
        beat = asyncio.create_task(self._heartbeat(msgs))
        try:
            await asyncio.to_thread(self.ingest, lines)
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
        for m in msgs:
            await m.ack()
        self.acked += len(msgs)

    async def _fail(self, m: Any, exc: BaseException) -> None:
        n = m.metadata.num_delivered
        if n >= self.cfg.max_deliver:
            await self.js.publish(self.cfg.dead_letter, m.data, headers={
                "Portwatch-Subject": m.subject, "Portwatch-Deliveries": str(n),
                "Portwatch-Reason": f"{type(exc).__name__}: {exc}"[:500]})
            await m.term()
            self.dead += 1
            log.error("message %s sent to %s after %d deliveries", m.header and
                      m.header.get("Nats-Msg-Id"), self.cfg.dead_letter, n)
        else:
            delay = self.cfg.backoff_s[min(n - 1, len(self.cfg.backoff_s) - 1)]
            await m.nak(delay=delay)

    async def step(self) -> int:
        """Fetch and process one batch; return how many messages it held."""
        from nats.errors import TimeoutError as NatsTimeout

        try:
            msgs = await self.sub.fetch(self.cfg.batch, timeout=self.cfg.fetch_timeout_s)
        except (TimeoutError, NatsTimeout):
            return 0
        try:
            await self._commit(msgs)
        except Exception:  # noqa: BLE001 - isolate the poison message, keep the others
            log.warning("batch of %d failed; retrying one by one", len(msgs))
            for m in msgs:
                try:
                    await self._commit([m])
                except Exception as exc:  # noqa: BLE001
                    await self._fail(m, exc)
        return len(msgs)

    async def run(self, stop: asyncio.Event) -> None:
        await self.start()
        while not stop.is_set():
            await self.step()


async def consume(nats_url: str, cfg: NatsConfig, ingest: IngestFn,
                  stop: asyncio.Event) -> Consumer:
    """Connect and consume until ``stop`` is set."""
    import nats

    nc = await nats.connect(nats_url, name=f"portwatch-{cfg.durable}")
    try:
        consumer = Consumer(nc.jetstream(), cfg, ingest)
        await consumer.run(stop)
        return consumer
    finally:
        await nc.drain()


__all__ = ["Consumer", "NatsConfig", "consume", "ensure_stream", "message_id", "publish"]
