"""The planner chooses the decoy triage: the port game solved under each option, each
with the interdiction model under that option, the best for the defender kept."""

from __future__ import annotations

import pytest

from portwatch.cli.main import run
from portwatch.domain.errors import PortwatchError
from portwatch.plan.portgame import PlanSettings, choose_triage, triage_name
from portwatch.targeting.eraser import evaluate
from portwatch.targeting.policy import Policy
from portwatch.twin.process.interdiction import interdiction_model
from portwatch.twin.scenario import load_scenario

OPTIONS = (("nii_scan", False), ("handheld", True))


@pytest.fixture(scope="module")
def choice():
    return choose_triage(load_scenario("test-port"), PlanSettings(time_limit_s=20.0), OPTIONS)


def test_the_best_option_for_the_defender_is_kept(choice):
    values = choice.values()
    assert set(values) == {triage_name(*o) for o in OPTIONS}
    assert values[triage_name(*choice.option)] == max(values.values())
    p = choice.best.policy
    assert (p.alert_first_check, p.alert_covered_to_bay) == choice.option
    assert p.name == f"game-theoretic-{triage_name(*choice.option)}"


def test_each_option_is_planned_on_its_own_process(choice):
    # each plan runs the option it was solved for, and its game's value is its coverage
    # scored in that game
    for name, plan in choice.plans.items():
        check, covered = next(o for o in OPTIONS if triage_name(*o) == name)
        assert (plan.policy.alert_first_check, plan.policy.alert_covered_to_bay) == (
            check, covered)
        assert evaluate(plan.game, plan.coverage)[0] == pytest.approx(
            plan.solution.defender_utility)
    # the two options' interdiction models differ: the game saw different seizure chances
    sc = load_scenario("test-port")
    a, b = (interdiction_model(sc, p.policy).p for p in choice.plans.values())
    assert (a != b).any()


def test_compare_refuses_an_unknown_triage_option(capsys):
    assert run(["compare", "test-port", "--adversaries", "naive", "--triage", "xray"]) == 2
    assert "--triage: unknown option 'xray'" in capsys.readouterr().err


def test_an_option_that_backs_up_primary_is_not_chosen():
    # test-port with a 30 s canine pass and dogs that false-alert on 15% of passes: the
    # freed dogs alert often, and an alert scanned first waits for the port's one car
    # scanner in secondary, so secondary fills and primary backs up; the handheld check
    # holds no scanner. The game does not price waits; the planner's guard does.
    sc = load_scenario("test-port", ["canine.sweep_s=30", "canine.false_alarm_prob=0.15"])
    options = (("nii_scan_handheld", True), ("handheld", True))
    s = PlanSettings(time_limit_s=20.0)
    free = choose_triage(sc, s, options, max_wait_increase=None)
    assert free.option == ("nii_scan_handheld", True)
    guarded = choose_triage(sc, s, options, reference=Policy.uniform(0.03, capacity_rule="hold"))
    waits = guarded.p95_truck_wait_s
    assert waits["nii_scan_handheld-covered-bay"] > 1.1 * guarded.reference_p95_s
    assert waits["handheld-covered-bay"] <= 1.1 * guarded.reference_p95_s
    assert guarded.option == ("handheld", True) and guarded.wait_guard_met


def test_the_guard_counts_the_queue_decoys_cause():
    # test-port with a 30 s canine pass and a shotgun of 30 loads behind 15 decoys a
    # day: on legitimate traffic alone the scan-first option passes the guard, but the
    # freed dogs alert on the decoys, each alert's scan waits for the one car scanner,
    # secondary fills and primary backs up. A guard that runs the shotgun's day sees it.
    sc = load_scenario("test-port", ["canine.sweep_s=30"])
    options = (("nii_scan_handheld", True), ("handheld", True))
    s = PlanSettings(time_limit_s=20.0, rationality_levels=())
    reference = Policy.uniform(0.03, capacity_rule="hold")
    legit = choose_triage(sc, s, options, reference=reference)
    assert legit.option == ("nii_scan_handheld", True)
    shotgun = ("shotgun", {"loads": 30, "decoys": 15})
    guarded = choose_triage(sc, s, options, reference=reference, guard_adversary=shotgun)
    waits, ref = guarded.p95_truck_wait_with_decoys_s, guarded.reference_p95_with_decoys_s
    assert waits["nii_scan_handheld-covered-bay"] > 1.1 * ref
    assert waits["handheld-covered-bay"] <= 1.1 * ref
    assert guarded.option == ("handheld", True) and guarded.wait_guard_met


def test_an_unknown_guard_adversary_is_refused():
    sc = load_scenario("test-port")
    with pytest.raises(PortwatchError, match="adversary"):
        choose_triage(sc, PlanSettings(time_limit_s=5.0, rationality_levels=()),
                      (("handheld", True),), reference=Policy.uniform(0.03),
                      guard_adversary=("smuggler-x", {}))
