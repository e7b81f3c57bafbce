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
from portwatch.targeting.origami import minimal_attacker_utility, origami


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


def merge_identical_types(game: BayesianSecurityGame) -> BayesianSecurityGame:
    """The same game with attacker types of identical payoffs merged into one, their
    priors added. Exact for the strong Stackelberg answer: types with the same payoffs
    have the same best responses against every coverage and break ties alike (in the
    defender's favour), so they always attack the same target; the program then needs
    one set of binaries for them instead of one per type."""
    keys: list[tuple[bytes, ...]] = []
    merged: list[tuple[SecurityGame, float, str]] = []
    for g, p, name in zip(game.types, game.probabilities, game.names, strict=True):
        key = tuple(np.ascontiguousarray(a, dtype=np.float64).tobytes() for a in (
            g.defender_covered, g.defender_uncovered, g.attacker_covered,
            g.attacker_uncovered))
        if key in keys:
            i = keys.index(key)
            g0, p0, n0 = merged[i]
            merged[i] = (g0, p0 + p, f"{n0}+{name}")
        else:
            keys.append(key)
            merged.append((g, p, name))
    if len(merged) == len(game.types):
        return game
    return BayesianSecurityGame(tuple(m[0] for m in merged), tuple(m[1] for m in merged),
                                tuple(m[2] for m in merged))


class _Rows:
    """Sparse constraint rows of a linear program, added one at a time."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.vals: list[float] = []
        self.lo: list[float] = []
        self.hi: list[float] = []

    def add(self, entries: list[tuple[int, float]], low: float, high: float) -> None:
        r = len(self.lo)
        for c_, v in entries:
            self.rows.append(r)
            self.cols.append(c_)
            self.vals.append(v)
        self.lo.append(low)
        self.hi.append(high)

    def constraint(self, n_var: int) -> LinearConstraint:
        mat = coo_matrix((self.vals, (self.rows, self.cols)),
                         shape=(len(self.lo), n_var)).tocsr()
        return LinearConstraint(mat, np.array(self.lo), np.array(self.hi))


@dataclass
class _Program:
    """ERASER's MILP with a type index (variables: c (n) | per type: a (n), k, d)."""

    obj: np.ndarray
    integrality: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    rows: _Rows


def _add_type(prog: _Program, g: SecurityGame, p: float, a0: int) -> None:
    """One type's binaries ``a`` (from ``a0``), its value ``k`` and the defender's ``d``."""
    n = g.n_targets
    k, d = a0 + n, a0 + n + 1
    prog.integrality[a0:a0 + n] = 1
    # Valid bounds that tighten the relaxation: no coverage holds the type below its own
    # lowest attacker utility, and against the type alone the defender can do no better
    # than that type's strong Stackelberg value (both from ORIGAMI on the type alone).
    k_max = float(g.attacker_uncovered.max())
    d_max = float(origami(g).defender_utility) + 1e-7 * max(1.0, abs(k_max))
    prog.lower[k], prog.upper[k] = minimal_attacker_utility(g) - 1e-9, k_max
    prog.lower[d], prog.upper[d] = float(g.defender_uncovered.min()), d_max
    prog.obj[d] = -p
    d_att = g.attacker_uncovered - g.attacker_covered
    d_def = g.defender_covered - g.defender_uncovered
    # big M per target: k <= k_max and Ua_t >= Ua_c[t]; d <= d_max and Ud_t >= Ud_u[t]
    m_att = k_max - g.attacker_covered + 1e-6
    m_def = np.maximum(d_max - g.defender_uncovered, 0.0) + 1e-6
    add = prog.rows.add
    add([(a0 + t, 1.0) for t in range(n)], 1.0, 1.0)
    for t in range(n):
        ua_u, ud_u = float(g.attacker_uncovered[t]), float(g.defender_uncovered[t])
        ma, md = float(m_att[t]), float(m_def[t])
        add([(k, 1.0), (t, float(d_att[t]))], ua_u, np.inf)
        add([(k, 1.0), (t, float(d_att[t])), (a0 + t, ma)], -np.inf, ua_u + ma)
        add([(d, 1.0), (t, -float(d_def[t])), (a0 + t, md)], -np.inf, ud_u + md)


def _program(game: BayesianSecurityGame) -> _Program:
    """The MILP of ``game`` (its types as given: merge them first)."""
    n, n_types = game.n_targets, len(game.types)
    n_var = n + n_types * (n + 2)
    prog = _Program(np.zeros(n_var), np.zeros(n_var), np.zeros(n_var), np.ones(n_var),
                    _Rows())
    cap_a, cap_b = game.types[0].capacity_rows()
    for row, bound in zip(cap_a, cap_b, strict=True):
        prog.rows.add([(int(t), float(row[t])) for t in np.flatnonzero(row)], -np.inf,
                      float(bound))
    for l_, (g, p) in enumerate(zip(game.types, game.probabilities, strict=True)):
        _add_type(prog, g, p, n + l_ * (n + 2))
    return prog


def _best_candidate(game: BayesianSecurityGame, merged: BayesianSecurityGame,
                    program_x: np.ndarray | None) -> tuple[str, np.ndarray]:
    """The best of the program's coverage (if the time limit left it one) and each
    merged type's own ORIGAMI coverage (always feasible: the same capacity), each scored
    in ``game`` against strong best responses. When the program is proven optimal it
    is never beaten (up to the solver's tolerances)."""
    candidates: list[tuple[str, np.ndarray]] = []
    if program_x is not None:
        candidates.append(("milp", np.clip(program_x[:game.n_targets], 0.0, 1.0)))
    candidates += [(f"origami for {name}", np.array(origami(g).coverage))
                   for name, g in zip(merged.names, merged.types, strict=True)]
    scored = [(evaluate(game, c)[0], src, c) for src, c in candidates]
    best = max(v for v, _, _ in scored)
    # the first candidate within tolerance of the best: the program's, when it has one
    _, source, c = next(s for s in scored if s[0] >= best - 1e-9 * max(1.0, abs(best)))
    return source, c


def bayesian_eraser(game: BayesianSecurityGame, *, time_limit_s: float | None = None
                    ) -> BayesianSecuritySolution:
    """Optimal coverage against the prior over attacker types (see the module). Types
    with identical payoffs share one set of binaries (``merge_identical_types``); the
    answer is reported per type of ``game``."""
    merged = merge_identical_types(game)
    prog = _program(merged)
    options: dict[str, Any] = {"mip_rel_gap": 1e-9}
    if time_limit_s is not None:
        options["time_limit"] = time_limit_s
    res = milp(prog.obj, integrality=prog.integrality, bounds=(prog.lower, prog.upper),
               constraints=prog.rows.constraint(len(prog.obj)), options=options)
    source, c = _best_candidate(game, merged, res.x)
    c.setflags(write=False)
    value, targets, per_type = evaluate(game, c)
    return BayesianSecuritySolution(
        "bayesian-eraser", c, value, targets, per_type,
        {"proven_optimal": bool(res.status == 0), "source": source,
         "mip_gap": float(getattr(res, "mip_gap", 0.0) or 0.0),
         "program_types": len(merged.types),
         "program_value": None if res.x is None else float(-res.fun)},
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
           "merge_identical_types",
           "to_normal_form"]
