"""Whom to inspect: inspection policies as data, risk scores, game solvers."""

from portwatch.targeting.policy import (
    LANE_ORDER,
    MODE_ORDER,
    N_LANES,
    N_MODES,
    POLICY_FORMAT_VERSION,
    Policy,
    mode_index,
)

__all__ = [
    "LANE_ORDER",
    "MODE_ORDER",
    "N_LANES",
    "N_MODES",
    "POLICY_FORMAT_VERSION",
    "Policy",
    "mode_index",
]
