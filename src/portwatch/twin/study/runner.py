"""Running studies for people: policy names, parallel maps with a progress bar, the demo.

- ``parse_policy(spec)`` reads a policy given on the command line: ``uniform:RATE``,
  ``rules``, ``risk:THRESHOLD`` (each optionally ``...:hold`` for the hold-when-full
  capacity rule), or the path of a policy JSON file.
- ``local_map`` / ``dask_map`` run replications on a local process pool or a Dask
  cluster (through ``run_study``'s ``map_fn`` hook) and advance a progress callback as
  each replication finishes.
- ``run_demo_study(console)`` compares four policies against the shotgun adversary at
  Otay Mesa and prints the table; ``portwatch demo`` calls it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from portwatch.domain.errors import ConfigError, InputError
from portwatch.domain.modes import Mode
from portwatch.targeting.policy import CapacityRule, Policy
from portwatch.twin.study.replications import (
    ReplicationResult,
    ReplicationTask,
    StudyResult,
    run_study,
)

Progress = Callable[[int], None]
"""Called with the number of replications just finished."""

#: Referral rates of the ``rules`` policy: about 15% of trucks and under 2% of cars were
#: scanned on the southwest border in 2021 (CBP, Office of Field Operations testimony to
#: the House Homeland Security Subcommittee on Border Security, 2022); enrolled (express)
#: traffic at a tenth of those rates, pedestrians and buses at the car rate (parameters);
#: rail containers, every one imaged at the rail portal, 1% at random besides (assumed).
RULES_RATES: dict[tuple[Mode | str, str], float | list[float]] = {
    ("truck", "general"): 0.15,
    ("truck", "express"): 0.015,
    ("car", "general"): 0.018,
    ("car", "express"): 0.0018,
    ("pedestrian", "general"): 0.018,
    ("pedestrian", "express"): 0.0018,
    ("bus", "general"): 0.018,
    ("rail", "general"): 0.01,
}


def rules_policy(capacity_rule: CapacityRule = "wave") -> Policy:
    """Fixed referral rates per mode and lane calibrated on the 2021 scan shares."""
    suffix = "" if capacity_rule == "wave" else f"-{capacity_rule}"
    return Policy.fixed_rules(RULES_RATES, n_blocks=1, capacity_rule=capacity_rule,
                              name=f"rules{suffix}")


def _number(spec: str, text: str) -> float:
    try:
        return float(text)  # nan and inf are refused by the policy's own checks
    except ValueError:
        raise InputError(f"--policy {spec}: {text!r} is not a number") from None


def parse_policy(spec: str) -> Policy:
    """The policy named by ``spec`` (see the module docstring)."""
    path = Path(spec)
    if spec.endswith(".json") or path.is_file():
        try:
            text = path.read_text()
        except OSError as exc:
            raise ConfigError(f"{spec}: cannot read policy file ({exc.strerror})") from None
        return Policy.from_json(text, where=path.name)
    kind, *args = spec.split(":")
    rule: CapacityRule = "wave"
    if args and args[-1] in ("hold", "wave"):
        rule = "hold" if args.pop() == "hold" else "wave"
    suffix = "-hold" if rule == "hold" else ""
    if kind == "uniform" and len(args) == 1:
        rate = _number(spec, args[0])
        return Policy.uniform(rate, capacity_rule=rule, name=f"uniform-{rate:g}{suffix}")
    if kind == "rules" and not args:
        return rules_policy(rule)
    if kind == "risk" and len(args) in (1, 2):
        threshold = _number(spec, args[0])
        base = _number(spec, args[1]) if len(args) == 2 else 0.0
        if not 0.0 <= threshold <= 1.0:
            raise InputError(f"--policy {spec}: risk_threshold: must be in [0, 1] (a risk "
                             f"score is), got {threshold:g}")
        name = f"risk-{threshold:g}" + (f"-{base:g}" if base else "") + suffix
        return Policy.risk_based(threshold, base_rate=base, capacity_rule=rule, name=name)
    raise InputError(
        f"--policy {spec}: use uniform:RATE, rules, risk:THRESHOLD[:BASE_RATE] (each "
        "optionally ending in :hold), or a policy JSON file"
    )


def parse_params(items: Iterable[str]) -> dict[str, Any]:
    """``["window_s=900", "mode=car"]`` -> ``{"window_s": 900.0, "mode": "car"}``."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"--adversary-param {item}: use KEY=VALUE")
        parsed: Any = value
        for cast in (int, float):
            try:
                parsed = cast(value)
                break
            except ValueError:
                continue
        out[key.replace("-", "_")] = parsed
    return out


def widest_interval(result: StudyResult) -> float:
    """The widest headline interval of a study: the share of loads interdicted (Wilson,
    pooled over replications) of any policy; NaN when no load was sent."""
    widths = []
    for p in result.policies:
        low, high = result.summary(p.name)["interdiction_rate_ci"]
        widths.append(high - low)
    return max(widths) if widths else float("nan")


def run_to_target(run: Callable[[int], StudyResult], replications: int, target_width: float,
                  max_replications: int) -> tuple[StudyResult, dict[str, Any]]:
    """Run ``run(replications)`` and double the replications until the widest headline
    interval is at most ``target_width`` or ``max_replications`` is reached. Replication
    ``i`` has the same seed in every run, so a longer run extends a shorter one."""
    if not 0 < target_width <= 1:
        raise InputError(f"--target-ci: must be in (0, 1], got {target_width}")
    if max_replications < replications:
        raise InputError(f"--max-replications: must be >= --replications ({replications}), "
                         f"got {max_replications}")
    n = replications
    while True:
        result = run(n)
        width = widest_interval(result)
        if (math.isfinite(width) and width <= target_width) or n >= max_replications:
            break
        n = min(2 * n, max_replications)
    reached = math.isfinite(width) and width <= target_width
    return result, {"target_width": target_width, "widest_width": width, "reached": reached,
                    "replications": n, "max_replications": max_replications}


def local_map(workers: int, progress: Progress | None = None) -> Callable[..., list[Any]]:
    """A ``map_fn`` running replications on ``workers`` local processes (in this process
    when ``workers`` is 1), calling ``progress(1)`` as each one finishes."""

    def run(fn: Callable[[ReplicationTask], ReplicationResult],
            tasks: list[ReplicationTask]) -> list[ReplicationResult]:
        if workers <= 1 or len(tasks) <= 1:
            results = []
            for task in tasks:
                results.append(fn(task))
                if progress:
                    progress(1)
            return results
        with ProcessPoolExecutor(max_workers=min(workers, len(tasks))) as pool:
            futures = [pool.submit(fn, t) for t in tasks]
            for _ in as_completed(futures):
                if progress:
                    progress(1)
            return [f.result() for f in futures]

    return run


def dask_map(address: str, progress: Progress | None = None) -> Callable[..., list[Any]]:
    """A ``map_fn`` running replications on the Dask cluster at ``address``."""
    try:
        from dask.distributed import Client
        from dask.distributed import as_completed as dask_completed
    except ImportError:
        raise InputError(
            "--scheduler: needs dask.distributed (pip install 'portwatch[distributed]')"
        ) from None

    def run(fn: Callable[[ReplicationTask], ReplicationResult],
            tasks: list[ReplicationTask]) -> list[ReplicationResult]:
        try:
            client = Client(address, timeout="10s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"--scheduler {address}: cannot connect ({exc})") from None
        try:
            with client.as_current():
                futures = client.map(fn, tasks, pure=False)
                for _ in dask_completed(futures):
                    if progress:
                        progress(1)
                return list(client.gather(futures))
        finally:
            client.close()

    return run


def default_workers() -> int:
    """All local cores."""
    return os.cpu_count() or 1


DEMO_SCENARIO = "otay-mesa"
DEMO_POLICIES = ("uniform:0.02", "rules", "rules:hold", "risk:0.0006:0.01")
DEMO_ADVERSARY = "shotgun"
DEMO_DAYS, DEMO_REPLICATIONS, DEMO_SEED = 7, 6, 2024
DEMO_COMMAND = (
    f"portwatch simulate {DEMO_SCENARIO} "
    + " ".join(f"--policy {p}" for p in DEMO_POLICIES)
    + f" --adversary {DEMO_ADVERSARY} --days {DEMO_DAYS} --replications {DEMO_REPLICATIONS}"
    f" --seed {DEMO_SEED}"
)


def study_table(data: dict[str, Any], title: str) -> Table:
    """A rich table of a study's headline figures, one column per policy."""
    from portwatch.twin.study.report import headline_table

    table = Table(title=title, title_justify="left")
    table.add_column("per day (mean over replications)")
    for name in data["policies"]:
        table.add_column(name, justify="right")
    for label, values in headline_table(data):
        table.add_row(label, *values)
    return table


def run_demo_study(console: Console, workers: int | None = None) -> dict[str, Any]:
    """Compare four policies against the shotgun adversary at Otay Mesa; print the table.

    Returns the study's JSON form (``StudyResult.to_dict()``).
    """
    policies = [parse_policy(p) for p in DEMO_POLICIES]
    console.print(
        f"[bold]Digital twin[/bold]: {DEMO_SCENARIO}, {len(policies)} policies against the "
        f"{DEMO_ADVERSARY} adversary, {DEMO_DAYS} days x {DEMO_REPLICATIONS} replications "
        "(common random numbers)"
    )
    result: StudyResult = run_study(
        DEMO_SCENARIO, policies, DEMO_ADVERSARY, days=DEMO_DAYS,
        replications=DEMO_REPLICATIONS, seed=DEMO_SEED,
        map_fn=local_map(workers or default_workers()),
    )
    data = result.to_dict()
    console.print(study_table(data, f"{DEMO_SCENARIO} vs {DEMO_ADVERSARY}"))
    console.print(f"Reproduce: {DEMO_COMMAND}")
    return data


__all__ = [
    "DEMO_COMMAND",
    "RULES_RATES",
    "dask_map",
    "default_workers",
    "local_map",
    "parse_params",
    "parse_policy",
    "rules_policy",
    "run_to_target",
    "run_demo_study",
    "study_table",
]
