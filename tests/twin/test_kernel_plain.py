"""The kernel's plain path (a day where primary never sees secondary) gives exactly what
the event loop gives: every output of every conveyance and the state carried to the
next day, on ports with several stations, hourly staffing with closed hours, scanners,
loads and decoys, and on days it must hand back to the event loop."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portwatch.targeting.policy import Policy
from portwatch.twin.adversaries import AdversaryView, ShotgunAdversary
from portwatch.twin.process import kernel
from portwatch.twin.process.kernel import (
    N_UNIFORMS,
    U_PRIMARY,
    DayRun,
    PortState,
    prepare,
    run_day,
)
from portwatch.twin.process.traffic import compose_day, draw_legit, plan_traffic
from portwatch.twin.scenario.overrides import apply_overrides
from portwatch.twin.scenario.schema import parse_scenario, scenario_data, scenario_names
from portwatch.twin.validation import poisson_arrivals, reduced_port

SETTINGS = settings(max_examples=20, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def _plain_port(sets: list[str], name: str = "test-port"):
    """``name`` without drivers or canines and with a secondary that cannot fill."""
    data, where = scenario_data(name)
    data.pop("drivers", None)
    data = apply_overrides(data, ["canine.teams=0", "secondary.queue_slots=1000000", *sets])
    return parse_scenario(data, where)


def _same(a: DayRun, b: DayRun) -> None:
    for name in DayRun.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True), name


def _same_state(a: PortState, b: PortState) -> None:
    for name, value in vars(a).items():
        assert np.array_equal(value, getattr(b, name)), name


@pytest.fixture
def plain_days(monkeypatch):
    """Counts the days the plain path ran to the end."""
    ran = []
    real = kernel.plain_day

    def spy(*args):
        sec_n = real(*args)
        ran.append(sec_n >= 0)
        return sec_n

    monkeypatch.setattr(kernel, "plain_day", spy)
    return ran


def _both(model, days):
    """Run ``days`` (lists of run_day inputs) on both paths, comparing day by day."""
    plain_state, loop_state = PortState(model.scenario), PortState(model.scenario)
    for inputs in days:
        plain = run_day(model, *inputs, plain_state)
        loop = run_day(model, *inputs, loop_state, plain=False)
        _same(plain, loop)
        _same_state(plain_state, loop_state)


def _traffic_days(sc, policy, days, seed, loads, decoys):
    rng = np.random.default_rng(seed)
    out = []
    for day in range(days):
        legit = draw_legit(sc, day, rng)
        plan = ShotgunAdversary(loads=loads, decoys=decoys).plan_day(
            AdversaryView.blank(sc, policy), rng)
        planned = plan_traffic(sc, day, plan, rng)
        tr, u = compose_day(legit, planned, rng.random((len(legit), N_UNIFORMS),
                                                       dtype=np.float32),
                            rng.random((len(planned), N_UNIFORMS), dtype=np.float32))
        out.append((tr.arrive_at_s, tr.mode, tr.lane, tr.enrolled,
                    rng.integers(0, 4, len(tr)), tr.risk, tr.drug, tr.concealment,
                    tr.is_decoy, u))
    return out


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), rate=st.floats(0.0, 0.4),
       rule=st.sampled_from(["wave", "hold"]), decoys=st.integers(0, 10))
def test_plain_path_equals_the_event_loop_at_a_port(seed, rate, rule, decoys):
    sc = _plain_port([])
    model = prepare(sc, Policy.uniform(rate, capacity_rule=rule))
    assert model.plain_below > 0
    _both(model, _traffic_days(sc, model.policy, 2, seed, 4, decoys))


@pytest.mark.parametrize("name", scenario_names())
def test_plain_path_equals_the_event_loop_at_every_shipped_port(name, plain_days):
    sc = _plain_port([], name)
    model = prepare(sc, Policy.uniform(0.05))
    _both(model, _traffic_days(sc, model.policy, 1, 9, 4, 4))
    assert plain_days == [True]


def test_the_plain_path_runs_and_hands_a_zero_service_day_back(plain_days):
    sc = _plain_port([])
    model = prepare(sc, Policy.uniform(0.2))
    _both(model, _traffic_days(sc, model.policy, 2, 3, 4, 4))
    assert plain_days == [True, True]
    plain_days.clear()
    model = prepare(reduced_port(3, {"kind": "exponential", "mean_s": 60.0}),
                    Policy.uniform(0.2))
    days = _reduced_days(2, 0.04, 500, np.random.default_rng(4))
    days[0][-1][7, U_PRIMARY] = 0.0  # a service of 0 s: its order is the event loop's
    _both(model, days)
    assert plain_days == [False, True]


def test_a_port_with_drivers_canines_or_a_small_secondary_takes_the_event_loop(plain_days):
    data, where = scenario_data("test-port")
    assert prepare(parse_scenario(data, where), Policy.uniform(0.1)).plain_below == 0
    sc = _plain_port(["secondary.queue_slots=2"])  # can fill: only the loop blocks booths
    model = prepare(sc, Policy.uniform(0.1))
    assert model.plain_below > 0
    _both(model, _traffic_days(sc, model.policy, 1, 5, 0, 0))
    assert plain_days == []


hourly = st.lists(st.integers(0, 4), min_size=24, max_size=24).filter(lambda b: max(b) > 0)
services = st.sampled_from([
    {"kind": "exponential", "mean_s": 60.0},
    {"kind": "deterministic", "mean_s": 45.0},
    {"kind": "lognormal", "mean_s": 60.0, "cv": 0.8},
    {"kind": "empirical", "values_s": [10.0, 30.0, 30.0, 90.0]},
])


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), booths=hourly, service=services,
       bays=st.integers(1, 3), rate=st.floats(0.0, 0.5), load=st.floats(0.3, 1.3))
def test_plain_path_equals_the_event_loop_on_reduced_ports(seed, booths, service, bays,
                                                           rate, load):
    sc = reduced_port(booths, service, bays=bays)
    model = prepare(sc, Policy.uniform(rate, capacity_rule="hold"))
    assert model.plain_below > 0
    _both(model, _reduced_days(2, load * max(booths) / 60.0, 2000,
                               np.random.default_rng(seed)))


def _reduced_days(days, per_s, n, rng):
    out = []
    for day in range(days):
        at = day * 86400.0 + poisson_arrivals(per_s, n, rng)
        zeros, no = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
        out.append((at, np.ones(n, dtype=np.int64), zeros, no, zeros, np.zeros(n),
                    np.full(n, -1, dtype=np.int64), zeros, no, rng.random((n, N_UNIFORMS))))
    return out
