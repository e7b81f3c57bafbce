"""Two ingestions at once on one SQLite file give exactly the verdicts of one
sequential ingestion, and ingesting a file again changes nothing."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portwatch.custody.registry import shipment_from_mapping
from portwatch.custody.service import CustodyService
from portwatch.custody.thresholds import Thresholds
from portwatch.custody.tripgen import Attack, simulate_trip
from portwatch.store.anchor import Anchor
from portwatch.store.database import Database

from .conftest import NOW

TRIPS = [simulate_trip(np.random.default_rng(40 + k), a, trip_no=k)
         for k, a in enumerate((Attack.NONE, Attack.LONG_STOP, Attack.NONE, Attack.FORGERY,
                                Attack.NONE, Attack.NONE))]
LINES = sorted((line for t in TRIPS for line in t.lines),
               key=lambda line: line[line.index('"at":"') + 6:][:23])


def _svc(path: Path) -> CustodyService:
    return CustodyService(Database(path, Anchor.beside(path)), Thresholds(), clock=lambda: NOW)


def _registered(path: Path) -> CustodyService:
    svc = _svc(path)
    for t in TRIPS:
        svc.register(shipment_from_mapping(t.shipment))
    return svc


def _outcome(svc: CustodyService) -> dict:
    out = {}
    for t in TRIPS:
        v = svc.verdict(t.shipment_id, NOW)
        stored = sorted((a.kind.value, a.severity.value) for a in svc.alerts(t.shipment_id))
        out[t.shipment_id] = (v.verdict, v.reasons,
                              sorted((a.kind.value, a.severity.value) for a in v.alerts),
                              stored, svc.status(t.shipment_id).messages)
    assert svc.check().ok, svc.check().problems
    return out


def _sequential(tmp_path: Path) -> dict:
    svc = _registered(tmp_path / "seq.db")
    svc.ingest(LINES, batch_size=50)
    return _outcome(svc)


def _ingest(path: str, lines: list[str]) -> None:
    _svc(Path(path)).ingest(lines, batch_size=50)


def test_two_processes_on_one_file_equal_one_sequential_ingest(tmp_path):
    expected = _sequential(tmp_path)
    path = tmp_path / "par.db"
    _registered(path)
    ctx = multiprocessing.get_context("fork")
    halves = [LINES[0::2], LINES[1::2]]
    procs = [ctx.Process(target=_ingest, args=(str(path), h)) for h in halves]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert _outcome(_svc(path)) == expected


def test_two_cli_ingests_of_the_same_file_at_once(tmp_path):
    expected = _sequential(tmp_path)
    path = tmp_path / "cli.db"
    _registered(path)
    events = tmp_path / "events.jsonl"
    events.write_text("".join(line + "\n" for line in LINES))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, "-m", "portwatch", "custody", "ingest", str(events), "--db",
           str(path), "--batch-size", "50"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-2000:]
    assert _outcome(_svc(path)) == expected


def test_ingesting_a_file_again_changes_nothing(tmp_path):
    svc = _registered(tmp_path / "pw.db")
    junk = ["{not json", '{"seal_id":"SEAL-NOPE"}']
    first = svc.ingest([*LINES, *junk])
    records = svc.check().records
    before = _outcome(svc)
    again = svc.ingest([*LINES, *junk])
    assert again.accepted == 0 and again.alerts_raised == 0
    assert again.duplicates == first.accepted + first.duplicates
    assert again.repeated == len(again.rejected)
    assert svc.check().records == records
    assert _outcome(svc) == before


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), batch=st.integers(5, 200))
def test_concurrent_ingestion_equals_sequential(tmp_path_factory, seed, batch):
    folder = tmp_path_factory.mktemp("conc")
    expected = _sequential(folder)
    path = folder / "threads.db"
    _registered(path)
    rng = np.random.default_rng(seed)
    owner = rng.integers(0, 2, len(LINES))
    parts = [[line for line, o in zip(LINES, owner, strict=True) if o == k] for k in (0, 1)]
    errors: list[BaseException] = []

    def work(lines: list[str]) -> None:
        try:
            _svc(path).ingest(lines, batch_size=batch)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(p,)) for p in parts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert _outcome(_svc(path)) == expected
