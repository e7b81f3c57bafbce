"""The operations service on loopback: arrival decisions per second with their
latency at a fixed offered rate, and signed seal messages per second through HTTP and
through NATS JetStream, against bare Ed25519 verification of the same messages.

Bounded: every phase sends a fixed number of requests and stops by itself; servers
listen on 127.0.0.1 only. PostgreSQL is measured too when
``PORTWATCH_BENCH_POSTGRES_URL`` names an empty database; NATS when
``PORTWATCH_BENCH_NATS_URL`` names a JetStream server.
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks.report import machine_line, write_section
from portwatch.custody.envelope import decode_line
from portwatch.custody.keys import load_public_key
from portwatch.custody.tripgen import Attack, simulate_trip
from portwatch.service.state import DEFAULT_PG_STREAMS
from portwatch.targeting.policy import Policy

SEED = 2026
TRIPS = 60
RATE_PER_S = 200
ARRIVALS = 3_000  # 15 s at 200/s
CLOSED_LOOP = 2_000
CONCURRENCY = 16
BATCH = 500
SRC = str(Path(__file__).resolve().parent.parent / "src")


@contextmanager
def _fresh_schema(pg_url: str) -> Iterator[str]:
    """A URL of a new, empty schema in the database of ``pg_url``, dropped afterwards
    (so the benchmark can run again on the same database)."""
    from sqlalchemy import create_engine, text

    schema = f"pwbench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in pg_url else "?"
    try:
        yield f"{pg_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _serve(db: str, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "portwatch", "serve", "--db", db, "--port", str(port),
         "--no-access-log"], env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("portwatch serve did not start")


def _trips() -> tuple[list[dict[str, Any]], list[str]]:
    rng = np.random.default_rng(SEED)
    sims = [simulate_trip(rng, Attack.NONE, trip_no=i) for i in range(TRIPS)]
    lines = [line for s in sims for line in s.lines]
    lines.sort(key=lambda line: line[line.index('"at":"') + 6 :][:23])
    return [s.shipment for s in sims], lines


def _bare_rate(docs: list[dict[str, Any]], lines: list[str]) -> float:
    keys = {d["seal"]["seal_id"]: load_public_key(d["seal"]["public_key"]) for d in docs}
    msgs = [decode_line(line) for line in lines]
    runs = []
    for _ in range(2):
        start = time.process_time()
        for m in msgs:
            keys[m.seal_id].verify(m.signature, m.signed_bytes)
        runs.append(time.process_time() - start)
    return len(msgs) / statistics.median(runs)


def _tokens(db: str) -> dict[str, str]:
    from portwatch.service.auth import create_token
    from portwatch.store.database import Database

    d = Database(db)
    out = {r: create_token(d, r, f"bench-{r}", port_code="2506" if r == "officer" else None)
           .token for r in ("admin", "gateway", "officer")}
    d.close()
    return out


def _p99_interval(lat_ms: np.ndarray, rng: np.random.Generator) -> tuple[float, float, float]:
    """p99 and a 95 % bootstrap interval."""
    boots = [np.percentile(rng.choice(lat_ms, lat_ms.size), 99) for _ in range(500)]
    return (float(np.percentile(lat_ms, 99)), float(np.percentile(boots, 2.5)),
            float(np.percentile(boots, 97.5)))


async def _arrivals_open(url: str, token: str, shipments: list[str],
                         with_shipment: bool = True) -> np.ndarray:
    """Offer ``RATE_PER_S`` arrivals per second on schedule; latency of each in ms,
    from the moment it was due (so a late send counts against the service too: no
    coordinated omission). ``CONCURRENCY`` connections, opened before the schedule
    starts, take the due arrivals in turn."""
    headers = {"Authorization": f"Bearer {token}"}
    lat: list[float] = []
    queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()
    ready = 0
    go = asyncio.Event()

    async def worker() -> None:
        nonlocal ready
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
            # a booth keeps its connection open: open it before the schedule starts, so
            # the first half second measures arrivals, not 16 TCP connections being set up
            assert (await client.get("/v1/health")).status_code == 200
            ready += 1
            await go.wait()
            while (item := await queue.get()) is not None:
                i, due = item
                body = {"mode": "truck", "plate": f"B{i}", "port_code": "2506",
                        "shipment_id": shipments[i % len(shipments)]
                        if with_shipment and i % 2 else None}
                r = await client.post("/v1/arrivals", json=body)
                lat.append((time.perf_counter() - due) * 1000)
                assert r.status_code == 200, r.text

    workers = [asyncio.create_task(worker()) for _ in range(CONCURRENCY)]
    while ready < CONCURRENCY:
        await asyncio.sleep(0.01)
    # the client's own full garbage collections (it holds the trips, the messages and the
    # libraries: 100+ ms each) would delay sends and count against the service
    gc.collect()
    gc.freeze()
    go.set()
    start = time.perf_counter()
    for i in range(ARRIVALS):
        due = start + i / RATE_PER_S
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((i, due))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    return np.array(lat)


async def _arrivals_closed(url: str, token: str) -> float:
    """Arrivals per second with ``CONCURRENCY`` clients back to back."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:

        async def worker(n: int) -> None:
            for i in range(n):
                r = await client.post("/v1/arrivals", json={"mode": "car", "plate": f"C{i}",
                                                            "port_code": "2506"})
                assert r.status_code == 200

        start = time.perf_counter()
        await asyncio.gather(*[worker(CLOSED_LOOP // CONCURRENCY) for _ in range(CONCURRENCY)])
        return CLOSED_LOOP / (time.perf_counter() - start)


def _stage_counts(url: str, token: str) -> dict[str, dict[float, float]]:
    """The service's decision stage histograms: stage -> {bucket bound: cumulative
    count}, with the sum under the key -1."""
    from prometheus_client.parser import text_string_to_metric_families

    out: dict[str, dict[float, float]] = {}
    r = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {token}"})
    r.raise_for_status()
    for fam in text_string_to_metric_families(r.text):
        if fam.name != "portwatch_decision_stage_seconds":
            continue
        for smp in fam.samples:
            d = out.setdefault(smp.labels["stage"], {})
            if smp.name.endswith("_bucket"):
                d[float(smp.labels["le"])] = smp.value
            elif smp.name.endswith("_sum"):
                d[-1.0] = smp.value
    return out


def _stage_line(before: dict[str, dict[float, float]],
                after: dict[str, dict[float, float]]) -> str:
    """Per stage over one phase: mean ms, and the bucket bound under which 99 % fell."""
    from portwatch.service.metrics import DECISION_STAGES

    cells = []
    for stage in DECISION_STAGES:
        a, b = after.get(stage, {}), before.get(stage, {})
        delta = {k: a[k] - b.get(k, 0.0) for k in a}
        n = delta.get(float("inf"), 0.0)
        if not n:
            cells.append("-")
            continue
        p99 = min(k for k, v in delta.items() if k >= 0 and v >= 0.99 * n)
        bound = "> 1000" if p99 == float("inf") else f"<= {p99 * 1000:g}"
        cells.append(f"{delta[-1.0] / n * 1000:.2f} / {bound}")
    return " | ".join(cells)


def _telemetry_http(url: str, token: str, lines: list[str], pid: int) -> tuple[float, float]:
    """(messages per wall second, messages per server CPU second)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}
    cpu0, t0 = _cpu_s(pid), time.perf_counter()
    with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
        for i in range(0, len(lines), BATCH):
            r = client.post("/v1/telemetry", content="\n".join(lines[i : i + BATCH]))
            assert r.status_code == 200 and r.json()["rejected"] == 0, r.text[:300]
    wall, cpu = time.perf_counter() - t0, _cpu_s(pid) - cpu0
    return len(lines) / wall, len(lines) / cpu


def _telemetry_nats(nats_url: str, db: str, lines: list[str]) -> tuple[float, float]:
    from portwatch.service.nats_consumer import NatsConfig, ensure_stream, publish
    from portwatch.store.database import Database
    from portwatch.store.schema import seal_messages

    tag = uuid.uuid4().hex[:8]
    cfg = NatsConfig(stream=f"PWBENCH_{tag}", subject_prefix=f"pwbench.{tag}",
                     durable=f"bench-{tag}", dead_letter=f"pwbench.{tag}dead", batch=BATCH)

    async def load() -> None:
        import nats

        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        await ensure_stream(js, cfg)
        await publish(js, cfg, "bench", lines)
        await nc.drain()

    asyncio.run(load())
    proc = subprocess.Popen(
        [sys.executable, "-m", "portwatch", "service", "consume", "--nats", nats_url, "--db",
         db, "--stream", cfg.stream, "--subject-prefix", cfg.subject_prefix, "--durable",
         cfg.durable, "--batch", str(BATCH)], env=_env(),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    from sqlalchemy import func, select

    check = Database(db)
    try:
        t0, cpu0, started = 0.0, 0.0, False
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with check.reading() as conn:
                n = conn.execute(select(func.count()).select_from(seal_messages)).scalar_one()
            if not started and n > 0:  # clock from the first commit: startup excluded
                t0, cpu0, n0, started = time.perf_counter(), _cpu_s(proc.pid), n, True
            if n >= len(set(lines)):
                break
            time.sleep(0.05)
        wall, cpu = time.perf_counter() - t0, _cpu_s(proc.pid) - cpu0
    finally:
        proc.kill()
        proc.wait()
        check.close()
    done = len(set(lines)) - n0
    return done / wall, done / cpu


def _run(db: str, label: str, docs: list[dict[str, Any]], lines: list[str]) -> dict[str, Any]:
    tokens = _tokens(db)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _serve(db, port)
    out: dict[str, Any] = {"label": label}
    try:
        admin = {"Authorization": f"Bearer {tokens['admin']}"}
        v = httpx.post(f"{url}/v1/policies", json=Policy.uniform(0.05).to_dict(),
                       headers=admin).json()["version"]
        httpx.post(f"{url}/v1/policies/{v}/activate", headers=admin)
        for d in docs:
            assert httpx.post(f"{url}/v1/shipments", json=d, headers=admin,
                              timeout=30).status_code == 201
        before = _bare_rate(docs, lines)
        out["http_rate"], out["http_cpu_rate"] = _telemetry_http(url, tokens["gateway"],
                                                                 lines, proc.pid)
        out["http_bare"] = (before + _bare_rate(docs, lines)) / 2
        ids = [d["shipment_id"] for d in docs]
        asyncio.run(_arrivals_open(url, tokens["officer"], ids[:20]))  # warm-up
        for kind, mixed in (("engine", False), ("mixed", True)):
            load0 = os.getloadavg()[0]
            cpu0, stages0 = _cpu_s(proc.pid), _stage_counts(url, tokens["admin"])
            out[f"lat_{kind}"] = asyncio.run(_arrivals_open(url, tokens["officer"], ids, mixed))
            out[f"cpu_ms_{kind}"] = (_cpu_s(proc.pid) - cpu0) / ARRIVALS * 1000
            out[f"stages_{kind}"] = _stage_line(stages0, _stage_counts(url, tokens["admin"]))
            out[f"load_{kind}"] = f"{load0:.1f}-{os.getloadavg()[0]:.1f}"
        out["closed_rate"] = asyncio.run(_arrivals_closed(url, tokens["officer"]))
    finally:
        proc.kill()
        proc.wait()
    return out


def _costs(docs: list[dict[str, Any]], lines: list[str]) -> dict[str, float]:
    """CPU ms per call of the custody verdict and of the decision, in this process."""
    from portwatch.custody.registry import shipment_from_mapping
    from portwatch.service import Settings
    from portwatch.service.decisions import Arrival, decide
    from portwatch.service.state import ServiceState
    from portwatch.store import service_store as ss
    from portwatch.targeting.policy import Policy as P

    with tempfile.TemporaryDirectory() as tmp:
        state = ServiceState.open(Settings(database_url=str(Path(tmp) / "c.db")))
        for d in docs[:10]:
            state.custody.register(shipment_from_mapping(d))
        state.custody.ingest([x for x in lines if any(d["shipment_id"] in x
                                                      for d in docs[:10])])
        with state.db.transaction() as conn:
            log_id = ss.audit(conn, "2026-01-01T00:00:00", "bench", "policy.create", "1", {})
            ss.add_policy(conn, {"version": 1, "name": "u", "created_at": "-",
                                 "document": P.uniform(0.05).to_json(),
                                 "created_by": "bench", "log_id": log_id})
            ss.add_activation(conn, {"version": 1, "action": "activate", "activated_at": "-",
                                     "activated_by": "bench", "log_id": log_id})
        ids = [d["shipment_id"] for d in docs[:10]]
        custody = state.custody
        for sid in ids:
            custody.verdict(sid)
            custody.verdict_from_log(sid)
        out = {}
        for name, fn in (("verdict", custody.verdict), ("verdict_log", custody.verdict_from_log)):
            t0 = time.process_time()
            for i in range(200):
                fn(ids[i % 10])
            out[name] = (time.process_time() - t0) / 200 * 1000
        t0 = time.process_time()
        for i in range(500):
            decide(state, Arrival("truck", f"P{i}", None, None, "2506"), "bench")
        out["decide"] = (time.process_time() - t0) / 500 * 1000
        state.close()
    return out


def _nats_run(nats_url: str, db: str, docs: list[dict[str, Any]],
              lines: list[str]) -> tuple[float, float]:
    """Telemetry through NATS into a fresh database ``db`` with the shipments enrolled."""
    from portwatch.custody.registry import shipment_from_mapping
    from portwatch.custody.service import CustodyService
    from portwatch.store.database import Database

    _tokens(db)
    dd = Database(db)
    svc = CustodyService(dd)
    for d in docs:
        svc.register(shipment_from_mapping(d))
    dd.close()
    return _telemetry_nats(nats_url, db, lines)


def _measure(docs: list[dict[str, Any]], lines: list[str], only: str | None,
             ) -> list[dict[str, Any]]:
    """Every database's run (SQLite, and PostgreSQL and NATS when their URLs are set;
    ``only``: that database alone)."""
    nats_url = os.environ.get("PORTWATCH_BENCH_NATS_URL")
    pg_url = os.environ.get("PORTWATCH_BENCH_POSTGRES_URL")
    results = []
    if only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            r = _run(str(Path(tmp) / "bench.db"), "SQLite file (WAL)", docs, lines)
            if nats_url:
                before = _bare_rate(docs, lines)
                r["nats_rate"], r["nats_cpu_rate"] = _nats_run(
                    nats_url, str(Path(tmp) / "nats.db"), docs, lines)
                r["nats_bare"] = (before + _bare_rate(docs, lines)) / 2
            results.append(r)
    if pg_url and only in (None, "postgres"):
        with _fresh_schema(pg_url) as db:
            r = _run(db, "PostgreSQL 15 (local)", docs, lines)
        if nats_url:
            with _fresh_schema(pg_url) as db:
                before = _bare_rate(docs, lines)
                r["nats_rate"], r["nats_cpu_rate"] = _nats_run(nats_url, db, docs, lines)
                r["nats_bare"] = (before + _bare_rate(docs, lines)) / 2
        results.append(r)
    return results


def _latency_rows(r: dict[str, Any], rng: np.random.Generator,
                  rows_lat: list[str], rows_stage: list[str]) -> None:
    """One database's arrival rows (latency, stages), printed too."""
    for kind, what in (("engine", "no shipment"), ("mixed", "half with a shipment")):
        lat = r[f"lat_{kind}"]
        p99, lo, hi = _p99_interval(lat, rng)
        p50 = float(np.percentile(lat, 50))
        verdict = "reached" if hi < 10 else "not reached"
        rows_lat.append(f"| {r['label']} | {what} | {p50:.1f} | {p99:.1f} "
                        f"({lo:.1f}-{hi:.1f}) | {r[f'cpu_ms_{kind}']:.2f} | {verdict} "
                        f"| {r[f'load_{kind}']} |")
        print(f"{r['label']} {what}: p50 {p50:.1f} ms, p99 {p99:.1f} ms [{lo:.1f}, {hi:.1f}]"
              f", load {r[f'load_{kind}']}")
        rows_stage.append(f"| {r['label']} | {what} | {r[f'stages_{kind}']} |")
        print(f"  stages (mean ms / p99 bucket): {r[f'stages_{kind}']}")


def _telemetry_rows(r: dict[str, Any], rows_tel: list[str], closed: list[str]) -> None:
    """One database's telemetry rows and closed-loop rate, printed too."""
    rows_tel.append(f"| {r['label']}, HTTP (batches of {BATCH}) | {r['http_rate']:,.0f} "
                    f"| {r['http_cpu_rate']:,.0f} "
                    f"| {r['http_cpu_rate'] / r['http_bare']:.0%} |")
    if r.get("nats_rate"):
        rows_tel.append(f"| {r['label']}, NATS JetStream (one consumer) | "
                        f"{r['nats_rate']:,.0f} | {r['nats_cpu_rate']:,.0f} | "
                        f"{r['nats_cpu_rate'] / r['nats_bare']:.0%} |")
    closed.append(f"{r['label']}: {r['closed_rate']:,.0f} arrivals/s")
    print(f"{r['label']}: closed loop {r['closed_rate']:.0f}/s, "
          f"HTTP {r['http_rate']:.0f} msg/s")


def main() -> None:
    """The whole benchmark, written to ``docs/benchmarks.md``. For a shorter look while
    developing: ``PORTWATCH_BENCH_SERVICE_ONLY`` (``sqlite`` or ``postgres``) and
    ``PORTWATCH_BENCH_ARRIVALS`` (per arrivals run, default ``ARRIVALS``); either one
    prints the figures and leaves the page as it is."""
    global ARRIVALS
    only = os.environ.get("PORTWATCH_BENCH_SERVICE_ONLY") or None
    if only not in (None, "sqlite", "postgres"):
        raise SystemExit(f"PORTWATCH_BENCH_SERVICE_ONLY: sqlite or postgres, got {only!r}")
    ARRIVALS = int(os.environ.get("PORTWATCH_BENCH_ARRIVALS") or ARRIVALS)
    partial = only is not None or "PORTWATCH_BENCH_ARRIVALS" in os.environ
    load_before = os.getloadavg()[0]
    docs, lines = _trips()
    bare = _bare_rate(docs, lines)
    rng = np.random.default_rng(SEED)
    results = _measure(docs, lines, only)
    rows_lat: list[str] = []
    rows_tel: list[str] = []
    closed: list[str] = []
    rows_stage: list[str] = []
    costs = _costs(docs, lines)
    for r in results:
        _latency_rows(r, rng, rows_lat, rows_stage)
        _telemetry_rows(r, rows_tel, closed)
    if partial:
        for r in results:
            print(f"{r['label']}: service CPU ms per arrival {r['cpu_ms_engine']:.2f} (no "
                  f"shipment), {r['cpu_ms_mixed']:.2f} (half with a shipment)")
        print(f"partial run ({only or 'every database'}, {ARRIVALS} arrivals): "
              "docs/benchmarks.md left as it is")
        return
    _write(len(lines), bare, costs, load_before, rows_lat, rows_stage, rows_tel, closed)


def _write(n_lines: int, bare: float, costs: dict[str, float], load_before: float,
           rows_lat: list[str], rows_stage: list[str], rows_tel: list[str],
           closed: list[str]) -> None:
    """The benchmark's section of ``docs/benchmarks.md``."""
    nl = "\n"
    write_section("service", f"""## Operations service (`python -m benchmarks service`)

`portwatch serve` (one uvicorn process) on 127.0.0.1, driven by an asyncio client
(httpx) on the same 2-core machine. {TRIPS} simulated clean trips (seed {SEED},
{n_lines:,} signed messages) enrolled, a uniform 5 % referral policy active.
PostgreSQL is measured when `PORTWATCH_BENCH_POSTGRES_URL` names a database (each run
makes a fresh schema in it and drops it after), NATS JetStream when
`PORTWATCH_BENCH_NATS_URL` names a server started with `-js`.

**Arrivals.** Twice {ARRIVALS:,} `POST /v1/arrivals` offered on schedule at
{RATE_PER_S}/s (open loop), after a warm-up: first with no shipment (HTTP,
authentication, the engine, the committed decision and its audit record), then with
half of them naming a monitored shipment, whose custody verdict is computed at arrival.
Latency runs from the moment a request was due to its answer (a late send counts
against the service), p99 with a 95 % bootstrap interval; the {CONCURRENCY} client
connections are opened before the schedule starts, as booths keep theirs open. CPU is
the service process's per arrival; load is the 1-minute load average when the run
started and when it ended.

| database | arrivals | p50 ms | p99 ms (95 % CI) | CPU ms/arrival | p99 < 10 ms | load |
|---|---|---:|---:|---:|---|---|
{nl.join(rows_lat)}

Where an arrival's time goes inside the service, from its own stage timings
(`portwatch_decision_stage_seconds` on `/metrics`, read before and after each run):
mean ms / the histogram bound under which 99 % fell. `wait`: for its group to start
(behind a group still committing on the same audit stream); `decide`: the transaction's
start, the active policy, the secondary queue and the engine; `append`: the audit
records on their stream and the decision rows; `commit`: the commit and its flush to
disk. On PostgreSQL the transaction is batched: `decide` includes the round trip that
begins it with its reads, `append` only builds the rows, and `commit` sends them with
the `COMMIT`. Decisions are committed on {DEFAULT_PG_STREAMS} parallel audit streams on
PostgreSQL, on one on SQLite (one writer at a time). The rest of the latency is HTTP,
authentication, the custody verdict, and waiting for a CPU.

| database | arrivals | wait | decide | append | commit |
|---|---|---|---|---|---|
{nl.join(rows_stage)}

Back to back from {CONCURRENCY} clients ({CLOSED_LOOP:,} arrivals, none with a shipment):
{"; ".join(closed)}. Where the time goes, in this process (CPU per call, SQLite): the
custody verdict of a shipment with ~125 stored messages {costs["verdict"]:.2f} ms from its
verdict row, kept current during ingestion ({costs["verdict_log"]:.2f} ms when rebuilt from
the log, as before that row existed); the decision without custody (policy, queue,
engine, decision and audit record committed, one arrival at a time)
{costs["decide"]:.2f} ms.

**Telemetry.** The same messages through the service, against bare Ed25519
verification of them in this process ({bare:,.0f} messages/s of CPU time at the start;
each share divides by the mean of two such measurements taken just before and just after
its own phase, as this machine's speed drifts over minutes). The
service's rate per CPU second of its own process is the like-for-like figure ("same
core"); the wall rate includes the client on the other core.

| path | messages/s (wall) | messages per service CPU second | share of bare verification |
|---|---:|---:|---:|
{nl.join(rows_tel)}

Target: at least 50 % of bare verification.

{machine_line()}; scheduling priority (nice) {os.nice(0)} for the service and the
client (SQLite runs inside the service; PostgreSQL's server processes keep their own
priority, 0, and wait for a CPU with the machine's other work), load average
{load_before:.1f} when it started and {os.getloadavg()[0]:.1f} when it
finished (the 1-minute average over both cores: above 2 other work shares the machine,
and the wall-clock latencies move with it; the CPU figures much less).
""")




if __name__ == "__main__":
    main()
