"""Hypothesis properties of the compact-game solvers and of the schedules."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from portwatch.targeting.games import SecurityGame
from portwatch.targeting.lp import weighted_lp
from portwatch.targeting.origami import origami
from portwatch.targeting.schedule import comb_sample, decompose

payoff = st.floats(min_value=0.0, max_value=100.0, allow_nan=False)
gap = st.floats(min_value=0.01, max_value=100.0, allow_nan=False)


@st.composite
def games(draw, max_targets: int = 12, weighted: bool | None = None) -> SecurityGame:
    n = draw(st.integers(1, max_targets))
    udu = np.array(draw(st.lists(payoff, min_size=n, max_size=n))) - 50
    udc = udu + np.array(draw(st.lists(st.floats(0.0, 100.0), min_size=n, max_size=n)))
    uac = np.array(draw(st.lists(payoff, min_size=n, max_size=n))) - 50
    uau = uac + np.array(draw(st.lists(gap, min_size=n, max_size=n)))
    use_cost = draw(st.booleans()) if weighted is None else weighted
    cost = (np.array(draw(st.lists(st.floats(0.1, 5.0), min_size=n, max_size=n)))
            if use_cost else np.ones(n))
    share = draw(st.floats(0.0, 1.0))
    n_groups = draw(st.integers(0, 3))
    if not n_groups:
        return SecurityGame(udc, udu, uac, uau, share * float(cost.sum()), cost)
    groups = np.array(draw(st.lists(st.integers(0, n_groups - 1), min_size=n, max_size=n)))
    need = np.bincount(groups, weights=cost, minlength=n_groups)
    shares = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=n_groups,
                                    max_size=n_groups)))
    return SecurityGame(udc, udu, uac, uau, share * float(cost.sum()), cost, groups,
                        shares * need)


@settings(max_examples=150, deadline=None)
@given(games())
def test_coverage_is_a_probability_within_capacity(game):
    for sol in (origami(game), weighted_lp(game)):
        assert np.all((sol.coverage >= 0) & (sol.coverage <= 1))
        assert float(game.cost @ sol.coverage) <= game.resources + 1e-7
        assert game.within_capacity(sol.coverage)


@settings(max_examples=150, deadline=None)
@given(games())
def test_attacked_target_is_a_best_response(game):
    sol = origami(game)
    ua = game.attacker_utilities(sol.coverage)
    assert ua[sol.attacked_target] >= ua.max() - 1e-6 * max(1.0, abs(ua.max()))
    assert sol.defender_utility == game.defender_utilities(sol.coverage)[sol.attacked_target]


@settings(max_examples=150, deadline=None)
@given(games(), st.floats(0.0, 1.0))
def test_more_resources_never_lower_the_defender_utility(game, extra_share):
    more = game.resources + extra_share * (float(game.cost.sum()) - game.resources)
    richer = SecurityGame(game.defender_covered, game.defender_uncovered,
                          game.attacker_covered, game.attacker_uncovered, more, game.cost,
                          game.groups, game.group_resources)
    assert origami(richer).defender_utility >= origami(game).defender_utility - 1e-7


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30))
@example(cov=[1e-9, 1e-9, 1e-9])  # tiny coverages were once lumped into one target
@example(cov=[2.2210989676722756e-14])  # real coverage, wider than the running sum's rounding
def test_decomposition_reproduces_the_coverage_exactly(cov):
    c = np.array(cov)
    parts = decompose(c)
    assert abs(sum(p for p, _ in parts) - 1.0) < 1e-9
    marg = np.zeros_like(c)
    # the team count may round only by the running sum's rounding, the decomposition's
    # own sliver (a tolerance of 1e-9 here refused a coverage of 2e-14 its own part)
    tol = 64 * np.finfo(np.float64).eps * max(1.0, float(c.sum()))
    for p, picked in parts:
        marg[picked] += p
        assert len(picked) in (int(np.floor(c.sum() + tol)), int(np.ceil(c.sum() - tol)))
    assert np.allclose(marg, c, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=12), st.integers(0, 2**32 - 1))
def test_sampled_schedules_reproduce_the_coverage(cov, seed):
    c = np.array(cov)
    rng = np.random.default_rng(seed)
    draws = 4000
    counts = np.zeros_like(c)
    for _ in range(draws):
        picked = comb_sample(c, rng)
        assert len(set(picked.tolist())) == len(picked)  # a target gets one team at most
        assert len(picked) <= int(np.ceil(c.sum() - 1e-9))
        counts[picked] += 1
    # each count is binomial(draws, c_t): within 5 standard deviations (+1 for discreteness)
    sd = np.sqrt(draws * c * (1 - c))
    assert np.all(np.abs(counts - draws * c) <= 5 * sd + 1)


@settings(max_examples=100, deadline=None)
@given(games(), st.floats(0.0, 1.0), st.integers(0, 2))
def test_a_bigger_group_budget_never_lowers_the_defender_utility(game, extra_share, which):
    assume(game.groups is not None)
    g = which % len(game.group_resources)
    need = float(game.costs[game.groups == g].sum())
    budgets = np.array(game.group_resources)
    budgets[g] += extra_share * (need - budgets[g])
    richer = SecurityGame(game.defender_covered, game.defender_uncovered,
                          game.attacker_covered, game.attacker_uncovered, game.resources,
                          game.cost, game.groups, budgets)
    assert origami(richer).defender_utility >= origami(game).defender_utility - 1e-7
