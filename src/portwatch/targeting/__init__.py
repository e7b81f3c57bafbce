"""Whom to inspect: inspection policies as data, game solvers, schedules, risk scores.

Knows nothing of ports: targets, strategies and features are indices and numbers.

- ``policy``: the ``Policy`` data object the live engine and the twin's kernel read.
- ``games``: compact security games, Bayesian normal-form games, their solutions.
- ``origami``, ``lp``, ``bayesian``, ``bounded``: the solvers (ORIGAMI, the weighted LP
  and the multiple-LP method, DOBSS, quantal response and SUQR); ``solve`` picks one.
- ``schedule``: coverage into pure assignments and per-shift rosters.
- ``gamefile``: the JSON forms of games, validated.

The solver names below are imported on first use, so that reading a policy does not
load scipy.
"""

from __future__ import annotations

import importlib
from typing import Any

from portwatch.targeting.policy import (
    LANE_ORDER,
    MODE_ORDER,
    N_LANES,
    N_MODES,
    POLICY_FORMAT_VERSION,
    Policy,
    mode_index,
)

_LAZY = {
    "SecurityGame": "games",
    "BayesianGame": "games",
    "FollowerType": "games",
    "SecuritySolution": "games",
    "BayesianSolution": "games",
    "origami": "origami",
    "weighted_lp": "lp",
    "dobss": "bayesian",
    "quantal_response": "bounded",
    "suqr": "bounded",
    "solve": "solve",
    "comb_sample": "schedule",
    "decompose": "schedule",
    "shift_rosters": "schedule",
    "load_game": "gamefile",
    "parse_game": "gamefile",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"portwatch.targeting.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'portwatch.targeting' has no attribute {name!r}")


__all__ = [
    "LANE_ORDER",
    "MODE_ORDER",
    "N_LANES",
    "N_MODES",
    "POLICY_FORMAT_VERSION",
    "Policy",
    "mode_index",
    *_LAZY,
]
