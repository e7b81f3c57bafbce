"""The ingest-lag metric: from a message's device timestamp to its commit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from portwatch.custody.envelope import parse_at, to_ms
from portwatch.domain.errors import InputError


def observe_lag(state: Any, lines: Sequence[str], results: Sequence[Any]) -> None:
    """Observe the lag of the accepted messages of a batch."""
    now_ms = to_ms(state.clock())
    hist = state.metrics.ingest_lag
    for r in results:
        if r.status != "accepted":
            continue
        line = lines[r.index]
        i = line.find('"at":"')
        if i < 0:
            continue
        try:
            at_ms = parse_at(line[i + 6 : i + 30])
        except InputError:
            continue
        hist.observe(max(0.0, (now_ms - at_ms) / 1000))


__all__ = ["observe_lag"]
