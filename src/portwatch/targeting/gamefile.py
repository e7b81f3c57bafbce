"""The JSON forms of games, validated at the edge with pydantic; errors are one line.

A compact security game::

    {"resources": 2,
     "targets": [{"defender_covered": 5, "defender_uncovered": -20,
                  "attacker_covered": -10, "attacker_uncovered": 30, "cost": 1.0}, ...]}

``cost`` is optional (1.0). Capacity per group of targets (e.g. per time block): give
each target a ``"group": g`` and the budgets ``"group_resources": [m_0, m_1, ...]``,
enforced on top of ``resources``. A Bayesian normal-form game::

    {"leader_strategies": ["a", "b"],
     "types": [{"probability": 1.0, "actions": ["c", "d"],
                "leader_payoffs": [[2, 4], [1, 3]], "follower_payoffs": [[1, 0], [0, 2]]}]}

with one payoff row per leader strategy and one column per action. A security game
against several attacker types (one coverage, each type its own payoffs)::

    {"resources": 2, "costs": [1.0, 1.0],
     "types": [{"name": "single-load", "probability": 0.7,
                "targets": [{"defender_covered": 5, ...}, ...]}, ...]}

``costs`` is optional (1.0 per target).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from portwatch.domain.errors import InputError
from portwatch.targeting.eraser import BayesianSecurityGame
from portwatch.targeting.games import BayesianGame, FollowerType, SecurityGame

Game = SecurityGame | BayesianGame | BayesianSecurityGame

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
    group: Annotated[int, Field(strict=True, ge=0)] | None = None


class SecurityGameIn(_Model):
    name: str = ""
    resources: Annotated[float, Field(strict=True, ge=0.0, allow_inf_nan=False)]
    targets: Annotated[list[TargetIn], Field(min_length=1)]
    group_resources: list[Annotated[float, Field(strict=True, ge=0.0,
                                                 allow_inf_nan=False)]] | None = None

    @model_validator(mode="after")
    def _capacity(self) -> SecurityGameIn:
        grouped = [t.group is not None for t in self.targets]
        if self.group_resources is None and any(grouped):
            raise ValueError("group_resources: targets name groups, so give each group's budget")
        if self.group_resources is not None and not all(grouped):
            raise ValueError(f"targets[{grouped.index(False)}].group: required with "
                             f"group_resources")
        total = sum(t.cost for t in self.targets)
        if self.resources > total + 1e-9:
            what = (f"the {len(self.targets)} targets" if total == len(self.targets)
                    else f"the targets' total cost {total:g}")
            raise ValueError(f"resources: {self.resources:g} is more than {what}")
        return self


class PayoffsIn(_Model):
    defender_covered: Number
    defender_uncovered: Number
    attacker_covered: Number
    attacker_uncovered: Number


class AttackerTypeIn(_Model):
    name: str = ""
    probability: Probability
    targets: Annotated[list[PayoffsIn], Field(min_length=1)]


class BayesianSecurityGameIn(_Model):
    name: str = ""
    resources: Annotated[float, Field(strict=True, ge=0.0, allow_inf_nan=False)]
    costs: list[Annotated[float, Field(strict=True, gt=0.0, allow_inf_nan=False)]] | None = None
    types: Annotated[list[AttackerTypeIn], Field(min_length=1)]

    @model_validator(mode="after")
    def _shapes(self) -> BayesianSecurityGameIn:
        total = sum(t.probability for t in self.types)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"types: probabilities must sum to 1, got {total:g}")
        n = len(self.types[0].targets)
        for k, t in enumerate(self.types):
            if len(t.targets) != n:
                raise ValueError(f"types[{k}].targets: {len(t.targets)} targets, types[0] has {n}")
        if self.costs is not None and len(self.costs) != n:
            raise ValueError(f"costs: one per target ({n}), got {len(self.costs)}")
        cap = n if self.costs is None else sum(self.costs)
        if self.resources > cap + 1e-9:
            raise ValueError(f"resources: {self.resources:g} is more than the {n} targets"
                             if self.costs is None else
                             f"resources: {self.resources:g} is more than the targets' total "
                             f"cost {cap:g}")
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


def parse_game(data: Any, *, where: str = "game") -> Game:
    """A game from its JSON form (a dict); errors are one line naming the field."""
    try:
        return _parse(data, where)
    except InputError as exc:
        msg = str(exc)
        raise InputError(msg if msg.startswith(f"{where}: ") else f"{where}: {msg}") from None


def _parse(data: Any, where: str) -> Game:
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
            groups=None if sg.group_resources is None else np.array([t.group for t in ts]),
            group_resources=(None if sg.group_resources is None
                             else np.array(sg.group_resources)),
        )
    if "types" in data and "resources" in data:
        try:
            bs = BayesianSecurityGameIn.model_validate(data)
        except ValidationError as exc:
            raise _one_line(where, exc) from None
        cost = None if bs.costs is None else np.array(bs.costs)
        games = tuple(SecurityGame(
            defender_covered=np.array([t.defender_covered for t in ty.targets]),
            defender_uncovered=np.array([t.defender_uncovered for t in ty.targets]),
            attacker_covered=np.array([t.attacker_covered for t in ty.targets]),
            attacker_uncovered=np.array([t.attacker_uncovered for t in ty.targets]),
            resources=bs.resources, cost=cost) for ty in bs.types)
        return BayesianSecurityGame(games, tuple(t.probability for t in bs.types),
                                    tuple(t.name or f"type-{k}" for k, t in enumerate(bs.types)))
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
    raise InputError(f"{where}: neither a security game ('resources', 'targets'), a security "
                     f"game with attacker types ('resources', 'types') nor a Bayesian game "
                     f"('leader_strategies', 'types')")


def load_game(path: Path) -> Game:
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


__all__ = ["BayesianGameIn", "BayesianSecurityGameIn", "Game", "SecurityGameIn", "load_game",
           "parse_game"]
