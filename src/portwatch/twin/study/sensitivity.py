"""The sensitivity study: every ``assumed`` parameter at the low and the high end of its
range, one at a time, on common random numbers, and how the headline figures move.

``run_sensitivity`` returns a JSON-ready dict; ``tornado_png`` draws the tornado chart
(one panel per headline figure, the parameters sorted by the swing they cause).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from portwatch import __version__
from portwatch.domain.errors import ConfigError
from portwatch.targeting.policy import Policy
from portwatch.twin.scenario.assumed import ASSUMED
from portwatch.twin.scenario.overrides import apply_overrides
from portwatch.twin.scenario.schema import parse_scenario, scenario_data
from portwatch.twin.study.replications import StudyResult, run_study

HEADLINES: tuple[tuple[str, str], ...] = (
    ("harm_interdicted", "harm interdicted / day"),
    ("share_uninspected", "share crossed uninspected"),
    ("p95_wait_min", "p95 primary wait of the first mode (min)"),
    ("loads_attempted", "loads attempted / day (deterrence)"),
)


def headline(result: StudyResult, policy: str) -> dict[str, float]:
    """The figures the tornado shows, for one policy of a study."""
    s = result.summary(policy)
    waits = s["wait_s"]
    mode = "truck" if "truck" in waits else next(iter(waits))
    return {"harm_interdicted": float(s["harm_interdicted"]),
            "share_uninspected": float(s["share_uninspected"]),
            "p95_wait_min": float(waits[mode]["p95"]) / 60.0,
            "loads_attempted": float(s["loads_attempted"])}


def run_sensitivity(
    scenario: str,
    policy: Policy,
    adversary: str,
    days: int,
    replications: int,
    seed: int,
    map_fn: Callable[..., Any] | None = None,
    progress: Callable[[int], None] | None = None,
    overrides: Sequence[str] = (),
) -> dict[str, Any]:
    """Run the base case (the scenario with ``overrides``) and each assumed parameter at
    both ends of its range."""
    data, where = scenario_data(scenario)
    data = apply_overrides(data, overrides)

    def run(overrides: list[str]) -> dict[str, float]:
        sc = parse_scenario(apply_overrides(data, overrides), where)
        result = run_study(sc, policy, adversary, days=days, replications=replications,
                           seed=seed, map_fn=map_fn)
        if progress:
            progress(1)
        return headline(result, policy.name)

    base = run([])
    rows = []
    for a in ASSUMED:
        low, high = a.override(data, "low"), a.override(data, "high")
        if low is None or high is None or not _valid(data, where, [low, high]):
            continue  # the scenario does not have this part (no inland checkpoint, ...)
        rows.append({"path": a.path, "note": a.note, "relative": a.relative,
                     "range": [a.low, a.high],
                     "low_value": a.value(data, "low"), "high_value": a.value(data, "high"),
                     "low": run([low]), "high": run([high])})
    return {"format": "portwatch.sensitivity", "portwatch_version": __version__,
            "scenario": scenario, "policy": policy.name, "adversary": adversary,
            "overrides": list(overrides), "days": days, "replications": replications,
            "seed": seed, "base": base,
            "parameters": rows}


def _valid(data: dict[str, Any], where: str, overrides: list[str]) -> bool:
    try:
        for item in overrides:
            parse_scenario(apply_overrides(data, [item]), where)
    except ConfigError:
        return False
    return True


def runs_needed(scenario: str, overrides: Sequence[str] = ()) -> int:
    """Studies ``run_sensitivity`` will run (for a progress bar)."""
    data, where = scenario_data(scenario)
    data = apply_overrides(data, overrides)
    items = [(a.override(data, "low"), a.override(data, "high")) for a in ASSUMED]
    return 1 + 2 * sum(1 for lo, hi in items if lo is not None and hi is not None
                       and _valid(data, where, [lo, hi]))


def tornado_png(result: dict[str, Any], path: Path) -> Path:
    """Draw the tornado chart of ``result`` into ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(HEADLINES), figsize=(4.8 * len(HEADLINES), 5.5))
    for ax, (key, label) in zip(axes, HEADLINES, strict=True):
        base = result["base"][key]
        rows = sorted(result["parameters"],
                      key=lambda r: abs(r["high"][key] - r["low"][key]))
        for i, r in enumerate(rows):
            lo, hi = r["low"][key] - base, r["high"][key] - base
            ax.barh(i, lo, color="#4c72b0")
            ax.barh(i, hi, color="#dd8452")
        ax.set_yticks(range(len(rows)), [r["path"] for r in rows], fontsize=7)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_title(f"{label}\n(base {base:.3g}; blue: low end, orange: high end)",
                     fontsize=9)
        ax.set_xlabel("change from the base case")
    fig.suptitle(f"{result['scenario']}, {result['policy']} vs {result['adversary']}: "
                 f"{result['days']} days x {result['replications']} replications, "
                 f"seed {result['seed']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


__all__ = ["HEADLINES", "headline", "run_sensitivity", "runs_needed", "tornado_png"]
