"""Compact security games with several attacker types: ERASER's MILP with a type index.

ERASER (Kiekintveld et al. 2009) solves a compact security game as one mixed-integer
program over the coverage vector, with a binary per target marking the attacked one.
Against several attacker types (a single high-value load, a shotgun of loads, an insider)
each type gets its own binaries, its own best value ``k`` and the defender's value ``d``
against it, all sharing one coverage, as DOBSS shares one leader strategy across types
(Paruchuri et al. 2008). The coverage stays compact (one number per target), so the
program grows with targets x types, not with the leader's pure assignments.

For each type ``l`` and target ``t`` (``a[l, t]`` binary, one per type set):

    k_l >= Ua_lt(c)                      every target is at most the type's best
    k_l <= Ua_lt(c) + (1 - a_lt) M_a     the chosen one is a best response
    d_l <= Ud_lt(c) + (1 - a_lt) M_d     the defender's value is that target's
    sum cost * c <= m, 0 <= c <= 1

maximising ``sum_l p_l d_l``; the program picks, among a type's best responses, the one
best for the defender (strong Stackelberg). HiGHS through ``scipy.optimize.milp``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import LinearConstraint, milp
from scipy.sparse import coo_matrix

from portwatch.domain.errors import InputError
from portwatch.targeting.games import BayesianGame, FollowerType, SecurityGame


@dataclass(frozen=True, eq=False)
class BayesianSecurityGame:
    """Attacker types over the same targets, resources and coverage costs.

    Each type is a ``SecurityGame`` (its payoffs); their ``resources`` and ``cost`` must
    agree. ``probabilities`` is the prior over types.
    """

    types: tuple[SecurityGame, ...]
    probabilities: tuple[float, ...]
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.types:
            raise InputError("types: need at least one attacker type")
        if len(self.probabilities) != len(self.types):
            raise InputError(f"probabilities: one per type ({len(self.types)}), got "
                             f"{len(self.probabilities)}")
        if any(not (0.0 <= p <= 1.0) for p in self.probabilities):
            raise InputError(f"probabilities: must be in [0, 1], got {list(self.probabilities)}")
        if abs(sum(self.probabilities) - 1.0) > 1e-6:
            raise InputError(f"types: probabilities must sum to 1, got {sum(self.probabilities):g}")
        first = self.types[0]
        for k, g in enumerate(self.types[1:], start=1):
            if g.n_targets != first.n_targets:
                raise InputError(f"types[{k}]: {g.n_targets} targets, types[0] has "
                                 f"{first.n_targets}")
            a0, b0 = first.capacity_rows()
            a1, b1 = g.capacity_rows()
            if a0.shape != a1.shape or not (np.array_equal(a0, a1) and np.array_equal(b0, b1)):
                raise InputError(f"types[{k}]: resources and costs must be those of types[0]")
        if not self.names:
            object.__setattr__(self, "names", tuple(f"type-{k}" for k in range(len(self.types))))

    @property
    def n_targets(self) -> int:
        return self.types[0].n_targets


@dataclass(frozen=True, eq=False)
class BayesianSecuritySolution:
    """A coverage against several attacker types, and what each type does."""

    method: str
    coverage: np.ndarray
    defender_utility: float
    attacked_targets: tuple[int, ...]
    type_defender_utilities: tuple[float, ...]
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, game: BayesianSecurityGame) -> dict[str, Any]:
        return {
            "method": self.method,
            "defender_utility": self.defender_utility,
            "coverage": [float(c) for c in self.coverage],
            "attacked_targets": dict(zip(game.names, self.attacked_targets, strict=True)),
            "type_defender_utilities": dict(zip(game.names, self.type_defender_utilities,
                                                strict=True)),
            **self.details,
        }


def evaluate(game: BayesianSecurityGame, coverage: np.ndarray
             ) -> tuple[float, tuple[int, ...], tuple[float, ...]]:
    """(expected defender utility, each type's strong response, utility per type)."""
    targets = tuple(g.strong_response(coverage) for g in game.types)
    per_type = tuple(float(g.defender_utilities(coverage)[t])
                     for g, t in zip(game.types, targets, strict=True))
    value = float(sum(p * u for p, u in zip(game.probabilities, per_type, strict=True)))
    return value, targets, per_type


def bayesian_eraser(game: BayesianSecurityGame, *, time_limit_s: float | None = None
                    ) -> BayesianSecuritySolution:
    """Optimal coverage against the prior over attacker types (see the module)."""
    n, n_types = game.n_targets, len(game.types)
    # variables: c (n) | per type: a (n), k, d
    base = [n + l_ * (n + 2) for l_ in range(n_types)]
    n_var = n + n_types * (n + 2)
    obj = np.zeros(n_var)
    integrality = np.zeros(n_var)
    lower, upper = np.zeros(n_var), np.ones(n_var)
    rows, cols, vals, lo, hi = [], [], [], [], []
    r = 0

    def add(entries: list[tuple[int, float]], low: float, high: float) -> None:
        nonlocal r
        for c_, v in entries:
            rows.append(r)
            cols.append(c_)
            vals.append(v)
        lo.append(low)
        hi.append(high)
        r += 1

    cap_a, cap_b = game.types[0].capacity_rows()
    for row, bound in zip(cap_a, cap_b, strict=True):
        add([(int(t), float(row[t])) for t in np.flatnonzero(row)], -np.inf, float(bound))
    for l_, (g, p) in enumerate(zip(game.types, game.probabilities, strict=True)):
        a0, k, d = base[l_], base[l_] + n, base[l_] + n + 1
        integrality[a0:a0 + n] = 1
        lower[k], upper[k], lower[d], upper[d] = -np.inf, np.inf, -np.inf, np.inf
        obj[d] = -p
        d_att = g.attacker_uncovered - g.attacker_covered
        d_def = g.defender_covered - g.defender_uncovered
        m_att = float(g.attacker_uncovered.max() - g.attacker_covered.min()) + 1.0
        m_def = float(g.defender_covered.max() - g.defender_uncovered.min()) + 1.0
        add([(a0 + t, 1.0) for t in range(n)], 1.0, 1.0)
        for t in range(n):
            ua_u, ud_u = float(g.attacker_uncovered[t]), float(g.defender_uncovered[t])
            add([(k, 1.0), (t, float(d_att[t]))], ua_u, np.inf)
            add([(k, 1.0), (t, float(d_att[t])), (a0 + t, m_att)], -np.inf, ua_u + m_att)
            add([(d, 1.0), (t, -float(d_def[t])), (a0 + t, m_def)], -np.inf, ud_u + m_def)
    mat = coo_matrix((vals, (rows, cols)), shape=(r, n_var)).tocsr()
    options: dict[str, Any] = {"mip_rel_gap": 1e-9}
    if time_limit_s is not None:
        options["time_limit"] = time_limit_s
    res = milp(obj, integrality=integrality, bounds=(lower, upper),
               constraints=LinearConstraint(mat, np.array(lo), np.array(hi)), options=options)
    if res.x is None:
        raise RuntimeError(f"bayesian_eraser: HiGHS found no solution: {res.message}")
    c = np.clip(res.x[:n], 0.0, 1.0)
    c.setflags(write=False)
    # the reported value is the coverage evaluated against strong best responses, which
    # can differ from the program's own value only by the solver's tolerances
    value, targets, per_type = evaluate(game, c)
    return BayesianSecuritySolution(
        "bayesian-eraser", c, value, targets, per_type,
        {"mip_gap": float(getattr(res, "mip_gap", 0.0) or 0.0), "program_value": -res.fun},
    )


def to_normal_form(game: BayesianSecurityGame) -> BayesianGame:
    """The game in normal form (every set of at most m targets a leader strategy); small
    games only, for cross-checks."""
    forms = [g.to_normal_form() for g in game.types]
    types = tuple(FollowerType(p, f.types[0].actions, f.types[0].leader_payoffs,
                               f.types[0].follower_payoffs)
                  for p, f in zip(game.probabilities, forms, strict=True))
    return BayesianGame(forms[0].leader_strategies, types)


__all__ = ["BayesianSecurityGame", "BayesianSecuritySolution", "bayesian_eraser", "evaluate",
           "to_normal_form"]
