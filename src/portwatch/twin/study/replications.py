"""Studies: policies run against an adversary over days and replications, with CIs.

``run_study`` derives one ``SeedSequence`` child per replication from ``seed``. Within a
replication every policy sees common random numbers: the same legitimate traffic with
the same per-conveyance draws, and an adversary whose own generators start from the same
seeds (the naive adversary therefore sends the very same loads; the others answer what
each policy does to them: deterrence, learning). Differences
between policies are then reported as paired differences per replication, which is
where common random numbers pay off.

A replication is a picklable ``ReplicationTask`` run by ``run_replication``; ``map_fn``
(``map_fn(run_replication, tasks)``) lets a caller run them on a process pool or a Dask
cluster. The result records the scenario, the seed and the portwatch version.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from portwatch import __version__
from portwatch.domain.errors import InputError
from portwatch.targeting.policy import N_LANES, N_MODES, Policy
from portwatch.twin.adversaries import Adversary, AdversaryView, DayOutcome, make_adversary
from portwatch.twin.process.advance import RiskLookup
from portwatch.twin.process.kernel import N_UNIFORMS, KernelModel, PortState, prepare, run_day
from portwatch.twin.process.metrics import DAY_S, DayMetrics, combine, day_metrics, summarise
from portwatch.twin.process.plan import LoadPlan
from portwatch.twin.process.traffic import (
    compose_day,
    draw_legit,
    legit_uniforms,
    plan_traffic,
    score_traffic,
)
from portwatch.twin.scenario.schema import CompiledScenario, load_scenario
from portwatch.twin.study.riskmodel import port_risk_lookup, use_port_risk_lookup, uses_risk

HEADLINE = (
    "arrivals", "crossings", "inspected", "loads_attempted", "loads_interdicted",
    "interdiction_rate", "kg_interdicted", "value_interdicted_usd", "harm_interdicted",
    "share_uninspected", "share_unverified", "delay_cost_usd", "false_alarms",
    "decoys_inspected", "waved_through",
)
"""Scalar figures that get a confidence interval and a paired difference."""
MAX_DAYS = 3660  # ten years of simulated days: beyond it a value is a typo
MAX_REPLICATIONS = 10_000


@dataclass(frozen=True, eq=False)
class ReplicationTask:
    """Everything one replication needs; picklable for process pools and Dask."""

    scenario: CompiledScenario
    policies: tuple[Policy, ...]
    adversary: str
    adversary_params: dict[str, Any]
    days: int
    warmup_days: int
    replication: int
    seed_seq: np.random.SeedSequence
    risk_lookup: RiskLookup | None = None
    """The port's risk model, scoring each conveyance's advance information (None: no
    policy of the task reads the risk score)."""


@dataclass(frozen=True, eq=False)
class ReplicationResult:
    """One replication: per policy, the summed metrics of the measured days and the
    conservation count over the whole run (warm-up included)."""

    replication: int
    totals: dict[str, DayMetrics]
    conservation: dict[str, dict[str, int]]
    predicted: dict[str, tuple[float, int]] = field(default_factory=dict)
    """Per policy: the sum of the adversary's own predicted chance of interdiction over
    the loads it sent on the measured days, and their number (adversaries that predict:
    ``informed``)."""


class _Observer:
    """Pools what the adversary sees: inspection share and mean primary wait per
    [mode, lane, hour of arrival]."""

    def __init__(self) -> None:
        self.count = np.zeros((N_MODES, N_LANES, 24))
        self.inspected = np.zeros_like(self.count)
        self.wait = np.zeros_like(self.count)

    @staticmethod
    def day(mode: np.ndarray, lane: np.ndarray, hour: np.ndarray, inspected: np.ndarray,
            wait: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cell = (mode * N_LANES + lane) * 24 + hour
        size = N_MODES * N_LANES * 24
        shape = (N_MODES, N_LANES, 24)
        count = np.bincount(cell, minlength=size).reshape(shape).astype(np.float64)
        insp = np.bincount(cell, weights=inspected, minlength=size).reshape(shape)
        w = np.bincount(cell, weights=wait, minlength=size).reshape(shape)
        return count, insp, w

    def add(self, count: np.ndarray, insp: np.ndarray, wait: np.ndarray) -> None:
        self.count += count
        self.inspected += insp
        self.wait += wait

    @staticmethod
    def ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(b > 0, a / np.maximum(b, 1), np.nan)


@dataclass
class _Arm:
    """One policy's run inside a replication: its own port state and adversary."""

    policy: Policy
    model: KernelModel
    state: PortState
    adversary: Adversary
    adv_rng: np.random.Generator
    plan_rng: np.random.Generator
    uplan_rng: np.random.Generator
    observer: _Observer
    days: list[DayMetrics] = field(default_factory=list)
    predicted: list[float] = field(default_factory=lambda: [0.0, 0.0])
    conservation: dict[str, int] = field(
        default_factory=lambda: {"arrived": 0, "left": 0, "in_port": 0})
    udecoy_rng: np.random.Generator | None = None


def _plan_uniforms(arm: _Arm, plan: LoadPlan) -> np.ndarray:
    """The per-row draws of a plan's conveyances: loads from one stream, decoys from
    another, so that the same loads get the same draws whatever decoys ride with them
    (an attack with and without decoys is then paired load by load)."""
    u = np.empty((len(plan), N_UNIFORMS), dtype=np.float32)
    decoy = plan.is_decoy
    u[~decoy] = arm.uplan_rng.random((int((~decoy).sum()), N_UNIFORMS), dtype=np.float32)
    if decoy.any():
        assert arm.udecoy_rng is not None
        u[decoy] = arm.udecoy_rng.random((int(decoy.sum()), N_UNIFORMS), dtype=np.float32)
    return u


def run_replication(task: ReplicationTask) -> ReplicationResult:
    """Run every policy of ``task`` over its days on common random numbers."""
    sc = task.scenario
    # A fresh copy: spawning mutates a SeedSequence, and a task may be run twice.
    root = np.random.SeedSequence(task.seed_seq.entropy, spawn_key=task.seed_seq.spawn_key)
    traffic_ss, ulegit_ss, adversary_ss, plan_ss, uplan_ss, udecoy_ss = root.spawn(6)
    traffic_rng = np.random.default_rng(traffic_ss)
    if task.risk_lookup is not None:
        use_port_risk_lookup(sc, task.risk_lookup)  # the informed adversary reads it too
    ulegit_rng = np.random.default_rng(ulegit_ss)
    arms = [
        _Arm(
            policy=policy,
            model=prepare(sc, policy),
            state=PortState(sc),
            adversary=make_adversary(task.adversary, **task.adversary_params),
            adv_rng=np.random.default_rng(adversary_ss),
            plan_rng=np.random.default_rng(plan_ss),
            uplan_rng=np.random.default_rng(uplan_ss),
            observer=_Observer(),
            udecoy_rng=np.random.default_rng(udecoy_ss),
        )
        for policy in task.policies
    ]
    run_end = (task.warmup_days + task.days) * DAY_S
    for day in range(task.warmup_days + task.days):
        legit = draw_legit(sc, day, traffic_rng)
        u_legit = legit_uniforms(legit, ulegit_rng, np.float32)
        for arm in arms:
            obs = arm.observer
            adversary = arm.adversary
            view = AdversaryView(
                scenario=sc, policy=arm.policy, day=day,
                inspection_share=obs.ratio(obs.inspected, obs.count),
                mean_wait_s=obs.ratio(obs.wait, obs.count),
                history=tuple(getattr(adversary, "history", ())),
            )
            plan = adversary.plan_day(view, arm.adv_rng)
            plan.validate(sc)
            predicted = getattr(adversary, "predicted", None)
            if predicted and day >= task.warmup_days:
                loads = ~np.isnan(predicted[-1])
                arm.predicted[0] += float(predicted[-1][loads].sum())
                arm.predicted[1] += int(loads.sum())
            planned = plan_traffic(sc, day, plan, arm.plan_rng)
            u_plan = _plan_uniforms(arm, plan)
            tr, u = compose_day(legit, planned, u_legit, u_plan)
            tr = score_traffic(sc, tr, task.risk_lookup)
            run = run_day(arm.model, tr.arrive_at_s, tr.mode, tr.lane, tr.enrolled,
                          tr.custody, tr.risk, tr.drug, tr.concealment, tr.is_decoy, u,
                          arm.state)
            hour = ((tr.arrive_at_s - day * DAY_S) // 3600).astype(np.int64).clip(0, 23)
            wait = run.primary_start_at - tr.arrive_at_s
            count, insp, w = _Observer.day(tr.mode, run.lane_used, hour, run.inspected, wait)
            obs.add(count, insp, w)
            rows = tr.plan_row[tr.plan_row >= 0]
            planned_rows = tr.plan_row >= 0
            interdicted = np.zeros(len(plan), dtype=bool)
            inspected = np.zeros(len(plan), dtype=bool)
            interdicted[rows] = run.detected_by[planned_rows] > 0
            inspected[rows] = run.inspected[planned_rows]
            adversary.observe(DayOutcome(
                day=day, plan=plan, interdicted=interdicted, inspected=inspected,
                inspection_share=_Observer.ratio(insp, count),
                mean_wait_s=_Observer.ratio(w, count),
            ))
            cons = arm.conservation
            cons["arrived"] += len(tr)
            cons["left"] += int((run.exit_at < run_end).sum())
            cons["in_port"] += int((run.exit_at >= run_end).sum())
            if day >= task.warmup_days:
                arm.days.append(day_metrics(sc, tr, run))
    return ReplicationResult(
        replication=task.replication,
        totals={arm.policy.name: combine(arm.days) for arm in arms},
        conservation={arm.policy.name: arm.conservation for arm in arms},
        predicted={arm.policy.name: (arm.predicted[0], int(arm.predicted[1])) for arm in arms
                   if arm.predicted[1] > 0},
    )


def _mean_tree(items: list[Any]) -> Any:
    """Element-wise mean of equally shaped dicts / lists / numbers (NaN-aware)."""
    first = items[0]
    if isinstance(first, dict):  # a key missing from some (a lane without traffic) is skipped
        keys = dict.fromkeys(k for it in items for k in it)
        return {k: _mean_tree([it[k] for it in items if k in it]) for k in keys}
    if isinstance(first, list):
        return [_mean_tree([it[i] for it in items]) for i in range(len(first))]
    if isinstance(first, int | float):
        vals = np.asarray(items, dtype=np.float64)
        return float(np.nanmean(vals)) if np.isfinite(vals).any() else float("nan")
    return first


def wilson_interval(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (NaN without trials); always in [0, 1]."""
    if trials <= 0:
        return float("nan"), float("nan")
    ci = stats.binomtest(successes, trials).proportion_ci(confidence_level=level,
                                                          method="wilson")
    return float(ci.low), float(ci.high)


def confidence_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """Student-t interval for the mean of ``values`` (NaN when fewer than two)."""
    v = np.asarray([x for x in values if math.isfinite(x)], dtype=np.float64)
    if v.shape[0] < 2:
        return float("nan"), float("nan")
    half = stats.t.ppf(0.5 + level / 2, v.shape[0] - 1) * v.std(ddof=1) / math.sqrt(v.shape[0])
    return float(v.mean() - half), float(v.mean() + half)


RATES = ("interdiction_rate", "share_uninspected", "share_unverified")
"""Headline figures that are shares: their intervals stay in [0, 1]."""


def _in_domain(key: str, ci: tuple[float, float]) -> tuple[float, float]:
    """A t interval of a figure clipped to its domain: [0, 1] for a share, [0, inf) for
    the counts, sums and waits (every other headline figure)."""
    low, high = ci
    if not (math.isfinite(low) and math.isfinite(high)):
        return low, high
    return max(low, 0.0), (min(high, 1.0) if key in RATES else high)


def _headline(summary: dict[str, Any]) -> dict[str, float]:
    out = {k: float(summary[k]) for k in HEADLINE}
    for mode, w in summary["wait_s"].items():
        out[f"wait_s.{mode}.mean"] = w["mean"]
        out[f"wait_s.{mode}.p95"] = w["p95"]
    return out


@dataclass(frozen=True, eq=False)
class StudyResult:
    """The outcome of ``run_study``. ``per_replication[policy]`` holds each replication's
    summary; ``totals[policy]`` the metrics summed over replications (for plots)."""

    scenario: str
    seed: int
    version: str
    adversary: str
    adversary_params: dict[str, Any]
    days: int
    replications: int
    warmup_days: int
    policies: tuple[Policy, ...]
    per_replication: dict[str, list[dict[str, Any]]]
    totals: dict[str, DayMetrics]
    conservation: dict[str, dict[str, int]] = field(default_factory=dict)
    predicted: dict[str, tuple[float, int]] = field(default_factory=dict)

    def summary(self, policy: str) -> dict[str, Any]:
        """Means over replications, with a 95% interval for each headline figure, the
        pooled interdiction rate with its Wilson interval (it never leaves [0, 1]), the
        numbers of loads and replications, and the adversary's own prediction."""
        reps = self.per_replication[policy]
        out: dict[str, Any] = _mean_tree(reps)
        total = self.totals[policy]
        attempted = int(round(total.loads_attempted[:, 0].sum()))
        interdicted = int(round(total.loads_interdicted[:, 0].sum()))
        out["loads"] = attempted
        out["replications"] = len(reps)
        out["interdiction_rate_pooled"] = interdicted / attempted if attempted else float("nan")
        out["interdiction_rate_ci"] = list(wilson_interval(interdicted, attempted))
        if policy in self.predicted:
            s, n = self.predicted[policy]
            out["adversary"] = {"name": self.adversary,
                                "predicted_interdiction_rate": s / n if n else float("nan"),
                                "loads_predicted": n}
        heads = [_headline(r) for r in reps]
        out["ci95"] = {k: list(_in_domain(k, confidence_interval([h[k] for h in heads])))
                       for k in heads[0]}
        # the pooled loads' Wilson interval: it does not need two replications
        out["ci95"]["interdiction_rate"] = out["interdiction_rate_ci"]
        out["per_replication"] = {k: [h[k] for h in heads] for k in heads[0]}
        out["policy"] = next(p for p in self.policies if p.name == policy).to_dict()
        out["conservation"] = self.conservation.get(policy, {})
        return out

    def differences(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Paired differences (policy - first policy) per headline figure, with 95% CIs."""
        base = self.policies[0].name
        base_heads = [_headline(r) for r in self.per_replication[base]]
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for p in self.policies[1:]:
            heads = [_headline(r) for r in self.per_replication[p.name]]
            out[p.name] = {}
            for k in base_heads[0]:
                diff = [h[k] - b[k] for h, b in zip(heads, base_heads, strict=True)]
                finite = [x for x in diff if math.isfinite(x)]
                out[p.name][k] = {
                    "mean": float(np.mean(finite)) if finite else float("nan"),
                    "ci95": list(confidence_interval(diff)),
                }
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: the record of the run, then one summary per policy."""
        policies = {p.name: self.summary(p.name) for p in self.policies}
        first = policies[self.policies[0].name]
        out: dict[str, Any] = {
            "format": "portwatch.study",
            "version": 1,
            "portwatch_version": self.version,
            "scenario": self.scenario,
            "seed": self.seed,
            "adversary": self.adversary,
            "adversary_params": self.adversary_params,
            "days": self.days,
            "warmup_days": self.warmup_days,
            "replications": self.replications,
        }
        # The first policy's headline figures at the top level, for a one-policy run.
        for key in ("crossings", "loads_attempted", "loads_interdicted", "share_uninspected",
                    "share_unverified", "wait_s", "delay_cost_usd"):
            out[key] = first[key]
        out["policies"] = policies
        out["differences"] = self.differences()
        return _jsonable(out)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, float | np.floating):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


def check_study_args(
    policies: Policy | Sequence[Policy],
    days: int,
    replications: int,
    warmup_days: int,
    workers: int = 1,
) -> tuple[Policy, ...]:
    """The study's policies as a tuple, after checking every argument of a study."""
    pols = (policies,) if isinstance(policies, Policy) else tuple(policies)
    if not pols:
        raise InputError("policies: give at least one policy")
    names = [p.name for p in pols]
    if len(set(names)) != len(names):
        raise InputError(f"policies: names must be unique, got {names}")
    for name, value, low, high in (("days", days, 1, MAX_DAYS),
                                   ("replications", replications, 1, MAX_REPLICATIONS),
                                   ("warmup_days", warmup_days, 0, MAX_DAYS),
                                   ("workers", workers, 1, 4096)):
        if value < low:
            raise InputError(f"{name}: must be >= {low}, got {value}")
        if value > high:
            raise InputError(f"{name}: must be <= {high}, got {value}")
    return pols


def check_seed(seed: int) -> int:
    """``seed`` if it can seed a ``numpy.random.SeedSequence`` (a non-negative integer)."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"seed: must be a non-negative integer, got {seed}")
    return int(seed)


def run_study(
    scenario: CompiledScenario | str,
    policies: Policy | Sequence[Policy],
    adversary: str,
    days: int,
    replications: int,
    seed: int,
    warmup_days: int = 0,
    workers: int = 1,
    map_fn: Callable[[Callable[[ReplicationTask], ReplicationResult],
                      list[ReplicationTask]], Iterable[ReplicationResult]] | None = None,
    adversary_params: dict[str, Any] | None = None,
) -> StudyResult:
    """Run ``policies`` against ``adversary`` on ``scenario`` for ``days`` measured days
    (after ``warmup_days``) in ``replications`` replications from ``seed``.

    ``workers > 1`` runs replications on a local process pool; ``map_fn`` overrides how
    they are mapped (e.g. a Dask client's ``map`` + ``gather``).
    """
    sc = load_scenario(scenario) if isinstance(scenario, str) else scenario
    pols = check_study_args(policies, days, replications, warmup_days, workers)
    seed = check_seed(seed)
    names = [p.name for p in pols]
    params = dict(adversary_params or {})
    make_adversary(adversary, **params)  # fail early on a bad name or parameter
    children = np.random.SeedSequence(seed).spawn(replications)
    lookup = port_risk_lookup(sc) if any(uses_risk(p) for p in pols) else None
    tasks = [
        ReplicationTask(sc, pols, adversary, params, days, warmup_days, r, children[r],
                        lookup)
        for r in range(replications)
    ]
    if map_fn is not None:
        results = list(map_fn(run_replication, tasks))
    elif workers > 1 and replications > 1:
        with ProcessPoolExecutor(max_workers=min(workers, replications)) as pool:
            results = list(pool.map(run_replication, tasks))
    else:
        results = [run_replication(t) for t in tasks]
    results.sort(key=lambda r: r.replication)
    per_rep = {n: [summarise(sc, r.totals[n]) for r in results] for n in names}
    totals = {n: combine([r.totals[n] for r in results]) for n in names}
    conservation = {
        n: {k: sum(r.conservation[n][k] for r in results) for k in ("arrived", "left", "in_port")}
        for n in names
    }
    predicted = {
        n: (sum(r.predicted.get(n, (0.0, 0))[0] for r in results),
            sum(r.predicted.get(n, (0.0, 0))[1] for r in results))
        for n in names if any(n in r.predicted for r in results)
    }
    return StudyResult(
        scenario=sc.name, seed=seed, version=__version__, adversary=adversary,
        adversary_params=params, days=days, replications=replications,
        warmup_days=warmup_days, policies=pols, per_replication=per_rep, totals=totals,
        conservation=conservation, predicted=predicted,
    )


__all__ = [
    "HEADLINE",
    "ReplicationResult",
    "ReplicationTask",
    "StudyResult",
    "confidence_interval",
    "wilson_interval",
    "run_replication",
    "run_study",
]
