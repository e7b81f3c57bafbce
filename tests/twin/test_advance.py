"""Advance information: the generator against its exact law, the Bayes-optimal bound, the
learned model below it on a later period, mimicry, and the kernel reading the model's
scores (never a score the scenario hands out)."""

from __future__ import annotations

import numpy as np
import pytest

from portwatch.domain.errors import InputError
from portwatch.targeting.policy import Policy
from portwatch.twin import load_scenario
from portwatch.twin.adversaries import AdversaryView, make_adversary
from portwatch.twin.process import advance
from portwatch.twin.process.interdiction import _referral_chance
from portwatch.twin.process.traffic import draw_legit, plan_traffic, score_traffic
from portwatch.twin.study.riskmodel import (
    evaluate_port_risk,
    labelled_history,
    port_risk_lookup,
    threshold_for_share,
    with_mimicry,
)

SC = load_scenario("test-port")


def _marginals(p: np.ndarray, shape: tuple[int, ...]) -> list[np.ndarray]:
    g = p.reshape(shape)
    return [g.sum(axis=tuple(j for j in range(len(shape)) if j != i)) for i in range(len(shape))]


@pytest.fixture(scope="module")
def history():
    return labelled_history(SC, 60, np.random.default_rng(11))


def test_generator_follows_the_exact_law_written_from_the_parameters(history):
    """Each feature's share per class in 60 generated days matches ``class_pmfs`` (written
    from the scenario's parameters, not from the generator) within sampling error."""
    shape = advance.grid_shape(SC)
    p0, p1 = advance.class_pmfs(SC)
    x = history.features.astype(np.int64)
    for label, p in ((False, p0), (True, p1)):
        rows = history.label == label
        w = history.w[rows]
        n = w.sum()
        for i, expected in enumerate(_marginals(p, shape)):
            seen = np.bincount(x[rows, i], weights=w, minlength=shape[i]) / n
            sd = np.sqrt(expected * (1 - expected) / n)
            assert np.all(np.abs(seen - expected) <= 5 * sd + 1e-3), (
                advance.FEATURES[i], label, seen, expected)


def test_a_link_changes_the_law_and_the_generator_alike():
    """Raising a cartel link moves both the law and the draws: prior findings."""
    sc = load_scenario("test-port", ["advance.prior_finding_load=0.5", "advance.mimicry=0"])
    _, p1 = advance.class_pmfs(sc)
    expected = _marginals(p1, advance.grid_shape(sc))[7][1]
    assert expected == pytest.approx(0.5)
    plan = make_adversary("naive").plan_day(AdversaryView.blank(sc, Policy.uniform(0.0), 0),
                                            np.random.default_rng(0))
    rows = []
    rng = np.random.default_rng(1)
    for _ in range(200):
        tr = plan_traffic(sc, 0, plan, rng)
        rows.append(tr.prior_finding[~tr.is_decoy])
    assert np.concatenate(rows).mean() == pytest.approx(0.5, abs=0.03)


def test_bayes_auc_by_hand():
    # two cells: loads 0.8 / 0.2, clean 0.2 / 0.8 -> P(load outranks clean) = 0.8*0.8 +
    # ties 0.5*(0.8*0.2 + 0.2*0.8) = 0.64 + 0.16 = 0.8
    assert advance.bayes_auc(np.array([0.2, 0.8]), np.array([0.8, 0.2])) == pytest.approx(0.8)
    assert advance.bayes_auc(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == pytest.approx(0.5)


def test_full_mimicry_leaves_only_what_the_cartel_cannot_fake():
    """Dressed as clean traffic, loads still differ by mode, enrolment and custody: the
    bound falls but not to chance; with no cartel link at all it is what those give."""
    full = advance.bayes_auc(*advance.class_pmfs(SC, 1.0))
    none = advance.bayes_auc(*advance.class_pmfs(SC, 0.0))
    assert 0.5 < full < none
    same = load_scenario("test-port", [
        "advance.crossings_mean_load=20", "advance.new_carrier_load=0.05",
        "advance.prior_finding_load=0.01", "advance.load_commodities.produce=0.3",
        "advance.load_commodities.manufactured=0.4", "advance.load_commodities.auto_parts=0.2",
        "advance.load_commodities.empty=0.1"])
    assert advance.bayes_auc(*advance.class_pmfs(same, 0.0)) == pytest.approx(full, abs=1e-9)


@pytest.fixture(scope="module")
def evaluation():
    return evaluate_port_risk(SC, days=120, seed=5, shares=(0.0, 1.0), n_boot=100)


def test_learned_auc_is_close_to_but_below_the_bayes_bound(evaluation):
    ev = evaluation
    # the oracle (exact posterior) on the same later crossings: nothing ranks better
    assert ev.learned.auc.value <= ev.oracle.auc.value + 0.005
    assert ev.learned.auc.value >= ev.bayes_auc - 0.05
    # the population bound lies inside the oracle's interval on the held-out period
    assert ev.oracle.auc.low <= ev.bayes_auc <= ev.oracle.auc.high
    assert ev.learned.lift.value > 2.0
    # calibrated: the mean score matches the base rate
    assert sum(r[1] * r[3] for r in ev.learned.reliability) / ev.learned.rows == pytest.approx(
        ev.learned.base_rate, rel=0.25)


def test_mimicry_erodes_the_lift(evaluation):
    low, high = evaluation.decay
    assert high.report.lift.value < low.report.lift.value
    assert high.report.auc.value < low.report.auc.value
    assert high.bayes_auc < low.bayes_auc
    assert high.report.auc.value <= high.bayes_auc + 0.03


def test_the_kernel_reads_the_models_score_of_the_advance_information():
    lookup = port_risk_lookup(SC)
    assert port_risk_lookup(SC) is lookup  # trained once per scenario
    tr = draw_legit(SC, 0, np.random.default_rng(3))
    assert np.all(tr.risk == 0.0)  # the traffic carries no score of its own
    scored = score_traffic(SC, tr, lookup)
    assert np.array_equal(scored.risk, lookup.score(tr.advance_info(SC)))
    assert scored.risk.min() >= 0.0 and scored.risk.max() <= 1.0
    # calibrated probabilities: their mean is near the share of crossings with a load
    base = SC.loads_per_day / (SC.daily_volume.sum() + SC.loads_per_day + SC.decoys_per_day)
    assert scored.risk.mean() == pytest.approx(base, rel=0.5)


def test_interdiction_models_referral_chance_matches_scored_loads():
    """The analytic chance that a load is referred under a risk threshold equals the
    share of simulated loads (scored by the port's model) at or above it."""
    lookup = port_risk_lookup(SC)
    thr = float(np.quantile(lookup.table, 0.8))
    policy = Policy.risk_based(thr, name="thr")
    chance = _referral_chance(SC, policy)  # [mode, lane, hour, concealment]
    rng = np.random.default_rng(9)
    adv = make_adversary("naive")
    hits, want = [], []
    for day in range(300):
        plan = adv.plan_day(AdversaryView.blank(SC, policy, day), rng)
        tr = score_traffic(SC, plan_traffic(SC, day, plan, rng), lookup)
        load = ~tr.is_decoy
        hour = ((tr.arrive_at_s - day * 86400) // 3600).astype(int)
        hits.append(tr.risk[load] >= thr)
        want.append(chance[tr.mode[load], tr.lane[load], hour[load], tr.concealment[load]])
    hits_all, want_all = np.concatenate(hits), np.concatenate(want)
    n = len(hits_all)
    assert abs(hits_all.mean() - want_all.mean()) < 4 * np.sqrt(want_all.mean() / n)


def test_mimicry_share_is_checked():
    with pytest.raises(InputError, match="mimicry share"):
        with_mimicry(SC, 1.5)


def test_scenario_rejects_an_unknown_load_commodity():
    with pytest.raises(InputError, match="advance.load_commodities.gold"):
        load_scenario("test-port", ["advance.load_commodities.gold=0.5"])


def test_threshold_for_share_refers_that_share_of_clean_traffic():
    lookup = port_risk_lookup(SC)
    p0, _ = advance.class_pmfs(SC)
    for share in (0.01, 0.05, 0.2):
        thr = threshold_for_share(SC, lookup, share)
        referred = p0[lookup.table >= thr].sum()
        assert referred <= share + 1e-12
        # the next distinct score down would refer more than the share
        lower = lookup.table[lookup.table < thr]
        assert p0[lookup.table >= lower.max()].sum() > share


def test_bayes_auc_equals_sampled_auc_of_the_likelihood_ratio():
    """``bayes_auc``'s exact sum against scikit-learn's AUC on cells drawn from the two
    laws, scored by the likelihood ratio."""
    from sklearn.metrics import roc_auc_score

    p0, p1 = advance.class_pmfs(SC)
    rng = np.random.default_rng(13)
    n = 200_000
    c0 = rng.choice(len(p0), n, p=p0 / p0.sum())
    c1 = rng.choice(len(p1), n, p=p1 / p1.sum())
    ratio = p1 / np.maximum(p0, 1e-300)
    cells = np.concatenate([c0, c1])
    label = np.r_[np.zeros(n), np.ones(n)]
    assert roc_auc_score(label, ratio[cells]) == pytest.approx(
        advance.bayes_auc(p0, p1), abs=0.004)


def test_bayes_lift_by_hand_and_as_a_bound(evaluation):
    # two cells, loads 0.8 / 0.2, clean 0.2 / 0.8, base rate 0.5: the top half of the
    # crossings is the first cell (mass 0.5), holding 0.8 of the loads: lift 1.6
    p0, p1 = np.array([0.2, 0.8]), np.array([0.8, 0.2])
    assert advance.bayes_lift(p0, p1, 0.5, 0.5) == pytest.approx(1.6)
    # the learned model's lift on the later period stays under the bound (up to noise)
    assert evaluation.learned.lift.low <= evaluation.bayes_lift
    assert evaluation.oracle.lift.low <= evaluation.bayes_lift <= evaluation.oracle.lift.high
