"""Writes one benchmark's results into its own section of ``docs/benchmarks.md``.

Each benchmark owns the text between ``<!-- bench:KEY -->`` and ``<!-- /bench:KEY -->``;
running it replaces only that section, so benchmarks can be rerun one at a time.
"""

from __future__ import annotations

import os
import platform
import re
from datetime import UTC, datetime
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"

_HEADER = """# Benchmarks

Every figure here is written by a script under `benchmarks/` (`make bench` runs them all;
`python -m benchmarks NAME` runs one). Each compares against a peer or a limit measured
in the same run, so the ratio holds when the machine's speed drifts; quote ratios and
medians rather than single absolute times.
"""


def machine_line() -> str:
    """A one-line description of the machine the figures were measured on."""
    return (
        f"{platform.machine()}, {os.cpu_count()} logical cores, Python "
        f"{platform.python_version()}, measured {datetime.now(UTC):%Y-%m-%d}"
    )


def write_section(key: str, markdown: str, doc: Path = DOC) -> None:
    """Replace (or append) the section ``key`` of the benchmarks page with ``markdown``."""
    text = doc.read_text() if doc.exists() else _HEADER
    block = f"<!-- bench:{key} -->\n{markdown.strip()}\n<!-- /bench:{key} -->"
    pattern = re.compile(
        rf"<!-- bench:{re.escape(key)} -->.*?<!-- /bench:{re.escape(key)} -->", re.S
    )
    text = (
        pattern.sub(lambda _: block, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + block + "\n"
    )
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)
