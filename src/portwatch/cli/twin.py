"""CLI commands of portwatch.twin: ``portwatch simulate`` and ``portwatch scenarios``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from portwatch.cli.errors import require
from portwatch.domain import validate
from portwatch.domain.errors import InputError

MAX_DAYS = 3660
"""Ten years of simulated days: a bound so that a typo (``--days 1e9``) is an error,
not a run that never ends."""
MAX_REPLICATIONS = 10_000


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the root app."""

    @app.command("simulate")
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
        set_: Annotated[list[str] | None, typer.Option(
            "--set", help="PATH=VALUE: override a parameter of the scenario's TOML (repeat), "
            "e.g. --set canine.teams=6 --set scanners.0.count=22; validated as the file "
            "is.")] = None,
        per_port: Annotated[bool, typer.Option(
            "--per-port", help="southern-border only: simulate every port on its own "
            "(its own queues) and add them up, instead of one pooled port.")] = False,
    ) -> None:
        """Run policies against an adversary in the port's digital twin."""
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        from portwatch.twin.scenario import bts, load_scenario
        from portwatch.twin.study.border import run_border_study
        from portwatch.twin.study.replications import run_study
        from portwatch.twin.study.runner import (
            dask_map,
            default_workers,
            local_map,
            parse_params,
            parse_policy,
            study_table,
        )

        validate.seed("--seed", seed)
        for name, value, most in (("--days", days, MAX_DAYS),
                                  ("--warmup-days", warmup_days, MAX_DAYS),
                                  ("--replications", replications, MAX_REPLICATIONS)):
            if value > most:  # the study checks the lower bounds
                raise InputError(f"{name}: must be <= {most}, got {value}")
        if out is not None:
            validate.output_folder("--out", out)
            require("matplotlib")  # the report has plots: fail before the run, not after
        sc = load_scenario(scenario, set_ or ())
        if per_port and sc.name != "southern-border":
            raise typer.BadParameter("only with the southern-border scenario",
                                     param_hint="--per-port")
        if per_port and set_:
            raise typer.BadParameter("overrides apply to one scenario, not --per-port",
                                     param_hint="--set")
        policies = [parse_policy(p) for p in (policy or ["rules"])]
        params = parse_params(adversary_param or [])
        if workers < 0:
            raise typer.BadParameter(f"must be >= 0, got {workers}", param_hint="--workers")
        err = Console(stderr=True)
        progress = Progress(
            TextColumn("[progress.description]{task.description}"), BarColumn(),
            MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True,
            disable=not err.is_terminal,
        )
        with progress:
            unit = "port-replications" if per_port else "replications"
            total = replications * (len(bts.ports()) if per_port else 1)
            bar = progress.add_task(f"{sc.name}: {unit}", total=total)

            def advance(n: int) -> None:
                progress.advance(bar, n)

            map_fn = (dask_map(scheduler, advance) if scheduler
                      else local_map(workers or default_workers(), advance))
            if per_port:
                result = run_border_study(policies, adversary, days=days,
                                          replications=replications, seed=seed,
                                          warmup_days=warmup_days, map_fn=map_fn,
                                          adversary_params=params)
            else:
                result = run_study(sc, policies, adversary, days=days,
                                   replications=replications, seed=seed,
                                   warmup_days=warmup_days, map_fn=map_fn,
                                   adversary_params=params)
        data = result.to_dict()
        if out is not None:
            from portwatch.twin.study.report import write_report

            written = write_report(result, sc, out)
            if not as_json:
                err.print(f"wrote {len(written)} files to {out} (open {out / 'report.html'})")
        if as_json:
            typer.echo(json.dumps(data, indent=2))
        else:
            title = (f"{sc.name} vs {adversary}: {days} days x {replications} replications, "
                     f"seed {seed}")
            Console().print(study_table(data, title))

    @app.command("scenarios")
    def scenarios(
        as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
    ) -> None:
        """List the scenarios shipped with portwatch."""
        from portwatch.twin.scenario import load_scenario, scenario_names

        rows: list[dict[str, Any]] = []
        for name in scenario_names():
            sc = load_scenario(name)
            rows.append({
                "name": name,
                "description": sc.spec.description,
                "modes": {str(m): float(v) for m, v in zip(
                    ("truck", "car", "pedestrian", "bus"), sc.daily_volume, strict=True
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
