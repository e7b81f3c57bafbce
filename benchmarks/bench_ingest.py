"""Signed seal messages ingested per second, end to end (decode, verify, monitor,
persist to a SQLite file in WAL mode), against bare Ed25519 verification of the very
same messages in the same run; and corridor checks per second."""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from benchmarks.report import machine_line, write_section
from portwatch.custody.envelope import decode_line
from portwatch.custody.example_route import OTAY_MESA_ROUTE
from portwatch.custody.keys import load_public_key
from portwatch.custody.registry import route_from_mapping, shipment_from_mapping
from portwatch.custody.service import CustodyService
from portwatch.custody.tripgen import Attack, simulate_trip
from portwatch.store import Database

SEED = 2026
TRIPS = 60
BATCH = 1000


def _stream(seed: int, trips: int) -> tuple[list[dict], list[str]]:
    rng = np.random.default_rng(seed)
    sims = [simulate_trip(rng, Attack.NONE, trip_no=i) for i in range(trips)]
    lines = [line for s in sims for line in s.lines]
    # many trucks at once: one stream in device-time order, as a gateway would see it
    lines.sort(key=lambda line: line[line.index('"at":"') + 6 :][:23])
    return [s.shipment for s in sims], lines


def _bare_verify(lines: list[str], keys: dict) -> float:
    msgs = [decode_line(line) for line in lines]
    start = time.process_time()
    for m in msgs:
        keys[m.seal_id].verify(m.signature, m.signed_bytes)
    return time.process_time() - start


def _pipeline(docs: list[dict], lines: list[str]) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "bench.db")
        svc = CustodyService(db, clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))
        for doc in docs:
            svc.register(shipment_from_mapping(doc))
        start = time.process_time()
        report = svc.ingest(lines, "bench", batch_size=BATCH)
        elapsed = time.process_time() - start
        db.close()
    return elapsed, report.accepted + report.duplicates


def _corridor_rates() -> tuple[float, float, int]:
    plan = route_from_mapping(OTAY_MESA_ROUTE, "route")
    rng = np.random.default_rng(SEED)
    c = plan.corridor
    idx = rng.integers(0, len(c.lat), 100_000)
    lat = c.lat[idx] + rng.normal(0, 0.003, idx.size)
    lon = c.lon[idx] + rng.normal(0, 0.003, idx.size)
    start = time.process_time()
    for i in range(0, idx.size, 1000):
        c.locate(lat[i : i + 1000], lon[i : i + 1000])
    batched = idx.size / (time.process_time() - start)
    start = time.process_time()
    for i in range(2000):
        c.locate(lat[i : i + 1], lon[i : i + 1])
    single = 2000 / (time.process_time() - start)
    return batched, single, len(c.segment_m)


def main() -> None:
    docs, lines = _stream(SEED, TRIPS)
    keys = {d["seal"]["seal_id"]: load_public_key(d["seal"]["public_key"]) for d in docs}
    bare_runs, pipe_runs = [], []
    for _ in range(2):
        bare_runs.append(_bare_verify(lines, keys))
        elapsed, handled = _pipeline(docs, lines)
        pipe_runs.append(elapsed)
    n = len(lines)
    bare_rate = n / statistics.median(bare_runs)
    pipe_rate = n / statistics.median(pipe_runs)
    ratio = pipe_rate / bare_rate
    batched, single, segments = _corridor_rates()
    print(f"bare verify {bare_rate:,.0f} msg/s, pipeline {pipe_rate:,.0f} msg/s "
          f"({ratio:.0%}); corridor {batched:,.0f}/s batched, {single:,.0f}/s one by one")
    write_section(
        "ingest",
        f"""## Custody ingestion (`python -m benchmarks ingest`)

{n:,} signed seal messages of {TRIPS} simulated trips on the Otay Mesa example route
(seed {SEED}), in device-time order, ingested in batches of {BATCH} on one core into a
SQLite file (WAL): decode, Ed25519 verification, custody monitor, hash-chained event
log and indexes, one transaction per batch. The bare rate verifies the same messages
with the same library and nothing else: the physical limit. Times are CPU time of the
process (`time.process_time`), so other load on the machine does not skew the ratio;
medians of two runs.

| what | messages/s | share of bare verification |
|---|---:|---:|
| bare Ed25519 verification (`cryptography`) | {bare_rate:,.0f} | 100% |
| end to end: verify + monitor + persist | {pipe_rate:,.0f} | {ratio:.0%} |

Target: end to end at least 70% of bare verification.

| corridor check (distance to the route and position along it) | checks/s |
|---|---:|
| vectorised, batches of 1,000 fixes ({segments} route segments) | {batched:,.0f} |
| one fix per call | {single:,.0f} |

{machine_line()}.
""",
    )


if __name__ == "__main__":
    main()
