"""``portwatch demo``: the main job on the embedded defaults."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command to the root app."""

    @app.command("demo")
    def demo() -> None:
        """Run the demonstration on the embedded defaults."""
        typer.echo("portwatch demo")
