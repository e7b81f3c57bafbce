"""A plan robust to how rational the attacker is.

The port game's attacker types best-respond: each sends its load to the target of least
seizure chance. A cartel that learns from its own seizures (the twin's ``adaptive``
adversary, an exponential-weights learner) is not there after a few months: after
``T`` days at learning rate ``eta`` its weights are ``prior * exp(-eta * T * loss)``,
a quantal (logit) response of rationality ``lambda = eta * T`` to its expected loss,
starting from the traffic shares (``targeting.bounded.qr_logits`` with a prior). Its
loads spread over every cell in proportion to traffic times that factor, so a strong
Stackelberg plan, which strips coverage from the cells no best responder takes, leaves
the high-traffic car lanes where an unconverged learner still sends most of its harm
thinner than uniform referral does.

Neither ``eta`` nor ``T`` is known to a port. So the planner does not assume one:
besides the Stackelberg coverage it builds candidates from the same game's capacity,

- the best coverage against a learner at each of ``RATIONALITY_LEVELS`` (quantal
  response with the traffic shares as prior, solved by ``targeting.bounded``'s
  multi-start SLSQP on the game's targets, each block's hours pooled by traffic), and
- mixtures of the Stackelberg coverage with each of them (``MIXES``; a mixture of two
  plans within capacity is within capacity),

and scores each candidate, at the pathways measured under it (the one interdiction
model, ``s.days`` and ``s.seed``), by the harm it interdicts per attempted load against
each attacker model: the game's best-responding types (the strong Stackelberg
response) and the learner at each level (per (mode, lane, hour) cell, exactly, with the
port's drug mix). Among the candidates that keep at least ``1 - s.robust_best_response_loss``
(assumed 0.95) of the Stackelberg plan's figure against the best responders, it keeps
the one whose worst share of the best candidate's figure over the learner levels is
largest (max-min relative regret; Stackelberg wins ties). Without that floor the
max-min choice gives up a quarter of what the plan interdicts from the best responders
at Otay Mesa (``docs/targeting.md``).
The learner's loss is the value seized per load in units of the mean load's value
(what a smuggler who knows which loads were seized can count); the levels are
**assumed** and span slow to near-best-response learning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from portwatch.plan.portgame import RATIONALITY_LEVELS as _LEVELS
from portwatch.plan.portgame import (
    AttackerType,
    PlanSettings,
    _game,
    _policy,
    _probabilities,
    type_harm,
)
from portwatch.targeting.bounded import quantal_response
from portwatch.targeting.eraser import BayesianSecurityGame, evaluate
from portwatch.targeting.games import SecurityGame
from portwatch.twin.adversaries.helpers import cell_arrivals_per_hour, cell_index, open_cells
from portwatch.twin.process.interdiction import (
    InterdictionModel,
    measure_pathways,
    probabilities_given,
)
from portwatch.twin.study.learning import cell_harm_caught, cell_loss

if TYPE_CHECKING:
    from portwatch.targeting.policy import Policy
    from portwatch.twin.scenario import CompiledScenario

RATIONALITY_LEVELS = _LEVELS
"""Assumed learner rationalities ``lambda`` (per share of a mean load's value lost per
load): 10 has barely left the traffic shares, 1000 is close to the best response. An
exponential-weights learner at rate ``eta`` is at ``eta * T`` after ``T`` days (the
twin's adaptive adversary, ``eta`` 0.3-3 assumed, at 27-270 after 90 days)."""
MIXES: tuple[float, ...] = (0.5, 0.75, 0.9, 0.95)
"""Weights of the Stackelberg coverage in the mixed candidates."""


@dataclass(frozen=True, eq=False)
class Scored:
    """One candidate coverage, its policy, its game and what it interdicts."""

    name: str
    coverage: np.ndarray
    policy: Policy
    game: BayesianSecurityGame
    p_uncovered: np.ndarray
    p_covered: np.ndarray
    caught: dict[str, float]  # harm interdicted per attempted load, per attacker model


class _Learner:
    """The learner's cells, traffic shares and the game target each cell belongs to."""

    def __init__(self, sc: CompiledScenario, cells: list[tuple[int, int, int]],
                 n_blocks: int) -> None:
        self.cells = cell_index(open_cells(sc))
        lam = cell_arrivals_per_hour(sc).ravel()[self.cells]
        self.share = lam / lam.sum()
        mode, lane, hour = np.unravel_index(self.cells, (*open_cells(sc).shape,))
        where = {c: j for j, c in enumerate(cells)}
        per_block = 24 // n_blocks
        self.target = np.array([where.get((int(m), int(ln), int(h) // per_block), -1)
                                for m, ln, h in zip(mode, lane, hour, strict=True)])

    def distribution(self, loss: np.ndarray, lam: float, explore: float) -> np.ndarray:
        """Where a learner of rationality ``lam`` sends its loads, per hour cell: the
        logit response to ``loss`` from the traffic shares, a share ``explore`` of its
        loads still spread along the traffic (EXP3's exploration)."""
        z = np.log(np.maximum(self.share, 1e-300)) - lam * loss
        p = np.exp(z - z.max())
        return (1.0 - explore) * p / p.sum() + explore * self.share

    def caught(self, sc: CompiledScenario, model: InterdictionModel,
               levels: tuple[float, ...], explore: float) -> dict[str, float]:
        """Harm interdicted per load of a learner at each level, per hour cell."""
        loss = cell_loss(sc, model, self.cells)
        harm = cell_harm_caught(sc, model, self.cells)
        return {f"learner-{lam:g}": float(self.distribution(loss, lam, explore) @ harm)
                for lam in levels}

    def game(self, sc: CompiledScenario, policy: Policy, base: np.ndarray,
             full: np.ndarray, paths: Any, n_targets: int, like: SecurityGame,
             used_s: float) -> tuple[SecurityGame, np.ndarray]:
        """The learner's security game on the plan's targets (each target's hours pooled
        by traffic) and its log prior (each target's traffic share)."""
        rows = []
        for p in (base, full):
            model = InterdictionModel(sc, policy, p, paths)
            rows.append((cell_loss(sc, model, self.cells),
                         cell_harm_caught(sc, model, self.cells)))
        inside = self.target >= 0
        t, w = self.target[inside], self.share[inside]
        mass = np.bincount(t, weights=w, minlength=n_targets)
        safe = np.maximum(mass, 1e-300)

        def pooled(x: np.ndarray) -> np.ndarray:
            return np.bincount(t, weights=w * x[inside], minlength=n_targets) / safe

        (l0, c0), (l1, c1) = ((pooled(a), pooled(b)) for a, b in rows)
        l1, c1 = np.maximum(l1, l0 + 1e-9), np.maximum(c1, c0)
        # at the bay time the Stackelberg plan uses (equal capacity), within each block's
        # budget
        game = SecurityGame(c1, c0, -l1, -l0, used_s, like.costs, like.groups,
                            like.group_resources)
        return game, np.log(np.maximum(mass, 1e-12))


def _best_response_caught(sc: CompiledScenario, cells: list[tuple[int, int, int]],
                          game: BayesianSecurityGame, types: tuple[AttackerType, ...],
                          pu: np.ndarray, pc: np.ndarray, coverage: np.ndarray) -> float:
    """Harm interdicted per attempted load by the game's types, each at its strong
    Stackelberg response."""
    _, attacked, _ = evaluate(game, coverage)
    out = 0.0
    for k, (at, t) in enumerate(zip(types, attacked, strict=True)):
        harm = type_harm(sc, cells, at)[t]
        out += at.probability * harm * (pu[k, t] + coverage[t] * (pc[k, t] - pu[k, t]))
    return float(out)


def robust_choice(sc: CompiledScenario, cells: list[tuple[int, int, int]],
                  stackelberg: np.ndarray, cost: np.ndarray, budget: np.ndarray,
                  types: tuple[AttackerType, ...], s: PlanSettings, name: str,
                  ) -> tuple[Scored, list[Scored]]:
    """The candidate coverages (see the module) scored and the max-min one chosen."""
    levels = s.rationality_levels
    learner = _Learner(sc, cells, s.n_blocks)
    never = _policy(sc, cells, np.zeros(len(cells)), s.n_blocks, "never", s)
    always = _policy(sc, cells, np.ones(len(cells)), s.n_blocks, "always", s)

    def score(label: str, coverage: np.ndarray) -> tuple[Scored, tuple[Any, ...]]:
        policy = _policy(sc, cells, coverage, s.n_blocks, name, s)
        paths = measure_pathways(sc, policy, s.days, s.seed)
        base, full = (probabilities_given(sc, p, paths) for p in (never, always))
        pu, pc = _probabilities(sc, cells, base, full, coverage, types, s.n_blocks)
        game = _game(sc, cells, pu, pc, cost, budget, types, s)
        model = InterdictionModel(sc, policy, probabilities_given(sc, policy, paths), paths)
        caught = {"best-response": _best_response_caught(sc, cells, game, types, pu, pc,
                                                         coverage),
                  **learner.caught(sc, model, levels, s.learner_exploration)}
        return (Scored(label, coverage, policy, game, pu, pc, caught),
                (policy, base, full, paths))

    first, (policy, base, full, paths) = score("stackelberg", stackelberg)
    lgame, log_prior = learner.game(sc, policy, base, full, paths, len(cells),
                                    first.game.types[0], float(cost @ stackelberg))
    scored, seen = [first], [stackelberg]
    for lam in levels:
        qr = np.asarray(quantal_response(lgame, lam, rng=np.random.default_rng(s.seed),
                                         n_starts=4, log_prior=log_prior).coverage)
        if any(np.abs(qr - c).max() < 1e-6 for c in seen):
            continue  # the same coverage at another level: scored already
        seen.append(qr)
        scored.append(score(f"learner-{lam:g}", qr)[0])
        scored += [score(f"mix-{a:g}-learner-{lam:g}", a * stackelberg + (1 - a) * qr)[0]
                   for a in MIXES]
    return choose(scored, s.robust_best_response_loss), scored


def choose(scored: list[Scored], best_response_loss: float) -> Scored:
    """Among the candidates that keep at least ``1 - best_response_loss`` of the first's
    (the Stackelberg plan's) harm interdicted against the best responders, the one whose
    worst share of the best candidate's figure over the learner levels is largest; the
    first on ties."""
    floor = (1.0 - best_response_loss) * scored[0].caught["best-response"]
    allowed = [c for c in scored if c.caught["best-response"] >= floor - 1e-12]
    models = [m for m in scored[0].caught if m != "best-response"]
    top = {m: max(c.caught[m] for c in scored) for m in models}

    def worst(c: Scored) -> float:
        return min((c.caught[m] / top[m] if top[m] > 0 else 1.0 for m in models),
                   default=1.0)

    return max(allowed, key=worst)  # max keeps the first (Stackelberg) on ties


def worst_share(chosen: Scored, scored: list[Scored]) -> dict[str, float]:
    """The chosen candidate's share of the best candidate's figure, per model."""
    return {m: chosen.caught[m] / max(max(c.caught[m] for c in scored), 1e-300)
            for m in chosen.caught}


__all__ = ["MIXES", "RATIONALITY_LEVELS", "Scored", "choose", "robust_choice", "worst_share"]
