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

Then, for a referral (each rule one compiled function, called by the live engine and by
the twin's kernel alike):

5. the referral probability of rule 3 is the one of the conveyance's risk tier
   (``risk_tier``: the policy's ``risk_tier_edges``, a score on an edge in the upper tier);
6. admission (``admits``): an alert or a broken seal enters secondary only while fewer
   than ``alert_capacity(capacity_reserve, capacity)`` are in it (the policy's capacity
   reserve keeps the rest for the randomized schedule); any other referral while fewer
   than ``capacity``. One not admitted waits for space (``Decision.held``);
7. the first check (``first_check``): a discretionary referral goes to the port's triage
   step for its mode (an NII scan where a scanner covers the mode, else a canine check,
   else an unguided bay exam); an alert goes where the policy's ``alert_first_check``
   says (an NII scan only where a scanner covers the mode), else to a bay; a full search
   to a bay.
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


TRIAGE_NONE, TRIAGE_SCAN, TRIAGE_CANINE, TRIAGE_HANDHELD = 0, 1, 2, 3
TRIAGE_STEPS: tuple[str, ...] = ("none", "scan", "canine", "handheld")
"""A port's triage step for a mode's discretionary referrals (``none``: an unguided bay
exam), and the handheld check an alert may go to first."""
ALERT_BAY, ALERT_SCAN, ALERT_HANDHELD, ALERT_SCAN_HANDHELD = 0, 1, 2, 3
ALERT_CHECK_CODES: tuple[str, ...] = ("bay", "nii_scan", "handheld", "nii_scan_handheld")
"""Codes of the policy's ``alert_first_check``."""
FIRST_CHECKS: tuple[str, ...] = ("bay", "nii_scan", "canine", "handheld")
"""``Decision.first_check`` of a referral, indexed by the ``first_check`` code (-1 and
``TRIAGE_NONE``, an unguided exam, both mean a bay)."""

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


@njit(cache=True, nogil=True)
def risk_tier(tier_edges: np.ndarray, risk: float) -> int:
    """The policy's risk tier of a score (0 = lowest; a score on an edge is in the upper
    tier)."""
    tier = 0  # np.searchsorted(..., side="right") by a loop over the few sorted edges:
    for edge in tier_edges:  # numba's general search costs the twin's kernel 5%
        if edge > risk:
            break
        tier += 1
    return tier


def alert_capacity(capacity_reserve: float, capacity: int) -> int:
    """How many in secondary an alert or a broken seal may still join: the share of
    ``capacity`` the policy does not reserve for the randomized schedule (at least 1)."""
    return max(1, int((1.0 - capacity_reserve) * capacity))


@njit(cache=True, nogil=True)
def admits(alert: bool, occupied: int, capacity: int, alert_cap: int) -> bool:
    """Whether a referral enters secondary now (else it waits for space): an alert or a
    broken seal while fewer than ``alert_cap`` are in it, any other while fewer than
    ``capacity``."""
    return occupied < (alert_cap if alert else capacity)


@njit(cache=True, nogil=True)
def first_check(lane_code: int, reason: int, mode_triage: int, alert_check: int) -> int:
    """The first check of a referral: a ``TRIAGE_*`` step, or -1 for straight to a bay.

    ``mode_triage`` is the port's triage step for the conveyance's mode (``TRIAGE_SCAN``
    where a scanner covers it); ``alert_check`` the policy's ``ALERT_*`` code."""
    if lane_code == SECONDARY and reason != R_ALERT:
        return mode_triage
    if reason == R_ALERT and alert_check == ALERT_SCAN:
        return TRIAGE_SCAN if mode_triage == TRIAGE_SCAN else -1
    if reason == R_ALERT and alert_check == ALERT_HANDHELD:
        return TRIAGE_HANDHELD
    if reason == R_ALERT and alert_check == ALERT_SCAN_HANDHELD:  # the handheld follows
        return TRIAGE_SCAN if mode_triage == TRIAGE_SCAN else TRIAGE_HANDHELD
    return -1


@njit(cache=True, nogil=True)
def selected_anyway(risk: float, u: float, risk_threshold: float, referral: float) -> bool:
    """Would the policy have referred this conveyance without its alert: its risk score at
    or above the threshold, or its uniform draw under its cell's referral probability
    (the draws ``decide_code`` reads)? With the policy's ``alert_covered_to_bay`` such an
    alert goes straight to a bay, whatever decoy triage the policy names."""
    return risk >= risk_threshold or u < referral


@dataclass(frozen=True)
class Decision:
    """Where one arrival goes, and why; for a referral also its risk tier, whether it
    waits for space in secondary (``held``) and its first check (``bay``, ``nii_scan``,
    ``canine`` or ``handheld``; empty when not referred)."""

    lane: Lane
    reason: str
    tier: int = 0
    held: bool = False
    first_check: str = ""


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
    port_triage: str = "none",
) -> Decision:
    """Decide one arrival's lane.

    ``lane`` is the primary lane it came through (``general`` / ``express``), ``hour`` the
    hour of day (0-23, local), ``risk`` its risk score in [0, 1], ``in_secondary`` the
    conveyances now in secondary (in an exam or waiting) and ``secondary_capacity`` how
    many secondary holds, ``u`` a uniform draw in [0, 1) from the caller's generator,
    ``port_triage`` the port's triage step for this mode (``none``, ``scan`` where an NII
    scanner covers it, ``canine``). Reads every part of the policy: risk tiers, the
    capacity reserve and where alerts go first.
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
    if port_triage not in ("none", "scan", "canine"):
        raise InputError(f"port_triage: must be none, scan or canine, got {port_triage!r}")
    c = CUSTODY_VALUES.index(str(custody))
    tier = risk_tier(np.asarray(policy.risk_tier_edges, dtype=np.float64), float(risk))
    lane_code, reason = decide_code(
        c, float(risk), bool(enrolled), bool(alert), m, LANE_ORDER.index(lane), int(hour),
        int(in_secondary), int(secondary_capacity), float(u),
        policy.referral_by_hour_tier()[:, :, :, tier], policy.risk_threshold_value(),
        policy.broken_to_full_search, policy.clean_enrolled_express,
        policy.capacity_rule == "hold",
    )
    if lane_code < SECONDARY:
        return Decision(LANE_CODES[lane_code], REASONS[reason], tier)
    is_alert = lane_code == FULL_SEARCH or reason == R_ALERT
    cap = alert_capacity(policy.capacity_reserve, int(secondary_capacity))
    step = first_check(lane_code, reason, TRIAGE_STEPS.index(port_triage),
                       ALERT_CHECK_CODES.index(policy.alert_first_check))
    if step >= 0 and reason == R_ALERT and policy.alert_covered_to_bay and selected_anyway(
            float(risk), float(u), policy.risk_threshold_value(),
            float(policy.referral_by_hour_tier()[m, LANE_ORDER.index(lane), int(hour), tier])):
        step = -1
    return Decision(LANE_CODES[lane_code], REASONS[reason], tier,
                    held=not admits(is_alert, int(in_secondary), int(secondary_capacity), cap),
                    first_check=FIRST_CHECKS[max(step, 0)])


__all__ = [
    "ALERT_CHECK_CODES",
    "CUSTODY_VALUES",
    "FIRST_CHECKS",
    "TRIAGE_STEPS",
    "admits",
    "alert_capacity",
    "first_check",
    "risk_tier",
    "selected_anyway",
    "LANE_CODES",
    "REASONS",
    "Decision",
    "decide_code",
    "decide_lane",
]
