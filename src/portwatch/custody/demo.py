"""The custody demonstration: the clean trip and every attack, each through a real
database, with the verdict the border would act on."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from portwatch.custody.registry import shipment_from_mapping
from portwatch.custody.service import CustodyService
from portwatch.custody.tripgen import Attack, simulate_trip
from portwatch.store.database import Database

DEMO_SEED = 7


def demo_rows(seed: int = DEMO_SEED, db_dir: Path | None = None) -> list[dict[str, Any]]:
    """Simulate, register, ingest and judge one trip per attack kind (and a clean one)
    in a temporary SQLite database; one row per trip."""
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Database((db_dir or Path(tmp)) / "custody-demo.db")
        svc = CustodyService(db)
        for k, attack in enumerate(Attack):
            trip = simulate_trip(np.random.default_rng([seed, k]), attack, trip_no=k)
            svc.register(shipment_from_mapping(trip.shipment))
            report = svc.ingest(trip.lines, f"demo {attack.value}")
            # a trip whose seal fell silent is judged when the truck reaches the crossing
            verdict = svc.verdict(trip.shipment_id, as_of=trip.as_of)
            kinds = sorted({a.kind.value for a in verdict.alerts})
            rows.append({
                "trip": attack.value,
                "shipment_id": trip.shipment_id,
                "messages": len(trip.lines),
                "rejected": len(report.rejected),
                "verdict": verdict.verdict.value,
                "lane": verdict.lane.value,
                "alerts": kinds,
                "expected_alert": None if trip.expected is None else trip.expected.value,
            })
        audit = svc.audit()
        for row in rows:
            row["log_records"] = audit.records
        db.close()
    return rows


__all__ = ["DEMO_SEED", "demo_rows"]
