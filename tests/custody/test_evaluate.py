"""The false-alarm and detection study, at small n (the docs run it at n >= 1,000)."""

from __future__ import annotations

from portwatch.custody.evaluate import SIZES, UNSIZED, evaluate, write_into_doc
from portwatch.custody.scenarios import SCENARIOS
from portwatch.custody.tripgen import Attack

_REVIEW_ONLY = {Attack.FORGERY.value, "forged-flood"}  # unauthenticated: never broken


def test_small_study_has_no_false_alarm_and_flags_every_attack(tmp_path):
    result = evaluate(n_clean=12, n_attacked=40, seed=4)
    assert result.clean.trips == 12
    assert result.clean.false_alarms == 0
    cells = sum(len(s) for s in SIZES.values()) + len(UNSIZED) + len(SCENARIOS)
    assert len(result.attacks) == cells
    for row in result.attacks:
        assert row.trips == 1
        assert row.flagged == 1, row
        assert row.expected_seen == 1, row
        gap_like = row.attack in (Attack.JAMMING.value, Attack.SILENT.value)
        above_major = (not gap_like or (row.size or 0) > 600) and row.attack not in _REVIEW_ONLY
        assert row.broken == (1 if above_major else 0), row
    doc = tmp_path / "custody.md"
    doc.write_text("# page\n\n<!-- custody-evaluation -->\nold\n<!-- /custody-evaluation -->\n")
    write_into_doc(doc, result.markdown("portwatch custody evaluate ..."))
    text = doc.read_text()
    assert "old" not in text and "| diversion | 250 m |" in text and text.startswith("# page")
    assert "| forged-flood | - |" in text
