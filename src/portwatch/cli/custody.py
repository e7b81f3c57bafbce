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

from portwatch.domain import validate
from portwatch.domain.errors import InputError, NotFoundError

if TYPE_CHECKING:  # the custody package pulls numpy, pyproj and SQLAlchemy: load lazily
    from rich.console import Console

    from portwatch.custody.service import CustodyService
    from portwatch.store.anchor import Anchor

# the attacks of portwatch.custody.tripgen.Attack (a test keeps the two lists equal)
ATTACKS = ("none", "diversion", "door-opened", "long-stop", "jamming", "replay", "forgery",
           "clone", "silent", "zone-edge", "jammed-stop", "dropped-event", "seq-gap")
DEMO_SEED = 7  # portwatch.custody.demo.DEMO_SEED, spelled here so --help needs no numpy

DB_HELP = "SQLite file, or a postgresql+psycopg:// URL."
DEFAULT_DB = "portwatch.db"

seal_app = typer.Typer(help="Act as an electronic seal: make keys, sign messages.",
                       no_args_is_help=True)
custody_app = typer.Typer(help="Chain of custody of sealed containers.", no_args_is_help=True)

_ECHO_REJECTIONS = 20
_VERDICT_STYLE = {"clean": "green", "review": "yellow", "broken": "bold red"}


def _emit(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


MAX_SIZE = {"m": 100_000.0, "s": 86_400.0}
"""Largest ``--size`` of an attack: a stash house 100 km off the route; a stop, jamming
or silence of a day."""


def _service(db: str, thresholds: Path | None = None, must_exist: bool = False
             ) -> CustodyService:
    """The service over ``db``; ``must_exist`` for commands that only read or amend a
    database: a mistyped path is an error naming the file, never a new empty database."""
    from portwatch.custody.service import CustodyService
    from portwatch.custody.thresholds import load_thresholds
    from portwatch.store.database import Database

    if must_exist and "://" not in db and db != ":memory:" and not Path(db).is_file():
        raise NotFoundError(f"--db {db}: no such database file")
    return CustodyService(Database(db, _anchor(db)), load_thresholds(thresholds))


def _anchor(db: str) -> Anchor | None:
    """The event log's anchor: ``PORTWATCH_ANCHOR_DIR`` (keep it where the database's
    writers cannot reach), else beside a SQLite file; none for an in-memory database,
    nor for a URL without ``PORTWATCH_ANCHOR_DIR``."""
    import hashlib
    import os

    from portwatch.store.anchor import Anchor

    folder = os.environ.get("PORTWATCH_ANCHOR_DIR")
    if db == ":memory:":
        return None
    if "://" in db:
        if not folder:
            return None
        name = "db-" + hashlib.sha256(db.encode()).hexdigest()[:16]
        return Anchor.beside(Path(name), Path(folder))
    return Anchor.beside(Path(db), Path(folder) if folder else None)


TH_HELP = "TOML overrides of the monitor's thresholds (use those the ingestion used)."
AS_OF_HELP = "Judge as of this UTC time (ISO 8601, e.g. 2026-03-01T14:05:00Z); default: now."


# the options several commands share, declared once
DbOpt = Annotated[str, typer.Option("--db", help=DB_HELP)]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help=AS_OF_HELP)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
ShipmentArg = Annotated[str, typer.Argument(help="The shipment's id.")]
ThresholdsOpt = Annotated[Path | None, typer.Option("--thresholds", help=TH_HELP)]


def _as_of(value: str | None, option: str = "--as-of") -> datetime | None:
    """The ``--as-of`` value as an aware UTC datetime."""
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"{option} {value!r}: not an ISO 8601 time ({exc})") from exc
    if at.tzinfo is None:
        raise InputError(f"{option} {value!r}: needs a UTC designator, e.g. {value}Z")
    return at.astimezone(UTC)


def run_custody_demo(console: Console, seed: int | None = None) -> list[dict[str, Any]]:
    """Run the clean trip and every attack through a temporary database, print a table
    (trip, verdict, lane, alerts) on ``console`` and return its rows (``seed``: default
    the demonstration's own)."""
    from rich.table import Table

    from portwatch.custody.demo import demo_rows

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


@seal_app.command("pubkey")
def pubkey(
    key_file: Annotated[Path, typer.Argument(help="A seal's private key file.")],
    as_json: JsonOpt = False,
) -> None:
    """Print the public half (base64, raw 32 bytes) of a seal's private key file."""
    from portwatch.custody.keys import load_private_key, public_key_b64

    pub = public_key_b64(load_private_key(key_file))
    if as_json:
        _emit({"key_file": str(key_file), "public_key": pub})
    else:
        typer.echo(pub)


@seal_app.command("revoke")
def revoke(
    seal_id: Annotated[str, typer.Argument(help="The seal whose key is revoked.")],
    at: Annotated[str | None, typer.Option("--at", help="Revoked as of this UTC time "
                                           "(ISO 8601); default: now.")] = None,
    db: DbOpt = DEFAULT_DB,
    as_json: JsonOpt = False,
) -> None:
    """Revoke a seal's key: messages signed after the revocation (by time or counter)
    are refused, and its shipments lose the express lane."""
    at_ms, after_seq = _service(db, must_exist=True).revoke(seal_id, _as_of(at, "--at"))
    from portwatch.custody.envelope import format_at

    if as_json:
        _emit({"seal_id": seal_id, "revoked_at": format_at(at_ms), "after_seq": after_seq})
    else:
        typer.echo(f"{seal_id} revoked as of {format_at(at_ms)}: messages stamped from then, "
                   f"or numbered above seq {after_seq}, are refused")


def _read_lines(src: Path) -> Iterator[str]:
    """Lines of a file (or stdin), each cut to the envelope's line limit."""
    from portwatch.custody.lines import read_lines

    if str(src) == "-":
        yield from read_lines(sys.stdin.buffer)
        return
    try:
        with src.open("rb") as handle:
            yield from read_lines(handle)
    except OSError as exc:
        raise InputError(f"{src}: cannot read ({exc.strerror})") from exc


def _with_progress(src: Path, lines: Iterator[str]) -> Iterator[str]:
    """``lines`` of the file ``src``, advancing a bar of its size on a terminal."""
    from portwatch.cli.progress import counting

    if str(src) == "-" or not src.is_file():
        yield from lines
        return
    with counting(f"{src.name}: characters read", src.stat().st_size) as advance:
        for line in lines:
            advance(len(line))  # the line keeps its newline
            yield line


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
    batch_size: Annotated[int, typer.Option(
        "--batch-size", min=1, max=1_000_000,
        help="Lines per transaction (all or nothing).")] = 5000,
    as_json: JsonOpt = False,
) -> None:
    """Verify, monitor and store signed seal messages (one transaction per batch).

    Every valid line is kept. A line that fails verification (forged, replayed, cloned)
    is recorded as a security alert: that is the command doing its job, exit 0. A line
    that cannot be read as a seal message at all is bad input: exit 2 after the rest
    is stored.
    """
    report = _service(db, thresholds).ingest(_with_progress(events, _read_lines(events)),
                                             str(events), batch_size)
    if as_json:
        _emit(report.to_json())
    else:
        for r in report.rejected[:_ECHO_REJECTIONS]:
            typer.echo(f"{events}: line {r.line_no}: rejected ({r.kind.value}): {r.detail}",
                       err=True)
        if len(report.rejected) > _ECHO_REJECTIONS:
            typer.echo(f"{events}: ... and {len(report.rejected) - _ECHO_REJECTIONS} more "
                       "rejected line(s) (see --json or custody alerts)", err=True)
        typer.echo(f"{report.accepted} accepted, {report.duplicates} duplicate, "
                   f"{len(report.rejected)} rejected, {report.alerts_raised} alert(s) raised, "
                   f"{report.alerts_retracted} retracted")
    from portwatch.domain.custody import AlertKind

    if any(r.kind is AlertKind.MALFORMED for r in report.rejected):
        raise typer.Exit(2)


@custody_app.command("status")
def status(
    shipment_id: ShipmentArg,
    db: DbOpt = DEFAULT_DB,
    as_of: AsOfOpt = None,
    thresholds: ThresholdsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Where a shipment is, what its seal last reported, and how long it has been silent."""
    st = _service(db, thresholds, must_exist=True).status(shipment_id, _as_of(as_of))
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
    shipment_ids: Annotated[list[str] | None, typer.Argument(help="One or more shipments.")
                            ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every registered shipment.")] = False,
    db: DbOpt = DEFAULT_DB,
    as_of: AsOfOpt = None,
    thresholds: ThresholdsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The custody verdict: clean (express lane), review, or broken (full search).

    A seal silent for longer than two reporting periods up to --as-of (default: now)
    adds a signal_lost alert, unless the shipment was delivered. Several ids, or --all,
    give one verdict each (--json: a list)."""
    if all_ == bool(shipment_ids):
        raise InputError("verdict: name one or more shipments, or --all (not both)")
    svc = _service(db, thresholds, must_exist=True)
    ids = svc.shipment_ids() if all_ else list(shipment_ids or [])
    verdicts = svc.verdicts(ids, _as_of(as_of))
    if as_json:
        docs = [v.to_json() for v in verdicts]
        _emit(docs[0] if len(docs) == 1 and not all_ else docs)
        return
    for v in verdicts:
        _echo_verdict(v)


def _echo_verdict(v: Any) -> None:
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
    items = _service(db, must_exist=True).alerts(shipment_id, unattributed)
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
    thresholds: ThresholdsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check the event log's chain and its anchor, and every custody table against the
    log; name each inconsistency and exit 2 when there is any."""
    report = _service(db, thresholds, must_exist=True).check()
    if as_json:
        _emit({"ok": report.ok, "records": report.records, "head_hash": report.head_hash,
               "anchored": report.anchored, "problems": list(report.problems)})
    elif report.ok:
        anchored = "anchored" if report.anchored else "NOT anchored (no anchor key)"
        typer.echo(f"custody store intact: {report.records} records, head "
                   f"{report.head_hash}, {anchored}")
    else:
        for problem in report.problems:
            typer.echo(f"inconsistent: {problem}", err=True)
        typer.echo(f"{len(report.problems)} inconsistency(ies) in {report.records} records; "
                   "express refused until resolved")
    if not report.ok:
        raise typer.Exit(2)


@custody_app.command("simulate-trip")
def simulate(
    out: Annotated[Path, typer.Option("--out", help="Directory for shipment.json, events.jsonl.")],
    attack: Annotated[str, typer.Option(
        "--attack", help=f"The attack to stage: {', '.join(ATTACKS)}.")] = "none",
    seed: Annotated[int, typer.Option("--seed", min=0)] = 0,
    size: Annotated[
        float | None,
        typer.Option("--size", help="Diversion distance (m); stop, jamming or silence (s)."),
    ] = None,
    write_key: Annotated[bool, typer.Option(
        "--write-key", help="Also write the seal's private key (OUT/SEAL_ID.key), so altered "
        "trips can be re-signed with `portwatch seal sign`.")] = False,
) -> None:
    """Simulate a signed trip on the Otay Mesa route; prints the shipment id."""
    import numpy as np

    from portwatch.custody.keys import private_key_from_seed, save_private_key
    from portwatch.custody.tripgen import SIZE_UNIT, Attack, simulate_trip

    validate.seed("--seed", seed)
    validate.output_folder("--out", out)
    if attack not in ATTACKS:
        raise InputError(f"--attack {attack[:40]!r}: must be one of {', '.join(ATTACKS)}")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a directory")
    if size is not None:
        unit = SIZE_UNIT.get(Attack(attack))
        if unit is None:
            raise InputError(f"--size: the {attack} attack takes no size")
        validate.positive("--size", size, maximum=MAX_SIZE[unit], unit=unit)
    trip = simulate_trip(np.random.default_rng(seed), attack, size)
    out.mkdir(parents=True, exist_ok=True)
    (out / "shipment.json").write_text(json.dumps(trip.shipment, indent=2) + "\n")
    (out / "events.jsonl").write_text("".join(line + "\n" for line in trip.lines))
    if write_key:
        seal_id = trip.shipment["seal"]["seal_id"]
        key_path = out / f"{seal_id}.key"
        key_path.unlink(missing_ok=True)
        save_private_key(private_key_from_seed(trip.seal_seed), key_path)
    typer.echo(trip.shipment_id)
    if trip.as_of is not None:
        at = trip.as_of.isoformat().replace("+00:00", "Z")
        typer.echo(f"the seal falls silent: judge at the crossing with --as-of {at}", err=True)


@custody_app.command("evaluate")
def evaluate_cmd(
    clean: Annotated[int, typer.Option("--clean", min=0, max=1_000_000, help="Clean trips.")
                     ] = 1000,
    attacked: Annotated[int, typer.Option("--attacked", min=0, max=1_000_000,
                                          help="Attacked trips.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", min=0)] = 2026,
    doc: Annotated[Path | None, typer.Option("--doc", help="Write the tables here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Measure false alarms on clean trips and detection of every attack class."""
    from rich.console import Console

    from portwatch.custody.evaluate import evaluate, write_into_doc

    if doc is not None and doc.is_dir():
        raise InputError(f"--doc {doc}: is a directory")
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
        "--seed", min=0, help="Seed of the trips (default: the demonstration's own).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the clean trip and every attack; print trip, verdict, lane and alerts."""
    from rich.console import Console

    from portwatch.custody.demo import demo_rows

    if seed is not None:
        validate.seed("--seed", seed)
    if as_json:
        _emit(demo_rows(DEMO_SEED if seed is None else seed))
        return
    from portwatch.domain.custody import Verdict

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
