"""Where the plan's advantage against the adaptive learner goes between the offline model
and the twin (Otay Mesa, 100 loads a day, 90 learning days unless told otherwise, 2
measured days).

The plans are those ``portwatch compare`` makes (``--time-limit 300``): the bay plan,
the plan with ``nii_scan_handheld-covered-bay`` triage, and uniform at the bay plan's
bay time. Run one at a time, they see the very streams ``compare`` gives them (each
policy's arm has its own generators from the replication's seed), so the twin figures
below are ``compare``'s for these three policies. Per policy, harm caught per learner
load, five ways, each closer to the twin:

1. ``offline``: the learner followed offline against the interdiction model for the
   same learning days (``learning.learn_offline``, seeds 1-3, no waits), its
   distribution on the first measured day times the model's harm caught per load in
   each cell;
2. ``twin p``: the twin learner's own distribution on each measured day (averaged over
   replications) times the same per-cell figure: what the twin learner learned, without
   the draw of its loads and of their seizures;
3. ``twin loads, model``: the twin's actual loads (cells, drugs, masses), each counted
   at the model's chance: the draw of the loads added;
4. ``twin``: the twin's realised seizures of those loads.

Steps 1 -> 2 is how differently the twin's learner learns (its public-wait credit, its
seizures drawn by the twin's process); 2 -> 3 is the sampling of loads; 3 -> 4 is the
twin's detection against the model's. The same for the learner with ``wait_bonus=0``
isolates the wait credit. Then by mode group (foot, car lanes, trucks, buses), the
learner's share of loads and the harm caught per load, and how much of the realised
harm the few largest seizures carry.

Realised harm is compared with the model's for the same loads in standard errors of
the seizure draws; ``compare``'s ratio is also given by blocks of 40 replications, with
the p95 truck waits.

``PORTWATCH_BENCH_GAP_REPS`` (default 20) replications, ``PORTWATCH_BENCH_GAP_PORT``
(default ``otay-mesa``), ``PORTWATCH_BENCH_GAP_LEARNERS`` (``default,wait0``: the
learner as the twin runs it, and with ``wait_bonus=0``); ``PORTWATCH_BENCH_GAP_ADVERSARY
=informed`` runs the informed adversary instead (no warm-up), ratios and waits only.
``PORTWATCH_BENCH_GAP_BR_LOSS`` is ``compare --best-response-loss`` (assumed 0.05).
``PORTWATCH_BENCH_GAP_WARMUP`` (default 90, assumed) is the learner's learning days
before the measured days (``compare --warmup-days``). ``PORTWATCH_BENCH_GAP_ADVERSARY
=offline`` runs no twin: step 1 alone, the harm caught per learner load and the ratios
to uniform after each number of learning days in ``PORTWATCH_BENCH_GAP_OFFLINE_DAYS``
(default ``30,90,180,365``).
``PORTWATCH_BENCH_GAP_CACHE`` a folder to keep the planned policies in between runs
(planning takes minutes). Prints; writes nothing else.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from portwatch.domain.modes import Mode
from portwatch.plan.compare import equal_capacity_rate, ratio_of_means
from portwatch.plan.portgame import PlanSettings, plan_port
from portwatch.targeting.policy import N_LANES, N_MODES, Policy, mode_index
from portwatch.twin.adversaries import AdaptiveAdversary, AdversaryView, DayOutcome
from portwatch.twin.adversaries.base import register_adversary
from portwatch.twin.adversaries.helpers import PEDESTRIAN, unravel
from portwatch.twin.process.interdiction import interdiction_model
from portwatch.twin.process.plan import LoadPlan
from portwatch.twin.scenario import CompiledScenario, load_scenario
from portwatch.twin.study.learning import cell_harm_caught, learn_offline
from portwatch.twin.study.replications import run_study

WARMUP_DAYS = 90
DAYS = 2
SEED = 2026
LOADS_PER_DAY = 100.0
GROUPS = {"foot": (PEDESTRIAN,), "car": (mode_index(Mode.CAR),),
          "truck": (mode_index(Mode.TRUCK),), "bus": (mode_index(Mode.BUS),),
          "rail": (mode_index(Mode.RAIL),)}


@register_adversary("adaptive-recorded")
class _Recorded(AdaptiveAdversary):
    """The adaptive adversary, unchanged, keeping what it did on the measured days."""

    log: list[dict[str, Any]] = []
    warmup_days = WARMUP_DAYS

    def plan_day(self, view: AdversaryView, rng: np.random.Generator) -> LoadPlan:
        self._policy_name, self._day = view.policy.name, view.day
        return super().plan_day(view, rng)

    def observe(self, outcome: DayOutcome) -> None:
        if self._day >= self.warmup_days:
            assert self.last_probabilities is not None
            self.log.append({"policy": self._policy_name, "day": self._day,
                             "p": self.last_probabilities.copy(), "cells": self.cells,
                             "plan": outcome.plan, "seized": outcome.interdicted.copy()})
        super().observe(outcome)


def _policies(sc: CompiledScenario, cache: Path | None) -> list[Policy]:
    names = ("uniform", "plan", "plan-triage")
    if cache is not None and all((cache / f"{n}.json").exists() for n in names):
        return [Policy.from_json((cache / f"{n}.json").read_text()) for n in names]
    s = PlanSettings(time_limit_s=300.0, robust_best_response_loss=float(
        os.environ.get("PORTWATCH_BENCH_GAP_BR_LOSS", "0.05")))
    plan = plan_port(sc, s)
    triaged = plan_port(sc, replace(s, alert_first_check="nii_scan_handheld",
                                    alert_covered_to_bay=True))
    pols = [Policy.uniform(equal_capacity_rate(sc, plan), capacity_rule="hold",
                           name="uniform"), plan.policy, triaged.policy]
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        for n, p in zip(names, pols, strict=True):
            (cache / f"{n}.json").write_text(p.to_json())
    return pols


def _group_of(sc: CompiledScenario, cells: np.ndarray) -> np.ndarray:
    mode = unravel(cells)[0]
    out = np.full(len(cells), "", dtype=object)
    for g, modes in GROUPS.items():
        out[np.isin(mode, modes)] = g
    return out


def _warmup_days() -> int:
    return int(os.environ.get("PORTWATCH_BENCH_GAP_WARMUP", str(WARMUP_DAYS)))


def _offline(sc: CompiledScenario, policy: Policy, params: dict[str, Any], warmup: int,
             seeds: tuple[int, ...] = (1, 2, 3)) -> tuple[np.ndarray, np.ndarray]:
    """The learner's mean distribution after ``warmup`` days offline, and its cells."""
    model = interdiction_model(sc, policy)
    ps = []
    for seed in seeds:
        adv = AdaptiveAdversary(**params)
        learn_offline(sc, model, adv, warmup, np.random.default_rng(seed))
        ps.append(adv.probabilities())
    assert adv.cells is not None
    return np.mean(ps, axis=0), adv.cells


def _twin(sc: CompiledScenario, pols: list[Policy], params: dict[str, Any],
          reps: int, warmup: int) -> tuple[Any, list[dict[str, Any]]]:
    _Recorded.log = []
    _Recorded.warmup_days = warmup
    res = run_study(sc, pols, "adaptive-recorded", days=DAYS, replications=reps, seed=SEED,
                    adversary_params=params, warmup_days=warmup)
    return res, list(_Recorded.log)


def _by_group(sc: CompiledScenario, cells: np.ndarray, p: np.ndarray, harm: np.ndarray,
              refer: np.ndarray) -> str:
    g = _group_of(sc, cells)
    parts = []
    for name in GROUPS:
        m = g == name
        share = float(p[m].sum())
        if share > 0:
            parts.append(f"{name} {share:.2f} ({p[m] @ harm[m] / share:.2f}, "
                         f"{p[m] @ refer[m] / share:.2%})")
    return ", ".join(parts)


def _loads(sc: CompiledScenario, pol: Policy, recs: list[dict[str, Any]],
           ) -> dict[str, np.ndarray]:
    """Per measured load: harm, the model's chance, seized, its group, its replication."""
    model = interdiction_model(sc, pol)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("harm", "chance", "seized",
                                                          "group", "rep")}
    for i, r in enumerate(recs):
        plan, loads = r["plan"], ~r["plan"].is_decoy
        cells = np.ravel_multi_index((plan.mode, plan.lane,
                                      (plan.arrive_at_s // 3600).astype(np.int64)),
                                     (N_MODES, N_LANES, 24))
        cols["harm"].append((plan.mass_kg * sc.drug_harm_per_kg[plan.drug])[loads])
        cols["chance"].append(np.nan_to_num(model.of_plan(plan))[loads])
        cols["seized"].append(r["seized"][loads].astype(np.float64))
        cols["group"].append(_group_of(sc, cells[loads]))
        cols["rep"].append(np.full(int(loads.sum()), i // DAYS))
    return {k: np.concatenate(v) for k, v in cols.items()}


def _per_rep(x: dict[str, np.ndarray], weights: np.ndarray, reps: int) -> list[float]:
    return list(np.bincount(x["rep"], weights=weights, minlength=reps) / DAYS)


def _report(sc: CompiledScenario, pols: list[Policy], params: dict[str, Any],
            reps: int, warmup: int) -> None:
    res, log = _twin(sc, pols, params, reps, warmup)
    after = "" if warmup == WARMUP_DAYS else f", after {warmup} learning days"
    print(f"-- learner {params}, {reps} replications{after}")
    rows: dict[str, dict[str, float]] = {}
    days: dict[str, dict[str, list[float]]] = {}
    for pol in pols:
        model = interdiction_model(sc, pol)
        p_off, cells = _offline(sc, pol, params, warmup)
        harm_cell = cell_harm_caught(sc, model, cells)
        recs = [r for r in log if r["policy"] == pol.name]
        p_twin = np.mean([r["p"] for r in recs], axis=0)
        x = _loads(sc, pol, recs)
        n, caught = len(x["harm"]), x["harm"] * x["seized"]
        top = np.sort(caught)[::-1]
        rows[pol.name] = {"offline": float(p_off @ harm_cell),
                          "twin p": float(p_twin @ harm_cell),
                          "twin loads, model": float(x["harm"] @ x["chance"] / n),
                          "twin": float(caught.sum() / n)}
        days[pol.name] = {"model": _per_rep(x, x["harm"] * x["chance"], reps),
                          "twin": _per_rep(x, caught, reps)}
        # the realised harm against the model's, in standard errors of the seizure draws
        # given the loads (each load seized or not with the model's chance)
        sd = float(np.sqrt(np.sum(x["harm"] ** 2 * x["chance"] * (1 - x["chance"]))))
        z = (caught.sum() - x["harm"] @ x["chance"]) / max(sd, 1e-12)
        print(f"{pol.name:>28}: " + ", ".join(f"{k} {v:.3f}" for k, v in rows[pol.name].items())
              + f"; loads {n}, seizures {x['seized'].sum():.0f} (model "
              f"{x['chance'].sum():.1f}), realised harm {z:+.1f} s.e. from the model's, the "
              f"5 largest seizures carry {top[:5].sum() / max(caught.sum(), 1e-12):.0%}")
        refer = pol.referral_by_hour().ravel()[cells]
        print(f"{'':>30}offline by group: share (harm caught per load, referral) "
              + _by_group(sc, cells, p_off, harm_cell, refer))
        print(f"{'':>30}twin p by group:  "
              + _by_group(sc, cells, p_twin, harm_cell, refer))
        print(f"{'':>30}seizures, twin / model (harm caught, twin / model): " + ", ".join(
            f"{g} {x['seized'][m].sum():.0f} / {x['chance'][m].sum():.1f} "
            f"({caught[m].sum():.0f} / {x['harm'][m] @ x['chance'][m]:.0f})"
            for g in GROUPS if (m := x["group"] == g).any()))
    base = pols[0].name
    for pol in pols[1:]:
        print(f"{pol.name:>28} over uniform, per learner load: " + ", ".join(
            f"{k} {rows[pol.name][k] / rows[base][k]:.2f}x" for k in rows[base]))
        for k in ("twin", "model"):
            r = ratio_of_means(days[pol.name][k], days[base][k])
            print(f"{'':>30}harm a day, {k}: {np.mean(days[pol.name][k]):.2f} against "
                  f"{np.mean(days[base][k]):.2f}, {r['mean']:.2f}x "
                  f"[{r['ci95'][0]:.2f}, {r['ci95'][1]:.2f}]")
    _ratios(res, pols, reps)


def _ratios(res: Any, pols: list[Policy], reps: int) -> None:
    """``compare``'s harm ratio to uniform with its interval, by blocks of 40
    replications too, and the p95 truck waits."""
    base = pols[0]
    for pol in pols[1:]:
        harm = [res.summary(q.name)["per_replication"]["harm_interdicted"] for q in (pol, base)]
        r = ratio_of_means(*harm)
        p95 = [res.summary(q.name)["wait_s"]["truck"]["p95"] / 60 for q in (pol, base)]
        print(f"{pol.name:>28} over uniform, compare's figure: {r['mean']:.2f}x "
              f"[{r['ci95'][0]:.2f}, {r['ci95'][1]:.2f}]; p95 truck wait {p95[0]:.1f} "
              f"against {p95[1]:.1f} min ({p95[0] / p95[1] - 1:+.1%})")
        for lo in range(0, reps, 40):
            r = ratio_of_means(harm[0][lo:lo + 40], harm[1][lo:lo + 40])
            print(f"{'':>30}replications {lo + 1}-{min(lo + 40, reps)}: {r['mean']:.2f}x "
                  f"[{r['ci95'][0]:.2f}, {r['ci95'][1]:.2f}]")


def _offline_by_days(sc: CompiledScenario, pols: list[Policy], params: dict[str, Any],
                     days: list[int]) -> None:
    """Step 1 alone after each number of learning days: harm caught per learner load
    under each policy, and each plan's ratio to uniform (the first policy)."""
    print(f"-- learner {params}, offline (seeds 1-3)")
    harm_cell = {}
    for pol in pols:
        model = interdiction_model(sc, pol)
        harm_cell[pol.name] = cell_harm_caught(sc, model, _offline(sc, pol, params, 1)[1])
    for d in days:
        per_load = {pol.name: float(_offline(sc, pol, params, d)[0] @ harm_cell[pol.name])
                    for pol in pols}
        base = per_load[pols[0].name]
        print(f"after {d:>3} learning days, harm caught per load: " + ", ".join(
            f"{n} {v:.3f}" for n, v in per_load.items()) + "; over uniform: " + ", ".join(
            f"{n} {v / base:.2f}x" for n, v in list(per_load.items())[1:]), flush=True)


def main() -> None:
    reps = int(os.environ.get("PORTWATCH_BENCH_GAP_REPS", "20"))
    port = os.environ.get("PORTWATCH_BENCH_GAP_PORT", "otay-mesa")
    cache = os.environ.get("PORTWATCH_BENCH_GAP_CACHE")
    sc = load_scenario(port)
    pols = _policies(sc, Path(cache) if cache else None)
    if os.environ.get("PORTWATCH_BENCH_GAP_ADVERSARY") == "informed":
        # the informed adversary, as compare runs it (no warm-up): the same three
        # policies on compare's streams, for more replications than compare's run
        res = run_study(sc, pols, "informed", days=DAYS, replications=reps, seed=SEED,
                        adversary_params={"loads_per_day": LOADS_PER_DAY})
        print(f"-- informed, {reps} replications")
        _ratios(res, pols, reps)
        return
    variants = {"default": {}, "wait0": {"wait_bonus": 0.0}}
    wanted = os.environ.get("PORTWATCH_BENCH_GAP_LEARNERS", "default,wait0").split(",")
    if os.environ.get("PORTWATCH_BENCH_GAP_ADVERSARY") == "offline":
        days = [int(d) for d in os.environ.get("PORTWATCH_BENCH_GAP_OFFLINE_DAYS",
                                               "30,90,180,365").split(",")]
        for extra in (variants[w] for w in wanted):
            _offline_by_days(sc, pols, {"loads_per_day": LOADS_PER_DAY, **extra}, days)
        return
    for extra in (variants[w] for w in wanted):
        _report(sc, pols, {"loads_per_day": LOADS_PER_DAY, **extra}, reps, _warmup_days())


if __name__ == "__main__":
    main()
