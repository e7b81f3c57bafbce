"""Reading seal-message files line by line without trusting them: a line longer than
``MAX_LINE_BYTES`` is cut (the decoder then rejects it as too long) and the rest of it
skipped, so a file without newlines never fills memory; bytes that are not UTF-8 are
replaced (the decoder rejects the line as not canonical)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from portwatch.custody.envelope import MAX_LINE_BYTES

_CHUNK = 1 << 16


def read_lines(handle: BinaryIO, max_bytes: int = MAX_LINE_BYTES) -> Iterator[str]:
    """The lines of a binary stream as text, each cut to ``max_bytes + 1`` bytes."""
    keep = max_bytes + 1
    part = bytearray()
    overlong = False
    while True:
        chunk = handle.read(_CHUNK)
        if not chunk:
            break
        start = 0
        while True:
            nl = chunk.find(b"\n", start)
            piece = chunk[start:] if nl < 0 else chunk[start : nl + 1]
            if not overlong:
                room = keep - len(part)
                part += piece[:room]
                overlong = len(piece) > room
            if nl < 0:
                break
            yield part.decode("utf-8", errors="replace")
            part, overlong = bytearray(), False
            start = nl + 1
    if part:
        yield part.decode("utf-8", errors="replace")


__all__ = ["read_lines"]
