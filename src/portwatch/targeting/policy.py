"""An inspection policy as data: arrays and numbers with a stable, versioned JSON form.

The same ``Policy`` object drives the live engine (``portwatch.engine.decide``) and the
twin's kernel; both read its compiled arrays (``Policy.referral_by_hour_tier()``).

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

Version 2 of the JSON form adds (each with a default that means what version 1 did, so
version 1 files read unchanged):

- ``risk_tier_edges``: cut points in (0, 1) that split risk scores into tiers; with
  ``k`` edges ``referral_prob`` has a fourth axis of ``k + 1`` tiers, i.e. coverage per
  target (mode, lane, time block, risk tier) as the port game produces it. Readers that
  do not know tiers call ``referral_by_hour()``, which refuses a tiered policy rather
  than silently dropping the tiers; ``referral_by_hour_tier()`` always works.
- ``alert_first_check`` (decoy triage): where a canine or detector alert at primary goes
  first: ``"bay"`` (straight to a secondary bay exam, as in version 1), ``"nii_scan"``
  or ``"handheld"`` (a quick check, with a bay exam only when it confirms), so that
  trace-tainted decoys do not tie up the bays; ``"nii_scan_handheld"``: an NII scan,
  and the handheld check when the scan is clean (the handheld alone where no scanner
  covers the mode).
- ``alert_covered_to_bay`` (``triage.covered_alert_to_bay`` in the file, default false):
  with decoy triage, an alert on a conveyance the policy would have referred anyway
  (its risk score or its cell's random draw) goes straight to a bay exam; only alerts
  the plan did not select go to the quick check first.
- ``capacity_reserve``: the share of secondary capacity kept for the randomized
  schedule: alert referrals may fill only ``1 - capacity_reserve`` of it, so the
  schedule keeps running when decoys pile up.
- ``overrides``: officer overrides of the referral probability of some cells, each with
  its reason, kept as an audit record. ``apply_override`` reports the schedule's entropy
  before and after and warns when the override makes the schedule more predictable.

Version 3 adds the rail mode (rail containers), last in ``MODE_ORDER`` so that the other
modes keep their indices. A version 1 or 2 file has the four rows of
``LEGACY_MODE_ORDER``; it reads with a rail row of zeros (no random referral of rail
containers: its writer knew no rail) and writes back as version 3.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from portwatch.domain.errors import ConfigError
from portwatch.domain.modes import Mode

POLICY_FORMAT_VERSION = 3
#: Versions of the JSON form this portwatch reads (older ones are upgraded on reading).
READABLE_VERSIONS: tuple[int, ...] = (1, 2, 3)
MODE_ORDER: tuple[Mode, ...] = (Mode.TRUCK, Mode.CAR, Mode.PEDESTRIAN, Mode.BUS, Mode.RAIL)
#: The modes of versions 1 and 2 of the JSON form (before rail), in their order.
LEGACY_MODE_ORDER: tuple[Mode, ...] = MODE_ORDER[:4]
LANE_ORDER: tuple[str, ...] = ("general", "express")
N_MODES = len(MODE_ORDER)
N_LANES = len(LANE_ORDER)
CapacityRule = Literal["wave", "hold"]
AlertCheck = Literal["bay", "nii_scan", "handheld", "nii_scan_handheld"]
ALERT_CHECKS: tuple[str, ...] = ("bay", "nii_scan", "handheld", "nii_scan_handheld")


def readable_versions() -> str:
    """The readable versions in words (``1, 2 and 3``), for error messages."""
    *head, last = map(str, READABLE_VERSIONS)
    return f"{', '.join(head)} and {last}" if head else last


def mode_index(mode: Mode | str) -> int:
    """Index of ``mode`` in ``MODE_ORDER``."""
    return MODE_ORDER.index(Mode(mode))


def _check_prob(where: str, value: float) -> None:
    if not (0.0 <= value <= 1.0):
        raise ConfigError(f"{where}: must be in [0, 1], got {value}")


@dataclass(frozen=True)
class Override:
    """An officer's override of the referral probability of some cells of a policy.

    ``blocks`` are indices of the policy's time blocks; ``tiers`` (empty: every tier) of
    its risk tiers. ``reason`` is required: an override without one cannot be reviewed.
    """

    mode: str
    lane: str
    blocks: tuple[int, ...]
    referral_prob: float
    reason: str
    officer: str = ""
    tiers: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "lane": self.lane, "blocks": list(self.blocks),
                "tiers": list(self.tiers), "referral_prob": self.referral_prob,
                "reason": self.reason, "officer": self.officer}


@dataclass(frozen=True)
class OverrideResult:
    """A policy with an override applied, and how predictable the schedule became."""

    policy: Policy
    entropy_before_bits: float
    entropy_after_bits: float
    warning: str | None


def schedule_entropy_bits(referral: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Entropy of a referral schedule in bits: the sum over cells of ``w * H(p)``.

    Each cell (mode, lane, hour, tier) refers its conveyances independently with
    probability ``p``; ``H(p)`` is the uncertainty an observer has about whether the next
    one is referred (1 bit at ``p = 0.5``, 0 at 0 or 1). ``weights`` (e.g. traffic
    shares per cell, same shape) default to 1 per cell.
    """
    p = np.clip(np.asarray(referral, dtype=np.float64), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(np.where(p > 0, p * np.log2(p), 0.0) + np.where(p < 1, (1 - p) * np.log2(1 - p),
                                                               0.0))
    w = np.ones_like(p) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != p.shape:
        raise ConfigError(f"weights: must have the schedule's shape {p.shape}, got {w.shape}")
    return float((w * h).sum())


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
    risk_tier_edges: tuple[float, ...] = ()
    alert_first_check: AlertCheck = "bay"
    capacity_reserve: float = 0.0
    overrides: tuple[Override, ...] = ()
    alert_covered_to_bay: bool = False

    def __post_init__(self) -> None:
        where = f"policy {self.name}"
        edges = tuple(float(e) for e in self.risk_tier_edges)
        if any(not (0.0 < e < 1.0) for e in edges) or any(
                b <= a for a, b in zip(edges, edges[1:], strict=False)):
            raise ConfigError(f"{where}: risk_tier_edges: must increase strictly within "
                              f"(0, 1), got {list(edges)}")
        object.__setattr__(self, "risk_tier_edges", edges)
        arr = np.array(self.referral_prob, dtype=np.float64)
        ndim = 4 if edges else 3
        shape = f"({N_MODES}, {N_LANES}, n_blocks" + (f", {len(edges) + 1})" if edges else ")")
        if (arr.ndim != ndim or arr.shape[0] != N_MODES or arr.shape[1] != N_LANES
                or (edges and arr.shape[3] != len(edges) + 1)):
            raise ConfigError(f"{where}: referral_prob: must have shape {shape}, "
                              f"got {arr.shape}")
        n_blocks = arr.shape[2]
        if n_blocks < 1 or 24 % n_blocks != 0:
            raise ConfigError(
                f"{where}: referral_prob: blocks must divide 24 hours, got {n_blocks}"
            )
        bad = np.argwhere(~((arr >= 0) & (arr <= 1)))
        if len(bad):
            m, lane, b = bad[0][:3]
            tier = f"[tier {bad[0][3]}]" if edges else ""
            raise ConfigError(
                f"{where}: referral_prob.{MODE_ORDER[m]}.{LANE_ORDER[lane]}[{b}]{tier}: "
                f"must be in [0, 1], got {arr[tuple(bad[0])]}"
            )
        self._check_scalars(where)
        if self.version not in READABLE_VERSIONS:
            raise ConfigError(
                f"{where}: version: this portwatch reads versions "
                f"{readable_versions()}, got {self.version}"
            )
        object.__setattr__(self, "version", POLICY_FORMAT_VERSION)
        object.__setattr__(self, "overrides", tuple(self.overrides))
        for o in self.overrides:
            self._check_override(o)
        arr.setflags(write=False)
        object.__setattr__(self, "referral_prob", arr)

    def _check_scalars(self, where: str) -> None:
        thr = self.risk_threshold
        if thr is not None and not (isinstance(thr, int | float) and 0.0 <= thr <= 1.0):
            raise ConfigError(
                f"{where}: risk_threshold: must be a risk score in [0, 1] or null, got {thr!r}"
            )
        if self.capacity_rule not in ("wave", "hold"):
            raise ConfigError(
                f"{where}: capacity_rule: must be 'wave' or 'hold', got {self.capacity_rule!r}"
            )
        if self.alert_first_check not in ALERT_CHECKS:
            raise ConfigError(f"{where}: alert_first_check: must be one of "
                              f"{', '.join(ALERT_CHECKS)}, got {self.alert_first_check!r}")
        reserve = self.capacity_reserve
        if not (isinstance(reserve, int | float) and 0.0 <= reserve < 1.0):
            raise ConfigError(f"{where}: capacity_reserve: must be in [0, 1), got {reserve!r}")

    def _check_override(self, o: Override) -> None:
        where = f"policy {self.name}: override ({o.reason or 'no reason'})"
        try:
            mode_index(o.mode)
        except ValueError:
            raise ConfigError(f"{where}: mode: unknown mode {o.mode!r}") from None
        if o.lane not in LANE_ORDER:
            raise ConfigError(f"{where}: lane: must be one of {list(LANE_ORDER)}, got {o.lane!r}")
        n_blocks = int(np.asarray(self.referral_prob).shape[2])
        if not o.blocks or any(not 0 <= b < n_blocks for b in o.blocks):
            raise ConfigError(f"{where}: blocks: must be block indices in 0..{n_blocks - 1}, "
                              f"got {list(o.blocks)}")
        if any(not 0 <= t < self.n_tiers for t in o.tiers):
            raise ConfigError(f"{where}: tiers: must be in 0..{self.n_tiers - 1}, "
                              f"got {list(o.tiers)}")
        _check_prob(f"{where}: referral_prob", o.referral_prob)
        if not o.reason.strip():
            raise ConfigError(f"{where}: reason: required")

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

    @property
    def n_tiers(self) -> int:
        """Risk tiers (1 when the policy does not split by risk)."""
        return len(self.risk_tier_edges) + 1

    def referral_by_hour(self) -> np.ndarray:
        """``referral_prob`` expanded to 24 hourly blocks, float64 [mode, lane, hour].

        Refuses a policy with risk tiers (its referral depends on the tier too): read
        ``referral_by_hour_tier()`` instead.
        """
        if self.risk_tier_edges:
            raise ConfigError(
                f"policy {self.name}: referral_prob has {self.n_tiers} risk tiers; this "
                "reader takes untiered policies only (referral_by_hour_tier() has the tiers)"
            )
        hours = np.arange(24) * self.n_blocks // 24
        return np.ascontiguousarray(self.referral_prob[:, :, hours])

    def referral_by_hour_tier(self) -> np.ndarray:
        """Referral probability [mode, lane, hour, tier] (one tier when untiered)."""
        hours = np.arange(24) * self.n_blocks // 24
        arr = self.referral_prob if self.risk_tier_edges else self.referral_prob[..., None]
        return np.ascontiguousarray(arr[:, :, hours, :])

    def tier_of(self, risk: np.ndarray | float) -> np.ndarray:
        """The risk tier of each score (0 = lowest), by ``risk_tier_edges``."""
        return np.searchsorted(np.asarray(self.risk_tier_edges), np.asarray(risk), side="right")

    def risk_threshold_value(self) -> float:
        """The threshold as a number the kernel compares with (above 1 when unused)."""
        return 2.0 if self.risk_threshold is None else float(self.risk_threshold)

    # ---- overrides ----------------------------------------------------------------
    def apply_override(self, override: Override,
                       weights: np.ndarray | None = None) -> OverrideResult:
        """This policy with ``override`` applied, and the schedule's entropy before/after.

        ``weights`` (traffic per cell of ``referral_by_hour_tier()``) weight the entropy;
        the result's ``warning`` is set when the override lowers it.
        """
        self._check_override(override)
        arr = np.array(self.referral_prob)
        if arr.ndim == 3:
            arr = arr[..., None]
        tiers = list(override.tiers) or list(range(self.n_tiers))
        m, lane = mode_index(override.mode), LANE_ORDER.index(override.lane)
        for b in override.blocks:
            arr[m, lane, b, tiers] = override.referral_prob
        new = dataclasses.replace(
            self, referral_prob=arr if self.risk_tier_edges else arr[..., 0],
            overrides=(*self.overrides, override),
        )
        before = schedule_entropy_bits(self.referral_by_hour_tier(), weights)
        after = schedule_entropy_bits(new.referral_by_hour_tier(), weights)
        warning = None
        if after < before - 1e-12:
            warning = (f"override ({override.reason}) makes the schedule more predictable: "
                       f"entropy {before:.3f} -> {after:.3f} bits")
        return OverrideResult(new, before, after, warning)

    # ---- JSON ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form (``format: portwatch.policy``, ``version``)."""
        return {
            "format": "portwatch.policy",
            "version": POLICY_FORMAT_VERSION,
            "name": self.name,
            "description": self.description,
            "modes": [str(m) for m in MODE_ORDER],
            "lanes": list(LANE_ORDER),
            "n_blocks": self.n_blocks,
            "risk_tier_edges": list(self.risk_tier_edges),
            "referral_prob": self.referral_prob.tolist(),
            "triage": {
                "broken_to_full_search": self.broken_to_full_search,
                "clean_enrolled_express": self.clean_enrolled_express,
                "alert_first_check": self.alert_first_check,
                # written only when set, so files of policies without it are unchanged
                **({"covered_alert_to_bay": True} if self.alert_covered_to_bay else {}),
            },
            "risk_threshold": self.risk_threshold,
            "capacity_rule": self.capacity_rule,
            "capacity_reserve": self.capacity_reserve,
            "overrides": [o.to_dict() for o in self.overrides],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "policy") -> Policy:
        """Read the JSON form (any readable version) back; errors name the field."""
        from portwatch.targeting.policyfile import policy_from_dict

        return policy_from_dict(cls, data, where=where)

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
    "ALERT_CHECKS",
    "LANE_ORDER",
    "LEGACY_MODE_ORDER",
    "MODE_ORDER",
    "N_LANES",
    "N_MODES",
    "POLICY_FORMAT_VERSION",
    "READABLE_VERSIONS",
    "AlertCheck",
    "CapacityRule",
    "Override",
    "OverrideResult",
    "Policy",
    "mode_index",
    "readable_versions",
    "schedule_entropy_bits",
]
