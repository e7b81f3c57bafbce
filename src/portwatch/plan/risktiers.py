"""Risk tiers in the port game: targets (mode, lane, time block, risk tier).

The port's learned risk model (``portwatch.twin.study.riskmodel.port_risk_lookup``)
splits traffic at ``edge``, the score above which ``high_share`` of clean traffic falls
(``threshold_for_share``). A target is a cell of ``portwatch.plan.portgame`` in one
tier; its coverage is the referral probability of the cell's conveyances in that tier
(a policy with ``risk_tier_edges=(edge,)``), and it costs the bay time of the cell's
traffic in that tier only, so covering the high tier is cheap. The attacker chooses
the tier as it chooses the cell: a load shows a high-risk profile unless the cartel
pays ``dress_cost_usd`` (assumed) to dress it as a low-risk one; the insider in the
trusted-shipper program pays nothing. Seizure chances per cell are the ones
``plan_port`` measures with the twin's interdiction model (a load in a tier is
referred with that tier's coverage).

The simplification: a dressed load lands in the low tier and a plain one in the high
tier for sure, whereas in the twin a load's tier follows from its drawn advance
information (a plain load scores in the high tier only with some probability, see
``advance.class_pmfs``). Any untiered plan is a tiered one with both tiers covered
alike at the same bay time, so the tiered game's defender utility is never below the
untiered game's (a test checks it); what the twin makes of it is measured separately.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from portwatch.domain.errors import InputError
from portwatch.plan.portgame import (
    HOUR_S,
    PlanSettings,
    PortPlan,
    _cells,
    _game,
    _policy,
    _probabilities,
    _traffic,
    default_types,
)
from portwatch.targeting.eraser import BayesianSecurityGame, bayesian_eraser
from portwatch.targeting.policy import LANE_ORDER, MODE_ORDER, N_LANES, N_MODES, Policy
from portwatch.twin.process import advance
from portwatch.twin.process.interdiction import interdiction_model
from portwatch.twin.scenario import CompiledScenario
from portwatch.twin.study.riskmodel import port_risk_lookup, threshold_for_share

DRESS_COST_USD = 2_000.0
"""Cost to the cartel of dressing a load as a low-risk profile (a clean driver and
plate, a plausible manifest): ``assumed`` (range 500-10,000; no public figure)."""


@dataclass(frozen=True, eq=False)
class TieredPlan:
    """The solved tiered game: ``plan`` (targets in ``plan.cells`` order, each cell
    twice) with the tier of each target (0 low, 1 high) and the tier edge."""

    plan: PortPlan
    tier: np.ndarray
    edge: float
    high_share: float


def high_tier_share(sc: CompiledScenario, lookup: advance.RiskLookup, edge: float,
                    ) -> np.ndarray:
    """Share of clean traffic scoring at or above ``edge``, [mode, lane, hour] (a
    conveyance in the express lane is enrolled; in the general lane it is taken as not)."""
    p0, _ = advance.class_pmfs(sc)
    g = p0.reshape(lookup.shape)
    high = (lookup.table >= edge).reshape(lookup.shape)
    axes = tuple(range(3, len(lookup.shape)))
    total = g.sum(axis=axes)  # [m, h, e]
    above = (g * high).sum(axis=axes)
    share = np.where(total > 0, above / np.where(total > 0, total, 1.0), 0.0)
    return np.moveaxis(share, 2, 1)[:, :N_LANES, :]  # [m, lane, h]


def plan_port_tiered(sc: CompiledScenario, s: PlanSettings | None = None, *,
                     high_share: float = 0.05, dress_cost_usd: float = DRESS_COST_USD,
                     ) -> TieredPlan:
    """Build and solve the tiered port game (see the module docstring)."""
    s = s or PlanSettings()
    if not 0.0 < high_share < 1.0:
        raise InputError(f"--risk-tiers: the high tier's share must be in (0, 1), got "
                         f"{high_share}")
    if s.n_blocks < 1 or 24 % s.n_blocks:
        raise InputError(f"--blocks: must divide 24 hours, got {s.n_blocks}")
    types = s.types or default_types(sc)
    cells = _cells(sc, s.n_blocks)
    if not cells:
        raise InputError(f"{sc.name}: no mode with a secondary inspection to plan for")
    lookup = port_risk_lookup(sc)
    edge = threshold_for_share(sc, lookup, high_share)
    share = high_tier_share(sc, lookup, edge)
    per_block = 24 // s.n_blocks
    cost = np.zeros(2 * len(cells))
    for j, (m, lane, b) in enumerate(cells):
        hours = np.arange(b * per_block, (b + 1) * per_block)
        traffic = _traffic(sc, m, lane, hours)
        mean_s = sc.secondary_service[m].mean_s  # type: ignore[union-attr]
        high = float((traffic * share[m, lane, hours]).sum())
        cost[2 * j] = (float(traffic.sum()) - high) * mean_s
        cost[2 * j + 1] = high * mean_s
    cost = np.maximum(cost, 1e-6)
    budget = np.full(s.n_blocks, sc.bays * per_block * HOUR_S * s.utilisation)
    blocks = np.repeat([b for _, _, b in cells], 2)
    budget = np.minimum(budget, np.bincount(blocks, weights=cost, minlength=s.n_blocks))
    nothing = _policy(sc, cells, np.zeros(len(cells)), s.n_blocks, "no-referral", s)
    base = interdiction_model(sc, nothing, s.days, s.seed).p
    rate = np.full(len(cells), s.probe_rate)
    probe = _policy(sc, cells, rate, s.n_blocks, "probe", s)
    current = interdiction_model(sc, probe, s.days, s.seed).p
    pu, pc = _probabilities(sc, cells, base, current, rate, types, s.n_blocks)
    pu, pc = np.repeat(pu, 2, axis=1), np.repeat(pc, 2, axis=1)
    doubled = [c for c in cells for _ in range(2)]
    tier = np.tile([0, 1], len(cells))
    game = _game(sc, doubled, pu, pc, cost, budget, types, s)
    game = _with_dress_cost(game, types, tier, dress_cost_usd)
    sol = bayesian_eraser(game, time_limit_s=s.time_limit_s)
    coverage = np.asarray(sol.coverage)
    policy = _tiered_policy(cells, coverage, edge, s)
    names = [(str(MODE_ORDER[m]), LANE_ORDER[lane], b) for m, lane, b in doubled]
    plan = PortPlan(policy, names, coverage, cost, budget, sol, game, pu, pc)
    return TieredPlan(plan, tier, edge, high_share)


def _with_dress_cost(game: BayesianSecurityGame, types: tuple, tier: np.ndarray,
                     dress_cost_usd: float) -> BayesianSecurityGame:
    """The attacker pays ``dress_cost_usd`` for a low-tier target (the insider does not)."""
    out = []
    for g, at in zip(game.types, types, strict=True):
        pay = np.where((tier == 0) & at.pays_for_profile, dress_cost_usd, 0.0)
        out.append(replace(g, attacker_covered=g.attacker_covered - pay,
                           attacker_uncovered=g.attacker_uncovered - pay))
    return BayesianSecurityGame(tuple(out), game.probabilities, game.names)


def _tiered_policy(cells: list[tuple[int, int, int]], coverage: np.ndarray, edge: float,
                   s: PlanSettings) -> Policy:
    arr = np.zeros((N_MODES, N_LANES, s.n_blocks, 2))
    for j, (m, lane, b) in enumerate(cells):
        arr[m, lane, b] = coverage[2 * j: 2 * j + 2]
    return Policy(name="game-theoretic-tiered", referral_prob=arr, capacity_rule="hold",
                  risk_tier_edges=(edge,),
                  alert_first_check=s.alert_first_check,  # type: ignore[arg-type]
                  description="Stackelberg plan of the port game with risk tiers "
                              "(portwatch plan --risk-tiers)")


__all__ = ["DRESS_COST_USD", "TieredPlan", "high_tier_share", "plan_port_tiered"]
