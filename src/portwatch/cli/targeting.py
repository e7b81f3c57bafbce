"""CLI commands of portwatch.targeting: ``portwatch solve GAME.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from portwatch.domain.errors import InputError

_METHOD_HELP = (
    "Solver. Security games: origami, weighted-lp, multiple-lps (exact), qr, suqr "
    "(bounded attackers). Bayesian games: dobss, multiple-lps. Default auto: the fastest "
    "exact one (origami; multiple-lps for one follower type, dobss for several)."
)


def _weights(text: str | None) -> tuple[float, float, float] | None:
    if text is None:
        return None
    try:
        w = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"--suqr-weights: must be three numbers w1,w2,w3, got {text!r}"
                         ) from None
    if len(w) != 3:
        raise InputError(f"--suqr-weights: must be three numbers w1,w2,w3, got {text!r}")
    return (w[0], w[1], w[2])


def solve_command(
    game_file: Annotated[Path, typer.Argument(help="A game in JSON (see docs/targeting.md).")],
    method: Annotated[str, typer.Option("--method", help=_METHOD_HELP)] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    lam: Annotated[float | None, typer.Option(
        "--lambda", help="Rationality of the quantal-response attacker (--method qr).")] = None,
    suqr_weights: Annotated[str | None, typer.Option(
        "--suqr-weights", help="SUQR weights w1,w2,w3 (default: Nguyen et al. 2013).")] = None,
    seed: Annotated[int, typer.Option(
        "--seed", help="Seed of the random starts of qr and suqr.")] = 0,
) -> None:
    """Solve a Stackelberg security game or a Bayesian Stackelberg game."""
    import numpy as np

    from portwatch.targeting.bounded import SUQR_WEIGHTS_NGUYEN_2013
    from portwatch.targeting.gamefile import load_game
    from portwatch.targeting.games import SecurityGame
    from portwatch.targeting.solve import solve_bayesian, solve_security

    game = load_game(game_file)
    weights = _weights(suqr_weights) or SUQR_WEIGHTS_NGUYEN_2013
    if isinstance(game, SecurityGame):
        sol = solve_security(game, method, rng=np.random.default_rng(seed), lam=lam,
                             suqr_weights=weights)
        out = {"game": "security", **sol.to_dict()}
        if as_json:
            typer.echo(json.dumps(out, indent=2))
            return
        typer.echo(f"method {sol.method}: defender utility {sol.defender_utility:.6g}, "
                   f"attacker utility {sol.attacker_utility:.6g}, "
                   f"attacked target {sol.attacked_target}")
        typer.echo("target  coverage")
        for t, c in enumerate(sol.coverage):
            typer.echo(f"{t:>6}  {c:.6f}")
        return
    if lam is not None:
        raise InputError("--lambda: only applies to security games")
    bsol = solve_bayesian(game, method)
    out = {"game": "bayesian", **bsol.to_dict(game)}
    if as_json:
        typer.echo(json.dumps(out, indent=2))
        return
    typer.echo(f"method {bsol.method}: defender utility {bsol.defender_utility:.6g}")
    for name, p in zip(game.leader_strategies, bsol.leader_strategy, strict=True):
        typer.echo(f"  {name}: {p:.6f}")
    for k, (ft, j) in enumerate(zip(game.types, bsol.responses, strict=True)):
        typer.echo(f"type {k} (p={ft.probability:g}) plays {ft.actions[j]}")


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the root app."""
    app.command("solve")(solve_command)
