"""Ingestion of signed seal messages: verify, monitor, persist, one transaction per
batch.

Each line is decoded, checked against the registry and the stored messages, its
signature verified, and then either accepted (fed to its shipment's monitor) or
rejected with a security alert. A malformed line is rejected alone, with its line
number; the batch's other lines are kept. An exact duplicate of a stored message is
acknowledged and stored once. Monitors are kept in memory between batches; a message
older than what its monitor has seen triggers a rebuild of that shipment from its
stored messages, so the outcome never depends on arrival order.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection

from portwatch.custody import verdict_row as vr
from portwatch.custody.envelope import SealMessage, attribution, decode_line, to_ms
from portwatch.custody.keys import load_public_key
from portwatch.custody.ledger import rejection_id, seal_ledger, seal_ledger_from
from portwatch.custody.monitor import ShipmentMonitor, alert_id, fix_geometry
from portwatch.custody.registry import RoutePlan, Shipment, shipment_from_mapping
from portwatch.custody.thresholds import Thresholds
from portwatch.domain.custody import (
    Alert,
    AlertKind,
    CustodyState,
    SealEventKind,
    Severity,
)
from portwatch.domain.errors import InputError
from portwatch.store import custody_store as cs
from portwatch.store.database import Database
from portwatch.store.eventlog import HEAD_INFO, LogRecord, append, head

UNAUTHENTICATED: frozenset[AlertKind] = frozenset(
    {AlertKind.MALFORMED, AlertKind.UNKNOWN_SEAL, AlertKind.BAD_SIGNATURE,
     AlertKind.REVOKED_KEY})
"""Rejections that prove nothing about a container: anyone can write such a line, so
on a shipment they are minor (review, never broken) and name the channel."""
REJECT_DETAIL_LIMIT = 20
"""Rejections of one kind on one shipment recorded one by one per call; the rest are
counted in one summary record and alert (a flood of forged lines stays small)."""
_DETAIL_CHARS = 200
_LINE_CHARS = 512


def _cut(text: str, limit: int = _DETAIL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True, slots=True)
class Rejection:
    """A line that was not accepted, and why."""

    line_no: int
    kind: AlertKind
    detail: str
    shipment_id: str | None
    seal_id: str | None


@dataclass
class IngestReport:
    """What one ingestion did."""

    lines: int = 0
    accepted: int = 0
    duplicates: int = 0
    repeated: int = 0
    """Rejected lines seen before (in this call or an earlier one): not recorded again."""
    rejected: list[Rejection] = field(default_factory=list)
    alerts_raised: int = 0
    alerts_retracted: int = 0
    shipments: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, object]:
        return {
            "lines": self.lines,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "repeated_rejections": self.repeated,
            "rejected": [
                {"line": r.line_no, "kind": r.kind.value, "detail": r.detail,
                 "shipment_id": r.shipment_id, "seal_id": r.seal_id}
                for r in self.rejected
            ],
            "alerts_raised": self.alerts_raised,
            "alerts_retracted": self.alerts_retracted,
            "shipments": sorted(self.shipments),
        }


@dataclass(frozen=True, slots=True)
class _Reject:
    line_no: int
    digest: str
    line: str
    alert: Alert

    @property
    def rejection_id(self) -> str:
        return rejection_id(self.digest, self.alert.shipment_id)


@dataclass
class _Call:
    """What one ingestion call remembers across its batches."""

    source: str
    counts: Counter[tuple[AlertKind, str | None]] = field(default_factory=Counter)
    suppressed: dict[tuple[AlertKind, str | None], list[_Reject]] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)


@dataclass
class _Ship:
    shipment: Shipment
    seal_id: str
    state: CustodyState
    armed_seq: int | None
    armed_at_ms: int | None
    stored_any: bool = True
    doc_sha256: str = ""
    """SHA-256 of the registered document's canonical JSON (computed once)."""


@dataclass
class _Seal:
    key: Ed25519PublicKey
    bindings: list[str]
    revoked_at_ms: int | None = None
    revoked_after_seq: int | None = None

    def revoked(self, m: SealMessage) -> bool:
        """Signed after the key's revocation (by device time or by counter)?"""
        if self.revoked_at_ms is None:
            return False
        return m.at_ms >= self.revoked_at_ms or m.seq > (self.revoked_after_seq or -1)


def _now_utc() -> datetime:
    return datetime.now(UTC)


class Ingestor:
    """Verifies, monitors and persists seal messages into one database."""

    def __init__(
        self,
        db: Database,
        thresholds: Thresholds | None = None,
        clock: Callable[[], datetime] = _now_utc,
    ) -> None:
        self.db = db
        self.thresholds = thresholds or Thresholds()
        self.clock = clock
        self._seals: dict[str, _Seal | None] = {}
        self._ships: dict[str, _Ship | None] = {}
        self._monitors: dict[str, ShipmentMonitor] = {}
        # shipments on the same route share one plan, so their corridor is built once
        # and their fixes are located in one vectorised call per batch
        self._routes: dict[str, RoutePlan] = {}
        # the highest stored seq of each seal: a message above it cannot be a duplicate
        # or an equivocation, so the common case needs no lookup
        self._max_seq: dict[str, int] = {}
        # the log head this process last wrote or saw: any other value means another
        # writer has been at the database since, and the caches may be stale
        self._known_head: int | None = None
        # shipments whose verdict row the current write transaction must rewrite, and
        # the last record this transaction appended about each subject
        self._touched: set[str] = set()
        self._appended: dict[str, int] = {}
        self._backfilled = False

    def registered(self, shipment: Shipment, new_seal: bool) -> None:
        """Learn a shipment this process just registered, without asking the database."""
        key = json.dumps(shipment.document["route"], sort_keys=True)
        plan = self._routes.setdefault(key, shipment.route)
        self._ships[shipment.shipment_id] = _Ship(
            replace(shipment, route=plan), shipment.seal.seal_id, CustodyState.REGISTERED,
            None, None, stored_any=False)
        self._monitors.pop(shipment.shipment_id, None)
        seal_id = shipment.seal.seal_id
        if new_seal:
            self._seals[seal_id] = _Seal(load_public_key(shipment.seal.public_key),
                                         [shipment.shipment_id])
            self._max_seq[seal_id] = -1
        else:
            self._seals.pop(seal_id, None)

    def forget(self) -> None:
        """Drop every cached registry entry and monitor (after a failed write, or a
        registration by someone else)."""
        self._seals.clear()
        self._ships.clear()
        self._monitors.clear()
        self._max_seq.clear()
        self._known_head = None

    def drop(self, shipment_id: str | None, seal_id: str | None) -> None:
        """Forget what is cached of one shipment and one seal (within a transaction
        that just changed them in the database)."""
        if shipment_id is not None:
            self._ships.pop(shipment_id, None)
            self._monitors.pop(shipment_id, None)
        if seal_id is not None:
            self._seals.pop(seal_id, None)

    # ------------------------------------------------------------ registry cache
    def _ship(self, conn: Connection, shipment_id: str) -> _Ship | None:
        if shipment_id not in self._ships:
            row = cs.shipment_row(conn, shipment_id)
            self._ships[shipment_id] = None if row is None else self._ship_from(row)
        return self._ships[shipment_id]

    def _ship_from(self, row: Any) -> _Ship:
        shipment = self.parse_document(json.loads(row.document), row.shipment_id)
        return _Ship(shipment=shipment, seal_id=row.seal_id, state=CustodyState(row.state),
                     armed_seq=row.armed_seq, armed_at_ms=row.armed_at_ms,
                     stored_any=row.last_seq >= 0)

    def _prefetch(self, conn: Connection, decoded: list[tuple[int, SealMessage]]) -> None:
        """Load every shipment and seal a batch names that the caches lack, a few
        queries for the whole batch instead of several per shipment (a process that
        starts cold on thousands of shipments)."""
        ship_ids = {m.shipment_id for _, m in decoded if m.shipment_id not in self._ships}
        seal_ids = {m.seal_id for _, m in decoded if m.seal_id not in self._seals}
        if ship_ids:
            for row in cs.shipment_rows_in(conn, ship_ids):
                self._ships[row.shipment_id] = self._ship_from(row)
            for sid in ship_ids - self._ships.keys():
                self._ships[sid] = None
        if not seal_ids:
            return
        records = cs.log_records_in(conn, seal_ids, ("registry.seal", "registry.revocation"))
        bindings = cs.bindings_of_seals(conn, seal_ids)
        top = cs.max_seqs(conn, seal_ids)
        key, keyed_from = self.db.key, self.db.keyed_from()
        for seal_id in seal_ids:
            led = seal_ledger_from(seal_id, records.get(seal_id, []), key, keyed_from)
            if led.public_key is None:
                self._seals[seal_id] = None
                continue
            self._seals[seal_id] = _Seal(
                key=load_public_key(led.public_key, f"stored seal {seal_id}"),
                bindings=bindings.get(seal_id, []), revoked_at_ms=led.revoked_at_ms,
                revoked_after_seq=led.revoked_after_seq)
            self._max_seq[seal_id] = top.get(seal_id, -1)

    def parse_document(self, doc: dict[str, object], shipment_id: str) -> Shipment:
        """A stored shipment document as a ``Shipment`` sharing its route plan (and so
        its corridor) with every other shipment on the same route."""
        shipment = shipment_from_mapping(doc, f"stored {shipment_id}")
        route_key = json.dumps(doc["route"], sort_keys=True)
        return replace(shipment, route=self._routes.setdefault(route_key, shipment.route))

    def lookup(self, conn: Connection, shipment_id: str) -> tuple[Shipment, CustodyState] | None:
        """A registered shipment and its last stored custody state, or ``None``."""
        ship = self._ship(conn, shipment_id)
        return None if ship is None else (ship.shipment, ship.state)

    def _seal(self, conn: Connection, seal_id: str) -> _Seal | None:
        """The seal's key and revocation from its records in the event log (never from
        the ``seals`` index, which anyone with write access could swap); ``None`` when
        it is not registered or its registration fails its hash."""
        if seal_id not in self._seals:
            led = seal_ledger(conn, seal_id, self.db.key, self.db.keyed_from())
            self._seals[seal_id] = None if led.public_key is None else _Seal(
                key=load_public_key(led.public_key, f"stored seal {seal_id}"),
                bindings=[r.shipment_id for r in cs.shipments_of_seal(conn, seal_id)],
                revoked_at_ms=led.revoked_at_ms,
                revoked_after_seq=led.revoked_after_seq,
            )
        return self._seals[seal_id]

    def monitor(
        self, conn: Connection, shipment_id: str, stored_last_seq: int | None = None
    ) -> ShipmentMonitor:
        """The shipment's monitor, rebuilt from its stored messages when not cached, or
        when ``stored_last_seq`` (the database's) shows that another writer fed it."""
        mon = self._monitors.get(shipment_id)
        if mon is not None and stored_last_seq is not None and mon.last_seq != stored_last_seq:
            self.forget()
            mon = None
        if mon is None:
            ship = self._ship(conn, shipment_id)
            if ship is None:
                raise InputError(f"shipment {shipment_id} is not registered")
            mon = ShipmentMonitor(shipment_id, ship.shipment.route, self.thresholds)
            if ship.stored_any:
                mon.feed(sorted((decode_line(line) for line in cs.message_lines(conn, shipment_id)),
                                key=lambda m: m.seq))
            self._monitors[shipment_id] = mon
        return mon

    # ------------------------------------------------------------ ingestion
    def ingest_lines(
        self, lines: Iterable[str], source: str = "-", batch_size: int = 1000,
        finish: Callable[[Connection, IngestReport], None] | None = None,
    ) -> IngestReport:
        """Ingest JSON lines (numbered from 1) in batches of ``batch_size``, one
        transaction each. The last batch's transaction also records the summary of
        rejections beyond the detail limit, and runs ``finish`` (the caller's own
        record of the call, such as who sent it): it commits with the messages it
        describes, or neither does."""
        report = IngestReport()
        call = _Call(source)
        batch: list[tuple[int, str]] = []
        pending: list[tuple[int, str]] = []
        for line_no, line in enumerate(lines, start=1):
            if not line or line.isspace():
                continue
            batch.append((line_no, line))
            if len(batch) >= batch_size:
                if pending:
                    self._ingest_batch(pending, call, report)
                pending, batch = batch, []
        if batch:
            if pending:
                self._ingest_batch(pending, call, report)
            pending = batch

        def last(conn: Connection) -> None:
            if pending:
                self._ingest_in(conn, pending, call, report)
            if call.suppressed:
                self._summarise(conn, call, report)
            if finish is not None:
                finish(conn, report)

        if pending or call.suppressed or finish is not None:
            self._write(last)
        return report

    def _ingest_batch(self, batch: list[tuple[int, str]], call: _Call,
                      report: IngestReport) -> None:
        self._write(lambda conn: self._ingest_in(conn, batch, call, report))

    def _write(self, work: Callable[[Connection], None]) -> None:
        try:
            with self.db.transaction() as conn:
                self.sync(conn)
                work(conn)
                self.refresh_verdicts(conn, self._touched)
                self.wrote(conn)
        except BaseException:
            self.forget()
            self._backfilled = False
            raise
        finally:
            self._touched.clear()
            self._appended.clear()

    def _note(self, records: list[LogRecord], ids: list[int]) -> None:
        for rec, log_id in zip(records, ids, strict=True):
            if rec.subject is not None:
                self._appended[rec.subject] = log_id

    def refresh_verdicts(self, conn: Connection, shipment_ids: Iterable[str]) -> None:
        """Rewrite the verdict rows of ``shipment_ids`` from their monitors, the security
        alerts stored on them and their seals' revocations, inside the transaction that
        wrote the records changing them (``portwatch.custody.verdict_row``)."""
        ids = sorted({sid for sid in shipment_ids if self._ship(conn, sid) is not None})
        if not ids:
            return
        security = cs.security_alerts_of(conn, ids)
        key = self.db.key
        rows = []
        for sid in ids:
            ship = self._ship(conn, sid)
            assert ship is not None
            seal = self._seal(conn, ship.seal_id)
            if not ship.doc_sha256:
                ship.doc_sha256 = vr.document_sha256(json.dumps(
                    ship.shipment.document, sort_keys=True, separators=(",", ":")))
            inputs = vr.inputs_of(sid, ship.doc_sha256, self.monitor(conn, sid),
                                  security.get(sid, []),
                                  None if seal is None else seal.revoked_at_ms)
            # a record this transaction appended is newer than any before it
            mine = max(self._appended.get(sid, 0), self._appended.get(ship.seal_id, 0))
            log_id = mine or cs.last_custody_record(conn, (sid, ship.seal_id))
            rows.append(vr.to_row(inputs, log_id, key))
        cs.put_verdicts(conn, rows)

    def sync(self, conn: Connection) -> None:
        """At the start of a write transaction: take the log head's lock (writers
        serialise here, on SQLite and PostgreSQL alike) and, when another writer has
        appended since this process last did, drop every cached registry entry and
        monitor, so this batch is judged on exactly what is stored."""
        last_id, _ = head(conn, lock=True)
        if last_id != self._known_head:
            self.forget()
            self._known_head = last_id
        if not self._backfilled:
            # shipments registered before verdict rows existed get theirs on the first
            # write after the upgrade
            self._touched.update(cs.shipments_without_verdict(conn))
            self._backfilled = True

    def wrote(self, conn: Connection) -> None:
        """At the end of a write transaction: remember the head this process left."""
        appended = conn.info.get(HEAD_INFO)
        if appended is not None:
            self._known_head = appended[0]

    def _summarise(self, conn: Connection, call: _Call, report: IngestReport) -> None:
        """One record and one alert for every rejection beyond the first
        ``REJECT_DETAIL_LIMIT`` of a kind on a shipment (or on no shipment)."""
        records, alerts, rows = [], [], []
        for (kind, shipment_id), items in sorted(call.suppressed.items(),
                                                 key=lambda kv: (kv[0][0], kv[0][1] or "")):
            digests = sorted(r.digest for r in items)
            first, last = min(r.line_no for r in items), max(r.line_no for r in items)
            proto = items[0].alert
            alert = replace(
                proto,
                alert_id=alert_id(shipment_id, kind,
                                  hashlib.sha256("".join(digests).encode()).hexdigest()),
                detail=_cut(f"via {call.source}: {len(items)} more line(s) rejected as "
                            f"{kind.value} (lines {first}-{last}), beyond the first "
                            f"{REJECT_DETAIL_LIMIT} recorded one by one"),
            )
            body = {"source": call.source, "reason": kind.value, "count": len(items),
                    "lines": [first, last], "digests": digests, "alert": alert.to_json()}
            records.append(LogRecord("custody.rejection", shipment_id,
                                     json.dumps(body, sort_keys=True)))
            alerts.append(alert)
            rows.append([(r.rejection_id, r.digest, shipment_id, kind.value) for r in items])
        ids = append(conn, records, self.clock().isoformat())
        self._note(records, ids)
        for group, log_id in zip(rows, ids, strict=True):
            cs.add_rejections(conn, [(*row, log_id) for row in group])
        known = cs.existing_alert_ids(conn, [a.alert_id for a in alerts])
        new = [(a, i) for a, i in zip(alerts, ids, strict=True) if a.alert_id not in known]
        cs.add_alerts(conn, [a for a, _ in new], ["verifier"] * len(new), [i for _, i in new])
        self._touched.update(a.shipment_id for a in alerts if a.shipment_id)
        report.alerts_raised += len(new)
        call.suppressed.clear()

    def _ingest_in(
        self, conn: Connection, batch: list[tuple[int, str]], call: _Call, report: IngestReport
    ) -> None:
        now = self.clock()
        now_ms = to_ms(now)
        report.lines += len(batch)
        security: list[_Reject] = []
        reject = self._rejecter(call.source, report, security)
        decoded = self._decode(conn, batch, reject)
        self._prefetch(conn, decoded)
        for _, m in decoded:
            if m.seal_id not in self._max_seq and self._seal(conn, m.seal_id) is not None:
                self._max_seq[m.seal_id] = cs.max_seq(conn, m.seal_id)
        stored = cs.stored_digests(conn, {
            (m.seal_id, m.seq) for _, m in decoded if m.seq <= self._max_seq.get(m.seal_id, -1)
        })
        in_batch: dict[tuple[str, int], str] = {}
        accepted: list[SealMessage] = []
        seals, ships = self._seals, self._ships
        for line_no, m in decoded:
            key = (m.seal_id, m.seq)
            prior = in_batch.get(key) or stored.get(key)
            if prior == m.digest:
                report.duplicates += 1
                continue
            # the caches answer almost every time; the methods load what they miss
            seal = seals[m.seal_id] if m.seal_id in seals else self._seal(conn, m.seal_id)
            named = (ships[m.shipment_id] if m.shipment_id in ships
                     else self._ship(conn, m.shipment_id))
            if not self._admit(conn, line_no, m, seal, named, prior, now_ms, reject):
                continue
            assert named is not None
            if m.kind is SealEventKind.ARMED and (
                named.armed_seq is None or m.seq < named.armed_seq
            ):
                named.armed_seq, named.armed_at_ms = m.seq, m.at_ms
            in_batch[key] = m.digest
            accepted.append(m)
        self._persist(conn, accepted, security, now.isoformat(), report, call)
        for m in accepted:
            if m.seq > self._max_seq.get(m.seal_id, -1):
                self._max_seq[m.seal_id] = m.seq

    def _rejecter(self, source: str, report: IngestReport, security: list[_Reject]
                  ) -> Callable[..., None]:
        """The function that rejects one line: a ``Rejection`` in the report and a
        security alert to record (minor on a shipment when unauthenticated)."""

        def reject(line_no: int, line: str, digest: str, kind: AlertKind, detail: str,
                   shipment_id: str | None, seal_id: str | None,
                   sev: Severity = Severity.CRITICAL, at_ms: int | None = None) -> None:
            detail = _cut(detail)
            report.rejected.append(Rejection(line_no, kind, detail, shipment_id, seal_id))
            if kind in UNAUTHENTICATED and shipment_id is not None:
                # not evidence about the container: the channel is under attack
                sev = Severity.MINOR
            ship = self._ships.get(shipment_id) if shipment_id else None
            mon = self._monitors.get(shipment_id) if shipment_id else None
            state = mon.state if mon else (ship.state if ship else CustodyState.REGISTERED)
            alert = Alert(
                alert_id=alert_id(shipment_id, kind, digest),
                kind=kind,
                severity=sev,
                at=None if at_ms is None else datetime.fromtimestamp(at_ms / 1000, UTC),
                shipment_id=shipment_id,
                seal_id=seal_id,
                detail=_cut(f"via {source}: {detail}"),
                after_border=state in (CustodyState.CROSSED, CustodyState.DELIVERED),
            )
            security.append(_Reject(line_no, digest, line[:_LINE_CHARS], alert))

        return reject

    def _decode(self, conn: Connection, batch: list[tuple[int, str]],
                reject: Callable[..., None]) -> list[tuple[int, SealMessage]]:
        """Decode each line alone; a line that is not a seal message is one rejection."""
        decoded: list[tuple[int, SealMessage]] = []
        for line_no, line in batch:
            try:
                decoded.append((line_no, decode_line(line)))
            except (InputError, ValueError, RecursionError) as exc:
                seal_id, shipment_id = attribution(line)
                known = shipment_id if shipment_id and self._ship(conn, shipment_id) else None
                digest = hashlib.sha256(line.encode("utf-8", "replace")).hexdigest()
                if not isinstance(exc, InputError):
                    exc = InputError(f"unreadable ({type(exc).__name__})")
                reject(line_no, line, digest, AlertKind.MALFORMED, f"line {line_no}: {exc}",
                       known, seal_id, Severity.MAJOR)
        return decoded

    def _admit(self, conn: Connection, line_no: int, m: SealMessage, seal: _Seal | None,
               named: _Ship | None, prior: str | None, now_ms: int,
               reject: Callable[..., None]) -> bool:
        """Every check of a message that is not a duplicate; ``False`` after rejecting it."""
        named_id = m.shipment_id if named else None
        if seal is None:
            reject(line_no, m.line, m.digest, AlertKind.UNKNOWN_SEAL,
                   f"seal {m.seal_id} is not registered", named_id, m.seal_id, at_ms=m.at_ms)
            return False
        try:
            seal.key.verify(m.signature, m.signed_bytes)
        except InvalidSignature:
            reject(line_no, m.line, m.digest, AlertKind.BAD_SIGNATURE,
                   f"seq {m.seq}: signature does not verify with seal {m.seal_id}'s key",
                   named_id, m.seal_id, at_ms=m.at_ms)
            return False
        if m.at_ms > now_ms + self.thresholds.future_skew_s * 1000:
            reject(line_no, m.line, m.digest, AlertKind.FUTURE_TIMESTAMP,
                   f"seq {m.seq}: stamped {(m.at_ms - now_ms) / 1000:.0f} s in the future",
                   named_id, m.seal_id, at_ms=m.at_ms)
            return False
        if seal.revoked_at_ms is not None and seal.revoked(m):
            reject(line_no, m.line, m.digest, AlertKind.REVOKED_KEY,
                   f"seq {m.seq}: signed with seal {m.seal_id}'s key after its revocation",
                   named_id, m.seal_id, at_ms=m.at_ms)
            return False
        if named is None or named.seal_id != m.seal_id:
            self._misbound(conn, line_no, m, seal, named, reject)
            return False
        closed = self._closed(conn, m, seal)
        if closed is not None:
            self._reject_closed(line_no, m, seal, closed, reject)
            return False
        if prior is not None:
            reject(line_no, m.line, m.digest, AlertKind.EQUIVOCATION,
                   f"seq {m.seq} already used by seal {m.seal_id} for another message",
                   m.shipment_id, m.seal_id, at_ms=m.at_ms)
            return False
        if named.armed_seq is not None and m.seq < named.armed_seq:
            reject(line_no, m.line, m.digest, AlertKind.REPLAY,
                   f"seq {m.seq} is older than the arming of {m.shipment_id} "
                   f"(seq {named.armed_seq})", m.shipment_id, m.seal_id, at_ms=m.at_ms)
            return False
        return True

    def _closed(self, conn: Connection, m: SealMessage, seal: _Seal) -> str | None:
        """Why a message for one of the seal's shipments is refused as closed, or
        ``None``: a shipment no longer bound to its seal accepts only late messages
        inside its own history, and a delivered one only its opening at the dock."""
        current = seal.bindings[-1] if seal.bindings else None
        mon = self._monitors.get(m.shipment_id)
        if m.shipment_id == current and (
            mon.closed_seq is None if mon is not None
            else (ship := self._ships.get(m.shipment_id)) is not None
            and ship.state is not CustodyState.DELIVERED
        ):
            return None  # the common case: the seal's live shipment, not yet disarmed
        mon = self.monitor(conn, m.shipment_id)
        if m.shipment_id != current:
            cur = self._ship(conn, current) if current else None
            beyond = cur is not None and cur.armed_seq is not None and m.seq >= cur.armed_seq
            if mon.state is CustodyState.DELIVERED or beyond:
                return (f"shipment {m.shipment_id} is closed: seal {m.seal_id} is now bound "
                        f"to {current}")
            return None
        return mon.after_close(m)

    def _reject_closed(self, line_no: int, m: SealMessage, seal: _Seal, reason: str,
                       reject: Callable[..., None]) -> None:
        """A valid signature for a closed shipment: the key is in use where it should not
        be (leaked, or a second device), so the seal's current shipment is suspect too."""
        reject(line_no, m.line, m.digest, AlertKind.REPLAY, f"seq {m.seq}: {reason}",
               m.shipment_id, m.seal_id, at_ms=m.at_ms)
        current = seal.bindings[-1] if seal.bindings else None
        if current is not None and current != m.shipment_id:
            reject(line_no, m.line, m.digest, AlertKind.CLONE,
                   f"seal {m.seal_id}'s key signed seq {m.seq} for closed shipment "
                   f"{m.shipment_id}: its key is in use elsewhere", current, m.seal_id,
                   at_ms=m.at_ms)

    def _misbound(self, conn: Connection, line_no: int, m: SealMessage, seal: _Seal,
                  named: _Ship | None, reject: Callable[..., None]) -> None:
        """A valid signature on a shipment the seal is not bound to: a replay of an older
        trip when it predates the arming of the seal's current shipment, else a clone."""
        current = self._ship(conn, seal.bindings[-1]) if seal.bindings else None
        current_id = seal.bindings[-1] if seal.bindings else None
        older = current is not None and current.armed_seq is not None and (
            m.seq < current.armed_seq or m.at_ms < (current.armed_at_ms or 0)
        )
        kind = AlertKind.REPLAY if older else AlertKind.CLONE
        what = "an older trip's message" if older else "the seal's identity used elsewhere"
        reject(line_no, m.line, m.digest, kind,
               f"seal {m.seal_id} signed seq {m.seq} for {m.shipment_id}, but is bound to "
               f"{current_id or 'no shipment'}: {what}", current_id, m.seal_id, at_ms=m.at_ms)
        if named is not None and m.shipment_id != current_id:
            reject(line_no, m.line, m.digest, AlertKind.CLONE,
                   f"seal {m.seal_id} is not bound to {m.shipment_id} "
                   f"(its seal is {named.seal_id})", m.shipment_id, m.seal_id, at_ms=m.at_ms)

    def _persist(
        self,
        conn: Connection,
        accepted: list[SealMessage],
        security: list[_Reject],
        recorded_at: str,
        report: IngestReport,
        call: _Call,
    ) -> None:
        by_ship: dict[str, list[SealMessage]] = {}
        for m in accepted:
            by_ship.setdefault(m.shipment_id, []).append(m)
        raised, retracted = self._monitor_batch(conn, by_ship)
        fresh_security = self._fresh_rejections(conn, security, call, report)
        records = [LogRecord("seal.message", m.shipment_id, m.line) for m in accepted]
        records += [LogRecord("custody.rejection", r.alert.shipment_id, json.dumps(
            {"source": call.source, "line_no": r.line_no, "reason": r.alert.kind.value,
             "detail": r.alert.detail, "line": r.line, "digest": r.digest,
             "alert": r.alert.to_json()},
            sort_keys=True)) for r in fresh_security]
        records += [LogRecord("custody.alert", a.shipment_id, json.dumps(a.to_json(),
                                                                         sort_keys=True))
                    for a in raised]
        records += [LogRecord("custody.alert_retracted", sid,
                              json.dumps({"alert_id": i}, sort_keys=True)) for sid, i in retracted]
        ids = append(conn, records, recorded_at)
        self._note(records, ids)
        n_acc, n_sec = len(accepted), len(fresh_security)
        cs.add_messages(conn, [
            (m.seal_id, m.seq, m.shipment_id, m.at_ms, m.digest, log_id)
            for m, log_id in zip(accepted, ids[:n_acc], strict=True)
        ])
        cs.remove_alerts(conn, [i for _, i in retracted])
        sec_ids = ids[n_acc : n_acc + n_sec]
        cs.add_rejections(conn, [(r.rejection_id, r.digest, r.alert.shipment_id,
                                  r.alert.kind.value, i)
                                 for r, i in zip(fresh_security, sec_ids, strict=True)])
        known = cs.existing_alert_ids(conn, [r.alert.alert_id for r in fresh_security])
        new_sec = [(r.alert, i) for r, i in zip(fresh_security, sec_ids, strict=True)
                   if r.alert.alert_id not in known]
        cs.add_alerts(conn, [a for a, _ in new_sec], ["verifier"] * len(new_sec),
                      [i for _, i in new_sec])
        cs.add_alerts(conn, raised, ["monitor"] * len(raised),
                      ids[n_acc + n_sec : n_acc + n_sec + len(raised)])
        progress = []
        for shipment_id in by_ship:
            mon = self._monitors[shipment_id]
            ship = self._ships[shipment_id]
            if ship is not None:
                ship.state, ship.stored_any = mon.state, True
            progress.append({"shipment_id": shipment_id, "state": mon.state.value,
                             "armed_seq": mon.armed_seq, "armed_at_ms": mon.armed_at_ms,
                             "last_seq": mon.last_seq})
        cs.update_progress(conn, progress)
        self._touched.update(by_ship)
        self._touched.update(r.alert.shipment_id for r in fresh_security
                             if r.alert.shipment_id)
        report.accepted += n_acc
        report.alerts_raised += len(raised) + len(new_sec)
        report.alerts_retracted += len(retracted)
        report.shipments.update(by_ship)
        report.shipments.update(r.alert.shipment_id for r in fresh_security
                                if r.alert.shipment_id)

    def _monitor_batch(self, conn: Connection, by_ship: dict[str, list[SealMessage]]
                       ) -> tuple[list[Alert], list[tuple[str, str]]]:
        """Feed each shipment's accepted messages to its monitor (fixes located in one
        vectorised call per route); a message older than what a monitor has seen
        rebuilds it from every stored message. Returns the alerts raised and the ids of
        those retracted."""
        raised: list[Alert] = []
        retracted: list[tuple[str, str]] = []
        by_route: dict[int, list[str]] = {}
        incremental: set[str] = set()
        for shipment_id, msgs in by_ship.items():
            msgs.sort(key=lambda m: m.seq)
            mon = self.monitor(conn, shipment_id)
            if msgs[0].seq > mon.last_seq:
                by_route.setdefault(id(mon.plan), []).append(shipment_id)
                incremental.add(shipment_id)
        for group in by_route.values():
            plan = self._monitors[group[0]].plan
            geo = fix_geometry(plan, [m for sid in group for m in by_ship[sid]])
            start = 0
            for sid in group:
                n_fix = sum(1 for m in by_ship[sid] if m.lat_e7 is not None)
                mon = self._monitors[sid]
                before = set(mon.alerts)
                mon.feed(by_ship[sid], geo.take(start, start + n_fix))
                start += n_fix
                raised.extend(a for i, a in mon.alerts.items() if i not in before)
        for shipment_id, msgs in by_ship.items():
            if shipment_id in incremental:
                continue
            # a message older than what the monitor has seen: rebuild in sequence order
            mon = self._monitors[shipment_id]
            before = set(mon.alerts)
            stored = [decode_line(line) for line in cs.message_lines(conn, shipment_id)]
            fresh = ShipmentMonitor(shipment_id, mon.plan, self.thresholds)
            fresh.feed(sorted([*stored, *msgs], key=lambda m: m.seq))
            self._monitors[shipment_id] = fresh
            retracted.extend((shipment_id, i) for i in before if i not in fresh.alerts)
            raised.extend(a for i, a in fresh.alerts.items() if i not in before)
        return raised, retracted

    def _fresh_rejections(self, conn: Connection, security: list[_Reject], call: _Call,
                          report: IngestReport) -> list[_Reject]:
        """The rejections to record one by one: not seen before (a line delivered again
        is recognised, not classified again), and within the first
        ``REJECT_DETAIL_LIMIT`` of their kind and shipment in this call; the others are
        summarised at the end of the call."""
        if not security:
            return []
        known = cs.known_rejections(conn, [r.rejection_id for r in security]) | call.seen
        fresh = []
        for r in security:
            rid = r.rejection_id
            if rid in known:
                report.repeated += 1
                continue
            known.add(rid)
            call.seen.add(rid)
            key = (r.alert.kind, r.alert.shipment_id)
            call.counts[key] += 1
            if call.counts[key] <= REJECT_DETAIL_LIMIT:
                fresh.append(r)
            else:
                call.suppressed.setdefault(key, []).append(r)
        return fresh


__all__ = ["IngestReport", "Ingestor", "Rejection"]
