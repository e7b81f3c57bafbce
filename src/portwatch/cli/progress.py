"""Progress on stderr for commands that run for more than a few seconds.

Shown only on a terminal (a log or a pipe gets the result alone), and transient: it
disappears when the work is done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def working(description: str) -> Iterator[None]:
    """A spinner with ``description`` and the elapsed time while the block runs, for
    work that cannot report how far it is."""
    from rich.console import Console  # here, not above: `--help` need not load rich.progress
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    err = Console(stderr=True)
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                        console=err, transient=True, disable=not err.is_terminal)
    with progress:
        progress.add_task(description, total=None)
        yield


@contextmanager
def counting(description: str, total: int) -> Iterator[Callable[[int], None]]:
    """A bar of ``total`` steps with ``description`` and the elapsed time; the block gets
    a function to call with the number of steps just finished."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    err = Console(stderr=True)
    progress = Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                        MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                        transient=True, disable=not err.is_terminal)
    with progress:
        bar = progress.add_task(description, total=total)
        yield lambda n: progress.advance(bar, n)


__all__ = ["counting", "working"]
