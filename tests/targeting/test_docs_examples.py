"""The examples in docs/targeting.md are run, so the page cannot drift from the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from portwatch.cli.main import run

DOC = Path(__file__).resolve().parents[2] / "docs" / "targeting.md"


def _example(marker: str) -> tuple[dict, dict]:
    text = DOC.read_text()
    after = text[text.index(f"<!-- example:{marker} -->"):]
    game, answer = re.findall(r"```json\n(.*?)```", after, re.S)[:2]
    return json.loads(game), json.loads(answer)


@pytest.mark.parametrize("marker", ["security-game", "bayesian-game"])
def test_docs_example_answers_are_what_solve_prints(marker, tmp_path, capsys):
    game, expected = _example(marker)
    path = tmp_path / "game.json"
    path.write_text(json.dumps(game))
    assert run(["solve", str(path), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == (pytest.approx(value) if not isinstance(value, str | list)
                            or key in ("coverage", "leader_strategy") else value)
