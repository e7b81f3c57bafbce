"""An inspection policy as data: arrays and numbers with a stable, versioned JSON form.

The same ``Policy`` object drives the live engine (``portwatch.engine.decide``) and the
twin's kernel; both read its compiled arrays (``Policy.referral_by_hour()``).

A policy holds:

- ``referral_prob[mode, lane, block]``: the probability that a conveyance of that mode,
  in that primary lane (general / express), arriving in that time block of the day, is
  referred to secondary inspection at random. Modes follow ``MODE_ORDER``, lanes
  ``LANE_ORDER``; the day is split into ``n_blocks`` equal blocks (24 = hourly).
- triage rules: a ``broken`` custody verdict goes to a full search
  (``broken_to_full_search``); a ``clean`` verdict on an enrolled conveyance goes to the
  express lane when not referred (``clean_enrolled_express``).
- ``risk_threshold``: a conveyance whose risk score is at or above it is referred
  (``None``: risk is not used).
- ``capacity_rule``: what happens to a discretionary referral when secondary is full:
  ``"wave"`` (released uninspected, which is what shotgunning exploits) or ``"hold"``
  (it queues for secondary however long that takes).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from portwatch.domain.errors import ConfigError
from portwatch.domain.modes import Mode

POLICY_FORMAT_VERSION = 1
MODE_ORDER: tuple[Mode, ...] = (Mode.TRUCK, Mode.CAR, Mode.PEDESTRIAN, Mode.BUS)
LANE_ORDER: tuple[str, ...] = ("general", "express")
N_MODES = len(MODE_ORDER)
N_LANES = len(LANE_ORDER)
CapacityRule = Literal["wave", "hold"]


def mode_index(mode: Mode | str) -> int:
    """Index of ``mode`` in ``MODE_ORDER``."""
    return MODE_ORDER.index(Mode(mode))


def _check_prob(where: str, value: float) -> None:
    if not (0.0 <= value <= 1.0):
        raise ConfigError(f"{where}: must be in [0, 1], got {value}")


@dataclass(frozen=True, eq=False)
class Policy:
    """An inspection policy (see the module docstring for each field)."""

    name: str
    referral_prob: np.ndarray
    broken_to_full_search: bool = True
    clean_enrolled_express: bool = True
    risk_threshold: float | None = None
    capacity_rule: CapacityRule = "wave"
    description: str = ""
    version: int = field(default=POLICY_FORMAT_VERSION)

    def __post_init__(self) -> None:
        arr = np.array(self.referral_prob, dtype=np.float64)
        if arr.ndim != 3 or arr.shape[0] != N_MODES or arr.shape[1] != N_LANES:
            raise ConfigError(
                f"policy {self.name}: referral_prob: must have shape "
                f"({N_MODES}, {N_LANES}, n_blocks), got {arr.shape}"
            )
        n_blocks = arr.shape[2]
        if n_blocks < 1 or 24 % n_blocks != 0:
            raise ConfigError(
                f"policy {self.name}: referral_prob: blocks must divide 24 hours, got {n_blocks}"
            )
        bad = np.argwhere(~((arr >= 0) & (arr <= 1)))
        if len(bad):
            m, lane, b = bad[0]
            raise ConfigError(
                f"policy {self.name}: referral_prob.{MODE_ORDER[m]}.{LANE_ORDER[lane]}[{b}]: "
                f"must be in [0, 1], got {arr[m, lane, b]}"
            )
        if self.risk_threshold is not None and not math.isfinite(self.risk_threshold):
            raise ConfigError(
                f"policy {self.name}: risk_threshold: must be finite, got {self.risk_threshold}"
            )
        if self.capacity_rule not in ("wave", "hold"):
            raise ConfigError(
                f"policy {self.name}: capacity_rule: must be 'wave' or 'hold', "
                f"got {self.capacity_rule!r}"
            )
        if self.version != POLICY_FORMAT_VERSION:
            raise ConfigError(
                f"policy {self.name}: version: this portwatch reads version "
                f"{POLICY_FORMAT_VERSION}, got {self.version}"
            )
        arr.setflags(write=False)
        object.__setattr__(self, "referral_prob", arr)

    # ---- constructors -------------------------------------------------------------
    @classmethod
    def uniform(
        cls, rate: float, *, capacity_rule: CapacityRule = "wave", name: str | None = None
    ) -> Policy:
        """Refer every conveyance at random with probability ``rate`` (any mode, lane, hour)."""
        _check_prob("rate", rate)
        return cls(
            name=name or f"uniform-{rate:g}",
            referral_prob=np.full((N_MODES, N_LANES, 1), rate),
            capacity_rule=capacity_rule,
            description=f"uniform random referral at rate {rate:g}",
        )

    @classmethod
    def fixed_rules(
        cls,
        rates: dict[tuple[Mode | str, str], float | list[float]],
        *,
        default_rate: float = 0.0,
        n_blocks: int = 24,
        capacity_rule: CapacityRule = "wave",
        name: str = "fixed-rules",
    ) -> Policy:
        """Referral rates per (mode, lane), each a number or a list of ``n_blocks`` rates.

        Segments not listed get ``default_rate``; the triage rules apply as usual.
        """
        _check_prob("default_rate", default_rate)
        arr = np.full((N_MODES, N_LANES, n_blocks), default_rate)
        for (mode, lane), value in rates.items():
            try:
                m = mode_index(mode)
            except ValueError:
                raise ConfigError(f"policy {name}: unknown mode {mode!r}") from None
            if lane not in LANE_ORDER:
                raise ConfigError(f"policy {name}: unknown lane {lane!r}")
            vals = np.asarray(value, dtype=np.float64)
            if vals.ndim == 1 and vals.shape[0] != n_blocks:
                raise ConfigError(
                    f"policy {name}: rates.{mode}.{lane}: must hold {n_blocks} rates, "
                    f"got {vals.shape[0]}"
                )
            arr[m, LANE_ORDER.index(lane), :] = vals
        return cls(name=name, referral_prob=arr, capacity_rule=capacity_rule,
                   description="fixed referral rates per mode, lane and time block")

    @classmethod
    def risk_based(
        cls,
        threshold: float,
        *,
        base_rate: float = 0.0,
        capacity_rule: CapacityRule = "wave",
        name: str | None = None,
    ) -> Policy:
        """Refer every conveyance with risk >= ``threshold``, others at ``base_rate``."""
        _check_prob("base_rate", base_rate)
        return cls(
            name=name or f"risk-{threshold:g}",
            referral_prob=np.full((N_MODES, N_LANES, 1), base_rate),
            risk_threshold=float(threshold),
            capacity_rule=capacity_rule,
            description=f"refer risk >= {threshold:g}, others at random at {base_rate:g}",
        )

    # ---- compiled form ------------------------------------------------------------
    @property
    def n_blocks(self) -> int:
        return int(self.referral_prob.shape[2])

    def referral_by_hour(self) -> np.ndarray:
        """``referral_prob`` expanded to 24 hourly blocks, float64 [mode, lane, hour]."""
        hours = np.arange(24) * self.n_blocks // 24
        return np.ascontiguousarray(self.referral_prob[:, :, hours])

    def risk_threshold_value(self) -> float:
        """The threshold as a number the kernel compares with (above 1 when unused)."""
        return 2.0 if self.risk_threshold is None else float(self.risk_threshold)

    # ---- JSON ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form (``format: portwatch.policy``, ``version``)."""
        return {
            "format": "portwatch.policy",
            "version": self.version,
            "name": self.name,
            "description": self.description,
            "modes": [str(m) for m in MODE_ORDER],
            "lanes": list(LANE_ORDER),
            "n_blocks": self.n_blocks,
            "referral_prob": self.referral_prob.tolist(),
            "triage": {
                "broken_to_full_search": self.broken_to_full_search,
                "clean_enrolled_express": self.clean_enrolled_express,
            },
            "risk_threshold": self.risk_threshold,
            "capacity_rule": self.capacity_rule,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "policy") -> Policy:
        """Read the JSON form back; errors name the field."""
        if data.get("format") != "portwatch.policy":
            raise ConfigError(f"{where}: format: must be 'portwatch.policy', "
                              f"got {data.get('format')!r}")
        if [*data.get("modes", [])] != [str(m) for m in MODE_ORDER]:
            raise ConfigError(f"{where}: modes: must be {[str(m) for m in MODE_ORDER]}")
        if [*data.get("lanes", [])] != list(LANE_ORDER):
            raise ConfigError(f"{where}: lanes: must be {list(LANE_ORDER)}")
        triage = data.get("triage", {})
        try:
            return cls(
                name=str(data["name"]),
                referral_prob=np.asarray(data["referral_prob"], dtype=np.float64),
                broken_to_full_search=bool(triage.get("broken_to_full_search", True)),
                clean_enrolled_express=bool(triage.get("clean_enrolled_express", True)),
                risk_threshold=data.get("risk_threshold"),
                capacity_rule=data.get("capacity_rule", "wave"),
                description=str(data.get("description", "")),
                version=int(data.get("version", -1)),
            )
        except KeyError as exc:
            raise ConfigError(f"{where}: {exc.args[0]}: required") from None
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"{where}: {exc}") from None

    @classmethod
    def from_json(cls, text: str, *, where: str = "policy") -> Policy:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{where}: not JSON: {exc.msg} at line {exc.lineno}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: must be a JSON object")
        return cls.from_dict(data, where=where)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Policy) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.to_json())


__all__ = [
    "LANE_ORDER",
    "MODE_ORDER",
    "N_LANES",
    "N_MODES",
    "POLICY_FORMAT_VERSION",
    "CapacityRule",
    "Policy",
    "mode_index",
]
