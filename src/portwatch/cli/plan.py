"""CLI command ``portwatch plan SCENARIO --out policy.json``: the port as a game, solved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from portwatch.domain.errors import InputError

#: The adversaries ``compare`` runs (the twin's registry names).
ADVERSARIES = ("naive", "peak-timing", "shotgun", "informed", "adaptive", "insider")


def plan_command(
    scenario: Annotated[str, typer.Argument(help="A shipped scenario name or a TOML file.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the policy (JSON).")],
    blocks: Annotated[int, typer.Option("--blocks", min=1, max=24,
                                        help="Time blocks a day (must divide 24).")] = 6,
    triage: Annotated[str, typer.Option(
        "--triage", help="Where an alert goes first: bay, nii_scan, handheld or "
        "nii_scan_handheld.")] = "bay",
    seed: Annotated[int, typer.Option("--seed", min=0,
                                      help="Seed of the interdiction model's runs.")] = 0,
    time_limit: Annotated[float, typer.Option(
        "--time-limit", min=0.1, help="Seconds the game's MILPs may take in all.")] = 40.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    risk_tiers: Annotated[float | None, typer.Option(
        "--risk-tiers", help="Add risk tiers to the targets: the share of clean traffic in "
        "the high tier of the port's learned risk model (e.g. 0.05).")] = None,
) -> None:
    """Build the port game from the scenario and the twin's interdiction model, solve it
    (strong Stackelberg, four attacker types), print the coverage table and capacity
    use, and write the policy."""
    from portwatch.cli.targeting import write_policy

    if triage not in ("bay", "nii_scan", "handheld", "nii_scan_handheld"):
        raise InputError(f"--triage: must be bay, nii_scan, handheld or nii_scan_handheld, "
                         f"got {triage!r}")
    if 24 % blocks:
        raise InputError(f"--blocks: must divide 24 hours, got {blocks}")
    from portwatch.plan.portgame import PlanSettings, plan_port
    from portwatch.twin.scenario import load_scenario

    sc = load_scenario(scenario)
    settings = PlanSettings(n_blocks=blocks, seed=seed, time_limit_s=time_limit,
                            alert_first_check=triage)
    tiers = None
    if risk_tiers is not None:
        from portwatch.plan.risktiers import plan_port_tiered

        tiered = plan_port_tiered(sc, settings, high_share=risk_tiers)
        result, tiers = tiered.plan, tiered.tier
    else:
        result = plan_port(sc, settings)
    write_policy(result.policy, out)
    use = result.capacity_use()
    sol = result.solution
    per_block = 24 // blocks
    rows = [{"mode": m, "lane": lane, "hours": f"{b * per_block:02d}-{(b + 1) * per_block:02d}",
             "referral": float(c), "p_seized_unreferred": float(result.p_uncovered[0, j]),
             "p_seized_referred": float(result.p_covered[0, j])}
            | ({} if tiers is None else {"risk_tier": ("low", "high")[int(tiers[j])]})
            for j, ((m, lane, b), c) in enumerate(zip(result.cells, result.coverage,
                                                      strict=True))]
    attacked = {name: "{} {} block {}".format(*result.cells[t])
                + ("" if tiers is None else f" {('low', 'high')[int(tiers[t])]} risk")
                for name, t in zip(result.game.names, sol.attacked_targets, strict=True)}
    if as_json:
        typer.echo(json.dumps({
            "scenario": sc.name, "policy_file": str(out), "defender_utility":
            sol.defender_utility, "proven_optimal": sol.details.get("proven_optimal"),
            "attacked": attacked, "capacity_use_by_block": [float(u) for u in use],
            "robust": sol.details.get("robust"), "coverage": rows}, indent=2))
        return
    typer.echo(f"{sc.name}: {len(rows)} targets (mode, lane, {blocks} blocks), "
               f"{len(result.game.types)} attacker types; expected harm per attempted load "
               f"{-sol.defender_utility:,.1f}"
               + ("" if sol.details.get("proven_optimal") else " (not proven optimal)"))
    typer.echo(f"{'mode':<11}{'lane':<9}{'hours':<7}{'referral':>9}"
               f"{'P(seized)':>11}{'if referred':>13}")
    for r in rows:
        typer.echo(f"{r['mode']:<11}{r['lane']:<9}{r['hours']:<7}{r['referral']:>9.4f}"
                   f"{r['p_seized_unreferred']:>11.3f}{r['p_seized_referred']:>13.3f}"
                   + (f"  {r['risk_tier']} risk" if "risk_tier" in r else ""))
    typer.echo("bay time used by block: " + ", ".join(f"{u:.0%}" for u in use))
    for name, where in attacked.items():
        typer.echo(f"{name} attacks {where}")
    robust = sol.details.get("robust")
    if robust:
        typer.echo(f"robust to a learning attacker: {robust['chosen']} (share of the best "
                   "candidate: " + ", ".join(f"{m} {x:.2f}" for m, x in
                                             robust["share_of_best"].items()) + ")")
    typer.echo(f"wrote {out}")


def _triage_options(text: str) -> tuple[tuple[str, bool], ...]:
    """``--triage`` as (alert first check, covered alert to bay) pairs."""
    from portwatch.plan.portgame import TRIAGE_OPTIONS, triage_name

    known = {triage_name(*o): o for o in TRIAGE_OPTIONS}
    names = [t.strip() for t in text.split(",") if t.strip()]
    bad = [n for n in names if n not in known]
    if bad:
        raise InputError(f"--triage: unknown option {bad[0]!r}; use {', '.join(known)}")
    return tuple(known[n] for n in dict.fromkeys(names)) or TRIAGE_OPTIONS


def compare_command(
    scenario: Annotated[str, typer.Argument(help="A shipped scenario name or a TOML file.")],
    adversaries: Annotated[str, typer.Option(
        "--adversaries", help="Comma-separated adversaries (default: all six).")] = "",
    days: Annotated[int, typer.Option("--days", min=1, max=3660,
                                      help="Measured days per replication.")] = 2,
    replications: Annotated[int, typer.Option("--replications", "-r", min=1, max=10_000,
                                              help="Replications.")] = 3,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the study.")] = 0,
    adversary_param: Annotated[list[str] | None, typer.Option(
        "--adversary-param", help="KEY=VALUE parameter of every adversary (repeat), "
        "e.g. loads_per_day=100.")] = None,
    warmup_days: Annotated[int, typer.Option(
        "--warmup-days", min=0, max=3660, help="Days run before measuring, in which the "
        "adversaries learn (the adaptive one from its own seizures and public waits).")] = 0,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="PATH=VALUE: override a parameter of the scenario's TOML (repeat), "
        "e.g. --set canine.sweep_s=30; validated as the file is.")] = None,
    decoy_pairs: Annotated[bool, typer.Option(
        "--decoy-pairs", help="Run the shotgun again without decoys on the same seed and "
        "report what decoys take from each policy and what decoy triage recovers.")] = False,
    time_limit: Annotated[float, typer.Option(
        "--time-limit", min=0.1, help="Seconds the plan's MILPs may take in all (a plan "
        "not proven optimal within it depends on the machine's speed).")] = 40.0,
    out: Annotated[Path | None, typer.Option(
        "--out", help="A folder to write compare.json, compare.csv, the plots and "
        "compare.html into.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
    triage: Annotated[str, typer.Option(
        "--triage", help="Decoy triage options the planner weighs, comma-separated: "
        "nii_scan, handheld, nii_scan_handheld (a scan, then the handheld check when it is "
        "clean), each also with -covered-bay (an alert the plan selected anyway goes "
        "straight to a bay); default all six.")] = "",
    best_response_loss: Annotated[float, typer.Option(
        "--best-response-loss", min=0.0, max=1.0, help="Share of the Stackelberg plan's "
        "harm interdicted from best responders the plan robust to a learning attacker may "
        "give up (assumed 0.05; 0 keeps the Stackelberg plan).")] = 0.05,
) -> None:
    """Plan the port, then run uniform random (at the plan's bay time), fixed rules, risk
    threshold, the game-theoretic plan and the plan with decoy triage against each
    adversary in the twin, on common random numbers; paired differences against uniform."""
    names = tuple(a.strip() for a in adversaries.split(",") if a.strip()) or ADVERSARIES
    unknown = [a for a in names if a not in ADVERSARIES]
    if unknown:
        raise InputError(f"--adversaries: unknown {unknown[0]!r}; use {', '.join(ADVERSARIES)}")
    if out is not None and out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: not a folder")
    options = _triage_options(triage)
    from portwatch.plan.compare import compare
    from portwatch.plan.report import write_compare_report
    from portwatch.twin.adversaries import make_adversary
    from portwatch.twin.scenario import load_scenario
    from portwatch.twin.study.runner import parse_params

    params = parse_params(adversary_param or [])
    for name in names:  # a bad parameter fails before the long run
        make_adversary(name, **params)
    sc = load_scenario(scenario, set_ or [])
    from portwatch.plan.portgame import PlanSettings

    result = compare(sc, adversaries=names, days=days, replications=replications, seed=seed,
                     adversary_params=params, settings=PlanSettings(
                         time_limit_s=time_limit, robust_best_response_loss=best_response_loss),
                     warmup_days=warmup_days, decoy_pairs=decoy_pairs,
                     triage_options=options)
    data = result.to_dict()
    if out is not None:
        write_compare_report(data, out)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    _print_compare(result, data, out)


def _print_compare(result, data: dict, out: Path | None) -> None:
    """The comparison's table, the model's predictions, the triage choice and the decoy
    pairs, on the console."""
    from rich.console import Console

    from portwatch.plan.report import table

    console = Console(width=200)
    console.print(table(data))
    console.print("predicted harm caught per load of the informed adversary (the "
                  "interdiction model): " + ", ".join(
                      f"{p} {v:.3f}" for p, v in result.predicted_harm_per_load.items()))
    if result.triage_choice is not None:
        console.print(f"decoy triage chosen: {result.triage_choice['chosen']}; the game's "
                      "defender utility by option: " + ", ".join(
                          f"{k} {v:.3f}" for k, v in
                          result.triage_choice["defender_utility"].items()))
        robust = result.triage_choice.get("robust") or {}
        console.print("robust to the learner: " + ", ".join(
            f"{k} {v['chosen']} (share of the best: " + ", ".join(
                f"{m} {x:.2f}" for m, x in v["share_of_best"].items()) + ")"
            for k, v in robust.items() if v))
    if result.decoy_triage is not None:
        for key, taken in result.decoy_triage["decoys_take"].items():
            rec = result.decoy_triage["triage_recovers"][key]
            console.print(f"{key}: decoys take " + ", ".join(
                f"{p} {v['mean']:+.3f} [{v['ci95'][0]:+.3f}, {v['ci95'][1]:+.3f}]"
                for p, v in taken.items()) + f"; triage recovers {rec['mean']:+.3f} "
                f"[{rec['ci95'][0]:+.3f}, {rec['ci95'][1]:+.3f}] "
                f"(share of what decoys take from the plan: {rec['share_of_taken']:.2f})")
    if out is not None:
        console.print(f"wrote {out / 'compare.html'}")


def register(app: typer.Typer) -> None:
    """Add the ``plan`` and ``compare`` commands to the root app."""
    app.command("plan")(plan_command)
    app.command("compare")(compare_command)
