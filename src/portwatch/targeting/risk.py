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

A table may carry a ``weight`` per row: the number of crossings the row stands for, so
that crossings with the same features, label and period are one row (what a port with
discrete advance information and months of traffic needs). Every measure then counts
crossings, and the bootstrap resamples crossings (a Poisson bootstrap of the counts).
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
    weight: np.ndarray | None = None
    """Crossings each row stands for (None: one each)."""

    def __post_init__(self) -> None:
        x = np.asarray(self.features, dtype=np.float64)
        y = np.asarray(self.label).astype(bool)
        t = np.asarray(self.time_s, dtype=np.float64)
        w = (np.ones(x.shape[0] if x.ndim == 2 else 0) if self.weight is None
             else np.asarray(self.weight, dtype=np.float64))
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
        if w.shape != (x.shape[0],) or not np.all(np.isfinite(w) & (w >= 0)):
            raise InputError(f"weight: one finite value >= 0 per row ({x.shape[0]})")
        for name, arr in (("features", x), ("label", y), ("time_s", t), ("weight", w)):
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @property
    def n_rows(self) -> int:
        return int(self.features.shape[0])

    @property
    def w(self) -> np.ndarray:
        """The row weights (ones when none were given)."""
        assert self.weight is not None  # set in __post_init__
        return self.weight

    @property
    def crossings(self) -> float:
        """Crossings the table stands for (the sum of the weights)."""
        return float(self.w.sum())

    @property
    def base_rate(self) -> float:
        """Share of crossings that carried contraband."""
        return float(self.w[self.label].sum() / max(self.crossings, 1e-300))

    def rows(self, mask: np.ndarray) -> RiskTable:
        """The table restricted to ``mask`` (boolean or indices)."""
        return RiskTable(self.features[mask], self.feature_names, self.label[mask],
                         self.time_s[mask], self.w[mask])


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


def _time_folds(table: RiskTable, cv: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Calibration folds that keep each period (value of ``time_s``) whole, so that a
    period's crossings are never split between fitting and calibrating."""
    times, period = np.unique(table.time_s, return_inverse=True)
    if len(times) < cv:
        raise InputError(f"time_s: folding by period needs at least {cv} periods, got "
                         f"{len(times)}")
    fold = period % cv
    return [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(cv)]


def fit_risk_model(table: RiskTable, *, rng: np.random.Generator,
                   calibration: str = "isotonic", cv: int = 3,
                   folds_by_period: bool = False, categorical: bool = False) -> RiskModel:
    """Fit a calibrated gradient-boosted classifier on ``table`` (see the module), with
    the row weights as sample weights. ``folds_by_period`` keeps each period whole in
    the calibration folds (needed when rows aggregate crossings). ``categorical``: every
    feature is a small non-negative integer code (hour, commodity, ...), split by category
    rather than by order, with a smaller, more regularised ensemble (few hundred loads).
    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier

    if calibration not in ("isotonic", "sigmoid"):
        raise InputError(f"calibration: must be 'isotonic' or 'sigmoid', got {calibration!r}")
    positives = int(table.label.sum())
    if positives < cv or table.n_rows - positives < cv:
        raise InputError(f"label: training needs at least {cv} crossings of each class, got "
                         f"{positives} with contraband and {table.n_rows - positives} without")
    seed = int(rng.integers(2**31 - 1))
    if categorical:
        base = HistGradientBoostingClassifier(
            max_iter=100, learning_rate=0.05, max_leaf_nodes=8, l2_regularization=1.0,
            categorical_features=[True] * len(table.feature_names), random_state=seed)
    else:
        base = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1,
                                              random_state=seed)
    folds = _time_folds(table, cv) if folds_by_period else cv
    est = CalibratedClassifierCV(base, method=calibration, cv=folds)
    # One OpenMP thread: on a shared, loaded machine the boosting's threads spin against
    # each other (a 4,000-row fit went from 3 s to over 100 s); one thread is also
    # reproducible run to run.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        # weights scaled to mean 1: only their ratios matter to the fit, and the
        # booster's regularisation and split thresholds are set for unit weights
        est.fit(table.features, table.label, sample_weight=table.w / table.w.mean())
    return RiskModel(table.feature_names, est, calibration, table.n_rows, table.base_rate)


def _w(label: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    return np.ones(len(label)) if weight is None else np.asarray(weight, dtype=np.float64)


def lift_at(score: np.ndarray, label: np.ndarray, rate: float,
            weight: np.ndarray | None = None) -> float:
    """Share of loads among the top ``rate`` of crossings by score, over the base rate.
    Crossings tied at the cut are taken in proportion (the mean over random tie-breaks);
    without ties and weights this is the top ``round(rate * n)`` rows."""
    if not 0.0 < rate <= 1.0:
        raise InputError(f"referral rate: must be in (0, 1], got {rate}")
    y = np.asarray(label, dtype=bool)
    w = _w(y, weight)
    total = w.sum()
    base = w[y].sum() / total if total > 0 else 0.0
    if base == 0:
        return float("nan")
    s = np.asarray(score, dtype=np.float64)
    uniq, inv = np.unique(-s, return_inverse=True)  # groups of equal score, highest first
    gw = np.bincount(inv, weights=w, minlength=len(uniq))
    gy = np.bincount(inv, weights=w * y, minlength=len(uniq))
    k = rate * total if weight is not None else float(max(1, int(round(rate * len(y)))))
    before = np.cumsum(gw) - gw
    take = np.clip((k - before) / np.where(gw > 0, gw, 1.0), 0.0, 1.0)
    taken = float((take * gw).sum())
    return float((take * gy).sum() / taken / base)


def auc(score: np.ndarray, label: np.ndarray, weight: np.ndarray | None = None) -> float:
    """Area under the ROC curve (the chance a load outscores a clean crossing)."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(label, dtype=bool)
    w = _w(y, weight)
    if not (w[y] > 0).any() or not (w[~y] > 0).any():
        return float("nan")
    return float(roc_auc_score(y, score, sample_weight=None if weight is None else w))


def calibration_table(score: np.ndarray, label: np.ndarray, bins: int = 10,
                      weight: np.ndarray | None = None,
                      ) -> list[tuple[float, float, float, int]]:
    """Reliability rows (bin low, mean score, observed rate, crossings) over bins of
    equal count (equal weight; rows of one score stay in one bin when weighted)."""
    s = np.asarray(score, dtype=np.float64)
    y = np.asarray(label, dtype=np.float64)
    order = np.argsort(s, kind="stable")
    if weight is None:
        chunks = [c for c in np.array_split(order, bins) if len(c)]
    else:
        w = np.asarray(weight, dtype=np.float64)[order]
        cum = np.cumsum(w)
        edges = np.searchsorted(cum, cum[-1] * np.arange(1, bins) / bins, side="left")
        chunks = [c for c in np.split(order, np.unique(edges + 1)) if len(c)]
    w_all = _w(y, weight)
    rows = []
    for chunk in chunks:
        wc = w_all[chunk]
        if wc.sum() > 0:
            rows.append((float(s[chunk].min()), float(np.average(s[chunk], weights=wc)),
                         float(np.average(y[chunk], weights=wc)), int(round(wc.sum()))))
    return rows


def expected_calibration_error(score: np.ndarray, label: np.ndarray, bins: int = 10,
                               weight: np.ndarray | None = None) -> float:
    """Count-weighted mean |mean score - observed rate| over equal-count bins."""
    rows = calibration_table(score, label, bins, weight)
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
               n_boot: int, weight: np.ndarray | None = None) -> Interval:
    if weight is not None:
        # rows stand for many crossings: resample crossings (Poisson bootstrap of counts)
        value = stat(score, label, weight)
        draws = [stat(score, label, rng.poisson(weight).astype(np.float64))
                 for _ in range(n_boot)]
        draws = [d for d in draws if np.isfinite(d)]
        low, high = (np.percentile(draws, [2.5, 97.5]) if draws else (np.nan, np.nan))
        return Interval(float(value), float(low), float(high))
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
    return report_scores(model.score(table.features), table, referral_rate=referral_rate,
                         rng=rng, n_boot=n_boot)


def report_scores(s: np.ndarray, table: RiskTable, *, referral_rate: float,
                  rng: np.random.Generator, n_boot: int = 200) -> RiskReport:
    """The report of any scores ``s`` of ``table``'s rows (a model's, or an oracle's)."""
    y = table.label
    w = None if np.all(table.w == 1.0) else table.w
    return RiskReport(
        rows=int(round(table.crossings)), base_rate=table.base_rate,
        referral_rate=referral_rate,
        auc=_bootstrap(s, y, auc, rng, n_boot, w),
        lift=_bootstrap(s, y, lambda a, b, c=None: lift_at(a, b, referral_rate, c), rng,
                        n_boot, w),
        brier=float(np.average((s - y) ** 2, weights=table.w)),
        ece=expected_calibration_error(s, y, weight=w),
        reliability=calibration_table(s, y, weight=w),
    )


def mimic(table: RiskTable, mimicable: tuple[str, ...], share: float,
          rng: np.random.Generator) -> RiskTable:
    """``table`` with ``share`` of its loads wearing clean crossings' ``mimicable`` columns."""
    if not 0.0 <= share <= 1.0:
        raise InputError(f"mimicry share: must be in [0, 1], got {share}")
    if not np.all(table.w == 1.0):
        raise InputError("mimic: the table's rows stand for several crossings (weights); "
                         "mimicry swaps single crossings' columns")
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
    return RiskTable(x, table.feature_names, table.label, table.time_s, table.weight)


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
    "report_scores",
    "time_split",
]
