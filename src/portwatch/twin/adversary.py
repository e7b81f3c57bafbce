"""The adversary interface of the twin, its value types, the naive adversary and the registry.

An adversary plans each day's smuggling loads and decoys (``plan_day``) from what it can
see (``AdversaryView``: the scenario, the defender's policy, the inspection share and
primary waits it observed on earlier days, and its own past outcomes), then learns what
happened (``observe``). To add one: subclass ``Adversary``, decorate it with
``@register_adversary("name")``, and put it in ``portwatch.twin.adversaries`` (imported
by the registry), so ``make_adversary("name", **params)`` finds it.

Conventions of a ``LoadPlan`` (one row per load or decoy):

- ``arrive_at_s``: seconds since the start of the planned day, in [0, 86400);
- ``mode``: index into ``MODE_ORDER``; ``lane``: 0 general, 1 express;
- ``drug`` / ``concealment``: indices into ``scenario.drugs`` / ``CONCEALMENTS``; -1 on decoys;
- a load in the express lane, or hidden in a sealed shipment (``sealed_pre`` /
  ``sealed_post``), travels as an enrolled conveyance: a compromised trusted shipper.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

import numpy as np

from portwatch.domain.errors import InputError, NotFoundError
from portwatch.targeting.policy import N_LANES, N_MODES, Policy
from portwatch.twin.scenario import CONCEALMENTS, CompiledScenario

DAY_S = 86_400.0
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


@dataclass(frozen=True, eq=False)
class DayOutcome:
    """What happened to one day's plan, as the adversary learns it.

    ``interdicted[i]`` / ``inspected[i]``: row ``i`` of ``plan`` was seized (at the port or
    the inland checkpoint) / sent to secondary or a full search. ``inspection_share`` and
    ``mean_wait_s`` are that day's observed [mode, lane, hour] share of all conveyances
    inspected and mean primary wait (NaN where no conveyance arrived).
    """

    day: int
    plan: LoadPlan
    interdicted: np.ndarray
    inspected: np.ndarray
    inspection_share: np.ndarray
    mean_wait_s: np.ndarray


@dataclass(frozen=True, eq=False)
class AdversaryView:
    """What the adversary knows when it plans ``day``.

    ``inspection_share`` / ``mean_wait_s`` [mode, lane, hour] pool the days seen so far
    (NaN where nothing was seen); ``history`` holds its own past outcomes.
    """

    scenario: CompiledScenario
    policy: Policy
    day: int
    inspection_share: np.ndarray
    mean_wait_s: np.ndarray
    history: tuple[DayOutcome, ...] = field(default=())

    @classmethod
    def blank(cls, scenario: CompiledScenario, policy: Policy, day: int = 0) -> AdversaryView:
        """The view before anything was observed (all observations NaN)."""
        nan = np.full((N_MODES, N_LANES, 24), np.nan)
        return cls(scenario, policy, day, nan, nan.copy())

    @property
    def seizures(self) -> int:
        """Loads seized on the days seen so far."""
        return int(sum(int((o.interdicted & ~o.plan.is_decoy).sum()) for o in self.history))


@runtime_checkable
class AdversaryProtocol(Protocol):
    """What the twin needs from an adversary."""

    name: str

    def plan_day(self, view: AdversaryView, rng: np.random.Generator) -> LoadPlan: ...

    def observe(self, outcome: DayOutcome) -> None: ...


class Adversary(ABC):
    """Base class of the adversaries: keeps the outcomes it observed in ``history``."""

    name: ClassVar[str] = "adversary"

    def __init__(self) -> None:
        self.history: list[DayOutcome] = []

    @abstractmethod
    def plan_day(self, view: AdversaryView, rng: np.random.Generator) -> LoadPlan:
        """The loads and decoys of ``view.day``, drawn from ``rng``."""

    def observe(self, outcome: DayOutcome) -> None:
        """Learn from one day's outcome (the base class only records it)."""
        self.history.append(outcome)

    def params(self) -> dict[str, Any]:
        """The parameters this adversary was made with (for the study record)."""
        return {}


# ---- helpers shared by adversaries ------------------------------------------------
def draw_counts(scenario: CompiledScenario, rng: np.random.Generator) -> tuple[int, int]:
    """Poisson numbers of loads and decoys for one day, from the scenario's daily means."""
    return int(rng.poisson(scenario.loads_per_day)), int(rng.poisson(scenario.decoys_per_day))


def draw_drugs(
    scenario: CompiledScenario, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` drugs by the scenario's shares and their lognormal masses (kg)."""
    drug = rng.choice(len(scenario.drugs), size=n, p=scenario.drug_share)
    mean = scenario.drug_mass_kg_mean[drug]
    sigma2 = np.log1p(scenario.drug_mass_kg_cv[drug] ** 2)
    mass = rng.lognormal(np.log(mean) - sigma2 / 2, np.sqrt(sigma2))
    return drug, mass


def draw_times(profile: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` instants (s since the start of the day) spread by a 24-hour ``profile``."""
    p = np.asarray(profile, dtype=np.float64)
    hour = rng.choice(24, size=n, p=p / p.sum())
    return np.minimum((hour + rng.random(n)) * 3600.0, DAY_S - 1e-6)


def fit_concealment(
    scenario: CompiledScenario, mode: np.ndarray, concealment: np.ndarray
) -> np.ndarray:
    """Commingled and sealed concealments need cargo: on other modes they become a trap."""
    out = concealment.copy()
    out[(mode != TRUCK) & (concealment != TRAP)] = TRAP
    return out


def express_lane(scenario: CompiledScenario, mode: np.ndarray, concealment: np.ndarray,
                 ) -> np.ndarray:
    """Loads in sealed (enrolled) shipments take the express lane where it is open."""
    return (np.isin(concealment, SEALED) & scenario.has_express[mode]).astype(np.int64)


# ---- the naive adversary ------------------------------------------------------------
_REGISTRY: dict[str, Callable[..., Adversary]] = {}
A = TypeVar("A", bound=type[Adversary])


def register_adversary(name: str) -> Callable[[A], A]:
    """Class decorator: make ``cls`` available as ``make_adversary(name)``."""

    def wrap(cls: A) -> A:
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return wrap


@register_adversary("naive")
class NaiveAdversary(Adversary):
    """Loads spread like traffic: modes, hours, drugs and concealments by the scenario's
    shares, with no regard for the policy or what it has seen."""

    def plan_day(self, view: AdversaryView, rng: np.random.Generator) -> LoadPlan:
        sc = view.scenario
        n_loads, n_decoys = draw_counts(sc, rng)
        n = n_loads + n_decoys
        mode = rng.choice(N_MODES, size=n, p=sc.load_mode_share)
        at = np.empty(n)
        for m in np.unique(mode):
            rows = mode == m
            at[rows] = draw_times(sc.hourly_profile[m], int(rows.sum()), rng)
        drug, mass = draw_drugs(sc, n, rng)
        conc = rng.choice(len(CONCEALMENTS), size=n, p=sc.concealment_share)
        conc = fit_concealment(sc, mode, conc)
        decoy = np.arange(n) >= n_loads
        drug[decoy] = -1
        mass[decoy] = 0.0
        conc[decoy] = -1
        lane = express_lane(sc, mode, conc)
        order = np.argsort(at, kind="stable")
        return LoadPlan(at[order], mode[order], lane[order], drug[order], mass[order],
                        conc[order], decoy[order])


def _registry() -> dict[str, Callable[..., Adversary]]:
    # The other adversaries live in their own module and register themselves on import.
    try:
        importlib.import_module("portwatch.twin.adversaries")
    except ModuleNotFoundError as exc:
        if exc.name != "portwatch.twin.adversaries":
            raise
    return _REGISTRY


def adversary_names() -> list[str]:
    """Names ``make_adversary`` accepts."""
    return sorted(_registry())


def make_adversary(name: str, **params: Any) -> Adversary:
    """A new adversary of the registered kind ``name``, made with ``params``."""
    registry = _registry()
    if name not in registry:
        raise NotFoundError(
            f"adversary {name!r}: not found (known: {', '.join(sorted(registry))})"
        )
    try:
        return registry[name](**params)
    except TypeError as exc:
        raise InputError(f"adversary {name}: {exc}") from None


__all__ = [
    "Adversary",
    "AdversaryProtocol",
    "AdversaryView",
    "DayOutcome",
    "LoadPlan",
    "NaiveAdversary",
    "adversary_names",
    "draw_counts",
    "draw_drugs",
    "draw_times",
    "express_lane",
    "fit_concealment",
    "make_adversary",
    "register_adversary",
]
