"""CLI commands of portwatch.targeting: ``portwatch solve GAME.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from portwatch.domain import validate
from portwatch.domain.errors import InputError

_METHOD_HELP = (
    "Solver. Security games: origami, weighted-lp, multiple-lps (exact), qr, suqr "
    "(bounded attackers); with attacker types: bayesian-eraser. Bayesian games: dobss, "
    "multiple-lps. Default auto: the fastest exact one (origami; multiple-lps up to 1000 "
    "joint responses of the types, dobss beyond)."
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
        "--seed", help="Seed of the random starts of qr and suqr, and of --draws.")] = 0,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", min=0.1, help="Seconds the MILP solvers (dobss, bayesian-eraser) may "
        "take; the best answer found is returned, marked when not proven optimal.")] = None,
    draws: Annotated[int, typer.Option(
        "--draws", min=0, help="Also draw this many pure assignments (security games with "
        "unit costs) and list the exact schedule they come from.")] = 0,
) -> None:
    """Solve a Stackelberg security game or a Bayesian Stackelberg game."""
    import numpy as np

    from portwatch.targeting.bounded import SUQR_WEIGHTS_NGUYEN_2013
    from portwatch.targeting.eraser import BayesianSecurityGame
    from portwatch.targeting.gamefile import load_game
    from portwatch.targeting.games import SecurityGame
    from portwatch.targeting.solve import solve_bayesian, solve_security, solve_typed_security

    validate.seed("--seed", seed)
    game = load_game(game_file)
    if isinstance(game, BayesianSecurityGame):
        if lam is not None or draws:
            raise InputError("--lambda, --draws: only apply to a security game of one type")
        tsol = solve_typed_security(game, method, time_limit_s=time_limit)
        out = {"game": "security-types", **tsol.to_dict(game)}
        if as_json:
            typer.echo(json.dumps(out, indent=2))
            return
        typer.echo(f"method {tsol.method}: defender utility {tsol.defender_utility:.6g}"
                   + _unproven(tsol.details))
        for name, t, u in zip(game.names, tsol.attacked_targets, tsol.type_defender_utilities,
                              strict=True):
            typer.echo(f"  {name} attacks target {t} (defender utility {u:.6g})")
        typer.echo("target  coverage")
        for t, c in enumerate(tsol.coverage):
            typer.echo(f"{t:>6}  {c:.6f}")
        return
    weights = _weights(suqr_weights) or SUQR_WEIGHTS_NGUYEN_2013
    if isinstance(game, SecurityGame):
        sol = solve_security(game, method, rng=np.random.default_rng(seed), lam=lam,
                             suqr_weights=weights)
        out = {"game": "security", **sol.to_dict()}
        if draws:
            out.update(_schedule(game, sol.coverage, draws, np.random.default_rng([seed, 1])))
        if as_json:
            typer.echo(json.dumps(out, indent=2))
            return
        typer.echo(f"method {sol.method}: defender utility {sol.defender_utility:.6g}, "
                   f"attacker utility {sol.attacker_utility:.6g}, "
                   f"attacked target {sol.attacked_target}")
        typer.echo("target  coverage")
        for t, c in enumerate(sol.coverage):
            typer.echo(f"{t:>6}  {c:.6f}")
        for k, picked in enumerate(out.get("draws", [])):
            typer.echo(f"draw {k + 1}: cover targets {', '.join(map(str, picked)) or 'none'}")
        return
    if lam is not None:
        raise InputError("--lambda: only applies to security games")
    bsol = solve_bayesian(game, method, time_limit_s=time_limit)
    out = {"game": "bayesian", **bsol.to_dict(game)}
    if as_json:
        typer.echo(json.dumps(out, indent=2))
        return
    typer.echo(f"method {bsol.method}: defender utility {bsol.defender_utility:.6g}"
               + _unproven(bsol.details))
    for name, p in zip(game.leader_strategies, bsol.leader_strategy, strict=True):
        typer.echo(f"  {name}: {p:.6f}")
    for k, (ft, j) in enumerate(zip(game.types, bsol.responses, strict=True)):
        typer.echo(f"type {k} (p={ft.probability:g}) plays {ft.actions[j]}")


def _unproven(details: dict[str, object]) -> str:
    if details.get("proven_optimal", True):
        return ""
    return f" (time limit reached: not proven optimal, gap {details.get('mip_gap', 0):.3g})"


def _schedule(game, coverage, draws: int, rng) -> dict[str, object]:  # noqa: ANN001
    import numpy as np

    from portwatch.targeting.schedule import comb_sample, decompose

    if not game.unit_cost:
        raise InputError("--draws: pure assignments need every target to cost 1 (one team "
                         "covers one target); this game's costs differ")
    if game.groups is None:
        return {
            "schedule": [{"probability": p, "targets": t.tolist()}
                         for p, t in decompose(coverage)],
            "draws": [comb_sample(coverage, rng).tolist() for _ in range(draws)],
        }
    # one comb per group: each draw then uses at most ceil(group coverage) <= the group's
    # whole-number budget; that needs whole budgets and an overall budget that never binds
    budgets = game.group_resources
    if np.any(budgets != np.floor(budgets)) or game.resources < budgets.sum():
        raise InputError("--draws: with capacity groups, needs whole-number group budgets "
                         "whose sum the overall resources cover")
    members = [np.flatnonzero(game.groups == g) for g in range(len(budgets))]
    out = []
    for _ in range(draws):
        picked = [idx[comb_sample(coverage[idx], rng)] for idx in members if len(idx)]
        out.append(sorted(int(t) for part in picked for t in part))
    return {
        "schedule_by_group": {
            str(g): [{"probability": p, "targets": idx[t].tolist()}
                     for p, t in decompose(coverage[idx])]
            for g, idx in enumerate(members) if len(idx)
        },
        "draws": out,
    }


risk_app = typer.Typer(help="Risk scores learned from advance information.",
                       no_args_is_help=True)


@risk_app.command("evaluate")
def risk_evaluate_command(
    table: Annotated[Path, typer.Argument(help="Feature table: CSV with a header row.")],
    label: Annotated[str, typer.Option("--label", help="Column: 1 if it carried contraband.")],
    time: Annotated[str, typer.Option("--time", help="Column: when it crossed (seconds).")],
    holdout: Annotated[float, typer.Option(
        "--holdout", help="Share of the time span (the latest) held out.")] = 0.25,
    referral_rate: Annotated[float, typer.Option(
        "--referral-rate", help="Share of crossings referred, for the lift.")] = 0.05,
    mimic: Annotated[str | None, typer.Option(
        "--mimic", help="Comma-separated columns the cartel can fake (mimicry decay).")] = None,
    drop: Annotated[str | None, typer.Option(
        "--drop", help="Comma-separated columns that are not features.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the fit and bootstrap.")] = 0,
    bootstrap: Annotated[int, typer.Option(
        "--bootstrap", min=10, help="Bootstrap resamples for the intervals.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Fit a calibrated risk model on the earlier period and evaluate it on the later one."""
    import dataclasses

    import numpy as np

    from portwatch.targeting.risk import evaluate, fit_risk_model, mimicry_decay, time_split
    from portwatch.targeting.risktable import read_risk_table

    validate.seed("--seed", seed)
    if not 0.0 < referral_rate <= 1.0:
        raise InputError(f"--referral-rate: must be in (0, 1], got {referral_rate}")
    drops = tuple(c.strip() for c in drop.split(",")) if drop else ()
    data = read_risk_table(table, label=label, time=time, drop=drops)
    cols = tuple(c.strip() for c in mimic.split(",")) if mimic else ()
    unknown = [c for c in cols if c not in data.feature_names]
    if unknown:
        raise InputError(f"--mimic: {unknown[0]!r} is not a feature column of {table.name}")
    train, test = time_split(data, holdout)
    rng = np.random.default_rng(seed)
    model = fit_risk_model(train, rng=rng)
    report = evaluate(model, test, referral_rate=referral_rate, rng=rng, n_boot=bootstrap)
    decay = []
    if cols:
        decay = mimicry_decay(model, test, cols, shares=(0.0, 0.25, 0.5, 0.75, 1.0),
                              referral_rate=referral_rate, rng=rng, n_boot=bootstrap)
    out = {"train_rows": train.n_rows, "features": list(data.feature_names),
           "held_out": dataclasses.asdict(report),
           "mimicry": [{"share": s, "auc": dataclasses.asdict(r.auc),
                        "lift": dataclasses.asdict(r.lift)} for s, r in decay]}
    if as_json:
        typer.echo(json.dumps(out, indent=2))
        return
    r = report
    typer.echo(f"trained on {train.n_rows} crossings, held out the latest {r.rows} "
               f"(base rate {r.base_rate:.4f})")
    typer.echo(f"AUC {r.auc.value:.3f} ({r.auc.low:.3f}-{r.auc.high:.3f}); lift at "
               f"{referral_rate:g} referral {r.lift.value:.2f} ({r.lift.low:.2f}-"
               f"{r.lift.high:.2f}); Brier {r.brier:.4f}; calibration error {r.ece:.4f}")
    for s, rep in decay:
        typer.echo(f"mimicry {s:.0%}: AUC {rep.auc.value:.3f}, lift {rep.lift.value:.2f} "
                   f"({rep.lift.low:.2f}-{rep.lift.high:.2f})")


policy_app = typer.Typer(help="Inspection policies as data: inspect, apply officer overrides.",
                         no_args_is_help=True)


def _read_policy(path: Path):  # noqa: ANN202 - Policy is imported lazily
    from portwatch.targeting.policy import Policy

    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"{path.name}: cannot read: {exc.strerror}") from None
    return Policy.from_json(text, where=path.name)


@policy_app.command("show")
def policy_show_command(
    policy_file: Annotated[Path, typer.Argument(help="A policy JSON file (any readable version).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the policy as version 2 JSON.")]
    = False,
) -> None:
    """Check a policy file and summarise it (read as the current format version)."""
    from portwatch.targeting.policy import schedule_entropy_bits

    p = _read_policy(policy_file)
    if as_json:
        typer.echo(p.to_json())
        return
    thr = "none" if p.risk_threshold is None else f"{p.risk_threshold:g}"
    typer.echo(f"{p.name}: {p.n_blocks} time blocks, {p.n_tiers} risk tier(s), risk threshold "
               f"{thr}, capacity rule {p.capacity_rule}, reserve {p.capacity_reserve:g}, "
               f"alerts first to {p.alert_first_check}, {len(p.overrides)} override(s)")
    typer.echo(f"referral probability {p.referral_prob.min():.4g} to "
               f"{p.referral_prob.max():.4g}; schedule entropy "
               f"{schedule_entropy_bits(p.referral_by_hour_tier()):.3f} bits")


def _ints(text: str | None, where: str) -> tuple[int, ...]:
    if not text:
        return ()
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"{where}: must be comma-separated whole numbers, got {text!r}"
                         ) from None


@policy_app.command("override")
def policy_override_command(
    policy_file: Annotated[Path, typer.Argument(help="The policy to override.")],
    mode: Annotated[str, typer.Option("--mode", help="truck, car, pedestrian, bus or rail.")],
    lane: Annotated[str, typer.Option("--lane", help="general or express.")],
    blocks: Annotated[str, typer.Option("--blocks", help="Time block indices, e.g. 0,1.")],
    prob: Annotated[float, typer.Option("--prob", help="The new referral probability.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the policy).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the new policy.")],
    tiers: Annotated[str | None, typer.Option("--tiers", help="Risk tiers (default all).")]
    = None,
    officer: Annotated[str, typer.Option("--officer", help="Officer id (kept).")] = "",
) -> None:
    """Apply an officer override; warn when it makes the schedule more predictable."""
    from portwatch.targeting.policy import Override

    p = _read_policy(policy_file)
    override = Override(mode, lane, _ints(blocks, "--blocks"), prob, reason, officer,
                        _ints(tiers, "--tiers"))
    result = p.apply_override(override)
    write_policy(result.policy, out)
    typer.echo(f"wrote {out}: schedule entropy {result.entropy_before_bits:.3f} -> "
               f"{result.entropy_after_bits:.3f} bits")
    if result.warning:
        typer.echo(f"warning: {result.warning}", err=True)


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the root app."""
    from portwatch.cli.riskmodel import add_commands

    app.command("solve")(solve_command)
    add_commands(risk_app)
    app.add_typer(risk_app, name="risk")
    app.add_typer(policy_app, name="policy")


def write_policy(policy: Any, out: Path) -> None:
    """Write ``policy``'s JSON form beside ``out`` and rename it into place, so a failure
    never leaves half a policy."""
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=out.parent if str(out.parent) else ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(policy.to_json() + "\n")
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
