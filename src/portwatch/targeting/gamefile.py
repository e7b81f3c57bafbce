"""The JSON forms of games, validated at the edge with pydantic; errors are one line.

A compact security game::

    {"resources": 2,
     "targets": [{"defender_covered": 5, "defender_uncovered": -20,
                  "attacker_covered": -10, "attacker_uncovered": 30, "cost": 1.0}, ...]}

``cost`` is optional (1.0). A Bayesian normal-form game::

    {"leader_strategies": ["a", "b"],
     "types": [{"probability": 1.0, "actions": ["c", "d"],
                "leader_payoffs": [[2, 4], [1, 3]], "follower_payoffs": [[1, 0], [0, 2]]}]}

with one payoff row per leader strategy and one column per action.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from portwatch.domain.errors import InputError
from portwatch.targeting.games import BayesianGame, FollowerType, SecurityGame

Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Probability = Annotated[float, Field(strict=True, ge=0.0, le=1.0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetIn(_Model):
    defender_covered: Number
    defender_uncovered: Number
    attacker_covered: Number
    attacker_uncovered: Number
    cost: Annotated[float, Field(strict=True, gt=0.0, allow_inf_nan=False)] = 1.0


class SecurityGameIn(_Model):
    name: str = ""
    resources: Annotated[float, Field(strict=True, ge=0.0, allow_inf_nan=False)]
    targets: Annotated[list[TargetIn], Field(min_length=1)]

    @model_validator(mode="after")
    def _capacity(self) -> SecurityGameIn:
        total = sum(t.cost for t in self.targets)
        if self.resources > total + 1e-9:
            what = (f"the {len(self.targets)} targets" if total == len(self.targets)
                    else f"the targets' total cost {total:g}")
            raise ValueError(f"resources: {self.resources:g} is more than {what}")
        return self


class TypeIn(_Model):
    probability: Probability
    actions: Annotated[list[str], Field(min_length=1)]
    leader_payoffs: list[list[Number]]
    follower_payoffs: list[list[Number]]


class BayesianGameIn(_Model):
    name: str = ""
    leader_strategies: Annotated[list[str], Field(min_length=1)]
    types: Annotated[list[TypeIn], Field(min_length=1)]

    @model_validator(mode="after")
    def _shapes(self) -> BayesianGameIn:
        total = sum(t.probability for t in self.types)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"types: probabilities must sum to 1, got {total:g}")
        n = len(self.leader_strategies)
        for k, t in enumerate(self.types):
            for name in ("leader_payoffs", "follower_payoffs"):
                rows = getattr(t, name)
                if len(rows) != n:
                    raise ValueError(f"types[{k}].{name}: one row per leader strategy "
                                     f"({n}), got {len(rows)}")
                for i, row in enumerate(rows):
                    if len(row) != len(t.actions):
                        raise ValueError(f"types[{k}].{name}[{i}]: one value per action "
                                         f"({len(t.actions)}), got {len(row)}")
        return self


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _one_line(where: str, exc: ValidationError) -> InputError:
    err = exc.errors()[0]
    loc = _loc(tuple(err["loc"]))
    msg = str(err["msg"]).removeprefix("Value error, ")
    return InputError(f"{where}: {loc}: {msg}" if loc else f"{where}: {msg}")


def parse_game(data: Any, *, where: str = "game") -> SecurityGame | BayesianGame:
    """A game from its JSON form (a dict); errors are one line naming the field."""
    try:
        return _parse(data, where)
    except InputError as exc:
        msg = str(exc)
        raise InputError(msg if msg.startswith(f"{where}: ") else f"{where}: {msg}") from None


def _parse(data: Any, where: str) -> SecurityGame | BayesianGame:
    if not isinstance(data, dict):
        raise InputError(f"{where}: must be a JSON object")
    if "targets" in data:
        try:
            sg = SecurityGameIn.model_validate(data)
        except ValidationError as exc:
            raise _one_line(where, exc) from None
        ts = sg.targets
        return SecurityGame(
            defender_covered=np.array([t.defender_covered for t in ts]),
            defender_uncovered=np.array([t.defender_uncovered for t in ts]),
            attacker_covered=np.array([t.attacker_covered for t in ts]),
            attacker_uncovered=np.array([t.attacker_uncovered for t in ts]),
            resources=sg.resources,
            cost=np.array([t.cost for t in ts]),
        )
    if "types" in data or "leader_strategies" in data:
        try:
            bg = BayesianGameIn.model_validate(data)
        except ValidationError as exc:
            raise _one_line(where, exc) from None
        return BayesianGame(
            leader_strategies=tuple(bg.leader_strategies),
            types=tuple(
                FollowerType(t.probability, tuple(t.actions), np.array(t.leader_payoffs),
                             np.array(t.follower_payoffs))
                for t in bg.types
            ),
        )
    raise InputError(f"{where}: neither a security game ('targets') nor a Bayesian game "
                     f"('leader_strategies', 'types')")


def load_game(path: Path) -> SecurityGame | BayesianGame:
    """Read and validate a game file."""
    where = path.name
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"{where}: cannot read: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not JSON: {exc.msg} at line {exc.lineno}") from None
    return parse_game(data, where=where)


__all__ = ["BayesianGameIn", "SecurityGameIn", "load_game", "parse_game"]
