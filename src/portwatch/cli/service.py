"""CLI of the operations service: ``portwatch serve``, ``portwatch service token ...``
and ``portwatch service consume`` (the NATS JetStream consumer).

Heavy libraries (FastAPI, SQLAlchemy, nats) are imported inside the commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

DB_HELP = ("SQLite file, or a postgresql+psycopg:// URL (default: $PORTWATCH_DATABASE_URL, "
           "else portwatch.db).")

service_app = typer.Typer(help="The operations service: tokens, the NATS consumer.",
                          no_args_is_help=True)
token_app = typer.Typer(help="API tokens (stored hashed, revocable).", no_args_is_help=True)
service_app.add_typer(token_app, name="token")

DbOpt = Annotated[str | None, typer.Option("--db", help=DB_HELP)]
DevOpt = Annotated[bool, typer.Option("--dev", help="Development mode: allows an in-memory "
                                      "database and a fixed --seed.")]


def _settings(db: str | None, dev: bool = False, **extra: Any) -> Any:
    from portwatch.service.settings import Settings

    return Settings.load(database_url=db, environment="development" if dev else None, **extra)


def _need(module: str) -> None:
    """A one-line error when the ``service`` extra is not installed."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        from portwatch.domain.errors import ConfigError

        raise ConfigError(f"{module} is not installed: this command needs the service "
                          "extra (pip install 'portwatch[service]')")


def _nats_url(url: str) -> str:
    from portwatch.domain.errors import InputError

    if not url.startswith(("nats://", "tls://")) or len(url) <= len("nats://"):
        raise InputError(f"--nats: must be a nats:// or tls:// URL, got {url!r}")
    return url


def _database(db: str | None) -> Any:
    from portwatch.store.database import Database

    return Database(_settings(db, dev=True).database_url)


def serve(
    db: DbOpt = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8080,
    dev: DevOpt = False,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the referral draws "
                                             "(development only).")] = None,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log")] = True,
    replay: Annotated[str | None, typer.Option("--replay", help="Drive the service from "
                                               "this twin scenario (e.g. otay-mesa) in "
                                               "accelerated time.")] = None,
    speed: Annotated[float, typer.Option("--speed", help="Simulated seconds per wall "
                                         "second of the replay.")] = 60.0,
) -> None:
    """Run the HTTP service (API under /v1, /metrics, /dashboard) until interrupted."""
    for module in ("fastapi", "uvicorn", "prometheus_client"):
        _need(module)
    import threading

    import uvicorn

    from portwatch.domain.errors import InputError
    from portwatch.service.main import create_app

    if not 0 < port < 65536:
        raise InputError(f"--port: must be in 1..65535, got {port}")
    if not 0 < speed <= 3600:
        raise InputError(f"--speed: must be in (0, 3600], got {speed}")
    stop = threading.Event()
    if replay is None:
        app = create_app(_settings(db, dev, seed=seed))
    else:
        from portwatch.service.replay import Replay, ReplayClock, secondary_capacity

        settings = _settings(db, dev, seed=seed, secondary_capacity=secondary_capacity(replay))
        clock = ReplayClock(speed)
        app = create_app(settings, clock=clock)
        feed = Replay(app.state.portwatch, replay)
        threading.Thread(target=feed.run, args=(clock, stop), daemon=True,
                         name="replay").start()
        typer.echo(f"replaying {replay} at {speed:g}x: dashboard at "
                   f"http://{host}:{port}/dashboard", err=True)
    from portwatch.service.warm import ready_process

    ready_process()  # the engine loaded and the start-up heap frozen before requests
    try:
        uvicorn.run(app, host=host, port=port, access_log=access_log, log_level="info",
                    server_header=False)
    finally:
        stop.set()


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option("--role", help="gateway, carrier, officer, analyst "
                                      "or admin.")],
    name: Annotated[str, typer.Option("--name", help="Who or what holds the token.")],
    carrier: Annotated[str | None, typer.Option("--carrier", help="Carrier party id "
                                                "(carrier tokens).")] = None,
    port_code: Annotated[str | None, typer.Option("--port", help="Port code "
                                                  "(officer tokens).")] = None,
    db: DbOpt = None,
) -> None:
    """Issue a token. It is printed once, alone on the last line; only its hash is kept."""
    from portwatch.service.auth import create_token

    issued = create_token(_database(db), role, name, carrier, port_code, created_by="cli")
    p = issued.principal
    typer.echo(f"token {p.token_id}: role {p.role.value}, name {p.name}"
               + (f", carrier {p.carrier_id}" if p.carrier_id else "")
               + (f", port {p.port_code}" if p.port_code else ""), err=True)
    typer.echo(issued.token)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (not the token).")],
    db: DbOpt = None,
) -> None:
    """Revoke a token; the next request with it is refused."""
    from portwatch.service.auth import revoke_token

    revoke_token(_database(db), token_id, revoked_by="cli")
    typer.echo(f"token {token_id} revoked")


@token_app.command("list")
def token_list(
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List tokens (ids, roles, names; never the tokens)."""
    from portwatch.service.auth import list_tokens

    rows = list_tokens(_database(db))
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        state = f"revoked {r['revoked_at']}" if r["revoked_at"] else "live"
        scope = r["carrier_id"] or r["port_code"] or "-"
        typer.echo(f"{r['token_id']}  {r['role']:<8} {r['name']:<20} {scope:<10} {state}")


NatsOpt = Annotated[str, typer.Option("--nats", help="NATS server URL, e.g. "
                                      "nats://127.0.0.1:4222.")]
StreamOpt = Annotated[str, typer.Option("--stream", help="JetStream stream name.")]
PrefixOpt = Annotated[str, typer.Option("--subject-prefix", help="Subjects are PREFIX.<region>.")]


@service_app.command("consume")
def consume(
    nats_url: NatsOpt,
    db: DbOpt = None,
    stream: StreamOpt = "PORTWATCH_TELEMETRY",
    subject_prefix: PrefixOpt = "portwatch.telemetry",
    durable: Annotated[str, typer.Option("--durable", help="Durable consumer name, the same "
                                         "on every instance.")] = "portwatch-ingest",
    batch: Annotated[int, typer.Option("--batch", min=1, max=5000)] = 200,
) -> None:
    """Consume seal messages from NATS JetStream into the database until interrupted."""
    _need("nats")
    import asyncio
    import signal

    from portwatch.service.nats_consumer import NatsConfig
    from portwatch.service.nats_consumer import consume as run
    from portwatch.service.routes.telemetry import ingest
    from portwatch.service.state import ServiceState

    _nats_url(nats_url)
    from portwatch.service.warm import ready_process

    state = ServiceState.open(_settings(db))
    ready_process()
    cfg = NatsConfig(stream=stream, subject_prefix=subject_prefix, durable=durable, batch=batch)
    who = f"nats:{durable}"

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        typer.echo(f"consuming {cfg.subjects} as {durable}", err=True)
        await run(nats_url, cfg, lambda lines: ingest(state, lines, who, "nats"), stop)

    try:
        asyncio.run(main())
    finally:
        state.close()


@service_app.command("publish")
def publish(
    nats_url: NatsOpt,
    src: Annotated[str, typer.Argument(help="Seal message lines (JSONL; '-': stdin).")],
    region: Annotated[str, typer.Option("--region", help="Subject suffix.")] = "default",
    stream: StreamOpt = "PORTWATCH_TELEMETRY",
    subject_prefix: PrefixOpt = "portwatch.telemetry",
) -> None:
    """Publish seal message lines to JetStream as a gateway would (with message ids)."""
    _need("nats")
    import asyncio
    import sys

    import nats

    from portwatch.domain.errors import InputError
    from portwatch.service.nats_consumer import NatsConfig, ensure_stream
    from portwatch.service.nats_consumer import publish as pub

    _nats_url(nats_url)
    if not region.replace("-", "").isalnum():
        raise InputError(f"--region: letters, digits and '-' only, got {region!r}")
    try:
        text = sys.stdin.read() if src == "-" else Path(src).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{src}: cannot read ({exc.strerror})") from exc
    lines = [line for line in text.splitlines() if line.strip()]
    cfg = NatsConfig(stream=stream, subject_prefix=subject_prefix)

    async def main() -> int:
        nc = await nats.connect(nats_url)
        try:
            js = nc.jetstream()
            await ensure_stream(js, cfg)
            return await pub(js, cfg, region, lines)
        finally:
            await nc.drain()

    stored = asyncio.run(main())
    typer.echo(f"published {len(lines)} messages, {stored} new to the stream")


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``service`` to the root app."""
    app.command("serve")(serve)
    app.add_typer(service_app, name="service")


__all__ = ["register", "service_app"]
