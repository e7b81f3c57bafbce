"""``portwatch demo``: the main job on the embedded defaults.

It runs the digital twin's demonstration study (policies compared against the shotgun
adversary at one port) and then the chain-of-custody demonstration (a clean trip and
every attack through a temporary database).
"""

from __future__ import annotations

import typer

from portwatch.cli.custody import run_custody_demo


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command to the root app."""

    @app.command("demo")
    def demo(
        workers: int | None = typer.Option(
            None, "--workers", min=1, help="Processes for the twin study (default: all cores)."
        ),
    ) -> None:
        """Run the twin's policy study and the chain-of-custody demonstration."""
        from rich.console import Console

        from portwatch.twin.study.runner import run_demo_study

        console = Console()
        if not console.is_terminal:  # a log or a pipe: rich would assume 80 columns
            console = Console(width=132)
        run_demo_study(console, workers=workers)
        console.print()
        run_custody_demo(console)
