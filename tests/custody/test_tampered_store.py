"""Someone with write access to the database: every verdict is derived from the
hash-chained log, the chain is keyed and checkpointed outside the database, and
``audit`` names every edited, deleted or inserted row."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from portwatch.cli.main import run
from portwatch.custody.keys import private_key_from_seed
from portwatch.custody.registry import shipment_from_mapping
from portwatch.custody.service import CustodyService
from portwatch.custody.thresholds import Thresholds
from portwatch.domain.custody import Verdict
from portwatch.store.anchor import Anchor
from portwatch.store.database import Database
from portwatch.store.eventlog import record_hash
from portwatch.store.schema import (
    alerts,
    event_log,
    log_head,
    metadata,
    seals,
)

from .conftest import NOW, shipment_doc, straight_trip

STRANGER = private_key_from_seed(b"\x09" * 32)


def _svc(path: Path) -> CustodyService:
    return CustodyService(Database(path, Anchor.beside(path)), Thresholds(), clock=lambda: NOW)


def _broken_trip(tmp_path, key, make_line) -> tuple[CustodyService, Path]:
    path = tmp_path / "pw.db"
    svc = _svc(path)
    svc.register(shipment_from_mapping(shipment_doc(key)))
    lines = straight_trip(make_line)
    lines.insert(6, make_line(99, 330, "tamper", 32.53))  # renumbered below
    lines = [make_line(i + 1, 60.0 * i if i != 6 else 330, json.loads(x)["kind"],
                       json.loads(x)["lat_e7"] / 1e7) for i, x in enumerate(lines)]
    svc.ingest(lines)
    assert svc.verdict("SHP-T1").verdict is Verdict.BROKEN
    return svc, path


def test_deleting_the_alerts_row_of_a_broken_trip_does_not_clean_it(tmp_path, key, make_line):
    svc, _ = _broken_trip(tmp_path, key, make_line)
    with svc.db.engine.begin() as conn:
        conn.execute(delete(alerts))
    v = _svc(tmp_path / "pw.db").verdict("SHP-T1")
    assert v.verdict is Verdict.BROKEN  # from the verdict row, not the alerts table
    problems = svc.check().problems
    assert problems and all(p.startswith("alerts: row ") for p in problems)


def test_swapping_a_seals_key_lets_no_forgery_in(tmp_path, key, make_line):
    from portwatch.custody.keys import public_key_b64

    path = tmp_path / "pw.db"
    svc = _svc(path)
    svc.register(shipment_from_mapping(shipment_doc(key)))
    lines = straight_trip(make_line)
    svc.ingest(lines[:5])
    with svc.db.engine.begin() as conn:
        conn.execute(update(seals).values(public_key=public_key_b64(STRANGER)))
    fresh = _svc(path)
    forged = make_line(6, 300, "position", 32.527, signer=STRANGER)
    report = fresh.ingest([forged])
    assert report.accepted == 0
    assert any("seals: row SEAL-T1 differs from the log in public_key" in p
               for p in fresh.check().problems)


def test_rewriting_the_log_without_the_key_is_found(tmp_path, key, make_line):
    from portwatch.custody.keys import public_key_b64

    path = tmp_path / "pw.db"
    svc = _svc(path)
    svc.register(shipment_from_mapping(shipment_doc(key)))
    svc.ingest(straight_trip(make_line)[:5])
    # the attacker edits the seal's registration and recomputes the unkeyed hash chain
    with svc.db.engine.begin() as conn:
        rows = conn.execute(select(event_log).order_by(event_log.c.id)).all()
        prev = "0" * 64
        for r in rows:
            body = r.body
            if r.kind == "registry.seal":
                body = json.dumps({"public_key": public_key_b64(STRANGER),
                                   "seal_id": "SEAL-T1"}, sort_keys=True)
            from portwatch.store.eventlog import LogRecord

            h = record_hash(prev, r.id, r.recorded_at, LogRecord(r.kind, r.subject, body))
            conn.execute(update(event_log).where(event_log.c.id == r.id)
                         .values(body=body, prev_hash=prev, hash=h))
            prev = h
        conn.execute(update(log_head).values(last_hash=prev))
    fresh = _svc(path)
    report = fresh.ingest([make_line(6, 300, "position", 32.527, signer=STRANGER)])
    assert report.accepted == 0
    assert any("was altered" in p for p in fresh.check().problems)
    assert fresh.verdict("SHP-T1").verdict is not Verdict.CLEAN


def test_truncating_the_tail_and_rewriting_the_head_is_found(tmp_path, key, make_line):
    path = tmp_path / "pw.db"
    svc = _svc(path)
    svc.register(shipment_from_mapping(shipment_doc(key)))
    lines = straight_trip(make_line)
    svc.ingest(lines[:8], batch_size=4)
    svc.ingest([make_line(9, 480, "tamper", 32.54)])
    with svc.db.engine.begin() as conn:
        last = conn.execute(select(log_head.c.last_id)).scalar_one()
        keep = conn.execute(select(event_log.c.id, event_log.c.hash)
                            .where(event_log.c.kind == "seal.message")
                            .order_by(event_log.c.id.desc()).limit(2)).all()[1]
        conn.execute(delete(event_log).where(event_log.c.id > keep.id))
        conn.execute(update(log_head).values(last_id=keep.id, last_hash=keep.hash))
        assert keep.id < last
    fresh = _svc(path)
    problems = fresh.check().problems
    assert any("truncated or rolled back" in p for p in problems)
    v = fresh.verdict("SHP-T1", NOW)
    assert v.verdict is not Verdict.CLEAN and any("audit" in r for r in v.reasons)


def test_cli_audit_names_the_problem_and_exits_2(tmp_path, key, make_line, capsys):
    svc, path = _broken_trip(tmp_path, key, make_line)
    assert run(["custody", "audit", "--db", str(path)]) == 0
    capsys.readouterr()
    with svc.db.engine.begin() as conn:
        conn.execute(update(alerts).values(severity="minor"))
    assert run(["custody", "audit", "--db", str(path), "--json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert not doc["ok"] and "severity" in doc["problems"][0]


# ------------------------------------------------------------------ property
_TABLES = ("event_log", "log_head", "parties", "seals", "shipments", "seal_messages",
           "alerts", "rejections", "custody_verdicts")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    from .conftest import T0_MS  # noqa: F401

    folder = tmp_path_factory.mktemp("template")
    path = folder / "pw.db"
    key = private_key_from_seed(bytes(range(32)))
    svc = _svc(path)
    svc.register(shipment_from_mapping(shipment_doc(key)))
    from portwatch.custody.envelope import body_fields
    from portwatch.custody.keys import sign_fields

    from .conftest import T0_MS as t0
    from .conftest import north

    def line(seq, t, kind, lat, signer=key):
        return sign_fields(signer, body_fields(
            seal_id="SEAL-T1", shipment_id="SHP-T1", seq=seq, at_ms=t0 + int(t * 1000),
            kind=kind, lat=lat, lon=-116.95, accuracy_m=8.0, battery_pct=90.0))

    lines = [line(i + 1, 60.0 * i, "armed" if i == 0 else "position", north(32.50, 600 * i))
             for i in range(8)]
    lines += [line(20, 600, "position", 32.55)]  # a seq gap: an alert
    lines += [line(21, 660, "position", 32.55, signer=STRANGER)]  # a rejection
    svc.ingest(lines)
    svc.revoke("SEAL-T1")
    assert svc.check().ok
    svc.db.close()
    return path


def _copy(template: Path, dest: Path) -> Path:
    for f in template.parent.iterdir():
        shutil.copy(f, dest / f.name)
    return dest / template.name


def _other(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 0.5
    if value is None:
        return 7
    return str(value) + "x"


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(table=st.sampled_from(_TABLES), op=st.sampled_from(["edit", "delete", "insert"]),
       pick=st.integers(0, 10_000), column=st.integers(0, 20))
def test_any_single_row_edit_deletion_or_insertion_is_found(template, tmp_path_factory,
                                                            table, op, pick, column):
    path = _copy(template, tmp_path_factory.mktemp("case"))
    svc = _svc(path)
    t = metadata.tables[table]
    try:
        _tamper(svc, t, op, pick, column)
    except IntegrityError:
        assume(False)  # the database itself refused the change: nothing to detect
    assert not svc.check().ok, (table, op)


def _tamper(svc, t, op: str, pick: int, column: int) -> None:
    with svc.db.engine.begin() as conn:
        rows = conn.execute(select(t)).all()
        row = rows[pick % len(rows)]
        pk = [c.name for c in t.primary_key.columns]
        where = [t.c[name] == row._mapping[name] for name in pk]
        if op == "delete":
            conn.execute(delete(t).where(*where))
        elif op == "edit":
            col = t.columns[column % len(t.columns)]
            conn.execute(update(t).where(*where).values({col.name: _other(row._mapping[col.name])}))
        else:
            new = dict(row._mapping)
            for name in pk:
                new[name] = _other(new[name])
            conn.execute(insert(t).values(new))
