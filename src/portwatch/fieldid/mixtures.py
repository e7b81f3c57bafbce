"""Mixture analysis: which library compounds, in what proportions, explain a spectrum.

Forward selection with non-negative least squares: at each step the references most
correlated with the current residual are tried, and the one whose addition (refit by
NNLS with everything chosen so far) lowers the residual most is kept, up to
``max_components``. A smooth low-order polynomial (both signs) rides along in every
fit to absorb what the baseline stage left. Packaging polymers are ordinary
candidates, so a bag is explained as a component and does not hide the contents;
fractions are then given among the contents only.

Evidence for a component is an F statistic: how much the residual sum of squares
grows when the component is dropped and the rest refit, over the residual variance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.polynomial import legendre
from scipy.optimize import nnls

from portwatch.domain.errors import InputError
from portwatch.domain.substances import SubstanceClass
from portwatch.fieldid.search import PreparedLibrary


@dataclass(frozen=True)
class Component:
    """One compound found in a spectrum.

    ``coefficient`` is its NNLS weight (unit-area reference against a unit-area query);
    ``fraction`` its share of the contents (packaging excluded; for packaging, its share
    of all signal), ``fraction_sd`` the standard error of that share from the fit's
    covariance, ``evidence`` the F statistic of dropping it.
    """

    index: int
    name: str
    substance_class: SubstanceClass
    coefficient: float
    fraction: float
    fraction_sd: float
    evidence: float
    shape_hqi: float
    unique_z: float = 0.0
    unique_hqi: float = 0.0


@dataclass(frozen=True)
class Decomposition:
    """The components found, the fitted spectrum and what it leaves unexplained.

    ``fitted_references`` is the part of the fit the references make (no baseline
    polynomial): what the open-set test asks to reproduce the query's bands;
    ``contributions`` the same per reference (by library index), its axis-drift columns
    included.
    """

    components: tuple[Component, ...]
    fitted: np.ndarray
    residual: np.ndarray
    fit_r2: float
    rss: float
    fitted_references: np.ndarray | None = None
    contributions: dict[int, np.ndarray] | None = None

    def fraction_of(self, name: str) -> float:
        """The estimated fraction of ``name`` (0 when it was not found)."""
        return next((c.fraction for c in self.components if c.name == name), 0.0)


#: References correlated above this with a chosen one are not added beside it.
ANALOGUE_CORRELATION = 0.95


def baseline_columns(n_points: int, degree: int, scale: float) -> np.ndarray:
    """Legendre polynomials up to ``degree``, both signs, as NNLS columns (n x 2(d+1))."""
    if degree < 0:
        return np.zeros((n_points, 0))
    t = np.linspace(-1.0, 1.0, n_points)
    cols = np.stack([legendre.legval(t, np.eye(degree + 1)[k]) for k in range(degree + 1)], 1)
    cols *= scale / np.linalg.norm(cols, axis=0)
    return np.hstack([cols, -cols])


def _fit(a: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, float]:
    coef, rnorm = nnls(a, q, maxiter=50 * a.shape[1])
    return coef, float(rnorm * rnorm)


def decompose(
    prepared: PreparedLibrary,
    query: np.ndarray,
    max_components: int = 4,
    beam: int = 6,
    min_gain: float = 0.01,
    baseline_degree: int = 2,
) -> Decomposition:
    """Explain the preprocessed ``query`` by up to ``max_components`` references.

    ``beam`` references (those most correlated with the residual) are tried at each
    step; a step must lower the residual sum of squares by at least ``min_gain``
    (relative) to be kept.
    """
    if not 1 <= max_components <= 8:
        raise InputError(f"max_components: must be 1..8, got {max_components}")
    q = np.asarray(query, dtype=float)
    refs = prepared.matrix
    if q.shape != (refs.shape[1],):
        raise InputError(f"query has {q.size} points, library axis has {refs.shape[1]}")
    scale = float(np.median(np.linalg.norm(refs, axis=1)))
    poly = baseline_columns(q.size, baseline_degree, scale)
    chosen: list[int] = []
    coef, rss = _fit(poly, q) if poly.shape[1] else (np.zeros(0), float(q @ q))
    tss = float(((q - q.mean()) ** 2).sum())
    while len(chosen) < max_components:
        residual = q - _design(refs, chosen, poly) @ coef
        centred = residual - residual.mean()
        score = prepared.unit_rows @ centred
        score[chosen] = -np.inf
        if chosen:
            # a near-duplicate of a chosen reference (a drug and its analogue) would only
            # split one compound's bands between two names, weakening both
            twins = np.max(prepared.unit_rows @ prepared.unit_rows[chosen].T, axis=1)
            score[twins > ANALOGUE_CORRELATION] = -np.inf
        best: tuple[float, int, np.ndarray] | None = None
        for i in np.argsort(-score)[:beam]:
            if score[i] <= 0:
                break
            trial_coef, trial_rss = _fit(_design(refs, [*chosen, int(i)], poly), q)
            if best is None or trial_rss < best[0]:
                best = (trial_rss, int(i), trial_coef)
        if best is None or (rss - best[0]) < min_gain * rss:
            break
        rss, new, coef = best
        chosen.append(new)
        # a reference NNLS has priced at zero is not part of the explanation
        keep = [c for k, c in enumerate(chosen) if coef[k] > 0]
        if len(keep) < len(chosen):
            chosen = keep
            coef, rss = _fit(_design(refs, chosen, poly), q)
    chosen = _settle_analogues(prepared, q, chosen, poly)
    return _summarise(prepared, q, chosen, poly, tss, prepared.pipeline.noise_autocorrelation())


def _settle_analogues(
    prepared: PreparedLibrary, q: np.ndarray, chosen: list[int], poly: np.ndarray
) -> list[int]:
    """Each chosen reference swapped for an analogue when the final fit prefers the analogue.

    Forward selection picks between a compound and its near-duplicate (fentanyl and
    carfentanil share every band but one) on a fit without the axis-drift columns, at
    the step it adds it; the name reported should be the one the final fit (with the
    drift columns and every other component) explains best. Only references correlated
    above ``ANALOGUE_CORRELATION`` with the chosen one are tried.
    """
    if not chosen:
        return chosen
    rows = prepared.unit_rows
    drift = prepared.drift_matrix
    out = list(chosen)
    for k, i in enumerate(chosen):
        close = np.flatnonzero(rows @ rows[i] > ANALOGUE_CORRELATION)
        twins: list[int] = [int(j) for j in close if j != i and j not in out]
        if not twins:
            continue
        best_rss = _fit(_final_design(prepared.matrix, out, poly, drift)[0], q)[1]
        for j in twins:
            trial: list[int] = [*out[:k], j, *out[k + 1 :]]
            trial_rss = _fit(_final_design(prepared.matrix, trial, poly, drift)[0], q)[1]
            if trial_rss < best_rss:
                best_rss, out = trial_rss, trial
    return out


def _design(refs: np.ndarray, chosen: list[int], poly: np.ndarray) -> np.ndarray:
    return np.hstack([refs[chosen].T, poly]) if chosen else poly


def _final_design(
    refs: np.ndarray, chosen: list[int], poly: np.ndarray, drift: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """References, polynomial and each reference's +/- axis-drift column; column owners.

    A reference's derivative along the axis, with either sign, lets the fit follow a
    drift of a couple of cm-1 (first-order Taylor term) instead of inventing a
    neighbouring compound to fill the misfit. Owner -1 marks the polynomial.
    """
    cols = [refs[chosen].T, poly]
    owner = [np.arange(len(chosen)), np.full(poly.shape[1], -1)]
    for k, i in enumerate(chosen):
        cols.append(np.stack([drift[i], -drift[i]], axis=1))
        owner.append(np.array([k, k]))
    return np.hstack(cols), np.concatenate(owner)


def _summarise(
    prepared: PreparedLibrary,
    q: np.ndarray,
    chosen: list[int],
    poly: np.ndarray,
    tss: float,
    rho: np.ndarray,
) -> Decomposition:
    """Components with their evidence, on noise whose point-to-point correlation is ``rho``.

    Smoothed noise is correlated, so a sum of squares over the axis holds fewer
    independent terms than points: the F statistic is divided by the number of points
    that carry one independent term (``_correlation_points``), and the unique signal's
    z-score uses the variance of a sum of correlated points.
    """
    fit = _final_fit(prepared, q, chosen, poly)
    points = _correlation_points(rho)
    components = [_component(prepared, q, fit, k, points, rho) for k in range(len(chosen))]
    components.sort(key=lambda c: (c.substance_class is SubstanceClass.PACKAGING, -c.fraction))
    a, coef, owner, rss = fit.design, fit.coef, fit.owner, fit.rss
    fit_r2 = 1.0 - rss / tss if tss > 0 else 0.0
    refs_only = owner >= 0
    fitted_refs = a[:, refs_only] @ coef[refs_only] if refs_only.any() else np.zeros_like(q)
    parts = {int(i): a[:, owner == k] @ coef[owner == k] for k, i in enumerate(chosen)}
    return Decomposition(
        tuple(components), fit.fitted, q - fit.fitted, float(fit_r2), float(rss), fitted_refs,
        parts,
    )  # fmt: skip


@dataclass(frozen=True)
class _FinalFit:
    """The final least-squares fit of the chosen references (``_summarise``)."""

    chosen: list[int]
    design: np.ndarray
    owner: np.ndarray
    coef: np.ndarray
    rss: float
    fitted: np.ndarray
    sigma2: float
    classes: list[SubstanceClass]
    #: which chosen references are contents (not packaging), and the coefficient totals
    contents: np.ndarray
    contents_total: float
    all_total: float
    cov: np.ndarray


def _final_fit(
    prepared: PreparedLibrary, q: np.ndarray, chosen: list[int], poly: np.ndarray
) -> _FinalFit:
    """Fit the chosen references with the polynomial and drift columns; noise and totals."""
    a, owner = _final_design(prepared.matrix, chosen, poly, prepared.drift_matrix)
    coef, rss = _fit(a, q) if a.shape[1] else (np.zeros(0), float(q @ q))
    fitted = a @ coef if a.shape[1] else np.zeros_like(q)
    dof = max(q.size - int((coef > 0).sum()), 1)
    sigma2 = max(rss / dof, 1e-30)
    classes = [prepared.references[i].substance_class for i in chosen]
    ref_coef = coef[: len(chosen)]
    contents = np.array([c is not SubstanceClass.PACKAGING for c in classes], dtype=bool)
    contents_total = float(ref_coef[contents].sum()) if contents.any() else 0.0
    cov = _covariance(a, coef, sigma2)[: len(chosen), : len(chosen)]
    return _FinalFit(
        chosen, a, owner, coef, rss, fitted, sigma2, classes, contents, contents_total,
        float(ref_coef.sum()), cov,
    )  # fmt: skip


def _component(
    prepared: PreparedLibrary,
    q: np.ndarray,
    fit: _FinalFit,
    k: int,
    points: float,
    rho: np.ndarray,
) -> Component:
    """The ``k``-th chosen reference as a component: share, evidence, unique signal."""
    i = fit.chosen[k]
    ref = prepared.matrix[i]
    a, coef, rss = fit.design, fit.coef, fit.rss
    ref_coef = coef[: len(fit.chosen)]
    mine = fit.owner == k
    without = a[:, ~mine]
    rss_without = _fit(without, q)[1] if without.shape[1] else float(q @ q)
    if fit.classes[k] in (SubstanceClass.CONTROLLED, SubstanceClass.EXPLOSIVE):
        rss_without = _best_replacement(prepared, q, without, fit.chosen, rss_without)
    evidence = max(rss_without - rss, 0.0) / fit.sigma2 / points
    group = fit.contents if fit.contents[k] else np.ones(len(fit.chosen), dtype=bool)
    total = fit.contents_total if fit.contents[k] else fit.all_total
    fraction = float(ref_coef[k] / total) if total > 0 else 0.0
    fraction_sd = _ratio_sd(k, group, ref_coef, fit.cov, total)
    partial = q - fit.fitted + a[:, mine] @ coef[mine]
    unique_z, unique_hqi = _unique_signal(
        ref_coef[k] * ref, fit.fitted, partial, ref, np.sqrt(fit.sigma2), rho
    )
    return Component(
        int(i), prepared.references[i].name, fit.classes[k], float(ref_coef[k]), fraction,
        fraction_sd, float(evidence), _shape_hqi(ref, partial), unique_z, unique_hqi,
    )  # fmt: skip


#: Lags (points) over which the residual's misfit is taken as correlated in the
#: forced-in bounds (assumed: 16 points of 2 cm-1, two to three band widths).
MISFIT_LAGS = 16


@dataclass(frozen=True)
class ForcedBound:
    """A controlled or explosive reference the fit left out, forced back in.

    ``fraction`` is its share of the fitted references' signal (packaging included: an
    empty bag has no contents to take a share of) when its column is added to the
    final fit with a free coefficient (either sign); ``fraction_sd`` the delta-method
    standard error of that share, counting the noise as the smoothing correlates it,
    or the fit's local, correlated misfit where that is larger (``_misfit_sd``);
    ``z`` its coefficient over that coefficient's standard error; ``noise_sd`` the
    standard error of the share from the noise carried from the raw counts alone
    (correlated by the smoothing; 0 when that noise is not known), without the misfit.
    """

    index: int
    name: str
    substance_class: SubstanceClass
    fraction: float
    fraction_sd: float
    z: float
    noise_sd: float = 0.0


def forced_bounds(
    prepared: PreparedLibrary, query: np.ndarray, decomposition: Decomposition, noise: float = 0.0
) -> tuple[ForcedBound, ...]:
    """Each controlled or explosive reference outside the fit, forced in: its share and error.

    The non-negative fit drops a drug whose bands another reference (or the baseline)
    can take, so a sample with a drug at a few percent can read as its cutting agent
    alone, and nothing bounds the drug. Forcing each one in (one extra column with a
    free coefficient beside the fit as it ended: its chosen references, polynomial
    and drift columns, non-negative, so that a reference that only took the drug's
    bands drops out) gives the share the spectrum allows it. An analogue of a
    reference already in the fit (correlation above ``ANALOGUE_CORRELATION``) is not
    forced in: the two columns could not be told apart, and the one in the fit
    already carries the bound. ``noise`` is the query's per-point noise carried from the
    raw counts (``ForcedBound.noise_sd``).
    """
    q = np.asarray(query, dtype=float)
    refs = prepared.matrix
    chosen = [c.index for c in decomposition.components]
    scale = float(np.median(np.linalg.norm(refs, axis=1)))
    poly = baseline_columns(q.size, 2, scale)
    a = _final_design(refs, chosen, poly, prepared.drift_matrix)[0]
    rho = prepared.pipeline.noise_autocorrelation()
    rows = prepared.unit_rows
    out = []
    for i, ref in enumerate(prepared.references):
        if i in chosen or ref.substance_class not in (
            SubstanceClass.CONTROLLED,
            SubstanceClass.EXPLOSIVE,
        ):
            continue
        if chosen and float(np.max(rows[chosen] @ rows[i])) > ANALOGUE_CORRELATION:
            continue
        # the others stay non-negative: one that only took the drug's bands drops out
        both = np.hstack([a, refs[i][:, None], -refs[i][:, None]])
        mine = _fit(both, q)[0][: a.shape[1]] > 0
        x = np.hstack([a[:, mine], refs[i][:, None]])
        solve = np.linalg.pinv(x)  # coefficients = solve @ q
        b = solve @ q
        k = b.size - 1
        residual = q - x @ b
        sigma = float(np.sqrt(max(residual @ residual / max(q.size - b.size, 1), 1e-30)))
        signal = np.flatnonzero(mine) < len(chosen)
        others = float(b[:k][signal].sum())
        grad = np.zeros(b.size)  # gradient of the fraction in the coefficients
        if b[k] >= 0 and others + b[k] > 0:
            total = others + float(b[k])
            fraction = float(b[k] / total)
            grad[:k][signal] = -b[k] / total**2
            grad[k] = 1.0 / total - b[k] / total**2
        elif others > 0:
            fraction = float(b[k] / others)
            grad[k] = 1.0 / others
        else:
            continue
        # the fraction is linear in the query to first order (v . query): its error is
        # the noise's, correlated by the smoothing, or the misfit's if that is larger
        v = solve.T @ grad
        sd = max(_linear_sd(v, sigma, rho), _misfit_sd(v, residual, MISFIT_LAGS))
        sd_b = max(_linear_sd(solve[k], sigma, rho), _misfit_sd(solve[k], residual, MISFIT_LAGS))
        z = float(b[k] / sd_b) if sd_b > 0 else 0.0
        noise_sd = _linear_sd(v, noise, rho)
        out.append(ForcedBound(i, ref.name, ref.substance_class, fraction, sd, z, noise_sd))
    return tuple(out)


def _linear_sd(v: np.ndarray, sigma: float, rho: np.ndarray) -> float:
    """Standard deviation of ``v . noise`` for noise of sd ``sigma`` correlated as ``rho``."""
    total = float(v @ v)
    for lag in range(1, rho.size):
        total += 2.0 * float(rho[lag]) * float(v[:-lag] @ v[lag:])
    return sigma * float(np.sqrt(max(total, 0.0)))


def _misfit_sd(v: np.ndarray, residual: np.ndarray, lags: int) -> float:
    """Standard deviation of ``v . residual`` counting the residual's local correlation.

    The Newey-West estimate: the products of ``v`` and the residual, their lagged
    cross-sums weighted by a Bartlett taper up to ``lags``. A reference misfit (band
    heights and widths that differ from the library's) leaves a residual that is
    neither white nor spread evenly: it sits, correlated over a band width, under the
    bands of the compounds fitted. A drug whose bands overlap them can take it.
    """
    u = v * residual
    total = float(u @ u)
    for lag in range(1, min(lags, u.size - 1) + 1):
        total += 2.0 * (1.0 - lag / (lags + 1.0)) * float(u[:-lag] @ u[lag:])
    return float(np.sqrt(max(total, 0.0)))


def _best_replacement(
    prepared: PreparedLibrary,
    q: np.ndarray,
    without: np.ndarray,
    chosen: list[int],
    rss_without: float,
    beam: int = 6,
) -> float:
    """The lowest residual when a controlled component is swapped for a non-controlled one.

    A controlled compound only counts as found if no benign reference can take its
    place nearly as well: misfit left by the other components is often absorbed by
    whichever reference happens to have bands there.
    """
    coef, _ = _fit(without, q) if without.shape[1] else (np.zeros(0), 0.0)
    residual = q - without @ coef if without.shape[1] else q
    score = prepared.unit_rows @ (residual - residual.mean())
    best = rss_without
    tried = 0
    for i in np.argsort(-score):
        if tried >= beam or score[i] <= 0:
            break
        ref = prepared.references[i]
        if i in chosen or ref.substance_class in (
            SubstanceClass.CONTROLLED,
            SubstanceClass.EXPLOSIVE,
        ):
            continue
        tried += 1
        trial = np.hstack(
            [
                without,
                prepared.matrix[i][:, None],
                prepared.drift_matrix[i][:, None],
                -prepared.drift_matrix[i][:, None],
            ]
        )
        best = min(best, _fit(trial, q)[1])
    return best


def _correlation_points(rho: np.ndarray) -> float:
    """Points per independent noise term of a long sum: 1 + 2 x the sum of correlations."""
    return float(rho[0] + 2.0 * rho[1:].sum())


def _sum_sd(where: np.ndarray, sigma: float, rho: np.ndarray) -> float:
    """Standard deviation of the noise summed over the points ``where``."""
    idx = np.flatnonzero(where)
    if rho.size <= 1:
        return sigma * float(np.sqrt(idx.size))
    lag = np.abs(idx[:, None] - idx[None, :])
    covariance = np.where(lag < rho.size, rho[np.minimum(lag, rho.size - 1)], 0.0)
    return sigma * float(np.sqrt(covariance.sum()))


def _unique_signal(
    contribution: np.ndarray,
    fitted: np.ndarray,
    partial: np.ndarray,
    reference: np.ndarray,
    sigma: float,
    rho: np.ndarray | None = None,
) -> tuple[float, float]:
    """Signal a component carries alone: z-score and band-pattern HQI where it dominates.

    Points where the component makes at least half of the fitted spectrum are the only
    ones no other component (or misfit of one) can account for. ``z`` is the partial
    residual summed over them in units of its noise; the HQI compares its shape there
    with the reference's.
    """
    top = reference.max()
    if top <= 0:
        return 0.0, 0.0
    where = (contribution >= 0.5 * np.abs(fitted)) & (reference > 0.05 * top)
    n = int(where.sum())
    if n < 3 or sigma <= 0:
        return 0.0, 0.0
    z = float(partial[where].sum() / _sum_sd(where, sigma, np.ones(1) if rho is None else rho))
    r = np.corrcoef(reference[where], partial[where])[0, 1]
    hqi = float(r * r) if np.isfinite(r) and r > 0 else 0.0
    return z, hqi


def _shape_hqi(reference: np.ndarray, partial: np.ndarray, floor: float = 0.05) -> float:
    """Squared correlation of ``reference`` and ``partial`` where the reference has bands."""
    where = reference > floor * reference.max()
    if where.sum() < 3:
        return 0.0
    r = np.corrcoef(reference[where], partial[where])[0, 1]
    return float(r * r) if np.isfinite(r) and r > 0 else 0.0


def _covariance(a: np.ndarray, coef: np.ndarray, sigma2: float) -> np.ndarray:
    """Covariance of the coefficients, treating the active set as fixed (zeros elsewhere)."""
    k = a.shape[1]
    cov = np.zeros((k, k))
    active = np.flatnonzero(coef > 0)
    if active.size:
        sub = a[:, active]
        cov[np.ix_(active, active)] = sigma2 * np.linalg.pinv(sub.T @ sub)
    return cov


def _ratio_sd(k: int, group: np.ndarray, coef: np.ndarray, cov: np.ndarray, total: float) -> float:
    """Delta-method standard error of coef[k] / sum(coef[group])."""
    if total <= 0:
        return 0.0
    grad = np.zeros(cov.shape[0])
    members = np.flatnonzero(group)
    grad[members] = -coef[k] / total**2
    grad[k] += 1.0 / total
    return float(np.sqrt(max(grad @ cov @ grad, 0.0)))


def exhaustive_pairs(prepared: PreparedLibrary, query: np.ndarray) -> tuple[int, int, float]:
    """The naive peer: NNLS of ``query`` on every pair of references; the best pair.

    Returns (i, j, rss). Cost grows with the square of the library size; the
    benchmark runs it beside ``decompose``.
    """
    refs = prepared.matrix
    q = np.asarray(query, dtype=float)
    best = (0, 0, float("inf"))
    n = refs.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            _, rss = _fit(np.stack([refs[i], refs[j]], axis=1), q)
            if rss < best[2]:
                best = (i, j, rss)
    return best


__all__ = [
    "Component",
    "Decomposition",
    "ForcedBound",
    "baseline_columns",
    "decompose",
    "exhaustive_pairs",
    "forced_bounds",
]
