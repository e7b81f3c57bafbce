"""Schedules: exact decompositions, comb draws and per-shift rosters."""

from __future__ import annotations

import numpy as np
import pytest
from tests.targeting.test_published_examples import KIEKINTVELD

from portwatch.domain.errors import InputError
from portwatch.targeting.origami import origami
from portwatch.targeting.schedule import comb_sample, decompose, shift_rosters


def test_decomposition_of_a_solved_game_reproduces_its_coverage():
    cov = origami(KIEKINTVELD).coverage  # 7/13, 5/13, 1/13 with one team
    parts = decompose(cov)
    assert sorted((round(p * 13), tuple(t.tolist())) for p, t in parts) == [
        (1, (2,)), (5, (1,)), (7, (0,))]


def test_whole_coverage_is_always_drawn():
    c = np.array([1.0, 0.0, 1.0, 0.5, 0.5])
    rng = np.random.default_rng(0)
    for _ in range(200):
        picked = set(comb_sample(c, rng).tolist())
        assert {0, 2} <= picked and 1 not in picked and len(picked) == 3


def test_rosters_per_shift_respect_teams_on_duty():
    lanes = ("truck-1", "truck-2", "car-1", "car-2")
    blocks = tuple(f"{h:02d}:00" for h in range(0, 24, 4))  # six 4-hour blocks
    teams = np.array([1, 1, 2, 3, 2, 1])
    rng = np.random.default_rng(7)
    cov = np.vstack([rng.dirichlet(np.ones(4)) * t for t in teams]).T.clip(0, 1)
    rosters = shift_rosters(cov, teams, np.random.default_rng(1), lanes=lanes, blocks=blocks,
                            blocks_per_shift=2)
    assert [r.shift for r in rosters] == [0, 1, 2]
    for r in rosters:
        for block, row in zip(r.blocks, r.assignments, strict=True):
            b = blocks.index(block)
            assert len(row) <= teams[b]
            assert len({lane for _, lane in row}) == len(row)
    d = rosters[1].to_dict()
    assert d["blocks"][0]["block"] == "08:00"
    assert all(k.startswith("team-") for k in d["blocks"][0]["teams"])


def test_rosters_refuse_coverage_above_the_teams_on_duty():
    with pytest.raises(InputError, match="block 04:00 needs 1.5 teams, only 1 on duty"):
        shift_rosters(np.array([[0.5, 0.75], [0.5, 0.75]]), np.array([1, 1]),
                      np.random.default_rng(0), lanes=("a", "b"), blocks=("00:00", "04:00"),
                      blocks_per_shift=1)


@pytest.mark.parametrize("bad", [[1.2, 0.1], [-0.5], [np.nan]])
def test_bad_coverage_is_refused(bad):
    with pytest.raises(InputError, match="coverage"):
        comb_sample(np.array(bad), np.random.default_rng(0))
