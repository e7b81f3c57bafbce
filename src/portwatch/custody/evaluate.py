"""The false-alarm and detection study: clean and attacked simulated trips through the
whole pipeline (sign, verify, monitor, persist, verdict).

A trip counts as *flagged* when its verdict is not ``clean`` (it loses the express
lane), and as *broken* when it is sent to a full search.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from portwatch.custody.registry import shipment_from_mapping
from portwatch.custody.service import CustodyService
from portwatch.custody.thresholds import Thresholds
from portwatch.custody.tripgen import SIZE_UNIT, Attack, SimulatedTrip, simulate_trip
from portwatch.domain.custody import Verdict
from portwatch.store.database import Database

SIZES: dict[Attack, tuple[float, ...]] = {
    # the corridor of the example route is 200 m wide on each side
    Attack.DIVERSION: (250.0, 400.0, 1_000.0, 4_000.0, 10_000.0),
    # unplanned stops are allowed up to 600 s, resolved to one 60 s reporting period
    Attack.LONG_STOP: (690.0, 900.0, 1_800.0, 3_600.0, 10_800.0),
    # a gap alert fires after two 60 s reporting periods; major beyond 600 s
    Attack.JAMMING: (150.0, 300.0, 900.0, 1_800.0, 3_600.0),
    # silence up to the crossing: the same gap thresholds, judged as of the crossing
    Attack.SILENT: (150.0, 300.0, 900.0, 1_800.0, 3_600.0),
}
UNSIZED: tuple[Attack, ...] = (Attack.DOOR_OPENED, Attack.REPLAY, Attack.FORGERY, Attack.CLONE)
_CLOCK_AT = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class CleanResult:
    """Verdicts of the clean trips."""

    trips: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    alert_kinds: Counter[str] = field(default_factory=Counter)

    @property
    def false_alarms(self) -> int:
        return self.trips - self.verdicts[Verdict.CLEAN.value]

    @property
    def false_alarm_share(self) -> float:
        return self.false_alarms / self.trips if self.trips else 0.0


@dataclass
class AttackRow:
    """Outcome of the trips of one attack kind and size."""

    attack: Attack
    size: float | None
    trips: int = 0
    flagged: int = 0
    broken: int = 0
    expected_seen: int = 0


@dataclass
class Evaluation:
    """The whole study, reproducible from ``seed``."""

    seed: int
    clean: CleanResult
    attacks: list[AttackRow]
    thresholds: Thresholds

    def to_json(self) -> dict[str, object]:
        return {
            "seed": self.seed,
            "clean": {
                "trips": self.clean.trips,
                "verdicts": dict(self.clean.verdicts),
                "false_alarm_share": self.clean.false_alarm_share,
                "alert_kinds": dict(self.clean.alert_kinds),
            },
            "attacks": [
                {"attack": r.attack.value, "size": r.size,
                 "unit": SIZE_UNIT.get(r.attack), "trips": r.trips, "flagged": r.flagged,
                 "broken": r.broken, "expected_alert": r.expected_seen}
                for r in self.attacks
            ],
        }

    def markdown(self, command: str) -> str:
        c = self.clean
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(c.alert_kinds.items())) or "none"
        lines = [
            f"Reproduce with `{command}` (seed {self.seed}).",
            "",
            "**Clean trips** (GNSS noise and multipath outliers, cell-tower fallbacks, "
            "coverage gaps with store-and-forward bursts, duplicates, signal stops, "
            "border queues):",
            "",
            "| trips | clean | review | broken | false-alarm share | target |",
            "|---:|---:|---:|---:|---:|---:|",
            f"| {c.trips:,} | {c.verdicts['clean']:,} | {c.verdicts['review']:,} | "
            f"{c.verdicts['broken']:,} | {100 * c.false_alarm_share:.2f}% | < 0.3% |",
            "",
            f"Alerts raised on clean trips: {kinds}.",
            "",
            "**Attacked trips**: *flagged* = not `clean` (no express lane); *broken* = "
            "full search; *alert* = the attack's own alert kind was raised.",
            "",
            "| attack | size | trips | flagged | broken | alert |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for r in self.attacks:
            size = "-" if r.size is None else f"{r.size:,.0f} {SIZE_UNIT[r.attack]}"
            n = r.trips or 1
            lines.append(
                f"| {r.attack.value} | {size} | {r.trips} | {100 * r.flagged / n:.1f}% | "
                f"{100 * r.broken / n:.1f}% | {100 * r.expected_seen / n:.1f}% |"
            )
        total = sum(r.trips for r in self.attacks)
        flagged = sum(r.flagged for r in self.attacks)
        lines += ["", f"All attacked trips: {total:,}, flagged {flagged:,} "
                      f"({100 * flagged / max(total, 1):.1f}%)."]
        return "\n".join(lines)


def _run_trip(svc: CustodyService, trip: SimulatedTrip) -> tuple[Verdict, set[str]]:
    svc.register(shipment_from_mapping(trip.shipment))
    svc.ingest(trip.lines, f"trip {trip.shipment_id}")
    verdict = svc.verdict(trip.shipment_id, as_of=trip.as_of)
    return verdict.verdict, {a.kind.value for a in verdict.alerts}


def evaluate(
    n_clean: int,
    n_attacked: int,
    seed: int,
    thresholds: Thresholds | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """Run ``n_clean`` clean trips and at least ``n_attacked`` attacked trips, spread
    evenly over every attack kind and size."""
    th = thresholds or Thresholds()
    db = Database(":memory:")
    svc = CustodyService(db, th, clock=lambda: _CLOCK_AT)
    cells: list[tuple[Attack, float | None]] = [
        (a, s) for a, sizes in SIZES.items() for s in sizes
    ] + [(a, None) for a in UNSIZED]
    per_cell = math.ceil(n_attacked / len(cells)) if n_attacked > 0 else 0
    total = n_clean + per_cell * len(cells)
    done = 0
    clean = CleanResult()
    for i in range(n_clean):
        trip = simulate_trip(np.random.default_rng([seed, 0, i]), Attack.NONE, trip_no=i)
        verdict, kinds = _run_trip(svc, trip)
        clean.trips += 1
        clean.verdicts[verdict.value] += 1
        clean.alert_kinds.update(kinds)
        done += 1
        if progress:
            progress(done, total)
    rows = []
    for c, (attack, size) in enumerate(cells, start=1):
        row = AttackRow(attack, size)
        for j in range(per_cell):
            rng = np.random.default_rng([seed, c, j])
            trip = simulate_trip(rng, attack, size, trip_no=100_000 * c + j)
            verdict, kinds = _run_trip(svc, trip)
            row.trips += 1
            row.flagged += verdict is not Verdict.CLEAN
            row.broken += verdict is Verdict.BROKEN
            row.expected_seen += trip.expected is not None and trip.expected.value in kinds
            done += 1
            if progress:
                progress(done, total)
        rows.append(row)
    db.close()
    return Evaluation(seed, clean, rows, th)


_MARK = "custody-evaluation"


def write_into_doc(doc: Path, markdown: str) -> None:
    """Replace the evaluation section of ``doc`` (between its markers) with ``markdown``."""
    text = doc.read_text() if doc.exists() else ""
    block = f"<!-- {_MARK} -->\n{markdown.strip()}\n<!-- /{_MARK} -->"
    pattern = re.compile(rf"<!-- {_MARK} -->.*?<!-- /{_MARK} -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else (
        text.rstrip() + "\n\n" + block + "\n"
    )
    doc.write_text(text)


__all__ = ["SIZES", "UNSIZED", "AttackRow", "CleanResult", "Evaluation", "evaluate",
           "write_into_doc"]
