"""The learner-gap benchmark's learning time: the warm-up it reads from the environment
reaches both the twin's learner and the offline learner, and 90 days stays the default
(the headline's assumed warm-up)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import ModuleType

import numpy as np
import pytest

from portwatch.targeting.policy import Policy
from portwatch.twin import load_scenario
from portwatch.twin.adversaries import base as adversary_base


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    # importing the benchmark registers its recording learner; take it out again so
    # that the registry other tests see is the shipped one
    from benchmarks import bench_learner_gap

    yield bench_learner_gap
    adversary_base._REGISTRY.pop("adaptive-recorded", None)


def test_warmup_defaults_to_90_days_and_follows_the_environment(bench, monkeypatch):
    monkeypatch.delenv("PORTWATCH_BENCH_GAP_WARMUP", raising=False)
    assert bench._warmup_days() == 90
    monkeypatch.setenv("PORTWATCH_BENCH_GAP_WARMUP", "365")
    assert bench._warmup_days() == 365


def test_the_twin_records_only_the_days_after_the_warmup(bench, monkeypatch):
    monkeypatch.setattr(bench._Recorded, "warmup_days", bench.WARMUP_DAYS)
    sc = load_scenario("test-port")
    pol = Policy.uniform(0.02, capacity_rule="hold", name="uniform")
    res, log = bench._twin(sc, [pol], {"loads_per_day": 20.0}, reps=1, warmup=3)
    assert res.warmup_days == 3
    assert sorted(r["day"] for r in log) == [3, 4]


def test_offline_learner_evades_uniform_more_the_longer_it_learns(bench, capsys):
    # the days must reach the learner: after 60 days it has moved its loads to where
    # uniform catches less harm than after 2 (at Otay Mesa 0.644 at day 30, 0.382 at 90)
    sc = load_scenario("otay-mesa")
    uniform = Policy.uniform(0.0128, capacity_rule="hold", name="uniform")
    same = Policy.uniform(0.0128, capacity_rule="hold", name="same")
    twice = Policy.uniform(0.0256, capacity_rule="hold", name="twice")
    bench._offline_by_days(sc, [uniform, same, twice], {"loads_per_day": 100.0}, [2, 60])
    lines = [ln for ln in capsys.readouterr().out.splitlines() if "learning days" in ln]
    assert len(lines) == 2
    harm = [float(re.search(r"uniform ([0-9.]+)", ln).group(1)) for ln in lines]
    assert harm[1] < 0.9 * harm[0], harm
    for ln in lines:
        ratios = [float(x) for x in re.findall(r"([0-9.]+)x", ln)]
        assert ratios[0] == pytest.approx(1.0)  # uniform against itself
        assert ratios[1] > 1.0  # twice the referral catches more
    assert np.isfinite(harm).all()
