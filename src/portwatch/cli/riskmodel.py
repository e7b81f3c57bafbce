"""CLI command ``portwatch risk train SCENARIO --out MODEL.json``: the port's risk model
learned from the twin's labelled history, evaluated on a later period, against the
Bayes-optimal bound and under mimicry."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer

from portwatch.domain.errors import InputError

LOOKUP_FORMAT = "portwatch-risk-lookup"  # as portwatch.twin.study.riskmodel reads it


def _shares(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"--mimicry-shares: not a comma-separated list of numbers: "
                         f"{text!r}") from None
    bad = [v for v in values if not 0.0 <= v <= 1.0]
    if bad:
        raise InputError(f"--mimicry-shares: each share must be in [0, 1], got {bad[0]:g}")
    return values


def _report(rep: Any) -> dict[str, Any]:
    import dataclasses

    return dataclasses.asdict(rep)


def evaluation_json(ev: Any) -> dict[str, Any]:
    """The JSON form of a ``PortRiskEvaluation`` (without the lookup table)."""
    return {
        "scenario": ev.scenario, "days": ev.days, "seed": ev.seed,
        "train_crossings": ev.train_crossings, "train_loads": ev.train_loads,
        "held_out_days": ev.held_out_days, "mimicry": ev.mimicry,
        "bayes_auc": ev.bayes_auc, "bayes_lift": ev.bayes_lift,
        "learned": _report(ev.learned),
        "oracle": _report(ev.oracle),
        "mimicry_decay": [{"share": r.share, "bayes_auc": r.bayes_auc,
                           "auc": _report(r.report)["auc"],
                           "lift": _report(r.report)["lift"],
                           "brier": r.report.brier} for r in ev.decay],
    }


def write_model(ev: Any, features: tuple[str, ...], out: Path) -> None:
    """Write the lookup table and its evaluation beside ``out``, renamed into place."""
    import os
    import tempfile

    body = {"format": LOOKUP_FORMAT, "version": 1, "features": list(features),
            "shape": list(ev.lookup.shape), "evaluation": evaluation_json(ev),
            "table": [float(f"{v:.6g}") for v in ev.lookup.table]}
    fd, tmp = tempfile.mkstemp(dir=out.parent if str(out.parent) else ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(body, fh)
            fh.write("\n")
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _print(ev: Any, referral_rate: float) -> None:
    le, orc = ev.learned, ev.oracle

    def iv(x: Any, f: str = ".3f") -> str:
        return f"{x.value:{f}} ({x.low:{f}}-{x.high:{f}})"

    typer.echo(f"{ev.scenario}: {ev.days} days of history (seed {ev.seed}); trained on "
               f"{ev.train_crossings} crossings with {ev.train_loads} loads, held out the "
               f"last {le.rows} crossings (base rate {le.base_rate:.5f})")
    typer.echo(f"AUC: learned {iv(le.auc)}, oracle {iv(orc.auc)}, Bayes-optimal "
               f"{ev.bayes_auc:.3f} (mimicry {ev.mimicry:g})")
    typer.echo(f"lift at {referral_rate:g} referral: learned {iv(le.lift, '.2f')}, oracle "
               f"{iv(orc.lift, '.2f')}, Bayes-optimal {ev.bayes_lift:.2f}")
    typer.echo(f"Brier: learned {le.brier:.6f}, oracle {orc.brier:.6f}; calibration error "
               f"learned {le.ece:.5f}, oracle {orc.ece:.5f}")
    typer.echo("reliability (learned): bin low | mean score | observed rate | crossings")
    for low, mean, rate, n in le.reliability:
        typer.echo(f"  {low:.5f} | {mean:.5f} | {rate:.5f} | {n}")
    for r in ev.decay:
        typer.echo(f"mimicry {r.share:.0%}: AUC {iv(r.report.auc)} (Bayes {r.bayes_auc:.3f}), "
                   f"lift {iv(r.report.lift, '.2f')}")


def risk_train_command(
    scenario: Annotated[str, typer.Argument(help="A shipped scenario name or a TOML file.")],
    out: Annotated[Path | None, typer.Option(
        "--out", help="Where to write the model (JSON lookup table and its evaluation).")]
    = None,
    days: Annotated[int | None, typer.Option(
        "--days", min=4, max=3660,
        help="Days of labelled history (default: advance.training_days plus a third).")]
    = None,
    holdout: Annotated[float, typer.Option(
        "--holdout", help="Share of the history (the latest) held out.")] = 0.25,
    referral_rate: Annotated[float, typer.Option(
        "--referral-rate", help="Share of crossings referred, for the lift.")] = 0.05,
    mimicry_shares: Annotated[str, typer.Option(
        "--mimicry-shares", help="Comma-separated mimicry shares the model is tried at.")]
    = "0,0.25,0.5,0.75,1",
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of history and fit.")] = 0,
    bootstrap: Annotated[int, typer.Option(
        "--bootstrap", min=10, max=100_000, help="Bootstrap resamples for the intervals.")]
    = 200,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override a scenario parameter: PATH=VALUE (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the evaluation as JSON.")]
    = False,
) -> None:
    """Learn the port's risk model from the twin's labelled history (naive adversary),
    evaluate it on the later period beside the oracle and the Bayes-optimal AUC, and
    under mimicry; write it with --out."""
    if not 0.0 < holdout < 1.0:
        raise InputError(f"--holdout: must be in (0, 1), got {holdout}")
    if not 0.0 < referral_rate <= 1.0:
        raise InputError(f"--referral-rate: must be in (0, 1], got {referral_rate}")
    shares = _shares(mimicry_shares)
    if out is not None and out.is_dir():
        raise InputError(f"--out {out}: is a directory, give a file name")
    if out is not None and not out.parent.exists():
        raise InputError(f"--out {out}: folder {out.parent} does not exist")
    from portwatch.twin.process.advance import FEATURES
    from portwatch.twin.scenario import load_scenario
    from portwatch.twin.study.riskmodel import evaluate_port_risk

    sc = load_scenario(scenario, list(set_ or []))
    if days is None:
        t = sc.spec.advance.training_days
        days = t + math.ceil(t / 3)
    ev = evaluate_port_risk(sc, days=days, seed=seed, holdout=holdout,
                            referral_rate=referral_rate, shares=shares, n_boot=bootstrap)
    if out is not None:
        write_model(ev, FEATURES, out)
    if as_json:
        typer.echo(json.dumps(evaluation_json(ev), indent=2))
    else:
        _print(ev, referral_rate)
        if out is not None:
            typer.echo(f"wrote {out}")


def add_commands(risk_app: typer.Typer) -> None:
    """Add ``risk train`` to the ``risk`` command group."""
    risk_app.command("train")(risk_train_command)
