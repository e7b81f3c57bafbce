"""Shared set-up of the twin tests: days of the naive adversary's loads in a port's
traffic, run through the kernel (``naive_days``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from portwatch.targeting.policy import Policy
from portwatch.twin.adversaries import AdversaryView, LoadPlan, make_adversary
from portwatch.twin.process.kernel import N_UNIFORMS, DayRun, PortState, prepare, run_day
from portwatch.twin.process.traffic import DayTraffic, compose_day, draw_legit, plan_traffic
from portwatch.twin.scenario import CompiledScenario


@dataclass(frozen=True, eq=False)
class NaiveDay:
    """One day: the naive adversary's plan, the day's traffic with its loads merged in
    (``traffic.plan_row >= 0`` on a load), and what the kernel did with each row."""

    day: int
    plan: LoadPlan
    traffic: DayTraffic
    run: DayRun


def _naive_days(sc: CompiledScenario, policy: Policy, days: int,
                rng: np.random.Generator) -> Iterator[NaiveDay]:
    """Days 0..``days``-1 of ``sc`` under ``policy``, the naive adversary spreading its
    loads like traffic. The port's queues carry over from one day to the next (day 0
    starts empty); every draw comes from ``rng``, in the same order each day."""
    naive = make_adversary("naive")
    kernel, state = prepare(sc, policy), PortState(sc)
    for day in range(days):
        legit = draw_legit(sc, day, rng)
        plan = naive.plan_day(AdversaryView.blank(sc, policy, day), rng)
        planned = plan_traffic(sc, day, plan, rng)
        tr, u = compose_day(legit, planned, rng.random((len(legit), N_UNIFORMS)),
                            rng.random((len(planned), N_UNIFORMS)))
        run = run_day(kernel, tr.arrive_at_s, tr.mode, tr.lane, tr.enrolled, tr.custody,
                      tr.risk, tr.drug, tr.concealment, tr.is_decoy, u, state)
        yield NaiveDay(day, plan, tr, run)


NaiveDays = Callable[[CompiledScenario, Policy, int, np.random.Generator], Iterator[NaiveDay]]


@pytest.fixture
def naive_days() -> NaiveDays:
    """``naive_days(scenario, policy, days, rng)``: the days, one ``NaiveDay`` each."""
    return _naive_days
