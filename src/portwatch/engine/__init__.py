"""The decision for one arrival: custody verdict + risk + policy + capacity -> lane."""

from portwatch.engine.decide import (
    CUSTODY_VALUES,
    LANE_CODES,
    REASONS,
    Decision,
    decide_code,
    decide_lane,
)

__all__ = ["CUSTODY_VALUES", "LANE_CODES", "REASONS", "Decision", "decide_code", "decide_lane"]
