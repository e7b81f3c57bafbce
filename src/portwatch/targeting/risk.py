"""Risk scores learned from advance information, with calibrated probabilities.

Knows nothing of ports: it takes a plain feature table (what is known before arrival,
one row per crossing, numeric columns), a label (the crossing carried contraband) and a
time (to split by period), and returns a calibrated classifier and its evaluation.

- ``fit_risk_model``: scikit-learn's ``HistGradientBoostingClassifier`` wrapped in
  ``CalibratedClassifierCV`` (isotonic by default), so a score of 0.2 means about one in
  five such crossings carries contraband, which is what a risk threshold or a risk tier
  in a ``Policy`` needs.
- ``time_split``: train on the earlier period, hold out the later one (a model is
  always used on crossings after the ones it learned from).
- ``evaluate``: AUC, lift at the referral rate (the share of loads among the top-scored
  ``rate`` of crossings over the base rate), Brier score, expected calibration error and
  a reliability table, with bootstrap 95% intervals drawn from the generator passed in.
- ``mimicry_decay``: the cartel copies low-risk profiles: for a share of the held-out
  loads, the columns it can fake are replaced by those of randomly drawn clean crossings;
  the model (trained before the cartel adapted) is re-evaluated at each share.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from portwatch.domain.errors import InputError


@dataclass(frozen=True, eq=False)
class RiskTable:
    """Crossings as rows: ``features[n, k]`` named by ``feature_names``, ``label[n]``
    (carried contraband) and ``time_s[n]`` (when the crossing happened)."""

    features: np.ndarray
    feature_names: tuple[str, ...]
    label: np.ndarray
    time_s: np.ndarray

    def __post_init__(self) -> None:
        x = np.asarray(self.features, dtype=np.float64)
        y = np.asarray(self.label).astype(bool)
        t = np.asarray(self.time_s, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.feature_names):
            raise InputError(f"features: must be [rows, {len(self.feature_names)}] "
                             f"(one column per name), got shape {x.shape}")
        if y.shape != (x.shape[0],) or t.shape != (x.shape[0],):
            raise InputError(f"label, time_s: one value per row ({x.shape[0]}), got "
                             f"{y.shape[0] if y.ndim else 0} and {t.shape[0] if t.ndim else 0}")
        bad = np.argwhere(~np.isfinite(x))
        if len(bad):
            r, c = bad[0]
            raise InputError(f"features[{r}].{self.feature_names[c]}: must be a finite number")
        for name, arr in (("features", x), ("label", y), ("time_s", t)):
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @property
    def n_rows(self) -> int:
        return int(self.features.shape[0])

    def rows(self, mask: np.ndarray) -> RiskTable:
        """The table restricted to ``mask`` (boolean or indices)."""
        return RiskTable(self.features[mask], self.feature_names, self.label[mask],
                         self.time_s[mask])


def time_split(table: RiskTable, holdout_share: float) -> tuple[RiskTable, RiskTable]:
    """(earlier, later): the last ``holdout_share`` of the time span is held out."""
    if not 0.0 < holdout_share < 1.0:
        raise InputError(f"holdout_share: must be in (0, 1), got {holdout_share}")
    t0, t1 = float(table.time_s.min()), float(table.time_s.max())
    cut = t1 - holdout_share * (t1 - t0)
    late = table.time_s > cut
    if late.all() or not late.any():
        raise InputError("time_s: cannot split; every crossing falls in one period")
    return table.rows(~late), table.rows(late)


@dataclass(frozen=True, eq=False)
class RiskModel:
    """A fitted, calibrated risk model (learned state; see ``fit_risk_model``)."""

    feature_names: tuple[str, ...]
    estimator: object
    calibration: str
    trained_rows: int
    trained_base_rate: float

    def score(self, features: np.ndarray) -> np.ndarray:
        """Calibrated probability that each row carries contraband."""
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.feature_names):
            raise InputError(f"features: must have {len(self.feature_names)} columns "
                             f"({', '.join(self.feature_names)}), got shape {x.shape}")
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):  # see fit_risk_model
            return self.estimator.predict_proba(x)[:, 1]  # type: ignore[attr-defined]


def fit_risk_model(table: RiskTable, *, rng: np.random.Generator,
                   calibration: str = "isotonic", cv: int = 3) -> RiskModel:
    """Fit a calibrated gradient-boosted classifier on ``table`` (see the module)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier

    if calibration not in ("isotonic", "sigmoid"):
        raise InputError(f"calibration: must be 'isotonic' or 'sigmoid', got {calibration!r}")
    positives = int(table.label.sum())
    if positives < cv or table.n_rows - positives < cv:
        raise InputError(f"label: training needs at least {cv} crossings of each class, got "
                         f"{positives} with contraband and {table.n_rows - positives} without")
    seed = int(rng.integers(2**31 - 1))
    base = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1,
                                          random_state=seed)
    est = CalibratedClassifierCV(base, method=calibration, cv=cv)
    # One OpenMP thread: on a shared, loaded machine the boosting's threads spin against
    # each other (a 4,000-row fit went from 3 s to over 100 s); one thread is also
    # reproducible run to run.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        est.fit(table.features, table.label)
    return RiskModel(table.feature_names, est, calibration, table.n_rows,
                     float(table.label.mean()))


def lift_at(score: np.ndarray, label: np.ndarray, rate: float) -> float:
    """Share of loads among the top ``rate`` of crossings by score, over the base rate."""
    if not 0.0 < rate <= 1.0:
        raise InputError(f"referral rate: must be in (0, 1], got {rate}")
    y = np.asarray(label, dtype=bool)
    base = y.mean()
    if base == 0:
        return float("nan")
    k = max(1, int(round(rate * len(y))))
    top = np.argsort(-np.asarray(score), kind="stable")[:k]
    return float(y[top].mean() / base)


def auc(score: np.ndarray, label: np.ndarray) -> float:
    """Area under the ROC curve (the chance a load outscores a clean crossing)."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(label, dtype=bool)
    if y.all() or not y.any():
        return float("nan")
    return float(roc_auc_score(y, score))


def calibration_table(score: np.ndarray, label: np.ndarray, bins: int = 10
                      ) -> list[tuple[float, float, float, int]]:
    """Reliability rows (bin low, mean score, observed rate, count) over equal-count bins."""
    order = np.argsort(np.asarray(score), kind="stable")
    rows = []
    for chunk in np.array_split(order, bins):
        if len(chunk):
            s = np.asarray(score)[chunk]
            rows.append((float(s.min()), float(s.mean()),
                         float(np.asarray(label)[chunk].mean()), int(len(chunk))))
    return rows


def expected_calibration_error(score: np.ndarray, label: np.ndarray, bins: int = 10) -> float:
    """Count-weighted mean |mean score - observed rate| over equal-count bins."""
    rows = calibration_table(score, label, bins)
    n = sum(r[3] for r in rows)
    return float(sum(r[3] * abs(r[1] - r[2]) for r in rows) / n)


@dataclass(frozen=True)
class Interval:
    """A point estimate with a bootstrap 95% interval."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class RiskReport:
    """How a risk model did on a held-out table."""

    rows: int
    base_rate: float
    referral_rate: float
    auc: Interval
    lift: Interval
    brier: float
    ece: float
    reliability: list[tuple[float, float, float, int]] = field(default_factory=list)


def _bootstrap(score: np.ndarray, label: np.ndarray, stat, rng: np.random.Generator,  # noqa: ANN001
               n_boot: int) -> Interval:
    value = stat(score, label)
    n = len(label)
    draws = [stat(score[idx], label[idx]) for idx in
             (rng.integers(0, n, n) for _ in range(n_boot))]
    draws = [d for d in draws if np.isfinite(d)]
    low, high = (np.percentile(draws, [2.5, 97.5]) if draws else (np.nan, np.nan))
    return Interval(float(value), float(low), float(high))


def evaluate(model: RiskModel, table: RiskTable, *, referral_rate: float,
             rng: np.random.Generator, n_boot: int = 200) -> RiskReport:
    """AUC and lift (with bootstrap intervals), Brier score and calibration on ``table``."""
    s = model.score(table.features)
    y = table.label
    return RiskReport(
        rows=table.n_rows, base_rate=float(y.mean()), referral_rate=referral_rate,
        auc=_bootstrap(s, y, auc, rng, n_boot),
        lift=_bootstrap(s, y, lambda a, b: lift_at(a, b, referral_rate), rng, n_boot),
        brier=float(np.mean((s - y) ** 2)),
        ece=expected_calibration_error(s, y),
        reliability=calibration_table(s, y),
    )


def mimic(table: RiskTable, mimicable: tuple[str, ...], share: float,
          rng: np.random.Generator) -> RiskTable:
    """``table`` with ``share`` of its loads wearing clean crossings' ``mimicable`` columns."""
    if not 0.0 <= share <= 1.0:
        raise InputError(f"mimicry share: must be in [0, 1], got {share}")
    unknown = [c for c in mimicable if c not in table.feature_names]
    if unknown:
        raise InputError(f"mimicable: unknown feature {unknown[0]!r}")
    cols = np.array([table.feature_names.index(c) for c in mimicable], dtype=np.int64)
    x = np.array(table.features)
    loads = np.flatnonzero(table.label)
    clean = np.flatnonzero(~table.label)
    chosen = loads[rng.random(len(loads)) < share]
    donors = clean[rng.integers(0, len(clean), len(chosen))]
    x[np.ix_(chosen, cols)] = table.features[np.ix_(donors, cols)]
    return RiskTable(x, table.feature_names, table.label, table.time_s)


def mimicry_decay(model: RiskModel, table: RiskTable, mimicable: tuple[str, ...], *,
                  shares: tuple[float, ...], referral_rate: float,
                  rng: np.random.Generator, n_boot: int = 200) -> list[tuple[float, RiskReport]]:
    """The model's report on ``table`` at each mimicry share."""
    return [(s, evaluate(model, mimic(table, mimicable, s, rng), referral_rate=referral_rate,
                         rng=rng, n_boot=n_boot)) for s in shares]


__all__ = [
    "Interval",
    "RiskModel",
    "RiskReport",
    "RiskTable",
    "auc",
    "calibration_table",
    "evaluate",
    "expected_calibration_error",
    "fit_risk_model",
    "lift_at",
    "mimic",
    "mimicry_decay",
    "time_split",
]
