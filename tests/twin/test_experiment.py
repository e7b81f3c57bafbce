"""Studies: the JSON record, common random numbers, CIs, process pools and map_fn."""

from __future__ import annotations

import json

import numpy as np
import pytest

from portwatch import __version__
from portwatch.domain.errors import InputError, NotFoundError
from portwatch.targeting.policy import Policy
from portwatch.twin.scenario.schema import load_scenario
from portwatch.twin.study.replications import confidence_interval, run_study

SC = load_scenario("test-port")
POLICIES = [Policy.uniform(0.02), Policy.uniform(0.15, name="heavy")]


@pytest.fixture(scope="module")
def study():
    return run_study(SC, POLICIES, "naive", days=3, replications=3, seed=42, warmup_days=1)


def test_json_holds_the_record_and_the_headline_figures(study):
    data = json.loads(study.to_json())
    assert data["scenario"] == "test-port" and data["seed"] == 42
    assert data["portwatch_version"] == __version__
    assert (data["days"], data["replications"], data["warmup_days"]) == (3, 3, 1)
    for key in ("crossings", "loads_attempted", "loads_interdicted", "share_uninspected"):
        assert isinstance(data[key], float)
    assert set(data["wait_s"]) == {"truck", "car"}
    for stats in data["wait_s"].values():
        assert 0 <= stats["median"] <= stats["p95"] <= stats["max"]
        assert stats["mean"] >= 0
    heavy = data["policies"]["heavy"]
    lo, hi = heavy["ci95"]["loads_interdicted"]
    assert lo <= heavy["loads_interdicted"] <= hi
    assert len(heavy["per_replication"]["crossings"]) == 3
    assert heavy["policy"]["name"] == "heavy"
    assert set(heavy["by_drug"]) == set(SC.drugs)
    assert heavy["value_of_hour_usd"]["truck"] == 91.27
    assert "ATRI" in heavy["value_of_hour_source"]
    assert 0 <= heavy["share_uninspected"] <= 1
    # crossing unverified means uninspected and without a clean custody verdict
    assert 0 < heavy["share_unverified"] <= heavy["share_uninspected"]
    assert len(heavy["queue_length_by_hour"]["car"]) == 24


def test_common_random_numbers_across_policies(study):
    light, heavy = (study.per_replication[p.name] for p in POLICIES)
    for a, b in zip(light, heavy, strict=True):
        # the same legitimate traffic and the same (naive) loads in both arms
        assert a["arrivals"] == b["arrivals"]
        assert a["loads_attempted"] == b["loads_attempted"]
    diff = study.differences()["heavy"]
    assert diff["arrivals"]["mean"] == 0.0
    assert diff["inspected"]["mean"] > 0  # referring more inspects more, on the same draws


def test_conservation_count_agrees_with_the_metrics():
    # two separate paths: the replication counts rows as they go through the kernel, the
    # metrics count arrivals by mode in their own reduction of each day
    days, reps = 2, 2
    study = run_study(SC, POLICIES, "naive", days=days, replications=reps, seed=7)
    for name, counts in study.conservation.items():
        per_day = [r["arrivals"] for r in study.per_replication[name]]
        assert counts["arrived"] == pytest.approx(sum(per_day) * days)
        assert counts["left"] + counts["in_port"] == counts["arrived"]
        assert counts["in_port"] < counts["arrived"] / 10  # a port that empties overnight


def test_map_fn_and_a_process_pool_give_the_same_result(study):
    calls = []

    def mapper(fn, tasks):
        calls.append(len(tasks))
        return [fn(t) for t in reversed(tasks)]  # order must not matter

    mapped = run_study(SC, POLICIES, "naive", days=3, replications=3, seed=42,
                       warmup_days=1, map_fn=mapper)
    assert calls == [3]
    assert mapped.to_json() == study.to_json()
    pooled = run_study(SC, POLICIES, "naive", days=3, replications=3, seed=42,
                       warmup_days=1, workers=2)
    assert pooled.to_json() == study.to_json()


def test_confidence_interval_matches_student_t():
    lo, hi = confidence_interval([1.0, 2.0, 3.0])
    # mean 2, sd 1, t(0.975, 2) = 4.303
    assert (lo, hi) == pytest.approx((2 - 4.303 / 3**0.5, 2 + 4.303 / 3**0.5), abs=1e-3)
    assert all(np.isnan(confidence_interval([1.0])))


@pytest.mark.parametrize(
    "kw, error, message",
    [
        ({"days": 0}, InputError, "days: must be >= 1, got 0"),
        ({"replications": 0}, InputError, "replications: must be >= 1"),
        ({"policies": [Policy.uniform(0.1), Policy.uniform(0.1)]}, InputError, "unique"),
        ({"adversary": "ghost"}, NotFoundError, "adversary 'ghost'"),
        ({"scenario": "atlantis"}, NotFoundError, "scenario 'atlantis'"),
    ],
)
def test_bad_study_arguments(kw, error, message):
    args = dict(scenario=SC, policies=POLICIES, adversary="naive", days=1, replications=1,
                seed=1)
    args.update(kw)
    with pytest.raises(error, match=message):
        run_study(**args)
