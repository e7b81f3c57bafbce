"""Traffic volumes of US-Mexico land ports from the BTS Border Crossing Entry Data.

Source: U.S. Bureau of Transportation Statistics, Border Crossing Entry Data, monthly
inbound crossings per port of entry (public domain, US government work). The package
ships the measures the twin needs (Trucks, Personal Vehicles, Pedestrians, Buses, and for
rail Trains, Rail Containers Full and Rail Containers Empty) for 1996-2018 as
``data/bts_us_mexico_monthly.csv.gz`` and each
port's coordinates as ``data/bts_us_mexico_ports.csv``; ``extract_bts`` regenerates both
from the full BTS file, and ``python -m portwatch.twin.scenario.bts volumes PORT --year Y``
prints the daily volumes and monthly seasonality the scenario files were written from.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import gzip
import io
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from portwatch.domain.errors import ConfigError, InputError, NotFoundError
from portwatch.domain.modes import Mode

MONTHLY_FILE = "bts_us_mexico_monthly.csv.gz"
PORTS_FILE = "bts_us_mexico_ports.csv"

#: BTS measure name of each conveyance mode the twin simulates (rail: its containers,
#: the sum of ``RAIL_CONTAINER_MEASURES``).
MEASURE_OF_MODE: dict[Mode, str] = {
    Mode.TRUCK: "Trucks",
    Mode.CAR: "Personal Vehicles",
    Mode.PEDESTRIAN: "Pedestrians",
    Mode.BUS: "Buses",
    Mode.RAIL: "Rail Containers Full + Empty",
}
TRAINS = "Trains"
RAIL_LOADED = "Rail Containers Full"
RAIL_EMPTY = "Rail Containers Empty"
RAIL_CONTAINER_MEASURES = (RAIL_LOADED, RAIL_EMPTY)
#: The road modes (the conveyances of the BTS totals before rail was simulated).
ROAD_MODES: tuple[Mode, ...] = (Mode.TRUCK, Mode.CAR, Mode.PEDESTRIAN, Mode.BUS)
_MEASURES_OF_MODE: dict[Mode, tuple[str, ...]] = {
    **{m: (MEASURE_OF_MODE[m],) for m in ROAD_MODES}, Mode.RAIL: RAIL_CONTAINER_MEASURES}
_RAIL_MEASURES = frozenset([TRAINS, *RAIL_CONTAINER_MEASURES])
SHIPPED_MEASURES = frozenset([MEASURE_OF_MODE[m] for m in ROAD_MODES]
                             + [TRAINS, *RAIL_CONTAINER_MEASURES])
FIRST_YEAR = 1996
LAST_YEAR = 2018


@dataclass(frozen=True)
class Port:
    """A US-Mexico land port of entry as BTS lists it."""

    name: str
    state: str
    code: str
    lat_deg: float
    lon_deg: float

    @property
    def slug(self) -> str:
        """The port's name in lower case with dashes (``Otay Mesa`` -> ``otay-mesa``)."""
        return slugify(self.name)


def slugify(name: str) -> str:
    """A port name as a lower-case slug: ``"Cross Border Xpress"`` -> ``"cross-border-xpress"``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _data_text(name: str) -> bytes:
    return resources.files("portwatch.twin.scenario").joinpath("data", name).read_bytes()


@lru_cache(maxsize=1)
def ports() -> tuple[Port, ...]:
    """Every US-Mexico port in the BTS file, sorted by port code."""
    reader = csv.DictReader(io.StringIO(_data_text(PORTS_FILE).decode()))
    return tuple(
        Port(r["port_name"], r["state"], r["port_code"], float(r["lat_deg"]), float(r["lon_deg"]))
        for r in reader
    )


def find_port(key: str) -> Port:
    """The port named ``key`` (its BTS name, slug, or 4-digit port code)."""
    wanted = slugify(key)
    for port in ports():
        if port.code == key.strip() or port.slug == wanted:
            return port
    known = ", ".join(p.slug for p in ports())
    raise NotFoundError(f"port {key!r}: not in the BTS US-Mexico file (known: {known})")


@lru_cache(maxsize=1)
def _by_measure() -> dict[tuple[str, str, int, int], int]:
    """``(port_code, measure, year, month) -> inbound count``."""
    text = gzip.decompress(_data_text(MONTHLY_FILE)).decode()
    table: dict[tuple[str, str, int, int], int] = {}
    for r in csv.DictReader(io.StringIO(text)):
        year, month = (int(x) for x in r["month"].split("-"))
        table[(r["port_code"], r["measure"], year, month)] = int(r["value"])
    return table


@lru_cache(maxsize=1)
def _monthly() -> dict[tuple[str, Mode, int, int], int]:
    """``(port_code, mode, year, month) -> inbound count`` (rail: containers)."""
    mode_of = {measure: mode for mode, ms in _MEASURES_OF_MODE.items() for measure in ms}
    table: dict[tuple[str, Mode, int, int], int] = {}
    for (code, measure, year, month), value in _by_measure().items():
        mode = mode_of.get(measure)
        if mode is not None:
            key = (code, mode, year, month)
            table[key] = table.get(key, 0) + value
    return table


def monthly_measure(port: str, measure: str, year: int) -> tuple[int, ...]:
    """Inbound count of a shipped BTS ``measure`` (e.g. ``Trains``) at ``port`` in each
    month of ``year`` (a month BTS does not list counts as 0)."""
    _check_year(year)
    if measure not in SHIPPED_MEASURES:
        raise InputError(f"measure: not shipped, one of {sorted(SHIPPED_MEASURES)}, "
                         f"got {measure!r}")
    code = find_port(port).code
    table = _by_measure()
    return tuple(table.get((code, measure, year, m), 0) for m in range(1, 13))


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InputError(f"year: must be within {FIRST_YEAR}-{LAST_YEAR} (BTS file), got {year}")


def monthly_counts(port: str, mode: Mode, year: int) -> tuple[int, ...]:
    """Inbound crossings of ``mode`` at ``port`` in each month of ``year`` (12 counts).

    A month BTS does not list for the port counts as 0 (BTS omits months with no traffic).
    """
    _check_year(year)
    code = find_port(port).code
    table = _monthly()
    return tuple(table.get((code, mode, year, m), 0) for m in range(1, 13))


def annual_count(port: str, mode: Mode, year: int) -> int:
    """Inbound crossings of ``mode`` at ``port`` over ``year``."""
    return sum(monthly_counts(port, mode, year))


def days_in_year(year: int) -> int:
    """366 in a leap year, else 365."""
    return 366 if calendar.isleap(year) else 365


def daily_volume(port: str, year: int) -> dict[Mode, float]:
    """Mean inbound conveyances per day of each mode at ``port`` in ``year``.

    The annual BTS count divided by the days of the year (crossings per day).
    """
    return {mode: annual_count(port, mode, year) / days_in_year(year) for mode in Mode}


def monthly_seasonality(port: str, mode: Mode, year: int) -> tuple[float, ...]:
    """Each month's mean daily volume divided by the year's mean daily volume (12 factors).

    A factor of 1.1 means that month's days carry 10% more crossings than the year's
    average day. All ones when the port had no traffic of ``mode`` that year.
    """
    counts = monthly_counts(port, mode, year)
    per_day = sum(counts) / days_in_year(year)
    if per_day == 0:
        return (1.0,) * 12
    return tuple(
        c / calendar.monthrange(year, m)[1] / per_day for m, c in enumerate(counts, start=1)
    )


def total_crossings(year: int, modes: Iterable[Mode] = ROAD_MODES) -> int:
    """Inbound conveyances over all US-Mexico ports in ``year`` (BTS count; by default
    of the road modes, rail containers with ``modes=[Mode.RAIL]``)."""
    _check_year(year)
    wanted = set(modes)
    return sum(
        v for (_, mode, y, _m), v in _monthly().items() if y == year and mode in wanted
    )


_POINT = re.compile(r"POINT \(\s*(-?[0-9.]+)\s+(-?[0-9.]+)\s*\)")


def extract_bts(source: Path, out_dir: Path) -> tuple[Path, Path]:
    """Write the compact package files from the full BTS CSV ``source``.

    Keeps the measures of ``SHIPPED_MEASURES`` for every month 1996-2018 and one
    coordinate line per port. Returns the two paths written.
    """
    try:
        handle = source.open(newline="")
    except OSError as exc:
        raise InputError(f"{source}: cannot read ({exc.strerror})") from exc
    rows: list[tuple[str, str, str, str]] = []
    port_rows: dict[str, tuple[str, str, str, str]] = {}
    with handle:
        reader = csv.DictReader(handle)
        needed = {"port_name", "state", "port_code", "month", "measure", "value", "location"}
        missing = needed - set(reader.fieldnames or ())
        if missing:
            raise ConfigError(f"{source}: missing columns {sorted(missing)}")
        for r in reader:
            if r["measure"] not in SHIPPED_MEASURES:
                continue
            if r["measure"] in _RAIL_MEASURES and r["value"] == "0":
                continue  # a month not listed counts as 0: keeps the file small
            rows.append((r["port_code"], r["month"], r["measure"], r["value"]))
            match = _POINT.search(r["location"])
            if match and r["port_code"] not in port_rows:
                lon, lat = match.groups()
                port_rows[r["port_code"]] = (
                    r["port_name"], r["state"], f"{float(lat):.4f}", f"{float(lon):.4f}"
                )
    names = {code: v[0] for code, v in port_rows.items()}
    out_dir.mkdir(parents=True, exist_ok=True)
    monthly_path = out_dir / MONTHLY_FILE
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["port_code", "port_name", "month", "measure", "value"])
    for code, month, measure, value in sorted(rows):
        writer.writerow([code, names.get(code, ""), month, measure, value])
    # mtime=0 keeps the gzip bytes identical across regenerations
    monthly_path.write_bytes(gzip.compress(buf.getvalue().encode(), mtime=0))
    ports_path = out_dir / PORTS_FILE
    with ports_path.open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["port_code", "port_name", "state", "lat_deg", "lon_deg"])
        for code in sorted(port_rows):
            name, state, lat, lon = port_rows[code]
            writer.writerow([code, name, state, lat, lon])
    return monthly_path, ports_path


def _print_volumes(port_key: str, year: int) -> None:
    port = find_port(port_key)
    print(f"# {port.name}, {port.state} (BTS port code {port.code}), {year}")
    print("# source: BTS Border Crossing Entry Data, inbound counts / days of the year")
    trains = sum(monthly_measure(port.code, TRAINS, year))
    print(f"trains: {trains / days_in_year(year):.2f} a day  # {trains} / yr")
    for mode, per_day in daily_volume(port.code, year).items():
        factors = ", ".join(f"{f:.3f}" for f in monthly_seasonality(port.code, mode, year))
        count = annual_count(port.code, mode, year)
        print(f"{mode.value}: daily_volume = {per_day:.1f}  # {count} / yr")
        print(f"{mode.value}: monthly_factor = [{factors}]")


def main(argv: list[str] | None = None) -> int:
    """``python -m portwatch.twin.scenario.bts {volumes PORT [--year Y] |
    extract SOURCE OUT_DIR}``."""
    parser = argparse.ArgumentParser(prog="python -m portwatch.twin.scenario.bts",
                                     description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    vol = sub.add_parser("volumes", help="print a port's daily volumes and seasonality")
    vol.add_argument("port")
    vol.add_argument("--year", type=int, default=LAST_YEAR)
    ext = sub.add_parser("extract", help="regenerate the package files from the full BTS CSV")
    ext.add_argument("source", type=Path)
    ext.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "volumes":
            _print_volumes(args.port, args.year)
        else:
            for path in extract_bts(args.source, args.out_dir):
                print(f"wrote {path}")
    except (InputError, NotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
