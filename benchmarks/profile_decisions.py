"""Where an arrival decision's time goes on a database server (PostgreSQL): round trips
and statements per decision, time in pool checkout and in commit, Python CPU against
wall time per stage, and what the server's backends wait on.

``python -m benchmarks.profile_decisions`` with ``PORTWATCH_BENCH_POSTGRES_URL`` set
(an empty database; a fresh schema is made in it and dropped after). Not part of
``make bench``: it instruments the service, so its latencies are not the benchmark's.

The service runs in a child process (``--serve``) with hooks on psycopg and SQLAlchemy;
it counts per thread, and writes its counters to a file on ``SIGUSR1``. A round trip is
a statement sent outside a pipeline, a pipeline's sync, a ``BEGIN`` psycopg sends
before the first statement of a transaction (outside a pipeline), and a commit or
rollback of an open transaction.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

ARRIVALS = int(os.environ.get("PORTWATCH_BENCH_ARRIVALS", "2000"))
SAMPLE_S = float(os.environ.get("PORTWATCH_PROFILE_SAMPLE_MS", "2")) / 1000
"""How often the server's backends are sampled (0: not at all; the sampling costs the
server CPU of its own)."""


class _Probe:
    """Counters of the service process, per kind of work (``scope``)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.local = threading.local()
        self.totals: dict[str, Counter[str]] = defaultdict(Counter)
        self.samples: dict[str, list[float]] = defaultdict(list)

    def scope(self) -> str:
        return getattr(self.local, "scope", "other")

    def add(self, key: str, value: float = 1.0) -> None:
        with self.lock:
            self.totals[self.scope()][key] += value

    def sample(self, key: str, value: float) -> None:
        with self.lock:
            self.samples[f"{self.scope()}.{key}"].append(value)

    def dump(self, path: str) -> None:
        with self.lock:
            data = {"totals": {k: dict(v) for k, v in self.totals.items()},
                    "samples": dict(self.samples)}
            self.totals.clear()
            self.samples.clear()
        Path(path).write_text(json.dumps(data))


def _instrument(probe: _Probe) -> None:
    """Hooks on psycopg (round trips, statements, commit), SQLAlchemy's pool (checkout
    wait) and the decision's functions (CPU and wall per stage)."""
    _hook_statements(probe)
    _hook_transactions(probe)
    _hook_stages(probe)


def _hook_statements(probe: _Probe) -> None:
    """Statements and round trips, and the time waited for each round trip."""
    import psycopg
    from psycopg.pq import TransactionStatus

    cur_execute = psycopg.Cursor.execute

    def execute(self: Any, query: Any, params: Any = None, **kw: Any) -> Any:
        conn = self.connection
        piped = conn._pipeline is not None
        if not piped:
            if not conn.autocommit and conn.info.transaction_status == TransactionStatus.IDLE:
                probe.add("round_trips")
                probe.add("begin")
            probe.add("round_trips")
        probe.add("statements")
        t0 = time.perf_counter()
        try:
            return cur_execute(self, query, params, **kw)
        finally:
            if not piped:
                dt = time.perf_counter() - t0
                probe.add("statement_wait_s", dt)
                text = query if isinstance(query, str) else str(query)
                probe.sample("trip_ms." + ("commit" if text.rstrip().endswith("COMMIT")
                                           else text.split(None, 1)[0].lower()), dt * 1000)

    psycopg.Cursor.execute = execute  # type: ignore[method-assign]

    pipeline = psycopg.Connection.pipeline

    def piped(self: Any) -> Any:
        from contextlib import contextmanager

        @contextmanager
        def cm() -> Any:
            outer = self._pipeline is None
            if outer and not self.autocommit and \
                    self.info.transaction_status == TransactionStatus.IDLE:
                probe.add("begin")
            with pipeline(self) as p:
                yield p
                t0 = time.perf_counter()
            if outer:
                probe.add("round_trips")
                probe.add("pipeline_wait_s", time.perf_counter() - t0)
        return cm()

    psycopg.Connection.pipeline = piped  # type: ignore[method-assign]


def _hook_transactions(probe: _Probe) -> None:
    """Commits and rollbacks, pool checkouts and new connections."""
    import psycopg
    from psycopg.pq import TransactionStatus
    from sqlalchemy import Engine, event
    from sqlalchemy.pool import QueuePool

    for name in ("commit", "rollback"):
        orig = getattr(psycopg.Connection, name)

        def wrapped(self: Any, _orig: Any = orig, _name: str = name) -> Any:
            if self.info.transaction_status == TransactionStatus.IDLE:
                return _orig(self)
            probe.add("round_trips")
            probe.add(_name)
            t0 = time.perf_counter()
            try:
                return _orig(self)
            finally:
                dt = time.perf_counter() - t0
                probe.add(f"{_name}_s", dt)
                probe.sample(f"{_name}_ms", dt * 1000)

        setattr(psycopg.Connection, name, wrapped)

    do_get = QueuePool._do_get

    def timed_get(self: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return do_get(self)
        finally:
            probe.add("checkouts")
            probe.add("checkout_s", time.perf_counter() - t0)

    QueuePool._do_get = timed_get  # type: ignore[method-assign]

    @event.listens_for(Engine, "connect")
    def _connected(*_a: Any) -> None:
        probe.add("new_connections")


def _hook_stages(probe: _Probe) -> None:
    """Wall and thread CPU of a group's write, a custody verdict and a whole decision;
    what happens inside each is counted under its name."""
    from portwatch.custody.service import CustodyService
    from portwatch.service import decisions
    from portwatch.service.routes import arrivals

    def scoped(fn: Any, scope: str) -> Any:
        def run(*a: Any, **kw: Any) -> Any:
            before = getattr(probe.local, "scope", None)
            probe.local.scope = scope
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return fn(*a, **kw)
            finally:
                wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
                probe.add("calls")
                probe.add("wall_s", wall)
                probe.add("cpu_s", cpu)
                probe.sample("wall_ms", wall * 1000)
                probe.local.scope = before
        return run

    decisions._write_group = scoped(decisions._write_group, "group")
    CustodyService.verdict = scoped(CustodyService.verdict, "verdict")  # type: ignore[method-assign]
    decide = scoped(decisions.decide, "decide")
    decisions.decide = decide
    arrivals.decide = decide


def serve(db: str, port: int, out: str) -> None:
    """The service, as ``portwatch serve``, with the probe; counters to ``out`` on
    SIGUSR1."""
    import uvicorn

    from portwatch.service.main import create_app
    from portwatch.service.settings import Settings
    from portwatch.service.warm import ready_process

    probe = _Probe()
    _instrument(probe)
    signal.signal(signal.SIGUSR1, lambda *_: probe.dump(out))
    app = create_app(Settings(database_url=db))
    ready_process()
    if "PORTWATCH_PROFILE_SWITCH_S" in os.environ:  # an experiment: the GIL's hand-over
        sys.setswitchinterval(float(os.environ["PORTWATCH_PROFILE_SWITCH_S"]))
    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")


def _sample_waits(url: str, stop: threading.Event, found: Counter[str]) -> None:
    """What the benchmark database's backends are doing, every ``SAMPLE_S``."""
    from sqlalchemy import create_engine, text

    eng = create_engine(url.split("?")[0], isolation_level="AUTOCOMMIT")
    q = text("SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
             "WHERE datname = current_database() AND pid <> pg_backend_pid() "
             "AND backend_type = 'client backend'")
    locks = text("SELECT count(*) FROM pg_locks WHERE NOT granted")
    with eng.connect() as conn:
        while not stop.is_set():
            for state, wtype, wevent in conn.execute(q):
                found[f"{state}|{wtype}|{wevent}"] += 1
            found["ungranted_locks"] += int(conn.execute(locks).scalar_one())
            found["samples"] += 1
            time.sleep(SAMPLE_S)
    eng.dispose()


def _server_cpu_s(database: str) -> tuple[float, float]:
    """CPU seconds of PostgreSQL's processes on this machine: (the backends serving
    ``database``, the server's own background processes: WAL writer, checkpointer,
    background writer, autovacuum, shared with every other client)."""
    ours = background = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "comm").read_text().strip() != "postgres":
                continue
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            cpu = _bs_cpu(int(proc.name))
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if f" {database} " in title:
            ours += cpu
        elif "127.0.0.1(" not in title and "[local]" not in title:
            background += cpu
    return ours, background


def _bs_cpu(pid: int) -> float:
    from benchmarks.bench_service import _cpu_s

    return _cpu_s(pid)


def _server_counts(url: str) -> tuple[int, int, int]:
    """The server's WAL flushes (``pg_stat_wal.wal_sync``, every database's), and this
    database's commits and rollbacks (``pg_stat_database``)."""
    from sqlalchemy import create_engine, text

    eng = create_engine(url.split("?")[0], isolation_level="AUTOCOMMIT")
    try:
        with eng.connect() as conn:
            syncs = int(conn.execute(text("SELECT wal_sync FROM pg_stat_wal")).scalar_one())
            commits, rollbacks = conn.execute(text(
                "SELECT xact_commit, xact_rollback FROM pg_stat_database "
                "WHERE datname = current_database()")).one()
    finally:
        eng.dispose()
    return syncs, int(commits), int(rollbacks)


def _summary(data: dict[str, Any], decisions: int) -> list[str]:
    lines = []
    for scope, t in sorted(data["totals"].items()):
        calls = t.get("calls", 0) or decisions
        cells = [f"{k} {v / calls:.3g}" for k, v in sorted(t.items()) if k != "calls"]
        lines.append(f"  {scope} (calls {int(t.get('calls', 0))}; per call): " + ", ".join(cells))
    for key, xs in sorted(data["samples"].items()):
        a = np.array(xs)
        lines.append(f"  {key}: n {a.size}, mean {a.mean():.2f}, p50 {np.percentile(a, 50):.2f}"
                     f", p99 {np.percentile(a, 99):.2f}, max {a.max():.2f}")
    return lines


def _phase(bs: Any, db: str, url: str, token: str, ids: list[str], mixed: bool,
           pid: int, out: str) -> list[str]:
    """One run of arrivals against the probed service (``pid``); its report lines."""
    os.kill(pid, signal.SIGUSR1)  # counters from here
    time.sleep(0.3)
    stop, waits = threading.Event(), Counter[str]()
    sampler = threading.Thread(target=_sample_waits, args=(db, stop, waits))
    if SAMPLE_S > 0:
        sampler.start()
    load0 = os.getloadavg()[0]
    dbname = db.rsplit("/", 1)[1].split("?")[0]
    pg0, svc0, counts0 = _server_cpu_s(dbname), bs._cpu_s(pid), _server_counts(db)
    lat = asyncio.run(bs._arrivals_open(url, token, ids, mixed))
    pg_ms = [(b - a) / ARRIVALS * 1000 for a, b in zip(pg0, _server_cpu_s(dbname), strict=True)]
    counts = [b - a for a, b in zip(counts0, _server_counts(db), strict=True)]
    svc_ms = (bs._cpu_s(pid) - svc0) / ARRIVALS * 1000
    stop.set()
    if SAMPLE_S > 0:
        sampler.join()
    os.kill(pid, signal.SIGUSR1)
    time.sleep(0.3)
    data = json.loads(Path(out).read_text())
    p99, lo, hi = bs._p99_interval(lat, np.random.default_rng(bs.SEED))
    n = waits.pop("samples", 1)
    return [
        f"{'mixed' if mixed else 'engine'}: {ARRIVALS} arrivals at {bs.RATE_PER_S}/s, p50 "
        f"{np.percentile(lat, 50):.1f} ms, p99 {p99:.1f} [{lo:.1f}, {hi:.1f}], "
        f"load {load0:.1f}-{os.getloadavg()[0]:.1f}",
        f"  CPU ms per arrival: service {svc_ms:.2f}; PostgreSQL: backends of "
        f"{dbname} {pg_ms[0]:.2f} (the sampler's included if sampling), "
        f"server background processes {pg_ms[1]:.2f}",
        f"  per arrival: WAL flushes {counts[0] / ARRIVALS:.2f} (the whole "
        f"server's), commits {counts[1] / ARRIVALS:.2f}, rollbacks "
        f"{counts[2] / ARRIVALS:.2f} ({dbname}; statistics lag up to 0.5 s)",
        *_summary(data, ARRIVALS),
        f"  backends per sample ({n} samples): " + ", ".join(
            f"{k} {v / n:.3f}" for k, v in waits.most_common(12))]


def _prepare(bs: Any, url: str, tokens: dict[str, str], docs: list[dict[str, Any]],
             lines: list[str], pid: int) -> None:
    """Wait for the service, activate a policy, enrol the trips, send their telemetry
    and warm up with arrivals, as the benchmark does."""
    import httpx

    for _ in range(600):
        try:
            if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    v = httpx.post(f"{url}/v1/policies", json=bs.Policy.uniform(0.05).to_dict(),
                   headers=admin).json()["version"]
    httpx.post(f"{url}/v1/policies/{v}/activate", headers=admin)
    for d in docs:
        httpx.post(f"{url}/v1/shipments", json=d, headers=admin, timeout=30)
    bs._telemetry_http(url, tokens["gateway"], lines, pid)
    ids = [d["shipment_id"] for d in docs]
    asyncio.run(bs._arrivals_open(url, tokens["officer"], ids[:20]))


def main() -> None:
    import tempfile

    from benchmarks import bench_service as bs

    pg_url = os.environ["PORTWATCH_BENCH_POSTGRES_URL"]
    bs.ARRIVALS = ARRIVALS
    docs, lines = bs._trips()
    with bs._fresh_schema(pg_url) as db, tempfile.TemporaryDirectory() as tmp:
        tokens = bs._tokens(db)
        port, out = bs._free_port(), str(Path(tmp) / "probe.json")
        proc = subprocess.Popen([sys.executable, "-m", "benchmarks.profile_decisions",
                                 "--serve", db, str(port), out], env=bs._env())
        url = f"http://127.0.0.1:{port}"
        try:
            _prepare(bs, url, tokens, docs, lines, proc.pid)
            ids = [d["shipment_id"] for d in docs]
            for mixed in (False, True):
                print("\n".join(_phase(bs, db, url, tokens["officer"], ids, mixed, proc.pid,
                                       out)))
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()
