"""CLI commands of portwatch.custody: ``portwatch seal ...`` acts as a seal device,
``portwatch custody ...`` runs the chain of custody over a database."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from portwatch.domain import validate
from portwatch.domain.errors import InputError, NotFoundError

if TYPE_CHECKING:  # the custody and store packages load numpy, pyproj, SQLAlchemy
    from portwatch.custody.service import CustodyService

# The attacks of portwatch.custody.tripgen.Attack, spelled here so --help needs no numpy
# (tests/cli check the two agree).
ATTACKS = ("none", "diversion", "door-opened", "long-stop", "jamming", "replay", "forgery",
           "clone", "silent")

DB_HELP = "SQLite file, or a postgresql+psycopg:// URL."
DEFAULT_DB = "portwatch.db"

seal_app = typer.Typer(help="Act as an electronic seal: make keys, sign messages.",
                       no_args_is_help=True)
custody_app = typer.Typer(help="Chain of custody of sealed containers.", no_args_is_help=True)

_VERDICT_STYLE = {"clean": "green", "review": "yellow", "broken": "bold red"}


def _emit(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


MAX_TRIPS = 1_000_000
"""Trips per ``custody evaluate`` run at most (a typo is an error, not a week-long run)."""
MAX_SIZE = {"m": 100_000.0, "s": 86_400.0}
"""Largest ``--size`` of an attack: a stash house 100 km off the route; a stop, jamming
or silence of a day."""


def _existing_db(db: str) -> str:
    """``db`` for a command that only reads: a SQLite file must exist (never created)."""
    if "://" not in db and db != ":memory:" and not Path(db).is_file():
        raise NotFoundError(f"--db {db}: no such database file")
    return db


def _service(db: str, thresholds: Path | None = None) -> CustodyService:
    from portwatch.custody.service import CustodyService
    from portwatch.custody.thresholds import load_thresholds
    from portwatch.store.database import Database

    return CustodyService(Database(db), load_thresholds(thresholds))


AS_OF_HELP = "Judge as of this UTC time (ISO 8601, e.g. 2026-03-01T14:05:00Z); default: now."


# the options several commands share, declared once
DbOpt = Annotated[str, typer.Option("--db", help=DB_HELP)]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help=AS_OF_HELP)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
ShipmentArg = Annotated[str, typer.Argument(help="The shipment's id.")]


def _as_of(value: str | None) -> datetime | None:
    """The ``--as-of`` value as an aware UTC datetime."""
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"--as-of {value!r}: not an ISO 8601 time ({exc})") from exc
    if at.tzinfo is None:
        raise InputError(f"--as-of {value!r}: needs a UTC designator, e.g. {value}Z")
    return at.astimezone(UTC)


def run_custody_demo(console: Console, seed: int | None = None) -> list[dict[str, Any]]:
    """Run the clean trip and every attack through a temporary database, print a table
    (trip, verdict, lane, alerts) on ``console`` and return its rows (``seed``: default
    the demonstration's own)."""
    from rich.table import Table

    from portwatch.custody.demo import DEMO_SEED, demo_rows

    rows = demo_rows(DEMO_SEED if seed is None else seed)
    table = Table(title="Chain of custody: Tijuana -> Otay Mesa -> San Diego")
    for col in ("trip", "verdict", "lane", "alerts", "messages"):
        table.add_column(col, justify="right" if col == "messages" else "left")
    for r in rows:
        style = _VERDICT_STYLE[r["verdict"]]
        table.add_row(r["trip"], f"[{style}]{r['verdict']}[/]", r["lane"],
                      ", ".join(r["alerts"]) or "-", str(r["messages"]))
    console.print(table)
    return rows


# ---------------------------------------------------------------- portwatch seal
@seal_app.command("keygen")
def keygen(
    seal_id: Annotated[str, typer.Option("--seal-id", help="The seal's id.")],
    out: Annotated[Path, typer.Option("--out", help="Directory for SEAL_ID.key.")] = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Make an Ed25519 key for a seal: writes OUT/SEAL_ID.key, prints the public key."""
    from portwatch.custody.keys import generate_private_key, public_key_b64, save_private_key

    if not out.is_dir():
        raise InputError(f"--out {out}: not a directory")
    path = validate.file_in(out, "--seal-id", seal_id, ".key")
    key = generate_private_key()
    if path.exists():
        raise InputError(f"{path}: already exists; refusing to overwrite a seal key")
    save_private_key(key, path)
    pub = public_key_b64(key)
    if as_json:
        _emit({"seal_id": seal_id, "key_file": str(path), "public_key": pub})
    else:
        typer.echo(f"{seal_id} public key {pub} (private key in {path})")


def _read_lines(src: Path) -> Iterator[str]:
    if str(src) == "-":
        yield from sys.stdin
        return
    try:
        with src.open(encoding="utf-8", errors="replace") as handle:
            yield from handle
    except OSError as exc:
        raise InputError(f"{src}: cannot read ({exc.strerror})") from exc


@seal_app.command("sign")
def sign(
    key: Annotated[Path, typer.Option("--key", help="The seal's private key file.")],
    src: Annotated[Path, typer.Argument(help="Unsigned JSON lines ('-': stdin).")] = Path("-"),
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of stdout.")] = None,
) -> None:
    """Sign messages as the seal would. Each input line holds seal_id, shipment_id, seq,
    at (ISO 8601 UTC), kind, and optionally lat, lon, accuracy_m, speed_mps,
    battery_pct."""
    from portwatch.custody.envelope import body_fields, to_ms
    from portwatch.custody.keys import load_private_key, sign_fields

    if out is not None:
        validate.output_file("--out", out)
    private = load_private_key(key)
    signed = []
    for n, line in enumerate(_read_lines(src), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            at = datetime.fromisoformat(str(raw.pop("at")).replace("Z", "+00:00"))
            fields = body_fields(at_ms=to_ms(at), **raw)
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            raise InputError(f"{src} line {n}: {exc}") from exc
        signed.append(sign_fields(private, fields))
    text = "".join(s + "\n" for s in signed)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)


# ---------------------------------------------------------------- portwatch custody
@custody_app.command("register")
def register_cmd(
    shipment: Annotated[Path, typer.Argument(help="shipment.json")],
    db: DbOpt = DEFAULT_DB,
    as_json: JsonOpt = False,
) -> None:
    """Register a shipment with its seal, parties and route plan."""
    from portwatch.custody.registry import load_shipment

    s = load_shipment(shipment)
    created = _service(db).register(s)
    if as_json:
        _emit({"shipment_id": s.shipment_id, "created": created})
    else:
        typer.echo(f"{s.shipment_id} {'registered' if created else 'already registered'}")


@custody_app.command("ingest")
def ingest(
    events: Annotated[Path, typer.Argument(help="events.jsonl ('-': stdin)")],
    db: DbOpt = DEFAULT_DB,
    thresholds: Annotated[Path | None, typer.Option("--thresholds", help="TOML overrides.")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 1000,
    as_json: JsonOpt = False,
) -> None:
    """Verify, monitor and store signed seal messages (one transaction per batch).

    Every valid line is kept. A line that fails verification (forged, replayed, cloned)
    is recorded as a security alert: that is the command doing its job, exit 0. A line
    that cannot be read as a seal message at all is bad input: exit 2 after the rest
    is stored.
    """
    from portwatch.domain.custody import AlertKind

    report = _service(db, thresholds).ingest(_read_lines(events), str(events), batch_size)
    if as_json:
        _emit(report.to_json())
    else:
        for r in report.rejected:
            typer.echo(f"{events}: line {r.line_no}: rejected ({r.kind.value}): {r.detail}",
                       err=True)
        typer.echo(f"{report.accepted} accepted, {report.duplicates} duplicate, "
                   f"{len(report.rejected)} rejected, {report.alerts_raised} alert(s) raised, "
                   f"{report.alerts_retracted} retracted")
    if any(r.kind is AlertKind.MALFORMED for r in report.rejected):
        raise typer.Exit(2)


@custody_app.command("status")
def status(
    shipment_id: ShipmentArg,
    db: DbOpt = DEFAULT_DB,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Where a shipment is, what its seal last reported, and how long it has been silent."""
    st = _service(_existing_db(db)).status(shipment_id, _as_of(as_of))
    if as_json:
        _emit(st.to_json())
        return
    where = "no fix yet" if st.last_lat is None else (
        f"last fix {st.last_lat:.5f}, {st.last_lon:.5f} at {st.last_fix_at:%Y-%m-%d %H:%M:%S}Z")
    silence = "" if st.silent_s is None else (
        f", no position for {st.silent_s:.0f} s as of {st.as_of:%Y-%m-%d %H:%M:%S}Z"
        + ("" if st.signal_lost is None else f" (signal lost, {st.signal_lost.value})"))
    typer.echo(f"{st.shipment_id} ({st.container_id}, seal {st.seal_id}): {st.state.value}, "
               f"{st.messages} messages, {where}{silence}, {st.progress_m / 1000:.1f} of "
               f"{st.route_length_m / 1000:.1f} km, {st.alerts} stored alert(s)")


@custody_app.command("verdict")
def verdict(
    shipment_id: ShipmentArg,
    db: DbOpt = DEFAULT_DB,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The custody verdict: clean (express lane), review, or broken (full search).

    A seal silent for longer than two reporting periods up to --as-of (default: now)
    adds a signal_lost alert, unless the shipment was delivered."""
    v = _service(_existing_db(db)).verdict(shipment_id, _as_of(as_of))
    if as_json:
        _emit(v.to_json())
        return
    typer.echo(f"{v.shipment_id}: {v.verdict.value} -> {v.lane.value} lane ({v.state.value})")
    for reason in v.reasons:
        typer.echo(f"  {reason}")
    for a in v.alerts:
        where = "" if a.lat is None else f" at {a.lat:.5f}, {a.lon:.5f}"
        typer.echo(f"  [{a.severity.value}] {a.kind.value} {a.at:%Y-%m-%d %H:%M:%S}Z{where}: "
                   f"{a.detail}" if a.at else f"  [{a.severity.value}] {a.kind.value}: {a.detail}")


@custody_app.command("alerts")
def alerts(
    shipment_id: Annotated[str | None, typer.Option("--shipment", help="One shipment.")] = None,
    unattributed: Annotated[
        bool, typer.Option("--unattributed", help="Only rejections naming no known shipment.")
    ] = False,
    db: DbOpt = DEFAULT_DB,
    as_json: JsonOpt = False,
) -> None:
    """List alerts, oldest first."""
    items = _service(_existing_db(db)).alerts(shipment_id, unattributed)
    if as_json:
        _emit([a.to_json() for a in items])
        return
    for a in items:
        at = "-" if a.at is None else f"{a.at:%Y-%m-%d %H:%M:%S}Z"
        typer.echo(f"{at} {a.shipment_id or '-'} {a.severity.value} {a.kind.value}: {a.detail}")
    typer.echo(f"{len(items)} alert(s)")


@custody_app.command("audit")
def audit(
    db: DbOpt = DEFAULT_DB,
    as_json: JsonOpt = False,
) -> None:
    """Verify the hash chain of the event log; exit 2 when history was edited."""
    report = _service(_existing_db(db)).audit()
    if as_json:
        _emit({"ok": True, "records": report.records, "head_hash": report.head_hash})
    else:
        typer.echo(f"event log intact: {report.records} records, head {report.head_hash}")


@custody_app.command("simulate-trip")
def simulate(
    out: Annotated[Path, typer.Option("--out", help="Directory for shipment.json, events.jsonl.")],
    attack: Annotated[str, typer.Option(
        "--attack", help=f"The attack to stage: {', '.join(ATTACKS)}.")] = "none",
    seed: Annotated[int, typer.Option("--seed")] = 0,
    size: Annotated[
        float | None,
        typer.Option("--size", help="Diversion distance (m); stop, jamming or silence (s)."),
    ] = None,
) -> None:
    """Simulate a signed trip on the Otay Mesa route; prints the shipment id."""
    import numpy as np

    from portwatch.custody.tripgen import SIZE_UNIT, Attack, simulate_trip

    validate.seed("--seed", seed)
    validate.output_folder("--out", out)
    if attack not in ATTACKS:
        raise InputError(f"--attack {attack!r}: not one of {', '.join(ATTACKS)}")
    if size is not None:
        unit = SIZE_UNIT.get(Attack(attack))
        if unit is None:
            raise InputError(f"--size: the {attack} attack takes no size")
        validate.positive("--size", size, maximum=MAX_SIZE[unit], unit=unit)
    trip = simulate_trip(np.random.default_rng(seed), Attack(attack), size)
    out.mkdir(parents=True, exist_ok=True)
    (out / "shipment.json").write_text(json.dumps(trip.shipment, indent=2) + "\n")
    (out / "events.jsonl").write_text("".join(line + "\n" for line in trip.lines))
    typer.echo(trip.shipment_id)
    if trip.as_of is not None:
        at = trip.as_of.isoformat().replace("+00:00", "Z")
        typer.echo(f"the seal falls silent: judge at the crossing with --as-of {at}", err=True)


@custody_app.command("evaluate")
def evaluate_cmd(
    clean: Annotated[int, typer.Option("--clean", min=0, help="Clean trips.")] = 1000,
    attacked: Annotated[int, typer.Option("--attacked", min=0, help="Attacked trips.")] = 1000,
    seed: Annotated[int, typer.Option("--seed")] = 2026,
    doc: Annotated[Path | None, typer.Option("--doc", help="Write the tables here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Measure false alarms on clean trips and detection on attacked ones."""
    from portwatch.custody.evaluate import evaluate, write_into_doc

    validate.seed("--seed", seed)
    validate.count("--clean", clean, maximum=MAX_TRIPS)
    validate.count("--attacked", attacked, maximum=MAX_TRIPS)
    if doc is not None:
        validate.output_file("--doc", doc)
    console = Console(stderr=True)
    with console.status("simulating trips") as spinner:
        result = evaluate(clean, attacked, seed,
                          progress=lambda d, t: spinner.update(f"trip {d}/{t}"))
    command = f"portwatch custody evaluate --clean {clean} --attacked {attacked} --seed {seed}"
    if doc is not None:
        write_into_doc(doc, result.markdown(command))
    if as_json:
        _emit(result.to_json())
    else:
        typer.echo(result.markdown(command))


@custody_app.command("demo")
def demo(
    seed: Annotated[int | None, typer.Option(
        "--seed", help="Seed of the trips (default: the demonstration's own).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the clean trip and every attack; print trip, verdict, lane and alerts."""
    from portwatch.custody.demo import DEMO_SEED, demo_rows
    from portwatch.domain.custody import Verdict

    if seed is not None:
        validate.seed("--seed", seed)
    if as_json:
        _emit(demo_rows(DEMO_SEED if seed is None else seed))
        return
    rows = run_custody_demo(Console(), seed)
    wrong = [r["trip"] for r in rows
             if (r["trip"] == "none") != (r["verdict"] == Verdict.CLEAN.value)]
    if wrong:
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    """Add this capability's commands (``seal``, ``custody``) to the root app."""
    app.add_typer(seal_app, name="seal")
    app.add_typer(custody_app, name="custody")


__all__ = ["custody_app", "register", "run_custody_demo", "seal_app"]
