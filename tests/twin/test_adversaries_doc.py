"""The example in docs/twin.md ("Writing an adversary") runs as written."""

from __future__ import annotations

import re
from pathlib import Path

from portwatch.twin import adversaries as adversary_module

DOC = Path(__file__).resolve().parents[2] / "docs" / "twin.md"


def test_the_writing_an_adversary_example_runs():
    text = DOC.read_text()
    section = text.split("### Writing an adversary", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block is not None
    try:
        exec(compile(block.group(1), str(DOC), "exec"), {"__name__": "docs_twin"})
        assert "night-owl" in adversary_module.adversary_names()
    finally:
        # keep the registry as the package ships it for the other tests
        adversary_module._REGISTRY.pop("night-owl", None)
