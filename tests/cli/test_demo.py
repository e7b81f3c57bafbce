"""End to end: ``portwatch demo``, what ``make demo`` runs."""

from __future__ import annotations

import subprocess
import sys


def test_demo_prints_the_policy_study_and_the_custody_table():
    done = subprocess.run(
        [sys.executable, "-m", "portwatch", "demo", "--workers", "1"],
        capture_output=True, text=True, check=False, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    # the twin's study: every policy of the comparison, against the shotgun adversary
    assert "otay-mesa vs shotgun" in out
    for policy in ("uniform-0.02", "rules", "rules-hold", "risk-0.0006-0.01"):
        assert policy in out
    assert "loads interdicted / day" in out
    # the custody table: the clean trip takes the express lane, every attack a full search
    # but forgery, which is evidence against the channel and only costs the express lane
    from portwatch.custody.tripgen import Attack

    rows = [line for line in out.splitlines() if "│" in line and "full_search" in line]
    assert any(" none " in line and "express" in line for line in out.splitlines())
    assert any(" forgery " in line and " free " in line for line in out.splitlines())
    assert len(rows) == len(Attack) - 2
