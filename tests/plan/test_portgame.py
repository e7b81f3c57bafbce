"""The port as a game on the shipped test port: a valid policy within each block's bay
time, attackers at best responses, better than spreading the same capacity evenly, and
``portwatch plan`` end to end with its one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from portwatch.cli.main import run
from portwatch.plan.portgame import PlanSettings, plan_port
from portwatch.targeting.eraser import evaluate
from portwatch.targeting.policy import N_MODES, Policy
from portwatch.twin.scenario import load_scenario


@pytest.fixture(scope="module")
def planned():
    # a time limit far above the solve time: the MILPs finish, so the answer
    # never depends on the machine's load
    return plan_port(load_scenario("test-port"), PlanSettings(n_blocks=6, time_limit_s=600.0))


def test_the_plan_is_a_policy_within_each_blocks_bay_time(planned):
    p = planned.policy
    assert p.referral_prob.shape == (N_MODES, 2, 6) and p.capacity_rule == "hold"
    assert np.all(planned.capacity_use() <= 1 + 1e-6)
    for g in planned.game.types:
        assert g.within_capacity(planned.coverage)
    assert Policy.from_json(p.to_json()) == p


def test_each_attacker_type_is_at_a_best_response(planned):
    for g, t in zip(planned.game.types, planned.solution.attacked_targets, strict=True):
        ua = g.attacker_utilities(planned.coverage)
        assert ua[t] >= ua.max() - 1e-6 * max(1.0, abs(ua.max()))


def test_the_plan_beats_the_same_capacity_spread_evenly(planned):
    """Even referral in every block that fills the same bay time the plan uses."""
    cost, groups = planned.cost_s, np.array([c[2] for c in planned.cells])
    used = np.bincount(groups, weights=cost * planned.coverage, minlength=6)
    need = np.bincount(groups, weights=cost, minlength=6)
    even = np.minimum(1.0, (used / need)[groups])
    value_even, _, _ = evaluate(planned.game, even)
    assert planned.solution.defender_utility >= value_even - 1e-9


def test_seizure_is_likelier_when_referred(planned):
    assert np.all(planned.p_covered > planned.p_uncovered)
    assert np.all((planned.p_uncovered >= 0) & (planned.p_covered <= 1))


def test_plan_command_writes_the_policy(tmp_path, capsys):
    out = tmp_path / "gt.json"
    assert run(["plan", "test-port", "--out", str(out), "--json", "--triage", "nii_scan"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["scenario"] == "test-port" and len(report["capacity_use_by_block"]) == 6
    assert set(report["attacked"]) == {"single-load", "shotgun", "insider", "adaptive"}
    assert report["robust"]["chosen"] in report["robust"]["caught"]
    policy = Policy.from_json(out.read_text())
    assert policy.alert_first_check == "nii_scan"
    assert run(["plan", "test-port", "--out", str(out), "--blocks", "4"]) == 0
    text = capsys.readouterr().out
    assert "bay time used by block:" in text and text.strip().endswith(f"wrote {out}")
    assert "robust to a learning attacker:" in text


@pytest.mark.parametrize("args,expected", [
    (["--blocks", "5"], "--blocks: must divide 24 hours, got 5"),
    (["--triage", "dog"], "--triage: must be bay, nii_scan, handheld or nii_scan_handheld"),
])
def test_plan_bad_options(tmp_path, capsys, args, expected):
    out = tmp_path / "p.json"
    assert run(["plan", "test-port", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1 and not out.exists()


def test_a_learner_that_fears_referral_and_the_defender_counting_the_seizure():
    """A type with ``fears_referral`` (a learner that watches inspection shares): its
    payoff when covered ignores the seizure chance; the defender's loss for it still uses
    the chance."""
    from portwatch.plan.portgame import AttackerType

    sc = load_scenario("test-port")
    types = (AttackerType("single-load", 0.5, "fentanyl"),
             AttackerType("watcher", 0.5, "fentanyl", fears_referral=True))
    planned = plan_port(sc, PlanSettings(n_blocks=6, types=types, time_limit_s=600.0))
    single, learner = planned.game.types
    # same drug, same lanes: the uncovered payoffs agree, the covered ones do not
    assert np.allclose(learner.attacker_uncovered, single.attacker_uncovered)
    assert np.all(learner.attacker_covered < single.attacker_covered)
    # covered, it loses the seizure share of the value (and any profile fee) whatever the
    # cell's seizure chance: one value per (lane fee, pedestrian mass), not per cell
    assert np.unique(np.round(learner.attacker_covered, 6)).size <= 4 < len(planned.cells)
    harm = -learner.defender_uncovered / (1 - planned.p_uncovered[1])
    assert np.allclose(learner.defender_covered, -(1 - planned.p_covered[1]) * harm)


def test_the_game_reads_the_model_the_informed_adversary_reads(planned):
    """At the plan's coverage, each target's seizure chance in the game is the lowest the
    one interdiction model gives under the plan itself (at the days and seed the informed
    adversary reads it with) over the hours and concealments of the target. The first
    version read it from other policies' pathways and another seed, and missed this."""
    from portwatch.plan.portgame import _options, _traffic, default_types
    from portwatch.targeting.policy import LANE_ORDER, MODE_ORDER
    from portwatch.twin.process.interdiction import interdiction_model

    sc = load_scenario("test-port")
    s = PlanSettings(n_blocks=6, time_limit_s=600.0)
    model = interdiction_model(sc, planned.policy, s.days, s.seed).p
    per_block = 24 // s.n_blocks
    for k, at in enumerate(planned.game.names):
        d = sc.drugs.index(next(t.drug for t in default_types(sc) if t.name == at))
        for j, (mode, lane, b) in enumerate(planned.cells):
            m, ln = MODE_ORDER.index(mode), LANE_ORDER.index(lane)
            hours = np.arange(b * per_block, (b + 1) * per_block)
            open_hours = hours[_traffic(sc, m, ln, hours) > 0]
            hours = open_hours if len(open_hours) else hours
            best = model[m, ln][np.ix_(hours, [d], _options(sc, m, ln))].min()
            game = planned.p_uncovered[k, j] + planned.coverage[j] * (
                planned.p_covered[k, j] - planned.p_uncovered[k, j])
            assert game == pytest.approx(best, abs=1e-9), (at, mode, lane, b)


def test_the_games_attacker_pays_what_the_twins_informed_adversary_pays():
    """The informed adversary the plan is measured against maximises value x (1 - P) in
    any lane, paying nothing for an enrolled profile in the express lane; by default the
    game's attacker types do the same, so that the plan is solved for the attacker the
    twin runs (an express-lane charge made the plan leave the express lanes thin, where
    the informed adversary then crossed)."""
    from portwatch.plan.portgame import _game, default_types

    sc = load_scenario("test-port")
    cells = [(0, 0, 0), (0, 1, 0)]  # trucks, general and express lane, block 0
    pu = np.full((4, 2), 0.03)
    pc = np.full((4, 2), 0.6)
    game = _game(sc, cells, pu, pc, np.ones(2), np.array([1.0]), default_types(sc),
                 PlanSettings(n_blocks=1))
    single = game.types[0]
    assert single.attacker_uncovered[0] == pytest.approx(single.attacker_uncovered[1])
    assert single.attacker_covered[0] == pytest.approx(single.attacker_covered[1])
