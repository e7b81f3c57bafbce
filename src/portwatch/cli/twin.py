"""CLI commands of portwatch.twin: ``portwatch simulate``, ``sensitivity`` and ``scenarios``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from portwatch.cli.errors import require
from portwatch.cli.progress import counting
from portwatch.domain import validate
from portwatch.domain.errors import InputError

MAX_DAYS = 3660
"""Ten years of simulated days: a bound so that a typo (``--days 1e9``) is an error,
not a run that never ends."""
MAX_REPLICATIONS = 10_000


def _check_limits(seed: int, days: int, warmup_days: int, replications: int, workers: int,
                  out: Path | None) -> None:
    """What the CLI checks before anything runs (the study checks the lower bounds)."""
    validate.seed("--seed", seed)
    for name, value, most in (("--days", days, MAX_DAYS),
                              ("--warmup-days", warmup_days, MAX_DAYS),
                              ("--replications", replications, MAX_REPLICATIONS)):
        if value > most:
            raise InputError(f"{name}: must be <= {most}, got {value}")
    if workers < 0:
        raise typer.BadParameter(f"must be >= 0, got {workers}", param_hint="--workers")
    if out is not None:
        validate.output_folder("--out", out)
        require("matplotlib")  # the report has plots: fail before the run, not after


def _check_per_port(per_port: bool, scenario_name: str, set_: list[str] | None) -> None:
    if per_port and scenario_name != "southern-border":
        raise typer.BadParameter("only with the southern-border scenario",
                                 param_hint="--per-port")
    if per_port and set_:
        raise typer.BadParameter("overrides apply to one scenario, not --per-port",
                                 param_hint="--set")


def _per_port_and_risk(per_port: bool | None, sc: Any, set_: list[str] | None,
                       risk_model: Path | None) -> bool:
    """Whether to run port by port (the default for southern-border: a pooled queue of
    every booth barely waits), after checking the options; loads ``--risk-model``."""
    _check_per_port(bool(per_port), sc.name, set_)
    if per_port is None:
        per_port = sc.name == "southern-border" and not set_ and risk_model is None
    if risk_model is not None:
        from portwatch.twin.study.riskmodel import read_lookup, use_port_risk_lookup

        if per_port:
            raise InputError("--risk-model: not with --per-port (one model per port)")
        use_port_risk_lookup(sc, read_lookup(risk_model, sc))
    return per_port


def simulate(
    scenario: Annotated[str, typer.Argument(
        help="A shipped scenario name (see `portwatch scenarios`) or a TOML path.")],
    policy: Annotated[list[str] | None, typer.Option(
        "--policy", "-p",
        help="uniform:RATE, rules, risk:THRESHOLD[:BASE_RATE] (add :hold to hold "
        "referrals when secondary is full), or a policy JSON file. Repeat to compare "
        "policies on common random numbers. Default: rules.")] = None,
    adversary: Annotated[str, typer.Option("--adversary", "-a",
                                           help="Adversary name.")] = "naive",
    adversary_param: Annotated[list[str] | None, typer.Option(
        "--adversary-param", help="KEY=VALUE parameter of the adversary (repeat).")] = None,
    days: Annotated[int, typer.Option(help="Measured days per replication.")] = 7,
    replications: Annotated[int, typer.Option("--replications", "-r")] = 4,
    seed: Annotated[int, typer.Option()] = 0,
    warmup_days: Annotated[int, typer.Option(help="Days run before measuring.")] = 0,
    workers: Annotated[int, typer.Option(
        help="Local processes (default 0: all cores).")] = 0,
    scheduler: Annotated[str | None, typer.Option(
        help="Address of a Dask scheduler to run replications on.")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Folder for metrics (CSV, JSON), plots and report.html.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the study as JSON.")] = False,
    target_ci: Annotated[float | None, typer.Option(
        "--target-ci", help="Keep doubling the replications until the 95% interval of "
        "the share of loads interdicted is at most WIDTH wide for every policy, or "
        "--max-replications is reached (said plainly).")] = None,
    max_replications: Annotated[int, typer.Option(
        "--max-replications", help="The cap of --target-ci.")] = 64,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="PATH=VALUE: override a parameter of the scenario's TOML (repeat), "
        "e.g. --set canine.teams=6 --set scanners.0.count=22; validated as the file "
        "is.")] = None,
    per_port: Annotated[bool | None, typer.Option(
        "--per-port/--pooled", help="southern-border only: simulate every port on its own "
        "(its own queues) and add them up (the default), or all ports as one pooled port "
        "(border-wide volumes and loads; its waits are not any port's).")] = None,
    risk_model: Annotated[Path | None, typer.Option(
        "--risk-model", help="A model from 'portwatch risk train --out' to score risk with "
        "(default: the port's own, trained on the scenario's history).")] = None,
) -> None:
    """Run policies against an adversary in the port's digital twin."""
    from portwatch.twin.scenario import bts, load_scenario
    from portwatch.twin.study.border import run_border_study
    from portwatch.twin.study.replications import run_study
    from portwatch.twin.study.runner import (
        dask_map,
        default_workers,
        local_map,
        parse_params,
        parse_policy,
        run_to_target,
    )

    _check_limits(seed, days, warmup_days, replications, workers, out)
    sc = load_scenario(scenario, set_ or ())
    per_port = _per_port_and_risk(per_port, sc, set_, risk_model)
    policies = [parse_policy(p) for p in (policy or ["rules"])]
    params = parse_params(adversary_param or [])
    unit = "port-replications" if per_port else "replications"
    total = replications * (len(bts.ports()) if per_port else 1)
    with counting(f"{sc.name}: {unit}", total) as advance:
        map_fn = (dask_map(scheduler, advance) if scheduler
                  else local_map(workers or default_workers(), advance))
        common: dict[str, Any] = {"days": days, "seed": seed, "warmup_days": warmup_days,
                                  "map_fn": map_fn, "adversary_params": params}

        def study(n: int) -> Any:
            return (run_border_study(policies, adversary, replications=n, **common)
                    if per_port else run_study(sc, policies, adversary, replications=n,
                                               **common))

        target = None
        if target_ci is None:
            result = study(replications)
        else:
            result, target = run_to_target(study, replications, target_ci, max_replications)
    _show_study(result, sc, target, out, as_json,
                f"{sc.name} vs {adversary}: {days} days x {{n}} replications, seed {seed}")


def _show_study(result: Any, sc: Any, target: dict[str, Any] | None, out: Path | None,
                as_json: bool, title: str) -> None:
    """Print (and with ``out`` write) a study; say when ``--target-ci`` was not reached.
    ``title`` has ``{n}`` where the number of replications run goes."""
    from rich.console import Console

    from portwatch.twin.study.runner import study_table

    err = Console(stderr=True)
    data = result.to_dict()
    if target is not None:
        data["target_ci"] = target
        if not target["reached"]:
            err.print(f"--target-ci {target['target_width']:g}: not reached; the widest "
                      f"interval is {target['widest_width']:.3f} wide at the cap of "
                      f"{data['replications']} replications", soft_wrap=True)
    if out is not None:
        from portwatch.twin.study.report import write_report

        written = write_report(result, sc, out)
        if not as_json:
            err.print(f"wrote {len(written)} files to {out} (open {out / 'report.html'})")
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        Console().print(study_table(data, title.format(n=data["replications"])))


def scenarios(
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List the scenarios shipped with portwatch."""
    from rich.console import Console
    from rich.table import Table

    from portwatch.targeting.policy import MODE_ORDER
    from portwatch.twin.scenario import load_scenario, scenario_names

    rows: list[dict[str, Any]] = []
    for name in scenario_names():
        sc = load_scenario(name)
        rows.append({
            "name": name,
            "description": sc.spec.description,
            "modes": {str(m): float(v) for m, v in zip(
                MODE_ORDER, sc.daily_volume, strict=True
            ) if v > 0},
        })
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="shipped scenarios (portwatch simulate NAME)", title_justify="left")
    table.add_column("name")
    table.add_column("conveyances / day", justify="right")
    table.add_column("description")
    for row in rows:
        table.add_row(row["name"], f"{sum(row['modes'].values()):,.0f}", row["description"])
    Console().print(table)


def sensitivity(
    scenario: Annotated[str, typer.Argument(help="A shipped scenario name or a TOML path.")],
    policy: Annotated[str, typer.Option("--policy", "-p",
                                        help="The policy (as for simulate).")] = "rules",
    adversary: Annotated[str, typer.Option("--adversary", "-a")] = "naive",
    days: Annotated[int, typer.Option(help="Measured days per replication.")] = 3,
    replications: Annotated[int, typer.Option("--replications", "-r")] = 2,
    seed: Annotated[int, typer.Option()] = 0,
    workers: Annotated[int, typer.Option(help="Local processes (default 0: all cores).")] = 0,
    out: Annotated[Path | None, typer.Option(
        help="Folder for sensitivity.json and tornado.png.")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="PATH=VALUE: override the base case (repeat), as for simulate.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Vary every parameter marked assumed over its range (one at a time, common
    random numbers) and show how the headline figures move (a tornado chart)."""
    from portwatch.twin.study.replications import check_study_args
    from portwatch.twin.study.runner import default_workers, local_map, parse_policy
    from portwatch.twin.study.sensitivity import run_sensitivity, runs_needed, tornado_png

    _check_limits(seed, days, 0, replications, workers, out)
    pol = parse_policy(policy)
    check_study_args(pol, days, replications, 0, max(workers, 1))
    with counting("sensitivity: studies", runs_needed(scenario, set_ or ())) as advance:
        result = run_sensitivity(scenario, pol, adversary, days, replications, seed,
                                 map_fn=local_map(workers or default_workers()),
                                 progress=advance, overrides=set_ or ())
    if out is not None:
        from rich.console import Console

        out.mkdir(parents=True, exist_ok=True)
        (out / "sensitivity.json").write_text(json.dumps(result, indent=2))
        tornado_png(result, out / "tornado.png")
        Console(stderr=True).print(f"wrote {out / 'sensitivity.json'} and {out / 'tornado.png'}")
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    _print_sensitivity(result, pol.name, adversary)


def _print_sensitivity(result: dict[str, Any], policy_name: str, adversary: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from portwatch.twin.study.sensitivity import HEADLINES

    table = Table(title=f"{result['scenario']}: {policy_name} vs {adversary}, change from "
                  "the base case at the low / high end of each range", title_justify="left")
    table.add_column("assumed parameter (range)")
    for _, label in HEADLINES:
        table.add_column(label, justify="right")
    base = result["base"]
    table.add_row("base case", *(f"{base[k]:.4g}" for k, _ in HEADLINES))
    for r in result["parameters"]:
        rng = f"{r['low_value']:.3g} .. {r['high_value']:.3g}"
        table.add_row(f"{r['path']} ({rng})", *(
            f"{r['low'][k] - base[k]:+.3g} / {r['high'][k] - base[k]:+.3g}"
            for k, _ in HEADLINES))
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the root app."""
    app.command("simulate")(simulate)
    app.command("sensitivity")(sensitivity)
    app.command("scenarios")(scenarios)
