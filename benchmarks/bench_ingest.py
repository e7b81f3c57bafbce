"""Signed seal messages ingested per second, end to end (decode, verify, monitor,
persist to an anchored SQLite file in WAL mode), against bare Ed25519 verification of
the very same messages in the same run: in process, and as ``portwatch custody ingest``
of 100,000 messages with its start-up; and corridor checks per second."""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
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
from portwatch.store import Anchor, Database

SEED = 2026
TRIPS = 60
BATCH = 1000
CLI_MESSAGES = 100_000


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
        path = Path(tmp) / "bench.db"
        db = Database(path, Anchor.beside(path))
        svc = CustodyService(db, clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))
        for doc in docs:
            svc.register(shipment_from_mapping(doc))
        start = time.process_time()
        report = svc.ingest(lines, "bench", batch_size=BATCH)
        elapsed = time.process_time() - start
        db.close()
    return elapsed, report.accepted + report.duplicates


def _cli(docs: list[dict], lines: list[str]) -> float:
    """CPU seconds of ``portwatch custody ingest`` (a child process, start-up included)
    over ``lines``, into a file where ``docs`` are registered."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cli.db"
        db = Database(path, Anchor.beside(path))
        svc = CustodyService(db, clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))
        for doc in docs:
            svc.register(shipment_from_mapping(doc))
        db.close()
        events = Path(tmp) / "events.jsonl"
        events.write_text("".join(line + "\n" for line in lines))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        # the command as a user types it: its own default batch size
        subprocess.run([sys.executable, "-m", "portwatch", "custody", "ingest", str(events),
                        "--db", str(path)], check=True, capture_output=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


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
    trips = -(-CLI_MESSAGES * TRIPS // n)
    cli_docs, cli_lines = _stream(SEED + 1, trips)
    cli_lines = cli_lines[:CLI_MESSAGES]
    cli_keys = {d["seal"]["seal_id"]: load_public_key(d["seal"]["public_key"])
                for d in cli_docs}
    cli_bare = len(cli_lines) / _bare_verify(cli_lines, cli_keys)
    cli_rate = len(cli_lines) / _cli(cli_docs, cli_lines)
    cli_ratio = cli_rate / cli_bare
    pipe_row = (f"| end to end in process: verify + monitor + persist | {pipe_rate:,.0f} | "
                f"{ratio:.0%} | 70%{'' if ratio >= 0.70 else ', not reached'} |")
    cli_row = (f"| `portwatch custody ingest`, {len(cli_lines):,} messages, start-up included "
               f"| {cli_rate:,.0f} | {cli_ratio:.0%} (bare: {cli_bare:,.0f}/s) | 60%"
               f"{'' if cli_ratio >= 0.60 else ', not reached'} |")
    print(f"bare verify {bare_rate:,.0f} msg/s, pipeline {pipe_rate:,.0f} msg/s "
          f"({ratio:.0%}); CLI {cli_rate:,.0f} msg/s ({cli_ratio:.0%} of {cli_bare:,.0f}); "
          f"corridor {batched:,.0f}/s batched, {single:,.0f}/s one by one")
    write_section(
        "ingest",
        f"""## Custody ingestion (`python -m benchmarks ingest`)

{n:,} signed seal messages of {TRIPS} simulated trips on the Otay Mesa example route
(seed {SEED}), in device-time order, ingested in batches of {BATCH} on one core into a
SQLite file (WAL) with its anchor: decode, Ed25519 verification, custody monitor,
HMAC-chained event log, checkpoint and indexes, one transaction per batch. The bare rate
verifies the same messages with the same library and nothing else: the physical limit.
Times are CPU time of the process (`time.process_time`), so other load on the machine
does not skew the ratio; medians of two runs. The command line row runs
`portwatch custody ingest` (its default batch of 5,000 lines) on {len(cli_lines):,}
messages of {trips} trips (seed {SEED + 1}) as a child process and counts its CPU time,
start-up included (`getrusage(RUSAGE_CHILDREN)`), against bare verification of the same
messages.

| what | messages/s | share of bare verification | target |
|---|---:|---:|---:|
| bare Ed25519 verification (`cryptography`) | {bare_rate:,.0f} | 100% | |
{pipe_row}
{cli_row}

| corridor check (distance to the route and position along it) | checks/s |
|---|---:|
| vectorised, batches of 1,000 fixes ({segments} route segments) | {batched:,.0f} |
| one fix per call | {single:,.0f} |

{machine_line()}.
""",
    )


if __name__ == "__main__":
    main()
