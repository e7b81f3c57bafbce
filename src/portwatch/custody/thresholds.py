"""Thresholds of the custody monitor: configuration with documented defaults.

Every default names its source or its reason. A TOML file with any subset of these
keys overrides them (``portwatch custody ingest --thresholds FILE``).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from portwatch.domain.errors import ConfigError

# the lower bound of each threshold, and whether it is excluded; any other is > 0
_LOWER: dict[str, tuple[float, bool]] = {
    "low_battery_pct": (0.0, False),
    "off_corridor_min_fixes": (1.0, False),
    "off_corridor_min_s": (0.0, False),
    "stop_exit_fixes": (1.0, False),
    "future_skew_s": (0.0, False),
    "close_grace_s": (0.0, False),
}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When the custody monitor raises an alert."""

    reporting_period_s: float = 60.0
    """Seconds between position reports in transit (the seal's configured period)."""
    gap_periods: float = 2.0
    """A signal gap alert fires after this many periods without a position (of any
    accuracy): deployed cargo-tracking systems alert on no message for two periods."""
    long_gap_s: float = 600.0
    """A gap up to this long, followed by a position consistent with the route, is
    minor (review); longer, it could hide an unauthorised stop, so it is major."""
    low_battery_pct: float = 15.0
    """Low-battery alert below this charge, as deployed customs tracking systems do."""
    off_corridor_min_fixes: int = 3
    """Hysteresis: consecutive fixes surely outside the corridor before an alert."""
    off_corridor_min_s: float = 120.0
    """Hysteresis: and for at least this long, so one noisy fix is never an alert."""
    unplanned_stop_max_s: float = 600.0
    """Longest stop allowed outside an authorised stop (traffic, signals, congestion).
    A stop lasts from its first to its last fix plus one reporting period."""
    stop_radius_m: float = 150.0
    """Fixes within this distance of the first fix of a stop belong to the stop; wide
    enough for multipath errors of about 100 m among buildings and trailers."""
    stop_exit_fixes: int = 2
    """Consecutive fixes beyond the stop radius that end a stop (one outlier does not)."""
    usable_fix_accuracy_m: float = 100.0
    """Fixes less precise than this (cell-tower fallback) neither end a stop nor break
    an excursion; they still fill a gap, and count when surely outside the corridor."""
    max_speed_mps: float = 55.6
    """200 km/h: no loaded truck moves this fast; a faster implied speed between two
    fixes, after subtracting both accuracy radii, means spoofing or a clone."""
    max_route_speed_mps: float = 33.4
    """120 km/h: a leg whose progress along the route is faster than this cannot have
    followed the route, and is checked for leaving the corridor between fixes."""
    future_skew_s: float = 300.0
    """Messages stamped further than this in the future (device clock ahead of the
    server's) are rejected."""
    require_border_fix: bool = True
    """Express needs the seal to have reported from the crossing zone recently: a seal
    left at the factory while the truck drives elsewhere must not look clean."""
    border_fix_max_age_s: float = 1800.0
    """How recent (s before the verdict's time) that fix must be while the shipment has
    not crossed (assumed: half an hour, a short part of the 2-4 h commercial queue)."""
    close_grace_s: float = 3600.0
    """After the disarming, only the opening at the dock within this long is expected
    (assumed: an hour); any other message for a closed shipment is refused."""
    degraded_s: float = 420.0
    """GNSS degraded: no usable fix for longer than this while the seal keeps reporting
    (assumed: 7 periods; a benign cell-tower fallback lasts 1-3 fixes, two back to back
    at most 6, 420 s between usable fixes)."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool):
                continue
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise ConfigError(f"thresholds: {f.name}: must be a finite number, "
                                  f"got {value!r}")
            low, strict = _LOWER.get(f.name, (0.0, True))
            if value < low or (strict and value == low):
                raise ConfigError(f"thresholds: {f.name}: must be {'>' if strict else '>='} "
                                  f"{low:g}, got {value!r}")
        if self.low_battery_pct > 100:
            raise ConfigError(f"thresholds: low_battery_pct: must be <= 100, got "
                              f"{self.low_battery_pct!r}")

    @property
    def gap_s(self) -> float:
        """Seconds without a usable fix that raise a signal-gap alert."""
        return self.gap_periods * self.reporting_period_s

    def to_json(self) -> dict[str, float]:
        return asdict(self)


class _ThresholdsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    reporting_period_s: float = Field(default=60.0, gt=0)
    gap_periods: float = Field(default=2.0, gt=0)
    long_gap_s: float = Field(default=600.0, gt=0)
    low_battery_pct: float = Field(default=15.0, ge=0, le=100)
    off_corridor_min_fixes: int = Field(default=3, ge=1)
    off_corridor_min_s: float = Field(default=120.0, ge=0)
    unplanned_stop_max_s: float = Field(default=600.0, gt=0)
    stop_radius_m: float = Field(default=150.0, gt=0)
    stop_exit_fixes: int = Field(default=2, ge=1)
    usable_fix_accuracy_m: float = Field(default=100.0, gt=0)
    max_speed_mps: float = Field(default=55.6, gt=0)
    max_route_speed_mps: float = Field(default=33.4, gt=0)
    future_skew_s: float = Field(default=300.0, ge=0)
    require_border_fix: bool = True
    border_fix_max_age_s: float = Field(default=1800.0, gt=0)
    close_grace_s: float = Field(default=3600.0, ge=0)
    degraded_s: float = Field(default=420.0, gt=0)


def pydantic_message(exc: ValidationError, source: str) -> str:
    """One line naming the first invalid field of a pydantic error."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    got = err.get("input")
    got_text = "" if isinstance(got, dict | list) else f", got {got!r}"
    return f"{source}: {loc}: {err['msg'].lower()}{got_text}"


def thresholds_from_mapping(data: dict[str, object], source: str) -> Thresholds:
    """Thresholds from a mapping of overrides; ``source`` names the file in errors."""
    try:
        model = _ThresholdsFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(pydantic_message(exc, source)) from exc
    return Thresholds(**{f.name: getattr(model, f.name) for f in fields(Thresholds)})


def load_thresholds(path: Path | None) -> Thresholds:
    """The defaults, overridden by the TOML file at ``path`` when given."""
    if path is None:
        return Thresholds()
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    return thresholds_from_mapping(data, str(path))


__all__ = ["Thresholds", "load_thresholds", "pydantic_message", "thresholds_from_mapping"]
