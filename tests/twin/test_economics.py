"""The cartel as a business: deterrence (loads per day follow a load's expected profit)
and decoys that cost what a load costs in part."""

from __future__ import annotations

import numpy as np
import pytest

from portwatch.targeting.policy import N_MODES, Policy
from portwatch.twin import AdversaryView, DayOutcome, load_scenario
from portwatch.twin.adversaries import ShotgunAdversary, make_adversary
from portwatch.twin.adversaries.economics import PRIOR_LOADS, Economics, expected_seizure_prob
from portwatch.twin.process.plan import LoadPlan
from portwatch.twin.study.replications import run_study


@pytest.fixture(scope="module")
def sc():
    return load_scenario("test-port")


def test_load_economics_from_the_drug_table(sc):
    econ = Economics.of(sc)
    # test-port's mix: 0.3 x 200 kg x 1,000 + 0.3 x 40 x 10,000 + 0.15 x 20 x 25,000
    # + 0.05 x 5 x 40,000 + 0.2 x 4 x 100,000 USD
    assert econ.value_per_load_usd == pytest.approx(345_000.0)
    e = sc.spec.contraband.economics
    assert econ.load_cost_usd == pytest.approx(e.driver_fee_usd + e.vehicle_usd
                                               + e.source_price_share * 345_000.0)
    assert econ.decoy_cost_usd == e.driver_fee_usd + e.vehicle_usd + e.trace_drug_usd
    assert econ.deterrence(econ.reference_seizure_prob) == pytest.approx(1.0)
    chances = np.linspace(0.0, 0.95, 20)
    factors = [econ.deterrence(p) for p in chances]
    assert all(a > b for a, b in zip(factors, factors[1:], strict=False) if a > 0)
    assert econ.deterrence(0.95) == 0.0  # a load no longer pays: none sent
    flat = load_scenario("test-port", ["contraband.economics.elasticity=0"])
    assert Economics.of(flat).deterrence(0.5) == 1.0


def _history(n_days: int, loads: int, seized_share: float) -> tuple[DayOutcome, ...]:
    out = []
    for day in range(n_days):
        plan = LoadPlan(np.arange(loads) * 60.0, np.ones(loads), np.zeros(loads),
                        np.ones(loads), np.full(loads, 10.0), np.zeros(loads),
                        np.zeros(loads, dtype=bool))
        seized = np.arange(loads) < round(seized_share * loads)
        nan = np.full((N_MODES, 2, 24), np.nan)
        out.append(DayOutcome(day, plan, seized, seized.copy(), nan, nan))
    return tuple(out)


def test_expected_seizure_is_its_own_record_shrunk_to_the_reference():
    assert expected_seizure_prob((), 0.1) == pytest.approx(0.1)
    seen = _history(5, 20, 0.5)
    assert expected_seizure_prob(seen, 0.1) == pytest.approx(
        (50 + PRIOR_LOADS * 0.1) / (100 + PRIOR_LOADS))


@pytest.mark.parametrize("name", ["peak-timing", "informed", "adaptive", "insider"])
def test_seizures_it_has_seen_deter_loads(sc, name):
    policy = Policy.uniform(0.05)

    def mean_loads(history):
        counts = []
        for seed in range(30):
            adv = make_adversary(name)
            view = AdversaryView(sc, policy, len(history), np.full((N_MODES, 2, 24), np.nan),
                                 np.full((N_MODES, 2, 24), np.nan), history)
            counts.append(adv.plan_day(view, np.random.default_rng(seed)).n_loads)
        return float(np.mean(counts))

    calm, burned = mean_loads(_history(5, 20, 0.0)), mean_loads(_history(5, 20, 0.6))
    econ = Economics.of(sc)
    expected = econ.deterrence(expected_seizure_prob(_history(5, 20, 0.6), 0.1)) / \
        econ.deterrence(expected_seizure_prob(_history(5, 20, 0.0), 0.1))
    assert burned < 0.75 * calm
    assert burned / calm == pytest.approx(expected, rel=0.2)


def test_a_tougher_policy_deters_loads_in_the_twin(sc):
    tough = load_scenario("test-port", ["contraband.economics.elasticity=2",
                                        "contraband.loads_per_day=40"])
    # referring 60% and holding them (no wave-through) seizes about half the loads
    lax = Policy.uniform(0.0, name="lax")
    hard = Policy.uniform(0.6, name="hard", capacity_rule="hold")
    study = run_study(tough, [lax, hard], "peak-timing", days=6, replications=2, seed=3)
    assert study.summary("hard")["interdiction_rate"] > 0.3
    assert (study.summary("hard")["loads_attempted"]
            < 0.6 * study.summary("lax")["loads_attempted"])


def test_each_decoy_takes_its_price_out_of_the_loads(sc):
    econ = Economics.of(sc)
    view = AdversaryView.blank(sc, Policy.uniform(0.05))
    loads = {}
    for decoys in (0, 30):
        n = [ShotgunAdversary(decoys=decoys).plan_day(view, np.random.default_rng(s)).n_loads
             for s in range(200)]
        loads[decoys] = float(np.mean(n))
    assert loads[0] == pytest.approx(3 * sc.loads_per_day, rel=0.05)
    lost = 30 * econ.decoy_cost_usd / econ.load_cost_usd
    assert loads[0] - loads[30] == pytest.approx(lost, rel=0.3)
    # given loads, the decoys come on top: exactly that many loads
    fixed = ShotgunAdversary(loads=12, decoys=30).plan_day(view, np.random.default_rng(0))
    assert fixed.n_loads == 12 and fixed.n_decoys == 30


def test_the_naive_reference_is_not_deterred(sc):
    view = AdversaryView(sc, Policy.uniform(0.05), 5, np.full((N_MODES, 2, 24), np.nan),
                         np.full((N_MODES, 2, 24), np.nan), _history(5, 20, 0.9))
    burned = make_adversary("naive").plan_day(view, np.random.default_rng(1))
    fresh = make_adversary("naive").plan_day(AdversaryView.blank(sc, view.policy),
                                             np.random.default_rng(1))
    assert burned.n_loads == fresh.n_loads
