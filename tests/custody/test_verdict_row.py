"""Each shipment's verdict kept current during ingestion: the row is written in the
transaction of the messages, gives the verdict the log gives, and a row edited by
someone without the anchor's key never makes a trip look better than the log says."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from portwatch.cli.main import run
from portwatch.custody.envelope import decode_line
from portwatch.custody.registry import shipment_from_mapping
from portwatch.custody.service import CustodyService
from portwatch.custody.thresholds import Thresholds
from portwatch.custody.tripgen import Attack, simulate_trip
from portwatch.domain.custody import Verdict
from portwatch.store.anchor import Anchor
from portwatch.store.database import Database
from portwatch.store.schema import custody_verdicts, event_log

from .conftest import NOW

_RANK = {Verdict.CLEAN: 0, Verdict.REVIEW: 1, Verdict.BROKEN: 2}


def _svc(path: Path) -> CustodyService:
    return CustodyService(Database(path, Anchor.beside(path)), Thresholds(), clock=lambda: NOW)


def _row(svc: CustodyService, sid: str):
    with svc.db.reading() as conn:
        return conn.execute(
            select(custody_verdicts).where(custody_verdicts.c.shipment_id == sid)
        ).first()


def _same(a, b) -> None:
    assert (a.verdict, a.state, a.reasons) == (b.verdict, b.state, b.reasons)
    assert [x.alert_id for x in a.alerts] == [x.alert_id for x in b.alerts]


@pytest.mark.parametrize(
    "attack",
    [
        Attack.NONE,
        Attack.DOOR_OPENED,
        Attack.SILENT,
        Attack.DIVERSION,
        Attack.FORGERY,
        Attack.REPLAY,
    ],
)
def test_row_verdict_equals_the_log_verdict_at_any_time(tmp_path, attack):
    trip = simulate_trip(np.random.default_rng([5, len(attack.value)]), attack, trip_no=1)
    svc = _svc(tmp_path / "pw.db")
    svc.register(shipment_from_mapping(trip.shipment))
    svc.ingest(trip.lines, batch_size=37)  # many transactions, each refreshing the row
    sid = trip.shipment_id
    row = _row(svc, sid)
    with svc.db.reading() as conn:
        top = conn.execute(
            select(event_log.c.id)
            .where(event_log.c.subject == sid)
            .order_by(event_log.c.id.desc())
            .limit(1)
        ).scalar_one()
    assert row.log_id == top  # as of the last record about the shipment
    for as_of in (
        NOW,
        NOW + timedelta(days=400),
        trip_end(trip),
        trip_end(trip) + timedelta(minutes=20),
    ):
        _same(svc.verdict(sid, as_of), svc.verdict_from_log(sid, as_of))
    assert svc.check().ok


def trip_end(trip):
    at_ms = max(decode_line(x).at_ms for x in trip.lines)
    return datetime.fromtimestamp(at_ms / 1000, UTC)


def test_cli_ingest_keeps_the_row_current(tmp_path, capsys):
    trip = simulate_trip(np.random.default_rng(3), Attack.DOOR_OPENED, trip_no=0)
    out, db = tmp_path / "trip", str(tmp_path / "pw.db")
    out.mkdir()
    (out / "shipment.json").write_text(json.dumps(trip.shipment))
    (out / "events.jsonl").write_text("\n".join(trip.lines) + "\n")
    assert run(["custody", "register", str(out / "shipment.json"), "--db", db]) == 0
    assert run(["custody", "ingest", str(out / "events.jsonl"), "--db", db]) == 0
    capsys.readouterr()
    svc = CustodyService(Database(db, Anchor.beside(Path(db))))
    assert _row(svc, trip.shipment_id).state == "delivered"
    assert svc.verdict_from_log(trip.shipment_id).state.value == "delivered"
    assert svc.verdict(trip.shipment_id).verdict is Verdict.BROKEN
    assert svc.check().ok


def test_a_revocation_reaches_the_row_in_its_transaction(tmp_path):
    trip = simulate_trip(np.random.default_rng(4), Attack.NONE, trip_no=0)
    svc = _svc(tmp_path / "pw.db")
    svc.register(shipment_from_mapping(trip.shipment))
    svc.ingest(trip.lines)
    before = svc.verdict(trip.shipment_id, trip_end(trip))
    svc.revoke(trip.shipment["seal"]["seal_id"])
    after = svc.verdict(trip.shipment_id, trip_end(trip))
    assert any("revoked" in r for r in after.reasons)
    assert not any("revoked" in r for r in before.reasons)
    assert 'revoked_at_ms":null' not in _row(svc, trip.shipment_id).document
    assert svc.check().ok


# ------------------------------------------------------------------ tampering
def _template(
    tmp_path_factory, seed: int, attack: Attack, verdict: Verdict
) -> tuple[Path, str, object]:
    """A database holding one ingested trip whose verdict is ``verdict``."""
    trip = simulate_trip(np.random.default_rng(seed), attack, trip_no=0)
    path = tmp_path_factory.mktemp(verdict.value) / "pw.db"
    svc = _svc(path)
    svc.register(shipment_from_mapping(trip.shipment))
    svc.ingest(trip.lines)
    when = trip_end(trip)
    assert svc.verdict(trip.shipment_id, when).verdict is verdict
    svc.db.close()
    return path, trip.shipment_id, when


@pytest.fixture(scope="module")
def clean_template(tmp_path_factory) -> tuple[Path, str, object]:
    return _template(tmp_path_factory, 8, Attack.NONE, Verdict.CLEAN)


@pytest.fixture(scope="module")
def broken_template(tmp_path_factory) -> tuple[Path, str, object]:
    return _template(tmp_path_factory, 9, Attack.DOOR_OPENED, Verdict.BROKEN)


def _copy(template: Path, dest: Path) -> Path:
    for f in template.parent.iterdir():
        shutil.copy(f, dest / f.name)
    return dest / template.name


def _cleaner_document(doc: str) -> str:
    """What an attacker would write: no alerts, a fix at the crossing just now."""
    d = json.loads(doc)
    d["alerts"] = []
    d["crossing_fix_at_ms"] = (d["crossing_fix_at_ms"] or 0) + 60_000
    return json.dumps(d, sort_keys=True, separators=(",", ":"))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    which=st.sampled_from(["clean", "broken"]),
    op=st.sampled_from(["clean_alerts", "state", "log_id", "mac", "delete", "older_row"]),
)
def test_an_edited_verdict_row_never_betters_the_log_and_the_audit_names_it(
    clean_template, broken_template, tmp_path_factory, which, op
):
    template, sid, when = clean_template if which == "clean" else broken_template
    path = _copy(template, tmp_path_factory.mktemp("case"))
    svc = _svc(path)
    truth = svc.verdict_from_log(sid, when)
    with svc.db.engine.begin() as conn:
        row = conn.execute(
            select(custody_verdicts).where(custody_verdicts.c.shipment_id == sid)
        ).one()
        where = custody_verdicts.c.shipment_id == sid
        if op == "clean_alerts":
            conn.execute(
                update(custody_verdicts)
                .where(where)
                .values(document=_cleaner_document(row.document))
            )
        elif op == "state":
            other = "crossed" if row.state == "delivered" else "delivered"
            conn.execute(update(custody_verdicts).where(where).values(state=other))
        elif op == "log_id":
            conn.execute(update(custody_verdicts).where(where).values(log_id=row.log_id + 1))
        elif op == "mac":
            conn.execute(update(custody_verdicts).where(where).values(mac="0" * 64))
        elif op == "older_row":  # a replay of the row as of an earlier record
            conn.execute(update(custody_verdicts).where(where).values(log_id=row.log_id - 1))
        else:
            conn.execute(delete(custody_verdicts).where(where))
    fresh = _svc(path)
    got = fresh.verdict(sid, when)
    assert _RANK[got.verdict] >= _RANK[truth.verdict], (which, op)
    if op != "delete":
        assert got.verdict is not Verdict.CLEAN, (which, op)
        assert any("audit" in r for r in got.reasons), (which, op)
    assert any(p.startswith(f"custody_verdicts: row {sid}") for p in fresh.check().problems), (
        which,
        op,
    )
