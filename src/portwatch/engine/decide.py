"""The decision for one arrival: custody verdict + risk + policy + live capacity -> lane.

The logic is written once, in ``decide_code`` (numba-compiled). The live engine calls it
through ``decide_lane``; the twin's kernel calls it directly for every conveyance. So the
twin measures exactly the rule the port would run, and a test shows that both give the
same lane and reason from the same inputs and the same uniform draw.

The rule, in order:

1. custody ``broken`` and the policy sends broken custody to a full search: FULL_SEARCH;
2. an alert (a canine or detector alarm at primary): SECONDARY;
3. risk at or above the policy's threshold, or the uniform draw below the policy's
   referral probability for (mode, lane, hour): a discretionary referral. When secondary
   is full (``in_secondary >= secondary_capacity``) and the capacity rule is ``wave``,
   the conveyance is released instead;
4. otherwise released: a custody ``review`` (minor, explained events only) loses the
   express lane and is released to the standard lane (FREE); else EXPRESS if it came
   through the express lane or is enrolled with a clean custody verdict (and the policy
   sends those to express), else FREE.
Rules 1 and 2 ignore the capacity rule: a broken seal or an alert is never waved through.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from portwatch.domain.errors import InputError
from portwatch.domain.modes import Lane, Mode
from portwatch.targeting.policy import LANE_ORDER, Policy, mode_index

# Lane codes follow the order of ``Lane``; reasons index ``REASONS``.
LANE_CODES: tuple[Lane, ...] = (Lane.FREE, Lane.EXPRESS, Lane.SECONDARY, Lane.FULL_SEARCH)
FREE, EXPRESS, SECONDARY, FULL_SEARCH = 0, 1, 2, 3
REASONS: tuple[str, ...] = (
    "not selected",
    "express lane",
    "custody clean, enrolled",
    "random referral",
    "risk at or above threshold",
    "alert at primary",
    "custody broken",
    "custody review, standard lane",
    "secondary full, waved through",
)
(R_NOT_SELECTED, R_EXPRESS_LANE, R_CLEAN_ENROLLED, R_RANDOM, R_RISK, R_ALERT,
 R_CUSTODY_BROKEN, R_CUSTODY_REVIEW, R_WAVED) = range(len(REASONS))


CUSTODY_VALUES: tuple[str, ...] = ("none", "clean", "review", "broken")
"""Custody verdicts by code: ``none`` (not monitored) and the monitor's ``clean`` /
``review`` / ``broken`` (the values of ``portwatch.domain.custody.Verdict``)."""
CUSTODY_NONE, CUSTODY_CLEAN, CUSTODY_REVIEW, CUSTODY_BROKEN = 0, 1, 2, 3


@njit(cache=True, nogil=True)
def decide_code(
    custody: int,
    risk: float,
    enrolled: bool,
    alert: bool,
    mode: int,
    lane: int,
    hour: int,
    in_secondary: int,
    secondary_capacity: int,
    u: float,
    referral_by_hour: np.ndarray,
    risk_threshold: float,
    broken_to_full_search: bool,
    clean_enrolled_express: bool,
    hold_when_full: bool,
) -> tuple[int, int]:
    """(lane code, reason code) for one arrival; see the module docstring for the rule.

    ``referral_by_hour`` is ``Policy.referral_by_hour()`` [mode, lane, hour]; ``u`` is a
    uniform draw in [0, 1); ``risk_threshold`` above 1 disables the risk rule.
    """
    if custody == CUSTODY_BROKEN and broken_to_full_search:
        return FULL_SEARCH, R_CUSTODY_BROKEN
    if alert:
        return SECONDARY, R_ALERT
    reason = -1
    if risk >= risk_threshold:
        reason = R_RISK
    elif u < referral_by_hour[mode, lane, hour]:
        reason = R_RANDOM
    review = custody == CUSTODY_REVIEW
    release = EXPRESS if lane == 1 and not review else FREE
    if reason >= 0:
        if in_secondary >= secondary_capacity and not hold_when_full:
            return release, R_WAVED
        return SECONDARY, reason
    if review:
        return FREE, R_CUSTODY_REVIEW
    if lane == 1:
        return EXPRESS, R_EXPRESS_LANE
    if enrolled and custody == CUSTODY_CLEAN and clean_enrolled_express:
        return EXPRESS, R_CLEAN_ENROLLED
    return FREE, R_NOT_SELECTED


@dataclass(frozen=True)
class Decision:
    """Where one arrival goes, and why."""

    lane: Lane
    reason: str


def decide_lane(
    *,
    policy: Policy,
    mode: Mode | str,
    lane: str,
    hour: int,
    custody: str,
    risk: float,
    enrolled: bool,
    in_secondary: int,
    secondary_capacity: int,
    u: float,
    alert: bool = False,
) -> Decision:
    """Decide one arrival's lane.

    ``lane`` is the primary lane it came through (``general`` / ``express``), ``hour`` the
    hour of day (0-23, local), ``risk`` its risk score in [0, 1], ``in_secondary`` the
    conveyances now in secondary (in an exam or waiting) and ``secondary_capacity`` how
    many secondary holds, ``u`` a uniform draw in [0, 1) from the caller's generator.
    """
    try:
        m = mode_index(mode)
    except ValueError:
        raise InputError(f"mode: unknown mode {mode!r}") from None
    if lane not in LANE_ORDER:
        raise InputError(f"lane: must be one of {LANE_ORDER}, got {lane!r}")
    if not 0 <= hour < 24:
        raise InputError(f"hour: must be in 0..23, got {hour}")
    if not 0.0 <= u < 1.0:
        raise InputError(f"u: must be in [0, 1), got {u}")
    if str(custody) not in CUSTODY_VALUES:
        raise InputError(f"custody: must be one of {CUSTODY_VALUES}, got {custody!r}")
    c = CUSTODY_VALUES.index(str(custody))
    lane_code, reason = decide_code(
        c, float(risk), bool(enrolled), bool(alert), m, LANE_ORDER.index(lane), int(hour),
        int(in_secondary), int(secondary_capacity), float(u), policy.referral_by_hour(),
        policy.risk_threshold_value(), policy.broken_to_full_search,
        policy.clean_enrolled_express, policy.capacity_rule == "hold",
    )
    return Decision(LANE_CODES[lane_code], REASONS[reason])


__all__ = [
    "CUSTODY_VALUES",
    "LANE_CODES",
    "REASONS",
    "Decision",
    "decide_code",
    "decide_lane",
]
