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
from portwatch.plan.portgame import PlanSettings, PortPlan, default_types, plan_port
from portwatch.targeting.eraser import BayesianSecurityGame, bayesian_eraser
from portwatch.targeting.games import SecurityGame
from portwatch.targeting.policy import LANE_ORDER, MODE_ORDER, N_LANES, N_MODES, Policy
from portwatch.twin.process import advance
from portwatch.twin.scenario import CompiledScenario
from portwatch.twin.study.riskmodel import port_risk_lookup, threshold_for_share

DRESS_COST_USD = 2_000.0
"""Cost to the cartel of dressing a load as a low-risk profile (a clean driver and
plate, a plausible manifest): ``assumed`` (range 500-10,000; no public figure)."""


@dataclass(frozen=True, eq=False)
class TieredPlan:
    """The solved tiered game: ``plan`` (each cell of ``untiered`` twice, low tier then
    high) with the tier of each target (0 low, 1 high) and the tier edge."""

    plan: PortPlan
    untiered: PortPlan
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


def _tier_cost(sc: CompiledScenario, flat: PortPlan, share: np.ndarray, n_blocks: int,
               ) -> np.ndarray:
    """Bay seconds per unit coverage of each (cell, tier): the cell's cost split by the
    share of its traffic (weighted by hour) in each tier."""
    per_block = 24 // n_blocks
    modes = [str(m) for m in MODE_ORDER]
    cost = np.zeros(2 * len(flat.cells))
    for j, (mode, lane_name, b) in enumerate(flat.cells):
        m, lane = modes.index(mode), LANE_ORDER.index(lane_name)
        hours = np.arange(b * per_block, (b + 1) * per_block)
        enrolled = sc.enrolled_share[m] if lane == 1 else 1.0 - sc.enrolled_share[m]
        traffic = sc.daily_volume[m] * sc.hourly_profile[m, hours] * enrolled
        high = float((traffic * share[m, lane, hours]).sum() / max(traffic.sum(), 1e-300))
        cost[2 * j: 2 * j + 2] = flat.cost_s[j] * np.array([1.0 - high, high])
    return np.maximum(cost, 1e-6)


def _tiered_game(flat: PortPlan, cost: np.ndarray, tier: np.ndarray, pays: list[bool],
                 dress_cost_usd: float) -> BayesianSecurityGame:
    """The untiered game with each target split in two: same payoffs, the tier's cost,
    the attacker paying ``dress_cost_usd`` for the low tier when its type ``pays``."""
    out = []
    for g, pay_type in zip(flat.game.types, pays, strict=True):
        pay = np.where((tier == 0) & pay_type, dress_cost_usd, 0.0)
        out.append(SecurityGame(
            np.repeat(g.defender_covered, 2), np.repeat(g.defender_uncovered, 2),
            np.repeat(g.attacker_covered, 2) - pay, np.repeat(g.attacker_uncovered, 2) - pay,
            g.resources, cost, None if g.groups is None else np.repeat(g.groups, 2),
            g.group_resources))
    return BayesianSecurityGame(tuple(out), flat.game.probabilities, flat.game.names)


def plan_port_tiered(sc: CompiledScenario, s: PlanSettings | None = None, *,
                     high_share: float = 0.05, dress_cost_usd: float = DRESS_COST_USD,
                     ) -> TieredPlan:
    """Build and solve the tiered port game (see the module docstring): the untiered
    game of ``plan_port`` with each target split by risk tier."""
    s = s or PlanSettings()
    if not 0.0 < high_share < 1.0:
        raise InputError(f"--risk-tiers: the high tier's share must be in (0, 1), got "
                         f"{high_share}")
    flat = plan_port(sc, s)
    types = s.types or default_types(sc)
    lookup = port_risk_lookup(sc)
    edge = threshold_for_share(sc, lookup, high_share)
    cost = _tier_cost(sc, flat, high_tier_share(sc, lookup, edge), s.n_blocks)
    tier = np.tile([0, 1], len(flat.cells))
    game = _tiered_game(flat, cost, tier, [t.pays_for_profile for t in types],
                        dress_cost_usd)
    sol = bayesian_eraser(game, time_limit_s=s.time_limit_s)
    coverage = np.asarray(sol.coverage)
    policy = _tiered_policy(flat, coverage, edge, s)
    budget = np.asarray(flat.budget_s)
    plan = PortPlan(policy, [c for c in flat.cells for _ in range(2)], coverage, cost,
                    budget, sol, game, np.repeat(flat.p_uncovered, 2, axis=1),
                    np.repeat(flat.p_covered, 2, axis=1))
    return TieredPlan(plan, flat, tier, edge, high_share)


def _tiered_policy(flat: PortPlan, coverage: np.ndarray, edge: float,
                   s: PlanSettings) -> Policy:
    arr = np.zeros((N_MODES, N_LANES, s.n_blocks, 2))
    modes = [str(m) for m in MODE_ORDER]
    for j, (mode, lane, b) in enumerate(flat.cells):
        arr[modes.index(mode), LANE_ORDER.index(lane), b] = coverage[2 * j: 2 * j + 2]
    return replace(flat.policy, name="game-theoretic-tiered", referral_prob=arr,
                   risk_tier_edges=(edge,),
                   description="Stackelberg plan of the port game with risk tiers "
                               "(portwatch plan --risk-tiers)")


__all__ = ["DRESS_COST_USD", "TieredPlan", "high_tier_share", "plan_port_tiered"]
