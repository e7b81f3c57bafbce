"""The adversary interface of the twin: what an adversary sees, what it learns, its base
class and the registry decorator.

An adversary plans each day's smuggling loads and decoys (``plan_day``) from what it can
see (``AdversaryView``: the scenario, the defender's policy, the inspection share and
primary waits it observed on earlier days, and its own past outcomes), then learns what
happened (``observe``). To add one: subclass ``Adversary`` in a module of
``portwatch.twin.adversaries``, decorate it with ``@register_adversary("name")`` and
import the module in the package's ``__init__``, so ``make_adversary("name", **params)``
finds it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

import numpy as np

from portwatch.targeting.policy import N_LANES, N_MODES, Policy
from portwatch.twin.process.plan import LoadPlan
from portwatch.twin.scenario.schema import CompiledScenario


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




_REGISTRY: dict[str, Callable[..., Adversary]] = {}
A = TypeVar("A", bound=type[Adversary])


def register_adversary(name: str) -> Callable[[A], A]:
    """Class decorator: make ``cls`` available as ``make_adversary(name)``."""

    def wrap(cls: A) -> A:
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return wrap



__all__ = [
    "Adversary",
    "AdversaryProtocol",
    "AdversaryView",
    "DayOutcome",
    "register_adversary",
]
