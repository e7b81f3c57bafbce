"""The chain-of-custody service over one database: register shipments, ingest seal
messages, and answer status, verdict, alerts and audit."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from portwatch.custody import verdict_row as vr
from portwatch.custody.audit import audit_store, index_problems
from portwatch.custody.envelope import to_ms
from portwatch.custody.ingest import Ingestor, IngestReport, _now_utc
from portwatch.custody.ledger import SealLedger, log_whole, seal_ledger, shipment_ledger
from portwatch.custody.monitor import ShipmentMonitor, alert_id
from portwatch.custody.registry import Shipment
from portwatch.custody.thresholds import Thresholds
from portwatch.domain.custody import Alert, AlertKind, CustodyState, CustodyVerdict, Severity
from portwatch.domain.errors import AuditError, ConflictError, NotFoundError
from portwatch.store import custody_store as cs
from portwatch.store.database import Database
from portwatch.store.eventlog import AuditReport, LogRecord, append


def _canonical(doc: object) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class _Derived:
    """A shipment as the event log has it."""

    shipment: Shipment
    monitor: ShipmentMonitor
    inputs: vr.VerdictInputs
    seal: SealLedger
    integrity: list[str]


@dataclass(frozen=True, slots=True)
class ShipmentStatus:
    """Where a shipment is and what its seal last said."""

    shipment_id: str
    container_id: str
    seal_id: str
    state: CustodyState
    messages: int
    last_fix_at: datetime | None
    last_lat: float | None
    last_lon: float | None
    progress_m: float
    route_length_m: float
    alerts: int
    as_of: datetime
    silent_s: float | None
    """Seconds without a position up to ``as_of``; ``None`` unless armed and undelivered."""
    signal_lost: Severity | None
    """The severity of the derived ``signal_lost`` alert as of ``as_of``, if any."""

    def to_json(self) -> dict[str, object]:
        return {
            "shipment_id": self.shipment_id,
            "container_id": self.container_id,
            "seal_id": self.seal_id,
            "state": self.state.value,
            "messages": self.messages,
            "last_fix_at": None if self.last_fix_at is None else self.last_fix_at.isoformat(),
            "last_lat": self.last_lat,
            "last_lon": self.last_lon,
            "progress_m": round(self.progress_m, 1),
            "route_length_m": round(self.route_length_m, 1),
            "alerts": self.alerts,
            "as_of": self.as_of.isoformat().replace("+00:00", "Z"),
            "silent_s": None if self.silent_s is None else round(self.silent_s, 1),
            "signal_lost": None if self.signal_lost is None else self.signal_lost.value,
        }


class CustodyService:
    """Registration, ingestion and queries of the chain of custody."""

    def __init__(
        self,
        db: Database,
        thresholds: Thresholds | None = None,
        clock: Callable[[], datetime] = _now_utc,
    ) -> None:
        self.db = db
        self.clock = clock
        self.ingestor = Ingestor(db, thresholds, clock)
        self._monitors: dict[str, tuple[tuple[int, int], ShipmentMonitor]] = {}
        self._documents: dict[str, Shipment] = {}
        self._shas: dict[str, str] = {}
        self._anchor_seen: tuple[tuple[int, int], tuple[int, str] | None] | None = None

    def register(self, shipment: Shipment) -> bool:
        """Register a shipment with its seal and parties; ``False`` when the very same
        shipment is already registered. A different shipment under the same id, or a
        known seal with a different key, is a ``ConflictError``."""
        doc = _canonical(shipment.document)
        with self.db.transaction() as conn:
            self.ingestor.sync(conn)
            row = cs.shipment_row(conn, shipment.shipment_id)
            if row is not None:
                if _canonical(json.loads(row.document)) == doc:
                    return False
                raise ConflictError(
                    f"shipment {shipment.shipment_id}: already registered with different content"
                )
            key = cs.seal_key(conn, shipment.seal.seal_id)
            if key is not None and key != shipment.seal.public_key:
                raise ConflictError(
                    f"seal {shipment.seal.seal_id}: already registered with a different key"
                )
            records: list[tuple[str, LogRecord]] = []
            if key is None:
                seal_doc = {"seal_id": shipment.seal.seal_id,
                            "public_key": shipment.seal.public_key}
                seal_rec = LogRecord("registry.seal", shipment.seal.seal_id, _canonical(seal_doc))
                records.append(("seal", seal_rec))
            for party in shipment.document["parties"]:
                pdoc = _canonical(party)
                if cs.party_document(conn, party["party_id"]) != pdoc:
                    records.append((party["party_id"],
                                    LogRecord("registry.party", party["party_id"], pdoc)))
            records.append(("shipment", LogRecord("registry.shipment", shipment.shipment_id, doc)))
            clones = [] if key is None else self._live_bindings(conn, shipment)
            for alert in clones:
                body = _canonical({"reason": alert.kind.value, "detail": alert.detail,
                                   "alert": alert.to_json()})
                records.append(("alert", LogRecord("custody.security", alert.shipment_id, body)))
            ids = append(conn, [r for _, r in records], self.clock().isoformat())
            pending = iter(clones)
            for (what, rec), log_id in zip(records, ids, strict=True):
                if what == "seal":
                    cs.add_seal(conn, shipment.seal.seal_id, shipment.seal.public_key, log_id)
                elif what == "shipment":
                    cs.add_shipment(conn, shipment.shipment_id, shipment.seal.seal_id, doc,
                                    log_id, shipment.route.port_code)
                elif what == "alert":
                    cs.add_alerts(conn, [next(pending)], ["registry"], [log_id])
                else:
                    cs.put_party(conn, what, rec.body, log_id)
            self.ingestor.drop(shipment.shipment_id, shipment.seal.seal_id)
            self.ingestor.refresh_verdicts(
                conn, [shipment.shipment_id, *(a.shipment_id for a in clones if a.shipment_id)])
            self.ingestor.wrote(conn)
        self.ingestor.registered(shipment, new_seal=key is None)
        return True

    def _live_bindings(self, conn: Connection, shipment: Shipment) -> list[Alert]:
        """``clone`` alerts on both sides when the seal is still bound to a shipment that
        is not delivered: one seal, one shipment at a time."""
        seal_id = shipment.seal.seal_id
        alerts: list[Alert] = []
        for row in cs.shipments_of_seal(conn, seal_id):
            other = row.shipment_id
            if self.ingestor.monitor(conn, other).state is CustodyState.DELIVERED:
                continue
            for on, peer in ((other, shipment.shipment_id), (shipment.shipment_id, other)):
                alerts.append(Alert(
                    alert_id=alert_id(on, AlertKind.CLONE, f"binding:{peer}"),
                    kind=AlertKind.CLONE, severity=Severity.CRITICAL, at=self.clock(),
                    shipment_id=on, seal_id=seal_id,
                    detail=f"seal {seal_id} bound to {peer} while {other} is not delivered: "
                           "one seal, two live shipments"))
        return alerts

    def revoke(self, seal_id: str, at: datetime | None = None) -> tuple[int, int]:
        """Revoke a seal's key as of ``at`` (default: the service's clock): messages
        stamped at or after it, or numbered above the highest seq stored now, are refused
        from then on. Returns (revoked_at_ms, after_seq)."""
        when = self.clock() if at is None else at
        at_ms = to_ms(when)
        with self.db.transaction() as conn:
            self.ingestor.sync(conn)
            row = cs.seal_row(conn, seal_id)
            if row is None:
                raise NotFoundError(f"seal {seal_id}: not registered")
            after_seq = cs.max_seq(conn, seal_id)
            body = _canonical({"seal_id": seal_id, "revoked_at_ms": at_ms,
                               "after_seq": after_seq})
            (log_id,) = append(conn, [LogRecord("registry.revocation", seal_id, body)],
                               self.clock().isoformat())
            cs.revoke_seal(conn, seal_id, at_ms, after_seq, log_id)
            self.ingestor.drop(None, seal_id)
            self.ingestor.refresh_verdicts(
                conn, [r.shipment_id for r in cs.shipments_of_seal(conn, seal_id)])
        self.ingestor.forget()
        return at_ms, after_seq

    def ingest(
        self, lines: Iterable[str], source: str = "-", batch_size: int = 1000,
        finish: Callable[[Connection, IngestReport], None] | None = None,
    ) -> IngestReport:
        """Ingest seal-message lines; see ``Ingestor.ingest_lines``."""
        return self.ingestor.ingest_lines(lines, source, batch_size, finish)

    def _shipment(self, shipment_id: str) -> tuple[Shipment, CustodyState]:
        with self.db.reading() as conn:
            found = self.ingestor.lookup(conn, shipment_id)
        if found is None:
            raise NotFoundError(f"shipment {shipment_id}: not registered")
        return found

    def verdict(self, shipment_id: str, as_of: datetime | None = None) -> CustodyVerdict:
        """The custody verdict of a shipment as of ``as_of`` (UTC; default: the
        service's clock): from its verdict row, kept current during ingestion, when
        that row passes its checks (``portwatch.custody.verdict_row``); else derived
        from the hash-chained event log alone: the shipment's document, its accepted
        messages (replayed through a fresh monitor) and the security alerts raised on
        it. Either way, for an armed shipment not yet delivered whose seal has been
        silent for longer than the signal-gap threshold up to ``as_of``, a derived
        ``signal_lost`` alert.

        Not ``clean`` while what it reads is inconsistent: a verdict row that fails its
        checks, or, rebuilt from the log, an edited, deleted or inserted record or index
        row of the shipment, a chain behind its anchor; the reasons name what. An edit
        that changes no verdict (an ``alerts`` row deleted) is left to ``audit``, which
        names every row. Reading a verdict writes nothing.
        """
        when = self.clock() if as_of is None else as_of
        th = self.ingestor.thresholds
        with self.db.reading() as conn:
            row = cs.verdict_row(conn, shipment_id)
            if row is None:
                raise NotFoundError(f"shipment {shipment_id}: not registered")
            fast = self._trusted(conn, row)
            if isinstance(fast, vr.VerdictInputs):
                return vr.judge(self._parse(row.shipment_document, shipment_id), fast, th,
                                when)
            return self._from_log(conn, shipment_id, when, fast)

    def verdict_from_log(self, shipment_id: str, as_of: datetime | None = None
                         ) -> CustodyVerdict:
        """The verdict rebuilt from the hash-chained log alone, ignoring the verdict row
        (what ``verdict`` falls back to; the audit compares the two)."""
        when = self.clock() if as_of is None else as_of
        with self.db.reading() as conn:
            return self._from_log(conn, shipment_id, when, None)

    def _from_log(self, conn: Connection, shipment_id: str, when: datetime,
                  row_problem: str | None) -> CustodyVerdict:
        d = self._derive(conn, shipment_id)
        integrity = d.integrity
        if row_problem is not None:
            integrity = [f"the store fails its audit ({row_problem}): run portwatch custody "
                         "audit", *integrity]
        return vr.judge(d.shipment, d.inputs, self.ingestor.thresholds, when, integrity)

    def _trusted(self, conn: Connection, row: Any) -> vr.VerdictInputs | str | None:
        """The inputs of a shipment's verdict row when it passes its checks; else why
        not (``None`` when it has no row yet)."""
        sid = row.shipment_id
        if row.log_id is None:
            return None
        inputs = vr.from_row(row, self.db.key)
        if inputs is None:
            return f"custody_verdicts row of {sid} fails its MAC"
        last = max(int(row.last_about_shipment or 0), int(row.last_about_seal or 0))
        if int(row.log_id) != last:
            return f"custody_verdicts row of {sid} is not as of its last log record"
        if inputs.document_sha256 != self._sha(row.shipment_document):
            return f"shipments row of {sid} differs from its verdict row"
        anchored = self._anchored_head()
        if anchored is not None and anchored[0] > int(row.head_id or 0):
            return f"event log truncated or rolled back: the anchor names record {anchored[0]}"
        return inputs

    def _sha(self, document: str) -> str:
        found = self._shas.get(document)
        if found is None:
            if len(self._shas) > 10_000:
                self._shas.clear()
            found = self._shas[document] = vr.document_sha256(document)
        return found

    def verdicts(self, shipment_ids: Iterable[str] | None = None,
                 as_of: datetime | None = None) -> list[CustodyVerdict]:
        """Verdicts of several shipments (default: every registered one)."""
        ids = self.shipment_ids() if shipment_ids is None else list(shipment_ids)
        return [self.verdict(sid, as_of) for sid in ids]

    def _derive(self, conn: Connection, shipment_id: str) -> _Derived:
        key, keyed_from = self.db.key, self.db.keyed_from()
        led = shipment_ledger(conn, shipment_id, key, keyed_from)
        document = led.document
        if document is None:
            # no intact registration in the log: judge by the index's copy, which the
            # integrity concern below keeps out of the express lane
            row = cs.shipment_row(conn, shipment_id)
            if row is None:
                raise NotFoundError(f"shipment {shipment_id}: not registered")
            document = row.document
            led.problems.append(f"shipment {shipment_id}: no intact registration in the log")
        shipment = self._parse(document, shipment_id)
        cache_key = (led.last_record_id, len(led.messages))
        cached = self._monitors.get(shipment_id)
        if cached is not None and cached[0] == cache_key:
            mon = cached[1]
        else:
            mon = ShipmentMonitor(shipment_id, shipment.route, self.ingestor.thresholds)
            mon.feed(led.messages)
            self._monitors[shipment_id] = (cache_key, mon)
        seal = seal_ledger(conn, shipment.seal.seal_id, key, keyed_from)
        inputs = vr.inputs_of(shipment_id, self._sha(document), mon, led.security.values(),
                              seal.revoked_at_ms)
        problems = [*led.problems, *seal.problems, *log_whole(conn, self._anchored_head())]
        problems += index_problems(conn, shipment, mon, list(inputs.alerts), led, seal)
        integrity = [] if not problems else [
            f"the store fails its audit ({problems[0]}"
            + (f"; {len(problems) - 1} more" if len(problems) > 1 else "")
            + "): run portwatch custody audit"]
        return _Derived(shipment, mon, inputs, seal, integrity)

    def _anchored_head(self) -> tuple[int, str] | None:
        """The anchor's latest checkpoint, read again only when its file changed."""
        anchor = self.db.anchor
        if anchor is None or self.db.key is None:
            return None
        try:
            st = anchor.checkpoint_path.stat()
            stamp = (st.st_size, st.st_mtime_ns)
        except OSError:
            stamp = (-1, -1)
        if self._anchor_seen is not None and self._anchor_seen[0] == stamp:
            return self._anchor_seen[1]
        cp = anchor.latest()
        found = None if cp is None else (cp.last_id, cp.last_hash)
        self._anchor_seen = (stamp, found)
        return found

    def _parse(self, document: str, shipment_id: str) -> Shipment:
        found = self._documents.get(document)
        if found is None:
            found = self.ingestor.parse_document(json.loads(document), shipment_id)
            self._documents[document] = found
        return found

    def status(self, shipment_id: str, as_of: datetime | None = None) -> ShipmentStatus:
        """State, last position, progress and silence (as of ``as_of``, default: the
        service's clock) of a shipment."""
        when = self.clock() if as_of is None else as_of
        shipment, _ = self._shipment(shipment_id)
        with self.db.reading() as conn:
            row = cs.shipment_row(conn, shipment_id)
            mon = self.ingestor.monitor(conn, shipment_id,
                                        None if row is None else row.last_seq)
            count = cs.message_count(conn, shipment_id)
            n_alerts = len(cs.alerts_of(conn, shipment_id))
        fix = mon.last_fix
        silence = mon.silence_alert(when)
        return ShipmentStatus(
            shipment_id=shipment_id,
            container_id=shipment.container_id,
            seal_id=shipment.seal.seal_id,
            state=mon.state,
            messages=count,
            last_fix_at=None if fix is None else datetime.fromtimestamp(fix[0] / 1000, tz=UTC),
            last_lat=None if fix is None else fix[1],
            last_lon=None if fix is None else fix[2],
            progress_m=mon.progress_m,
            route_length_m=shipment.route.corridor.length_m,
            alerts=n_alerts,
            as_of=when,
            silent_s=mon.silent_s(when),
            signal_lost=None if silence is None else silence.severity,
        )

    def alerts(self, shipment_id: str | None = None, unattributed: bool = False) -> list[Alert]:
        """Alerts, optionally of one shipment or only those that name no shipment."""
        if shipment_id is not None:
            self._shipment(shipment_id)  # NotFoundError for an unknown id
        with self.db.reading() as conn:
            return cs.alerts_of(conn, shipment_id, unattributed=unattributed)

    def shipment_ids(self) -> list[str]:
        with self.db.reading() as conn:
            return [r.shipment_id for r in cs.shipment_rows(conn)]

    def check(self) -> AuditReport:
        """The event log's chain and anchor, and every custody index table rebuilt from
        the log; ``problems`` names each inconsistency (empty when all is intact)."""
        return audit_store(self.db, self.ingestor.thresholds,
                           lambda doc, sid: self._parse(doc, sid))

    def audit(self) -> AuditReport:
        """``check``, raising ``AuditError`` naming the first problem."""
        report = self.check()
        if report.problems:
            raise AuditError(report.problems[0])
        return report


__all__ = ["CustodyService", "ShipmentStatus"]
