"""Boundedly rational attackers: quantal response (QR) and SUQR.

Instead of always attacking a best target, the attacker picks target ``t`` with a
probability that grows with how attractive it looks:

- QR (McKelvey and Palfrey 1995; used for security games by Yang, Kiekintveld, Ordonez,
  Tambe and John, "Improving resource allocation strategy against human adversaries in
  security games", IJCAI 2011): ``q_t ~ exp(lambda * Ua_t(c))``. ``lambda = 0`` is a
  uniformly random attacker; large ``lambda`` approaches a best responder.
- SUQR (Nguyen, Yang, Azaria, Kraus and Tambe, "Analyzing the effectiveness of adversary
  modeling in security games", AAAI 2013): ``q_t ~ exp(w1*c_t + w2*Ua_u[t] + w3*Ua_c[t])``.
  ``SUQR_WEIGHTS_NGUYEN_2013`` are the weights that paper fitted to its human-subject
  data; they are not fitted to any border data here.

The defender maximises ``sum_t q_t(c) * Ud_t(c)`` over ``0 <= c <= 1``,
``sum cost*c <= m``. That objective is not concave, so it is solved from several starts
(the strong Stackelberg coverage, the even spread, and random feasible points drawn from
the ``numpy.random.Generator`` passed in) by SLSQP with the exact gradient, keeping the
best, as PROTECT did for the US Coast Guard (Shieh et al., AAMAS 2012). Meant for up to
a few hundred targets: SLSQP's cost grows with the cube of the target count.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import minimize

from portwatch.domain.errors import InputError
from portwatch.targeting.games import SecurityGame, SecuritySolution
from portwatch.targeting.origami import origami

#: (w1 coverage, w2 attacker's uncovered payoff, w3 attacker's covered payoff), as fitted
#: by Nguyen et al. (AAAI 2013) to their human-subject experiments.
SUQR_WEIGHTS_NGUYEN_2013: tuple[float, float, float] = (-9.85, 0.37, 0.15)

# logits(c) -> (z, dz/dc); the attack distribution is softmax(z)
Logits = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def qr_logits(game: SecurityGame, lam: float,
              log_prior: np.ndarray | None = None) -> Logits:
    """Quantal-response logits ``lambda * Ua_t(c)``, plus ``log_prior[t]`` when given:
    ``q_t ~ prior_t exp(lambda * Ua_t(c))``, the distribution of an exponential-weights
    (Hedge) learner that started from ``prior`` and has seen its expected utilities for
    ``lambda`` rounds of its learning rate (``lambda = eta * T``)."""
    if not (np.isfinite(lam) and lam >= 0):
        raise InputError(f"lambda: must be a number >= 0, got {lam}")
    slope = lam * (game.attacker_covered - game.attacker_uncovered)
    if log_prior is None:
        return lambda c: (lam * game.attacker_utilities(c), slope)
    base = np.asarray(log_prior, dtype=np.float64)
    if base.shape != (game.n_targets,) or not np.all(np.isfinite(base)):
        raise InputError(f"log_prior: one finite number per target ({game.n_targets})")
    return lambda c: (base + lam * game.attacker_utilities(c), slope)


def suqr_logits(game: SecurityGame, weights: tuple[float, float, float]) -> Logits:
    """SUQR logits ``w1*c + w2*Ua_u + w3*Ua_c``."""
    w1, w2, w3 = (float(w) for w in weights)
    if not all(np.isfinite([w1, w2, w3])):
        raise InputError(f"suqr weights: must be finite numbers, got {weights}")
    base = w2 * game.attacker_uncovered + w3 * game.attacker_covered
    slope = np.full(game.n_targets, w1)
    return lambda c: (base + w1 * c, slope)


def attack_distribution(logits: Logits, coverage: np.ndarray) -> np.ndarray:
    """The attacker's probability of attacking each target under ``coverage``."""
    z, _ = logits(np.asarray(coverage, dtype=np.float64))
    q = np.exp(z - z.max())
    return q / q.sum()


def expected_defender_utility(game: SecurityGame, logits: Logits,
                              coverage: np.ndarray) -> float:
    """The defender's expected utility against the attack distribution."""
    c = np.asarray(coverage, dtype=np.float64)
    return float(attack_distribution(logits, c) @ game.defender_utilities(c))


def _objective(game: SecurityGame, logits: Logits) -> Callable[[np.ndarray],
                                                               tuple[float, np.ndarray]]:
    d_def = game.defender_covered - game.defender_uncovered

    def f(c: np.ndarray) -> tuple[float, np.ndarray]:
        z, slope = logits(c)
        q = np.exp(z - z.max())
        q /= q.sum()
        ud = game.defender_utilities(c)
        value = float(q @ ud)
        grad = q * (d_def + slope * (ud - value))
        return -value, -grad

    return f


def _feasible(game: SecurityGame, c: np.ndarray) -> np.ndarray:
    """``c`` scaled down until every capacity constraint holds."""
    a, b = game.capacity_rows()
    used = a @ c
    scale = np.min(np.where(used > b, b / np.maximum(used, 1e-300), 1.0))
    return np.clip(c * float(scale), 0.0, 1.0)


def _starts(game: SecurityGame, rng: np.random.Generator, n_starts: int) -> list[np.ndarray]:
    even = _feasible(game, np.full(game.n_targets, min(1.0, game.resources /
                                                       float(game.costs.sum()))))
    starts = [np.array(origami(game).coverage), even]
    for _ in range(max(0, n_starts - 2)):
        share = rng.dirichlet(np.ones(game.n_targets)) * game.resources / game.costs
        starts.append(_feasible(game, np.clip(share, 0.0, 1.0)))
    return starts


def solve_bounded(game: SecurityGame, logits: Logits, method: str, *,
                  rng: np.random.Generator, n_starts: int = 8) -> SecuritySolution:
    """Best coverage against a softmax attacker, by multi-start SLSQP (see the module)."""
    f = _objective(game, logits)
    cap_a, cap_b = game.capacity_rows()
    cons = [{"type": "ineq", "fun": lambda c: cap_b - cap_a @ c, "jac": lambda c: -cap_a}]
    best_c, best_v, tried = None, -np.inf, 0
    for c0 in _starts(game, rng, n_starts):
        res = minimize(f, c0, jac=True, method="SLSQP", bounds=[(0.0, 1.0)] * game.n_targets,
                       constraints=cons, options={"maxiter": 500, "ftol": 1e-12})
        tried += 1
        c = np.clip(res.x, 0.0, 1.0)
        used = cap_a @ c
        if np.any(used > cap_b + 1e-9):  # pull back a slightly infeasible end
            c *= float(np.min(np.where(used > 0, cap_b / np.maximum(used, 1e-300), 1.0)))
        v = expected_defender_utility(game, logits, c)
        if v > best_v:
            best_c, best_v = c, v
    assert best_c is not None
    best_c.setflags(write=False)
    q = attack_distribution(logits, best_c)
    details: dict[str, Any] = {"attack_probabilities": [float(p) for p in q], "starts": tried}
    return SecuritySolution(
        method=method, coverage=best_c, defender_utility=best_v,
        attacker_utility=float(q @ game.attacker_utilities(best_c)),
        attacked_target=int(np.argmax(q)), details=details,
    )


def quantal_response(game: SecurityGame, lam: float, *, rng: np.random.Generator,
                     n_starts: int = 8, log_prior: np.ndarray | None = None,
                     ) -> SecuritySolution:
    """Best coverage against a quantal-response attacker of rationality ``lam`` (with
    the prior weights ``exp(log_prior)`` when given, see ``qr_logits``)."""
    return solve_bounded(game, qr_logits(game, lam, log_prior), "qr", rng=rng,
                         n_starts=n_starts)


def suqr(game: SecurityGame, weights: tuple[float, float, float] = SUQR_WEIGHTS_NGUYEN_2013,
         *, rng: np.random.Generator, n_starts: int = 8) -> SecuritySolution:
    """Best coverage against an SUQR attacker with ``weights`` (w1, w2, w3)."""
    return solve_bounded(game, suqr_logits(game, weights), "suqr", rng=rng,
                         n_starts=n_starts)


__all__ = [
    "SUQR_WEIGHTS_NGUYEN_2013",
    "attack_distribution",
    "expected_defender_utility",
    "qr_logits",
    "quantal_response",
    "solve_bounded",
    "suqr",
    "suqr_logits",
]
