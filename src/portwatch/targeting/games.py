"""The games the solvers take and the answers they give, as frozen values.

Two kinds of game:

- ``SecurityGame``: a compact security game (Kiekintveld et al. 2009). ``resources``
  units of inspection capacity are spread over targets; covering target ``t`` with
  probability ``c[t]`` uses ``cost[t] * c[t]`` units. An attack on ``t`` pays the
  defender ``c*Ud_c + (1-c)*Ud_u`` and the attacker ``c*Ua_c + (1-c)*Ua_u``. We require
  the usual security-game ordering: the attacker strictly prefers an uncovered target
  and the defender weakly prefers a covered one. Optionally targets fall into capacity
  groups (``groups[t]``, e.g. the time block of a lane) with a budget each
  (``group_resources[g]``), enforced on top of the overall ``resources``.
- ``BayesianGame``: a normal-form Bayesian Stackelberg game: the leader has pure
  strategies, each follower type (with a prior probability) has actions and two payoff
  matrices ``[leader strategy, action]``. The leader commits to a mixed strategy; each
  type best-responds, breaking ties in the leader's favour (strong Stackelberg).

Nothing here knows about ports: targets and strategies are indices with optional names.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from portwatch.domain.errors import InputError

#: Tolerance when comparing utilities (ties, best responses) and coverage sums.
UTILITY_TOL = 1e-6


def _frozen_array(values: Any, where: str, ndim: int) -> np.ndarray:
    arr = np.array(values, dtype=np.float64)
    if arr.ndim != ndim:
        raise InputError(f"{where}: must have {ndim} dimension(s), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{where}: must be finite numbers")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class SecurityGame:
    """A compact security game (see the module docstring)."""

    defender_covered: np.ndarray
    defender_uncovered: np.ndarray
    attacker_covered: np.ndarray
    attacker_uncovered: np.ndarray
    resources: float
    cost: np.ndarray | None = None
    groups: np.ndarray | None = None
    group_resources: np.ndarray | None = None

    def __post_init__(self) -> None:
        names = ("defender_covered", "defender_uncovered", "attacker_covered",
                 "attacker_uncovered")
        arrays = [_frozen_array(getattr(self, n), n, 1) for n in names]
        n = arrays[0].shape[0]
        if n < 1:
            raise InputError("targets: need at least one target")
        for name, arr in zip(names, arrays, strict=True):
            if arr.shape[0] != n:
                raise InputError(f"{name}: one value per target ({n}), got {arr.shape[0]}")
            object.__setattr__(self, name, arr)
        cost = np.ones(n) if self.cost is None else self.cost
        cost = _frozen_array(cost, "cost", 1)
        if cost.shape[0] != n:
            raise InputError(f"cost: one value per target ({n}), got {cost.shape[0]}")
        if np.any(cost <= 0):
            t = int(np.argmax(cost <= 0))
            raise InputError(f"targets[{t}].cost: must be > 0, got {cost[t]}")
        object.__setattr__(self, "cost", cost)
        bad = np.flatnonzero(self.attacker_uncovered <= self.attacker_covered)
        if len(bad):
            t = int(bad[0])
            raise InputError(
                f"targets[{t}].attacker_covered: must be below attacker_uncovered "
                f"({self.attacker_covered[t]} >= {self.attacker_uncovered[t]})"
            )
        bad = np.flatnonzero(self.defender_covered < self.defender_uncovered)
        if len(bad):
            t = int(bad[0])
            raise InputError(
                f"targets[{t}].defender_covered: must be at least defender_uncovered "
                f"({self.defender_covered[t]} < {self.defender_uncovered[t]})"
            )
        if not (math.isfinite(self.resources) and self.resources >= 0):
            raise InputError(f"resources: must be a number >= 0, got {self.resources}")
        if self.resources > float(cost.sum()) + UTILITY_TOL:
            raise InputError(
                f"resources: {self.resources:g} is more than covering every target needs "
                f"({float(cost.sum()):g})"
            )
        self._check_groups(n, cost)

    def _check_groups(self, n: int, cost: np.ndarray) -> None:
        if self.groups is None and self.group_resources is None:
            return
        if self.groups is None or self.group_resources is None:
            raise InputError("groups, group_resources: give both or neither")
        g = np.asarray(self.groups)
        if g.shape != (n,) or not np.issubdtype(g.dtype, np.integer) or (g < 0).any():
            raise InputError(f"groups: one group index >= 0 per target ({n})")
        budget = _frozen_array(self.group_resources, "group_resources", 1)
        if g.max() >= budget.shape[0]:
            raise InputError(f"groups: group {int(g.max())} has no entry in group_resources "
                             f"({budget.shape[0]} groups)")
        need = np.bincount(g, weights=cost, minlength=budget.shape[0])
        over = np.flatnonzero((budget < 0) | (budget > need + UTILITY_TOL))
        if len(over):
            k = int(over[0])
            raise InputError(f"group_resources[{k}]: must be in [0, {need[k]:g}] (covering "
                             f"every target of the group), got {budget[k]:g}")
        g = g.astype(np.int64)
        g.setflags(write=False)
        object.__setattr__(self, "groups", g)
        object.__setattr__(self, "group_resources", budget)

    def capacity_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """(A, b) with ``A @ c <= b`` the capacity constraints: the overall budget, then one
        row per group."""
        rows, bounds = [self.costs], [self.resources]
        if self.groups is not None and self.group_resources is not None:
            for k, budget in enumerate(self.group_resources):
                rows.append(np.where(self.groups == k, self.costs, 0.0))
                bounds.append(float(budget))
        return np.vstack(rows), np.array(bounds)

    def within_capacity(self, coverage: np.ndarray, tol: float = 1e-7) -> bool:
        """Whether ``coverage`` respects every capacity constraint."""
        a, b = self.capacity_rows()
        return bool(np.all(a @ np.asarray(coverage) <= b + tol))

    @property
    def n_targets(self) -> int:
        return int(self.defender_covered.shape[0])

    @property
    def costs(self) -> np.ndarray:
        """Capacity used by covering each target with certainty (ones when not given)."""
        assert self.cost is not None  # set in __post_init__
        return self.cost

    @property
    def unit_cost(self) -> bool:
        """Whether every target costs one unit to cover (ORIGAMI's original setting)."""
        return bool(np.all(self.costs == 1.0))

    def defender_utilities(self, coverage: np.ndarray) -> np.ndarray:
        """The defender's expected utility of an attack on each target under ``coverage``."""
        c = np.asarray(coverage, dtype=np.float64)
        return c * self.defender_covered + (1 - c) * self.defender_uncovered

    def attacker_utilities(self, coverage: np.ndarray) -> np.ndarray:
        """The attacker's expected utility of attacking each target under ``coverage``."""
        c = np.asarray(coverage, dtype=np.float64)
        return c * self.attacker_covered + (1 - c) * self.attacker_uncovered

    def best_responses(self, coverage: np.ndarray, tol: float = UTILITY_TOL) -> np.ndarray:
        """Targets whose attacker utility is within ``tol`` of the best."""
        ua = self.attacker_utilities(coverage)
        return np.flatnonzero(ua >= ua.max() - tol * max(1.0, abs(ua.max())))

    def strong_response(self, coverage: np.ndarray, tol: float = UTILITY_TOL) -> int:
        """The attacked target: a best response, ties broken in the defender's favour."""
        br = self.best_responses(coverage, tol)
        ud = self.defender_utilities(coverage)[br]
        return int(br[int(np.argmax(ud))])

    def to_normal_form(self) -> BayesianGame:
        """The same game as a one-type normal-form game over pure assignments.

        Leader strategies are the sets of at most ``resources`` targets covered (a resource
        may stay idle, as ``sum c <= m`` allows; unit costs and integer budgets only; with
        groups, at most each group's budget within it); the follower's actions are the
        targets.
        Exponential in size: for cross-checks on small games.
        """
        m = int(round(self.resources))
        if not self.unit_cost or abs(m - self.resources) > UTILITY_TOL:
            raise InputError("to_normal_form: needs unit costs and an integer resource count")
        n = self.n_targets
        sets = [s for size in range(m + 1) for s in itertools.combinations(range(n), size)]
        if self.groups is not None and self.group_resources is not None:
            caps = np.floor(self.group_resources + UTILITY_TOL)
            sets = [s for s in sets if np.all(np.bincount(self.groups[list(s)],
                                                          minlength=len(caps)) <= caps)]
        covered = np.zeros((len(sets), n), dtype=bool)
        for i, s in enumerate(sets):
            covered[i, list(s)] = True
        leader = np.where(covered, self.defender_covered, self.defender_uncovered)
        follower = np.where(covered, self.attacker_covered, self.attacker_uncovered)
        return BayesianGame(
            leader_strategies=tuple("+".join(map(str, s)) or "none" for s in sets),
            types=(FollowerType(1.0, tuple(str(t) for t in range(n)), leader, follower),),
        )


@dataclass(frozen=True, eq=False)
class FollowerType:
    """One follower type of a Bayesian game: its prior, actions and payoff matrices."""

    probability: float
    actions: tuple[str, ...]
    leader_payoffs: np.ndarray  # [leader strategy, action]
    follower_payoffs: np.ndarray  # [leader strategy, action]

    def __post_init__(self) -> None:
        for name in ("leader_payoffs", "follower_payoffs"):
            object.__setattr__(self, name, _frozen_array(getattr(self, name), name, 2))
        if self.leader_payoffs.shape != self.follower_payoffs.shape:
            raise InputError(
                f"follower_payoffs: shape {self.follower_payoffs.shape} differs from "
                f"leader_payoffs {self.leader_payoffs.shape}"
            )
        if self.leader_payoffs.shape[1] != len(self.actions):
            raise InputError(
                f"leader_payoffs: one column per action ({len(self.actions)}), "
                f"got {self.leader_payoffs.shape[1]}"
            )
        if not (0.0 <= self.probability <= 1.0):
            raise InputError(f"probability: must be in [0, 1], got {self.probability}")


@dataclass(frozen=True, eq=False)
class BayesianGame:
    """A Bayesian Stackelberg game in normal form (see the module docstring)."""

    leader_strategies: tuple[str, ...]
    types: tuple[FollowerType, ...]

    def __post_init__(self) -> None:
        if not self.types:
            raise InputError("types: need at least one follower type")
        n = len(self.leader_strategies)
        if n < 1:
            raise InputError("leader_strategies: need at least one")
        for k, ft in enumerate(self.types):
            if ft.leader_payoffs.shape[0] != n:
                raise InputError(
                    f"types[{k}].leader_payoffs: one row per leader strategy ({n}), "
                    f"got {ft.leader_payoffs.shape[0]}"
                )
        total = sum(ft.probability for ft in self.types)
        if abs(total - 1.0) > 1e-6:
            raise InputError(f"types: probabilities must sum to 1, got {total:g}")

    @property
    def n_leader(self) -> int:
        return len(self.leader_strategies)

    def leader_utility(self, x: np.ndarray, responses: tuple[int, ...]) -> float:
        """The leader's expected utility of mixed strategy ``x`` against ``responses``."""
        return float(sum(ft.probability * (x @ ft.leader_payoffs[:, j])
                         for ft, j in zip(self.types, responses, strict=True)))

    def strong_responses(self, x: np.ndarray, tol: float = UTILITY_TOL) -> tuple[int, ...]:
        """Each type's best response to ``x``, ties broken in the leader's favour."""
        out = []
        for ft in self.types:
            uf = x @ ft.follower_payoffs
            best = np.flatnonzero(uf >= uf.max() - tol * max(1.0, abs(uf.max())))
            ul = x @ ft.leader_payoffs[:, best]
            out.append(int(best[int(np.argmax(ul))]))
        return tuple(out)


@dataclass(frozen=True, eq=False)
class SecuritySolution:
    """A defender coverage for a ``SecurityGame`` and what it yields."""

    method: str
    coverage: np.ndarray
    defender_utility: float
    attacker_utility: float
    attacked_target: int
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "defender_utility": self.defender_utility,
            "attacker_utility": self.attacker_utility,
            "coverage": [float(c) for c in self.coverage],
            "attacked_target": self.attacked_target,
            **self.details,
        }


@dataclass(frozen=True, eq=False)
class BayesianSolution:
    """A leader mixed strategy for a ``BayesianGame`` and each type's response."""

    method: str
    leader_strategy: np.ndarray
    defender_utility: float
    responses: tuple[int, ...]
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, game: BayesianGame) -> dict[str, Any]:
        return {
            "method": self.method,
            "defender_utility": self.defender_utility,
            "leader_strategy": [float(p) for p in self.leader_strategy],
            "leader_strategies": list(game.leader_strategies),
            "responses": [ft.actions[j] for ft, j in zip(game.types, self.responses,
                                                         strict=True)],
            "response_indices": list(self.responses),
            **self.details,
        }


def finish_security(game: SecurityGame, coverage: np.ndarray, method: str,
                    **details: Any) -> SecuritySolution:
    """Clip numerical noise from ``coverage`` and evaluate it against a strong attacker."""
    c = np.clip(np.asarray(coverage, dtype=np.float64), 0.0, 1.0)
    c.setflags(write=False)
    t = game.strong_response(c)
    return SecuritySolution(
        method=method,
        coverage=c,
        defender_utility=float(game.defender_utilities(c)[t]),
        attacker_utility=float(game.attacker_utilities(c)[t]),
        attacked_target=t,
        details=dict(details),
    )


__all__ = [
    "UTILITY_TOL",
    "BayesianGame",
    "BayesianSolution",
    "FollowerType",
    "SecurityGame",
    "SecuritySolution",
    "finish_security",
]
