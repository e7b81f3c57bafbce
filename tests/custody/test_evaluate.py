"""The false-alarm and detection study, at small n (the docs run it at n >= 1,000)."""

from __future__ import annotations

from portwatch.custody.evaluate import SIZES, evaluate, write_into_doc
from portwatch.custody.tripgen import Attack


def test_small_study_has_no_false_alarm_and_flags_every_attack(tmp_path):
    result = evaluate(n_clean=12, n_attacked=24, seed=4)
    assert result.clean.trips == 12
    assert result.clean.false_alarms == 0
    assert len(result.attacks) == sum(len(s) for s in SIZES.values()) + 4
    for row in result.attacks:
        assert row.trips == 1
        assert row.flagged == 1, row
        assert row.expected_seen == 1, row
        gap_like = row.attack in (Attack.JAMMING, Attack.SILENT)
        above_major = (not gap_like or (row.size or 0) > 600) and row.attack is not Attack.FORGERY
        assert row.broken == (1 if above_major else 0), row
    doc = tmp_path / "custody.md"
    doc.write_text("# page\n\n<!-- custody-evaluation -->\nold\n<!-- /custody-evaluation -->\n")
    write_into_doc(doc, result.markdown("portwatch custody evaluate ..."))
    text = doc.read_text()
    assert "old" not in text and "| diversion | 250 m |" in text and text.startswith("# page")
