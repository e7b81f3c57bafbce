"""Reading a policy's JSON form (versions 1, 2 and 3) with pydantic; errors are one line.

Types are strict: ``"risk_threshold": "0.5"`` (a string) or ``"broken_to_full_search":
"no"`` are refused, not coerced. A version 1 file is read with the fields of version 2 at
their defaults, which mean what version 1 did; a version 1 or 2 file (four modes, before
rail) gets a rail row of zeros (``with_rail_row``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from portwatch.domain.errors import ConfigError
from portwatch.targeting.policy import (
    LANE_ORDER,
    LEGACY_MODE_ORDER,
    MODE_ORDER,
    READABLE_VERSIONS,
    Override,
    readable_versions,
)

RAIL_VERSION = 3
"""The first version of the JSON form with the rail mode."""

if TYPE_CHECKING:
    from portwatch.targeting.policy import Policy

Prob = Annotated[float, Field(strict=True, ge=0.0, le=1.0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TriageIn(_Model):
    broken_to_full_search: StrictBool = True
    clean_enrolled_express: StrictBool = True
    alert_first_check: Literal["bay", "nii_scan", "handheld", "nii_scan_handheld"] = "bay"
    covered_alert_to_bay: StrictBool = False


class OverrideIn(_Model):
    mode: StrictStr
    lane: StrictStr
    blocks: Annotated[list[StrictInt], Field(min_length=1)]
    tiers: list[StrictInt] = []
    referral_prob: Prob
    reason: Annotated[StrictStr, Field(min_length=1)]
    officer: StrictStr = ""


class PolicyIn(_Model):
    format: Literal["portwatch.policy"]
    version: StrictInt
    name: StrictStr
    description: StrictStr = ""
    modes: list[StrictStr]
    lanes: list[StrictStr]
    n_blocks: StrictInt | None = None
    risk_tier_edges: list[Annotated[float, Field(strict=True, gt=0.0, lt=1.0)]] = []
    referral_prob: list[Any]
    triage: TriageIn = TriageIn()
    risk_threshold: Prob | None = None
    capacity_rule: Literal["wave", "hold"] = "wave"
    capacity_reserve: Annotated[float, Field(strict=True, ge=0.0, lt=1.0)] = 0.0
    overrides: list[OverrideIn] = []


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def policy_from_dict(cls: type[Policy], data: dict[str, Any], *, where: str) -> Policy:
    """Validate ``data`` (a policy's JSON form) and build the policy."""
    if data.get("format") != "portwatch.policy":
        raise ConfigError(f"{where}: format: must be 'portwatch.policy', "
                          f"got {data.get('format')!r}")
    if data.get("version") not in READABLE_VERSIONS:
        raise ConfigError(f"{where}: version: this portwatch reads versions "
                          f"{readable_versions()}, got {data.get('version')!r}")
    try:
        p = PolicyIn.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ConfigError(f"{where}: {_loc(tuple(err['loc']))}: {err['msg']}") from None
    modes = MODE_ORDER if p.version >= RAIL_VERSION else LEGACY_MODE_ORDER
    if p.modes != [str(m) for m in modes]:
        raise ConfigError(f"{where}: modes: must be {[str(m) for m in modes]}")
    if p.lanes != list(LANE_ORDER):
        raise ConfigError(f"{where}: lanes: must be {list(LANE_ORDER)}")
    try:
        arr = np.asarray(p.referral_prob, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: referral_prob: must be a nested array of numbers "
                          f"(one per mode, lane, block)") from None
    if p.n_blocks is not None and arr.ndim >= 3 and arr.shape[2] != p.n_blocks:
        raise ConfigError(f"{where}: n_blocks: says {p.n_blocks}, referral_prob has "
                          f"{arr.shape[2]} blocks")
    if p.version < RAIL_VERSION:
        arr = with_rail_row(arr)
    try:
        return cls(
            name=p.name, referral_prob=arr, description=p.description,
            broken_to_full_search=p.triage.broken_to_full_search,
            clean_enrolled_express=p.triage.clean_enrolled_express,
            alert_first_check=p.triage.alert_first_check,
            alert_covered_to_bay=p.triage.covered_alert_to_bay,
            risk_threshold=p.risk_threshold, capacity_rule=p.capacity_rule,
            capacity_reserve=p.capacity_reserve, risk_tier_edges=tuple(p.risk_tier_edges),
            overrides=tuple(Override(o.mode, o.lane, tuple(o.blocks), o.referral_prob,
                                     o.reason, o.officer, tuple(o.tiers)) for o in p.overrides),
            version=p.version,
        )
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def with_rail_row(arr: np.ndarray) -> np.ndarray:
    """The referral array of a file written before rail (rows in ``LEGACY_MODE_ORDER``)
    with a rail row of zeros appended; an array of another shape is returned as it is,
    for the policy's own shape check to name."""
    if arr.ndim < 3 or arr.shape[0] != len(LEGACY_MODE_ORDER):
        return arr
    rail = np.zeros((len(MODE_ORDER) - len(LEGACY_MODE_ORDER), *arr.shape[1:]))
    return np.concatenate([arr, rail], axis=0)


__all__ = ["RAIL_VERSION", "OverrideIn", "PolicyIn", "TriageIn", "policy_from_dict",
           "with_rail_row"]
