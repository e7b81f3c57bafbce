"""One entry point over every solver: pick by name, or let ``auto`` pick the fastest exact one."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from portwatch.domain.errors import InputError
from portwatch.targeting import bayesian, bounded, lp
from portwatch.targeting.eraser import (
    BayesianSecurityGame,
    BayesianSecuritySolution,
    bayesian_eraser,
)
from portwatch.targeting.games import (
    BayesianGame,
    BayesianSolution,
    SecurityGame,
    SecuritySolution,
)
from portwatch.targeting.origami import origami

#: Exact solvers of compact security games (strong Stackelberg equilibrium).
SECURITY_EXACT: dict[str, Callable[[SecurityGame], SecuritySolution]] = {
    "origami": origami, "weighted-lp": lp.weighted_lp, "multiple-lps": lp.multiple_lps}
#: Solvers against boundedly rational attackers.
SECURITY_BOUNDED = ("qr", "suqr")
#: Exact solvers of Bayesian normal-form games.
BAYESIAN_EXACT: dict[str, Callable[[BayesianGame], BayesianSolution]] = {
    "dobss": bayesian.dobss, "multiple-lps": bayesian.multiple_lps}

SECURITY_METHODS = ("auto", *SECURITY_EXACT, *SECURITY_BOUNDED)
BAYESIAN_METHODS = ("auto", *BAYESIAN_EXACT)
TYPED_SECURITY_METHODS = ("auto", "bayesian-eraser")


def solve_security(
    game: SecurityGame,
    method: str = "auto",
    *,
    rng: np.random.Generator | None = None,
    lam: float | None = None,
    suqr_weights: tuple[float, float, float] = bounded.SUQR_WEIGHTS_NGUYEN_2013,
) -> SecuritySolution:
    """Solve a compact security game; ``auto`` is ORIGAMI (exact, O(n log n), any costs)."""
    if method == "auto":
        method = "origami"
    if method in SECURITY_EXACT:
        return SECURITY_EXACT[method](game)
    if method not in SECURITY_BOUNDED:
        raise InputError(f"method: {method!r} is not one of {', '.join(SECURITY_METHODS)}")
    if rng is None:
        raise InputError(f"method {method}: needs a random generator (a seed) for its starts")
    if method == "qr":
        if lam is None:
            raise InputError("lambda: the quantal-response attacker needs its rationality")
        return bounded.quantal_response(game, lam, rng=rng)
    return bounded.suqr(game, suqr_weights, rng=rng)


#: Up to this many joint responses the multiple-LP method beats DOBSS (measured: 400 LPs
#: in 0.56 s against DOBSS's 1.21 s at 2 types x 20 actions; docs/benchmarks.md).
MULTIPLE_LPS_UP_TO = 1000


def solve_bayesian(game: BayesianGame, method: str = "auto") -> BayesianSolution:
    """Solve a Bayesian game; ``auto``: the multiple LPs while there are at most
    ``MULTIPLE_LPS_UP_TO`` joint responses (always for one type), else DOBSS."""
    if method == "auto":
        few = bayesian.n_joint_responses(game) <= MULTIPLE_LPS_UP_TO
        method = "multiple-lps" if few or len(game.types) == 1 else "dobss"
    if method not in BAYESIAN_EXACT:
        raise InputError(f"method: {method!r} is not one of {', '.join(BAYESIAN_METHODS)}")
    return BAYESIAN_EXACT[method](game)


def solve_typed_security(game: BayesianSecurityGame, method: str = "auto"
                         ) -> BayesianSecuritySolution:
    """Solve a security game with attacker types: ERASER's MILP with a type index."""
    if method not in TYPED_SECURITY_METHODS:
        raise InputError(f"method: {method!r} is not one of {', '.join(TYPED_SECURITY_METHODS)}"
                         f" for a security game with attacker types")
    return bayesian_eraser(game)


def solve(game: SecurityGame | BayesianGame, method: str = "auto", **kwargs: object
          ) -> SecuritySolution | BayesianSolution:
    """Solve either kind of game (keyword arguments go to ``solve_security``)."""
    if isinstance(game, SecurityGame):
        return solve_security(game, method, **kwargs)  # type: ignore[arg-type]
    if kwargs.get("lam") is not None:
        raise InputError("lambda: only applies to security games")
    return solve_bayesian(game, method)


__all__ = [
    "BAYESIAN_EXACT",
    "BAYESIAN_METHODS",
    "SECURITY_BOUNDED",
    "SECURITY_EXACT",
    "SECURITY_METHODS",
    "TYPED_SECURITY_METHODS",
    "solve",
    "solve_bayesian",
    "solve_security",
    "solve_typed_security",
]
