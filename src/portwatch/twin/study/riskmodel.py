"""The port's risk model: labelled history from the twin, training, and the lookup the
kernel's risk policies read.

- ``labelled_history`` runs the twin's traffic and an adversary's plans over ``days``
  (no inspection is needed to know the truth in a twin) and returns a
  ``portwatch.targeting.risk.RiskTable`` of advance information, one row per (period,
  cell of the feature grid, label) with the number of crossings as its weight. The
  label is "carried contraband": decoys are cartel vehicles without it. A real port
  only learns the labels of the crossings it inspected; this history is the twin's
  ground truth, so the model here is an upper bound on what a port could learn.
- ``train_lookup`` fits the calibrated classifier of ``portwatch.targeting.risk`` and
  evaluates it on every cell of the grid: the ``RiskLookup`` the kernel uses.
- ``evaluate_port_risk`` trains on the earlier part of a history and reports, on the
  later part, the learned model beside the oracle (the exact posterior from the
  generator's parameters) and the Bayes-optimal AUC, then how the model decays when the
  cartel dresses more of its conveyances as low-risk profiles than it did in training.
- ``port_risk_lookup(scenario)`` is the port's own model: trained once per scenario on
  ``advance.training_days`` days of history from a fixed seed against the naive
  adversary, cached, and shared by the study runner and the interdiction model, so the
  informed adversary best-responds to the model the port really uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from portwatch.domain.errors import InputError
from portwatch.targeting.policy import Policy
from portwatch.targeting.risk import (
    RiskModel,
    RiskReport,
    RiskTable,
    evaluate,
    fit_risk_model,
    report_scores,
    time_split,
)
from portwatch.twin.adversaries import AdversaryView, make_adversary
from portwatch.twin.process import advance
from portwatch.twin.process.plan import DAY_S
from portwatch.twin.process.traffic import SOURCE_LOAD, draw_legit, plan_traffic
from portwatch.twin.scenario.schema import CompiledScenario

MAX_PERIODS = 8
"""Periods a history is aggregated into (weeks for four weeks of history)."""
PORT_MODEL_SEED = 20_260_101
"""Seed of the port's own model (``port_risk_lookup``): fixed, so that every study of a
scenario uses the same model, whatever the study's seed."""


def labelled_history(scenario: CompiledScenario, days: int, rng: np.random.Generator, *,
                     adversary: str = "naive", start_day: int = 0) -> RiskTable:
    """Advance information and labels of ``days`` days of traffic and ``adversary``'s
    loads and decoys, aggregated per period (see the module docstring)."""
    sc = scenario
    shape = advance.grid_shape(sc)
    cells = int(np.prod(shape))
    period_days = max(1, math.ceil(days / MAX_PERIODS))
    n_periods = math.ceil(days / period_days)
    counts = np.zeros((n_periods, 2 * cells))
    adv = make_adversary(adversary)
    policy = Policy.uniform(0.0, name="history")
    for d in range(days):
        day = start_day + d
        legit = draw_legit(sc, day, rng)
        plan = adv.plan_day(AdversaryView.blank(sc, policy, day), rng)
        planned = plan_traffic(sc, day, plan, rng)
        for tr in (legit, planned):
            key = np.ravel_multi_index(tuple(tr.advance_info(sc).T), shape)
            code = 2 * key + (tr.source == SOURCE_LOAD)
            counts[d // period_days] += np.bincount(code, minlength=2 * cells)
    period, code = np.nonzero(counts)
    rows = advance.grid_rows(shape)[code // 2]
    time_s = (start_day + period * period_days) * DAY_S
    return RiskTable(rows.astype(np.float64), advance.FEATURES, (code % 2).astype(bool),
                     time_s.astype(np.float64), counts[period, code])


def lookup_from_model(scenario: CompiledScenario, model: RiskModel, label: str = "",
                      ) -> advance.RiskLookup:
    """The model's calibrated score on every cell of the scenario's feature grid."""
    shape = advance.grid_shape(scenario)
    table = model.score(advance.grid_rows(shape).astype(np.float64))
    return advance.RiskLookup(shape, np.ascontiguousarray(table, dtype=np.float64), label)


def train_lookup(scenario: CompiledScenario, table: RiskTable, rng: np.random.Generator,
                 ) -> tuple[RiskModel, advance.RiskLookup]:
    """Fit the calibrated model on ``table`` (folds keep periods whole) and tabulate it."""
    model = fit_risk_model(table, rng=rng, folds_by_period=True, categorical=True)
    return model, lookup_from_model(scenario, model, f"learned on {table.n_rows} rows")


_PORT_LOOKUPS: dict[int, tuple[CompiledScenario, advance.RiskLookup]] = {}


def port_risk_lookup(scenario: CompiledScenario) -> advance.RiskLookup:
    """The port's own risk model for ``scenario`` (see the module docstring)."""
    hit = _PORT_LOOKUPS.get(id(scenario))
    if hit is not None and hit[0] is scenario:
        return hit[1]
    rng = np.random.default_rng(PORT_MODEL_SEED)
    days = scenario.spec.advance.training_days
    # the history ends before the studied days start: negative days are the past
    table = labelled_history(scenario, days, rng, start_day=-days)
    _, lookup = train_lookup(scenario, table, rng)
    use_port_risk_lookup(scenario, lookup)
    return lookup


def use_port_risk_lookup(scenario: CompiledScenario, lookup: advance.RiskLookup) -> None:
    """Make ``lookup`` the port's model for ``scenario`` in this process (a worker given
    the model by its parent, or a model read from a file)."""
    if len(_PORT_LOOKUPS) >= 16:
        _PORT_LOOKUPS.pop(next(iter(_PORT_LOOKUPS)))
    _PORT_LOOKUPS[id(scenario)] = (scenario, lookup)


def with_mimicry(scenario: CompiledScenario, share: float) -> CompiledScenario:
    """``scenario`` with the cartel dressing ``share`` of its conveyances as clean ones."""
    if not 0.0 <= share <= 1.0:
        raise InputError(f"mimicry share: must be in [0, 1], got {share}")
    spec = scenario.spec
    adv = spec.advance.model_copy(update={"mimicry": float(share)})
    return replace(scenario, spec=spec.model_copy(update={"advance": adv}))


@dataclass(frozen=True)
class MimicryRow:
    """The model (trained at the scenario's mimicry) on a later period at ``share``."""

    share: float
    report: RiskReport
    bayes_auc: float


@dataclass(frozen=True, eq=False)
class PortRiskEvaluation:
    """What ``evaluate_port_risk`` measured."""

    scenario: str
    days: int
    seed: int
    train_crossings: int
    train_loads: int
    held_out_days: int
    learned: RiskReport
    oracle: RiskReport
    bayes_auc: float
    mimicry: float
    bayes_lift: float = float("nan")
    """The best lift at the referral rate any score can reach (``advance.bayes_lift``)."""
    decay: list[MimicryRow] = field(default_factory=list)
    lookup: advance.RiskLookup | None = None


def evaluate_port_risk(scenario: CompiledScenario, *, days: int, seed: int,
                       holdout: float = 0.25, referral_rate: float = 0.05,
                       shares: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0),
                       n_boot: int = 200) -> PortRiskEvaluation:
    """Train on the earlier period of ``days`` of history, evaluate on the later one and
    under other mimicry shares (see the module docstring)."""
    sc = scenario
    if days < 4:
        raise InputError(f"--days: at least 4 days of history are needed, got {days}")
    rng = np.random.default_rng(seed)
    table = labelled_history(sc, days, rng)
    train, test = time_split(table, holdout)
    model, lookup = train_lookup(sc, train, rng)
    learned = evaluate(model, test, referral_rate=referral_rate, rng=rng, n_boot=n_boot)
    oracle = report_scores(advance.posterior(sc, test.features.astype(np.int64)), test,
                           referral_rate=referral_rate, rng=rng, n_boot=n_boot)
    later = int(round((test.time_s.max() - test.time_s.min()) / DAY_S)) + max(
        1, math.ceil(days / MAX_PERIODS))
    decay = []
    for share in shares:
        dressed = with_mimicry(sc, share)
        t = labelled_history(dressed, later, rng, start_day=days)
        decay.append(MimicryRow(share, evaluate(model, t, referral_rate=referral_rate,
                                                rng=rng, n_boot=n_boot),
                                advance.bayes_auc(*advance.class_pmfs(sc, share))))
    return PortRiskEvaluation(
        scenario=sc.name, days=days, seed=seed, train_crossings=int(round(train.crossings)),
        train_loads=int(round(train.w[train.label].sum())), held_out_days=later,
        learned=learned, oracle=oracle, bayes_auc=advance.bayes_auc(*advance.class_pmfs(sc)),
        mimicry=sc.spec.advance.mimicry, decay=decay, lookup=lookup,
        bayes_lift=advance.bayes_lift(*advance.class_pmfs(sc), referral_rate,
                                      _base_rate(sc)))


def threshold_for_share(scenario: CompiledScenario, lookup: advance.RiskLookup,
                        share: float) -> float:
    """The lowest risk threshold at which at most ``share`` of the crossings without
    contraband score at or above it (exact, over ``advance.class_pmfs``' law): a risk
    policy that refers about as many as a uniform one at ``share``."""
    if not 0.0 < share <= 1.0:
        raise InputError(f"referral share: must be in (0, 1], got {share}")
    p0, _ = advance.class_pmfs(scenario)
    order = np.argsort(-lookup.table, kind="stable")
    scores = lookup.table[order]
    above = np.cumsum(p0[order])
    # cells tied at a score are referred together: cut only between distinct scores
    last = np.r_[scores[1:] != scores[:-1], True]
    ok = last & (above <= share + 1e-12)
    if not ok.any():
        return float(np.nextafter(scores[0], np.inf))  # even the top cell is too many
    return float(scores[np.flatnonzero(ok)[-1]])


LOOKUP_FORMAT = "portwatch-risk-lookup"


def read_lookup(path: Path, scenario: CompiledScenario) -> advance.RiskLookup:
    """The model ``portwatch risk train --out`` wrote, checked against ``scenario``'s
    feature grid; one-line errors naming the file."""
    import json

    where = path.name
    try:
        doc = json.loads(path.read_text())
    except OSError as exc:
        raise InputError(f"{where}: cannot read: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"{where}: not JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != LOOKUP_FORMAT:
        raise InputError(f"{where}: not a risk model (format must be {LOOKUP_FORMAT!r})")
    if doc.get("features") != list(advance.FEATURES):
        raise InputError(f"{where}: features: must be {list(advance.FEATURES)}")
    shape = advance.grid_shape(scenario)
    if doc.get("shape") != list(shape):
        raise InputError(f"{where}: shape {doc.get('shape')} does not fit {scenario.name}'s "
                         f"feature grid {list(shape)} (a model of another scenario?)")
    try:
        table = np.asarray(doc.get("table"), dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{where}: table: must be a list of numbers") from None
    if table.shape != (int(np.prod(shape)),) or not np.all((table >= 0) & (table <= 1)):
        raise InputError(f"{where}: table: must hold {int(np.prod(shape))} scores in [0, 1]")
    return advance.RiskLookup(shape, table, f"read from {where}")


def _base_rate(sc: CompiledScenario) -> float:
    """Share of crossings that carry a load (the naive adversary's daily mean)."""
    return float(sc.loads_per_day / (sc.daily_volume.sum() + sc.loads_per_day
                                     + sc.decoys_per_day))


def uses_risk(policy: Policy) -> bool:
    """True when ``policy`` reads the risk score (a threshold or several tiers)."""
    return policy.risk_threshold is not None or policy.n_tiers > 1


__all__ = [
    "MAX_PERIODS",
    "PORT_MODEL_SEED",
    "MimicryRow",
    "PortRiskEvaluation",
    "evaluate_port_risk",
    "threshold_for_share",
    "with_mimicry",
    "labelled_history",
    "lookup_from_model",
    "port_risk_lookup",
    "read_lookup",
    "train_lookup",
    "use_port_risk_lookup",
    "uses_risk",
]
