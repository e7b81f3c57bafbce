"""Substances as a field identification names them: classes, verdicts and actions.

A handheld identification ends in one ``Verdict`` and one ``Action`` an inspector acts
on; each component found carries a ``SubstanceClass``.
"""

from __future__ import annotations

from enum import StrEnum


class SubstanceClass(StrEnum):
    """What a reference compound is, for the purpose of a verdict."""

    CONTROLLED = "controlled"
    CUTTING_AGENT = "cutting_agent"
    PACKAGING = "packaging"
    BENIGN = "benign"
    EXPLOSIVE = "explosive"


class Verdict(StrEnum):
    """The one-word outcome of a field identification."""

    CONTROLLED = "controlled"
    BENIGN = "benign"
    INCONCLUSIVE = "inconclusive"
    EXPLOSIVE = "explosive"


class Action(StrEnum):
    """What the inspector does next."""

    SEIZE_AND_SECURE = "seize-and-secure"
    RELEASE = "release"
    SEND_TO_LAB = "send-to-lab"
    EVACUATE_AND_CALL_EOD = "evacuate-and-call-EOD"


ACTION_FOR_VERDICT: dict[Verdict, Action] = {
    Verdict.CONTROLLED: Action.SEIZE_AND_SECURE,
    Verdict.BENIGN: Action.RELEASE,
    Verdict.INCONCLUSIVE: Action.SEND_TO_LAB,
    Verdict.EXPLOSIVE: Action.EVACUATE_AND_CALL_EOD,
}

__all__ = ["ACTION_FOR_VERDICT", "Action", "SubstanceClass", "Verdict"]
