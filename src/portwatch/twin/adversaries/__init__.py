"""The adversaries of the twin, one module each behind one interface (``base.Adversary``).

``make_adversary(name, **params)`` builds one by its registered name; ``adversary_names()``
lists them: ``naive``, ``peak-timing``, ``shotgun``, ``informed``, ``adaptive``, ``insider``.
"""

from __future__ import annotations

from typing import Any

from portwatch.domain.errors import InputError, NotFoundError
from portwatch.twin.adversaries import (  # noqa: F401  (each registers itself)
    adaptive,
    informed,
    insider,
    naive,
    peak_timing,
    shotgun,
)
from portwatch.twin.adversaries.adaptive import AdaptiveAdversary
from portwatch.twin.adversaries.base import (
    _REGISTRY,
    Adversary,
    AdversaryProtocol,
    AdversaryView,
    DayOutcome,
    register_adversary,
)
from portwatch.twin.adversaries.informed import InformedAdversary
from portwatch.twin.adversaries.insider import InsiderAdversary
from portwatch.twin.adversaries.naive import NaiveAdversary
from portwatch.twin.adversaries.peak_timing import PeakTimingAdversary
from portwatch.twin.adversaries.shotgun import ShotgunAdversary
from portwatch.twin.process.plan import LoadPlan


def adversary_names() -> list[str]:
    """Names ``make_adversary`` accepts."""
    return sorted(_REGISTRY)


def make_adversary(name: str, **params: Any) -> Adversary:
    """A new adversary of the registered kind ``name``, made with ``params``."""
    if name not in _REGISTRY:
        raise NotFoundError(
            f"adversary {name!r}: not found (known: {', '.join(sorted(_REGISTRY))})"
        )
    try:
        return _REGISTRY[name](**params)
    except TypeError as exc:
        raise InputError(f"adversary {name}: {exc}") from None


__all__ = [
    "AdaptiveAdversary",
    "Adversary",
    "AdversaryProtocol",
    "AdversaryView",
    "DayOutcome",
    "InformedAdversary",
    "InsiderAdversary",
    "LoadPlan",
    "NaiveAdversary",
    "PeakTimingAdversary",
    "ShotgunAdversary",
    "adversary_names",
    "make_adversary",
    "register_adversary",
]
