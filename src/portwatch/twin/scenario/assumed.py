"""The invented parameters of the twin: each marked ``assumed``, with the range the
sensitivity study (``portwatch sensitivity``) varies it over.

A range is absolute (``low``, ``high``) or, with ``relative=True``, factors of the
scenario's own value (volumes and counts differ by port). ``path`` is the parameter's
dotted path in the scenario TOML, as ``--set`` takes it; a path the scenario does not
have (no inland checkpoint, no scanners) is skipped.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from portwatch.domain.errors import InputError
from portwatch.twin.scenario.overrides import set_path


@dataclass(frozen=True)
class Assumed:
    """One invented parameter and its range."""

    path: str
    low: float
    high: float
    note: str
    relative: bool = False

    def value(self, data: dict[str, Any], end: str) -> float | None:
        """The parameter at the ``low`` or ``high`` end for this scenario's ``data``
        (None when the scenario does not have it)."""
        bound = self.low if end == "low" else self.high
        if not self.relative:
            return bound if _has_parent(data, self.path) else None
        base = _get(data, self.path)
        return None if base is None else float(base) * bound

    def override(self, data: dict[str, Any], end: str) -> str | None:
        """The ``PATH=VALUE`` override of this end, or None."""
        v = self.value(data, end)
        if v is None:
            return None
        integer = isinstance(_get(data, self.path), int) and not isinstance(
            _get(data, self.path), bool)
        return f"{self.path}={round(v) if integer else v!r}"


def _get(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for key in path.split("."):
        if isinstance(node, list):
            try:
                node = node[int(key)]
            except (ValueError, IndexError):
                return None
        elif isinstance(node, dict) and key in node:
            node = node[key]
        else:
            return None
    return node


def _has_parent(data: dict[str, Any], path: str) -> bool:
    """True when ``path`` can be set in ``data`` (a list index in range)."""
    if _get(data, path) is not None:
        return True
    try:
        set_path(copy.deepcopy(data), path, 0.0)
    except InputError:
        return False
    return True


ASSUMED: tuple[Assumed, ...] = (
    Assumed("contraband.loads_per_day", 0.5, 2.0,
            "loads per day: the unseized flow is unknown by definition", relative=True),
    Assumed("contraband.decoys_per_day", 0.0, 3.0,
            "trace-tainted decoys per day: no public figure", relative=True),
    Assumed("canine.decoy_alert_prob", 0.5, 1.0,
            "chance a dog alerts on a trace-tainted decoy: no public figure"),
    Assumed("advance.mimicry", 0.0, 0.8,
            "share of cartel conveyances dressed as low-risk profiles: no public figure"),
    Assumed("advance.crossings_mean_load", 2.0, 20.0,
            "mean prior crossings (90 days) of a cartel plate / driver: no public figure"),
    Assumed("advance.new_carrier_load", 0.05, 0.4,
            "share of cartel conveyances with a carrier new on file: no public figure"),
    Assumed("advance.prior_finding_load", 0.01, 0.15,
            "share of cartel conveyances with a prior finding: no public figure"),
    Assumed("secondary.guided_detection.*.*", 0.8, 0.99,
            "a bay exam guided by a scan image or an alert finds the load"),
    Assumed("secondary.queue_slots", 0.5, 2.0,
            "secondary parking spaces: no public figure per port", relative=True),
    Assumed("secondary.bays", 0.5, 2.0,
            "secondary bays: scaled by volume, no public figure per port", relative=True),
    Assumed("inland.coverage", 0.0, 0.05,
            "share of crossed vehicles an inland checkpoint checks"),
    Assumed("custody.post_seal_catch_prob", 0.5, 0.99,
            "chance the custody monitor sees a seal broken after loading"),
    Assumed("scanners.0.false_alarm_prob", 0.01, 0.1,
            "NII false-alarm rate: no public figure"),
    Assumed("modes.truck.secondary_service.mean_s", 0.5, 2.0,
            "truck bay exam time: no public figure", relative=True),
    Assumed("canine.sweep_s", 60.0, 330.0,
            "a dog's pass per queued vehicle, an alert adding the follow-up check (180 s "
            "in the shipped port files; unset: every screened vehicle gets the full check)"),
    Assumed("contraband.economics.elasticity", 0.0, 2.0,
            "elasticity of loads per day to a load's expected profit (deterrence)"),
    Assumed("contraband.economics.reference_seizure_prob", 0.05, 0.3,
            "seizure chance at which the scenario's loads per day is the flow"),
    Assumed("contraband.economics.source_price_share", 0.03, 0.3,
            "a load's drug at its source price, as a share of its value"),
    Assumed("contraband.economics.vehicle_usd", 2000.0, 30000.0,
            "a vehicle sent with a load or burned as a decoy"),
    Assumed("contraband.economics.driver_fee_usd", 500.0, 5000.0,
            "a driver's fee per crossing, load or decoy"),
    Assumed("contraband.economics.trace_drug_usd", 100.0, 2000.0,
            "the drug that taints a decoy"),
    Assumed("contraband.economics.max_cell_share", 0.01, 0.2,
            "most loads the informed adversary sends into one (mode, lane, hour) cell, as a "
            "share of its legitimate conveyances an hour: no public figure"),
    # relative to the shipped values (car 180 min, pedestrian 150 min, share 0.5), so a
    # scenario without a [drivers] table is left without one
    Assumed("drivers.balk_wait_min.car", 1 / 3, 5 / 3,
            "visible wait beyond which a driver leaves the line (60-300 min): no public "
            "figure", relative=True),
    Assumed("drivers.balk_wait_min.pedestrian", 0.4, 2.0,
            "visible wait beyond which a pedestrian leaves the line (60-300 min): no "
            "public figure", relative=True),
    Assumed("drivers.divert_share", 0.0, 2.0,
            "share of those who leave the line who cross at another port (0-1): no "
            "public figure", relative=True),
    # rail: relative, so a scenario without trains (no [rail] table) is left without one
    Assumed("modes.rail.general.service.mean_s", 0.5, 2.5,
            "rail portal time per container, the train's passage at line speed (4-20 s): "
            "no public figure", relative=True),
    Assumed("rail.portal_false_alarm_prob", 0.25, 2.5,
            "share of clean rail containers whose portal image is anomalous (0.005-0.05): "
            "no public figure", relative=True),
    Assumed("rail.portal_detection.*.*", 0.5, 1.5,
            "chance a load shows in the rail portal image (0.3-0.9): no public figure",
            relative=True),
    Assumed("modes.rail.secondary_service.mean_s", 0.5, 2.0,
            "rail yard exam of a container (1-4 h): no public figure", relative=True),
    Assumed("rail.yard_teams", 0.6, 2.0,
            "rail yard exam teams: sized to the referrals, no public figure per port",
            relative=True),
)
"""The parameters ``portwatch sensitivity`` varies (see ``docs/twin-model.md``)."""


__all__ = ["ASSUMED", "Assumed"]
