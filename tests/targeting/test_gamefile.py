"""Bad games get one-line errors naming the field; good ones parse."""

from __future__ import annotations

import copy

import pytest

from portwatch.domain.errors import InputError
from portwatch.targeting.gamefile import parse_game
from portwatch.targeting.games import BayesianGame, SecurityGame

TARGET = {"defender_covered": 5, "defender_uncovered": -20, "attacker_covered": -10,
          "attacker_uncovered": 30}
COMPACT = {"resources": 1, "targets": [TARGET, {**TARGET, "attacker_uncovered": 20}]}
BAYES = {"leader_strategies": ["a", "b"], "types": [
    {"probability": 0.25, "actions": ["c", "d"], "leader_payoffs": [[2, 4], [1, 3]],
     "follower_payoffs": [[1, 0], [0, 2]]},
    {"probability": 0.75, "actions": ["e"], "leader_payoffs": [[0], [1]],
     "follower_payoffs": [[1], [1]]}]}


def test_good_games_parse():
    assert isinstance(parse_game(COMPACT), SecurityGame)
    g = parse_game(BAYES)
    assert isinstance(g, BayesianGame) and len(g.types) == 2


def _with(base, path, value):
    data = copy.deepcopy(base)
    node = data
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


BAD = {
    "non-numeric payoff": (COMPACT, ("targets", 1, "attacker_covered"), "high",
                           "targets[1].attacker_covered"),
    "numeric string": (COMPACT, ("targets", 0, "defender_covered"), "5",
                       "targets[0].defender_covered"),
    "m above targets": (COMPACT, ("resources",), 3, "resources: 3 is more than the 2 targets"),
    "negative m": (COMPACT, ("resources",), -1, "resources"),
    "missing payoff": (COMPACT, ("targets", 0, "attacker_uncovered"), KeyError,
                       "targets[0].attacker_uncovered: Field required"),
    "typo field": (COMPACT, ("targets", 0, "defender_coverd"), 1, "defender_coverd"),
    "zero cost": (COMPACT, ("targets", 0, "cost"), 0, "targets[0].cost"),
    "attacker prefers covered": (COMPACT, ("targets", 0, "attacker_covered"), 40,
                                 "targets[0].attacker_covered: must be below"),
    "probabilities": (BAYES, ("types", 0, "probability"), 0.5, "probabilities must sum to 1"),
    "probability above one": (BAYES, ("types", 0, "probability"), 1.5, "types[0].probability"),
    "ragged payoffs": (BAYES, ("types", 0, "leader_payoffs", 1), [1], "types[0].leader_payoffs[1]"),
    "missing row": (BAYES, ("types", 1, "follower_payoffs"), [[1]], "types[1].follower_payoffs"),
    "payoff not a number": (BAYES, ("types", 0, "follower_payoffs", 0, 0), None,
                            "types[0].follower_payoffs[0][0]"),
}


@pytest.mark.parametrize("base,path,value,expected", BAD.values(), ids=BAD.keys())
def test_bad_games_get_one_line_errors(base, path, value, expected):
    with pytest.raises(InputError) as info:
        parse_game(_with(base, path, value), where="game.json")
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("game.json: ")
    assert expected in msg


@pytest.mark.parametrize("data", [[], {"players": 2}, "x"])
def test_not_a_game(data):
    with pytest.raises(InputError, match="game"):
        parse_game(data)


def test_capacity_groups_parse_and_are_checked():
    data = {**COMPACT, "resources": 2, "group_resources": [1, 0.5],
            "targets": [{**TARGET, "group": 0}, {**TARGET, "group": 1}]}
    g = parse_game(data)
    assert g.groups.tolist() == [0, 1] and g.group_resources.tolist() == [1.0, 0.5]
    with pytest.raises(InputError, match=r"targets\[1\].group: required"):
        parse_game({**data, "targets": [{**TARGET, "group": 0}, TARGET]})
    with pytest.raises(InputError, match="group_resources: targets name groups"):
        parse_game({**COMPACT, "targets": [{**TARGET, "group": 0}, TARGET]})
    with pytest.raises(InputError, match=r"group_resources\[1\]: must be in \[0, 1\]"):
        parse_game({**data, "group_resources": [1, 3]})
    with pytest.raises(InputError, match="group 1 has no entry in group_resources"):
        parse_game({**data, "group_resources": [1]})
