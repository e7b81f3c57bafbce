"""A day's smuggling plan: the loads and decoys an adversary sends, as parallel arrays.

Conventions of a ``LoadPlan`` (one row per load or decoy):

- ``arrive_at_s``: seconds since the start of the planned day, in [0, 86400);
- ``mode``: index into ``MODE_ORDER``; ``lane``: 0 general, 1 express;
- ``drug`` / ``concealment``: indices into ``scenario.drugs`` / ``CONCEALMENTS``; -1 on decoys;
- a load in the express lane, or hidden in a sealed shipment (``sealed_pre`` /
  ``sealed_post``), travels as an enrolled conveyance: a compromised trusted shipper.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from portwatch.domain.errors import InputError
from portwatch.targeting.policy import N_LANES, N_MODES
from portwatch.twin.scenario.schema import CONCEALMENTS, CompiledScenario

DAY_S = 86_400.0
HOUR_S = 3600.0
SEALED = (CONCEALMENTS.index("sealed_pre"), CONCEALMENTS.index("sealed_post"))
TRAP = CONCEALMENTS.index("trap")
TRUCK = 0


@dataclass(frozen=True, eq=False)
class LoadPlan:
    """One day's loads and decoys as parallel arrays (see the module docstring)."""

    arrive_at_s: np.ndarray
    mode: np.ndarray
    lane: np.ndarray
    drug: np.ndarray
    mass_kg: np.ndarray
    concealment: np.ndarray
    is_decoy: np.ndarray

    def __post_init__(self) -> None:
        casts = {
            "arrive_at_s": np.float64, "mode": np.int64, "lane": np.int64, "drug": np.int64,
            "mass_kg": np.float64, "concealment": np.int64, "is_decoy": np.bool_,
        }
        n = None
        for name, dtype in casts.items():
            arr: np.ndarray = np.ascontiguousarray(getattr(self, name), dtype=dtype)
            if arr.ndim != 1:
                raise InputError(f"LoadPlan.{name}: must be one-dimensional, got {arr.shape}")
            if n is not None and arr.shape[0] != n:
                raise InputError(f"LoadPlan.{name}: length {arr.shape[0]}, expected {n}")
            n = arr.shape[0]
            object.__setattr__(self, name, arr)

    def __len__(self) -> int:
        return int(self.arrive_at_s.shape[0])

    @property
    def n_loads(self) -> int:
        return int((~self.is_decoy).sum())

    @property
    def n_decoys(self) -> int:
        return int(self.is_decoy.sum())

    @property
    def enrolled(self) -> np.ndarray:
        """True where the conveyance travels as an enrolled (trusted) one."""
        return (self.lane == 1) | np.isin(self.concealment, SEALED)

    @classmethod
    def empty(cls) -> LoadPlan:
        z = np.zeros(0)
        return cls(z, z, z, z, z, z, z)

    @classmethod
    def concat(cls, plans: list[LoadPlan]) -> LoadPlan:
        """The rows of ``plans`` in order."""
        if not plans:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f) for p in plans]) for f in _FIELDS))

    def validate(self, scenario: CompiledScenario) -> None:
        """Raise ``InputError`` naming the first row that breaks the plan's contract."""
        checks: list[tuple[str, np.ndarray]] = [
            ("arrive_at_s must be in [0, 86400)", (self.arrive_at_s < 0)
             | (self.arrive_at_s >= DAY_S) | ~np.isfinite(self.arrive_at_s)),
            ("mode must be a mode of the scenario", (self.mode < 0) | (self.mode >= N_MODES)),
            ("lane must be 0 (general) or 1 (express)", (self.lane < 0) | (self.lane >= N_LANES)),
        ]
        bad = np.flatnonzero(checks[1][1])
        if not len(bad):
            present = scenario.mode_present[self.mode]
            checks.append(("mode must be a mode of the scenario", ~present))
            checks.append(("express lane is closed for this mode",
                           (self.lane == 1) & ~scenario.has_express[self.mode]))
        loads = ~self.is_decoy
        n_conc = len(CONCEALMENTS)
        checks += [
            ("drug must index scenario.drugs", loads & ((self.drug < 0)
                                                       | (self.drug >= len(scenario.drugs)))),
            ("concealment must index CONCEALMENTS",
             loads & ((self.concealment < 0) | (self.concealment >= n_conc))),
            ("mass_kg must be > 0 on a load", loads & ~(self.mass_kg > 0)),
            ("decoys carry no drug", self.is_decoy & ((self.drug != -1) | (self.mass_kg != 0))),
        ]
        for message, mask in checks:
            rows = np.flatnonzero(mask)
            if len(rows):
                raise InputError(f"LoadPlan row {rows[0]}: {message}")


_FIELDS = ("arrive_at_s", "mode", "lane", "drug", "mass_kg", "concealment", "is_decoy")



__all__ = ["DAY_S", "HOUR_S", "SEALED", "TRAP", "TRUCK", "LoadPlan"]
