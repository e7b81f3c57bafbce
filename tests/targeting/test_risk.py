"""The risk model against theory: the oracle's AUC and lift on a generator whose true
probabilities are known, calibration, the held-out period, mimicry, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from tests.targeting.risk_generator import LINK_STRENGTHS, generate

from portwatch.domain.errors import InputError
from portwatch.targeting.risk import (
    RiskTable,
    auc,
    evaluate,
    expected_calibration_error,
    fit_risk_model,
    lift_at,
    mimic,
    mimicry_decay,
    time_split,
)

RATE = 0.05  # referral rate


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(2026)
    table, p_true = generate(rng, 30_000)
    train, test = time_split(table, 0.25)
    model = fit_risk_model(train, rng=np.random.default_rng(1))
    p_test = p_true[table.time_s > train.time_s.max()]
    return model, train, test, p_test


def test_held_out_period_is_later_than_training(fitted):
    _, train, test, _ = fitted
    assert test.time_s.min() > train.time_s.max()
    assert test.n_rows == pytest.approx(0.25 * 30_000, rel=0.05)


def test_auc_and_lift_approach_the_oracle_and_do_not_beat_it(fitted):
    """No model can rank better than the true probabilities (up to sampling noise); a
    working one comes close."""
    model, _, test, p_test = fitted
    s = model.score(test.features)
    oracle_auc, model_auc = auc(p_test, test.label), auc(s, test.label)
    assert oracle_auc - 0.03 <= model_auc <= oracle_auc + 0.01
    oracle_lift, model_lift = lift_at(p_test, test.label, RATE), lift_at(s, test.label, RATE)
    assert model_lift >= 0.8 * oracle_lift and model_lift <= oracle_lift * 1.15


def test_scores_are_calibrated(fitted):
    model, _, test, p_test = fitted
    s = model.score(test.features)
    assert expected_calibration_error(s, test.label) < 0.02
    assert abs(s.mean() - test.label.mean()) < 0.01
    # the true probabilities' own calibration error is the noise floor of the measure
    assert expected_calibration_error(p_test, test.label) < 0.02


def test_report_has_intervals_around_its_estimates(fitted):
    model, _, test, _ = fitted
    rep = evaluate(model, test, referral_rate=RATE, rng=np.random.default_rng(3), n_boot=100)
    assert rep.auc.low <= rep.auc.value <= rep.auc.high
    assert rep.lift.low <= rep.lift.value <= rep.lift.high
    assert 0 < rep.brier < rep.base_rate  # better than always saying 0
    assert len(rep.reliability) == 10 and sum(r[3] for r in rep.reliability) == test.n_rows


def test_mimicry_erodes_the_lift_down_to_chance(fitted):
    model, _, test, _ = fitted
    fakeable = tuple(k for k, v in LINK_STRENGTHS.items() if v != 0.0)
    decay = mimicry_decay(model, test, fakeable, shares=(0.0, 0.5, 1.0), referral_rate=RATE,
                          rng=np.random.default_rng(4), n_boot=50)
    lifts = [rep.lift.value for _, rep in decay]
    assert lifts[0] > lifts[1] > lifts[2]
    # every load looks like a clean crossing: no better than random referral
    assert decay[-1][1].auc.value == pytest.approx(0.5, abs=0.05)
    assert decay[-1][1].lift.low <= 1.0 <= decay[-1][1].lift.high + 0.3


def test_mimicry_of_a_column_without_signal_changes_nothing(fitted):
    model, _, test, _ = fitted
    faked = mimic(test, ("noise",), 1.0, np.random.default_rng(5))
    s0, s1 = model.score(test.features), model.score(faked.features)
    assert auc(s1, test.label) == pytest.approx(auc(s0, test.label), abs=0.01)


def test_lift_by_hand():
    s = np.array([0.9, 0.8, 0.1, 0.2])
    assert lift_at(s, np.array([1, 0, 0, 1]), 0.5) == pytest.approx(1.0)
    assert lift_at(s, np.array([1, 1, 0, 0]), 0.5) == pytest.approx(2.0)
    assert lift_at(s, np.array([0, 0, 1, 1]), 0.5) == pytest.approx(0.0)


@pytest.mark.parametrize("make,message", [
    (lambda: RiskTable(np.zeros((3, 2)), ("a",), np.zeros(3), np.zeros(3)), "one column per name"),
    (lambda: RiskTable(np.zeros((3, 1)), ("a",), np.zeros(2), np.zeros(3)), "one value per row"),
    (lambda: RiskTable(np.array([[1.0], [np.nan]]), ("a",), np.zeros(2), np.zeros(2)),
     r"features\[1\].a: must be a finite number"),
    (lambda: fit_risk_model(RiskTable(np.zeros((10, 1)), ("a",), np.zeros(10), np.arange(10)),
                            rng=np.random.default_rng(0)), "at least 3 crossings of each class"),
    (lambda: time_split(RiskTable(np.zeros((4, 1)), ("a",), np.zeros(4), np.zeros(4)), 0.2),
     "cannot split"),
    (lambda: lift_at(np.zeros(3), np.ones(3), 0.0), "referral rate"),
])
def test_bad_input_is_one_line(make, message):
    with pytest.raises(InputError, match=message):
        make()


def test_weighted_rows_count_as_their_crossings():
    """A table whose rows stand for several crossings gives the measures of the table
    with each row repeated: AUC, lift, Brier and the base rate."""
    rng = np.random.default_rng(8)
    x = rng.integers(0, 3, (60, 2)).astype(float)
    y = rng.random(60) < 0.3
    w = rng.integers(1, 5, 60).astype(float)
    score = x[:, 0] + 0.1 * x[:, 1]
    rep = np.repeat(np.arange(60), w.astype(int))
    assert auc(score, y, w) == pytest.approx(auc(score[rep], y[rep]))
    # lift with ties broken in proportion equals the mean over tie-breaks of the
    # repeated table's top rows; with the cut on a group boundary it is exact
    k = int(w[np.argsort(-score, kind="stable")][: int((score >= 2.0).sum())].sum())
    rate = k / w.sum()
    assert lift_at(score, y, rate, w) == pytest.approx(
        y[rep][score[rep] >= 2.0].mean() / y[rep].mean())
    table = RiskTable(x, ("a", "b"), y, np.arange(60.0), w)
    assert table.base_rate == pytest.approx(y[rep].mean())
    with pytest.raises(InputError, match="mimic"):
        mimic(table, ("a",), 0.5, rng)
