"""Library search: hit quality index and a derivative metric, top-k hits.

HQI is the squared Pearson correlation between the preprocessed query and a
preprocessed reference. The derivative metric is the same on Savitzky-Golay first
derivatives, which a slowly varying residual baseline barely touches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import savgol_filter

from portwatch.domain.substances import SubstanceClass
from portwatch.fieldid.library import Library, Reference
from portwatch.fieldid.preprocess import Pipeline, default_pipeline
from portwatch.fieldid.spectrum import Spectrum

DERIVATIVE_WINDOW = 9


@dataclass(frozen=True)
class PreparedLibrary:
    """A library's references for one laser, preprocessed onto the common axis.

    ``matrix`` has one row per reference (unit area, as the pipeline leaves them);
    ``unit_rows`` the same rows centred and scaled to unit norm for correlation;
    ``unit_derivative_rows`` likewise for first derivatives; ``drift_matrix`` each
    row's change for a 1 cm-1 axis shift (its derivative along the axis).
    """

    laser_nm: int
    axis_cm1: np.ndarray
    references: tuple[Reference, ...]
    matrix: np.ndarray
    unit_rows: np.ndarray
    unit_derivative_rows: np.ndarray
    pipeline: Pipeline
    drift_matrix: np.ndarray

    @property
    def names(self) -> list[str]:
        """Reference names in row order."""
        return [r.name for r in self.references]

    def classes(self) -> list[SubstanceClass]:
        """Reference classes in row order."""
        return [r.substance_class for r in self.references]


def _unit(rows: np.ndarray) -> np.ndarray:
    centred = rows - rows.mean(axis=-1, keepdims=True)
    norm = np.linalg.norm(centred, axis=-1, keepdims=True)
    return centred / np.where(norm == 0, 1.0, norm)


def derivative(intensity: np.ndarray) -> np.ndarray:
    """Savitzky-Golay first derivative (window 9 points, quadratic)."""
    return savgol_filter(intensity, DERIVATIVE_WINDOW, 2, deriv=1, axis=-1)


_CACHE: dict[tuple[int, int, str], tuple[Library, PreparedLibrary]] = {}


def prepare(library: Library, laser_nm: int, pipeline: Pipeline | None = None) -> PreparedLibrary:
    """Preprocess ``library``'s references for ``laser_nm`` (cached per library object)."""
    pipeline = pipeline or default_pipeline()
    key = (id(library), laser_nm, repr(pipeline))
    held = _CACHE.get(key)
    if held is not None and held[0] is library:
        return held[1]
    refs = library.select(laser_nm)
    axis = pipeline.axis()
    matrix = np.vstack([pipeline.apply(r.spectrum)[1] for r in refs])
    drift = np.gradient(matrix, axis, axis=1)
    prepared = PreparedLibrary(
        laser_nm, axis, refs, matrix, _unit(matrix), _unit(derivative(matrix)), pipeline, drift
    )
    if len(_CACHE) > 16:
        _CACHE.clear()
    _CACHE[key] = (library, prepared)
    return prepared


@dataclass(frozen=True)
class Hit:
    """One reference's match to a query: HQI and derivative HQI in [0, 1]."""

    name: str
    substance_class: SubstanceClass
    hqi: float
    derivative_hqi: float


def hqi_scores(prepared: PreparedLibrary, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """HQI and derivative HQI of the preprocessed ``query`` against every reference."""
    q = _unit(query[None, :])[0]
    dq = _unit(derivative(query)[None, :])[0]
    r = prepared.unit_rows @ q
    dr = prepared.unit_derivative_rows @ dq
    # anticorrelation is no match, so the sign is kept before squaring
    return np.where(r > 0, r * r, 0.0), np.where(dr > 0, dr * dr, 0.0)


def search(prepared: PreparedLibrary, spectrum: Spectrum | np.ndarray, top_k: int = 5) -> list[Hit]:
    """The ``top_k`` references most like ``spectrum``, best first (by HQI)."""
    query = prepared.pipeline.apply(spectrum)[1] if isinstance(spectrum, Spectrum) else spectrum
    hqi, dhqi = hqi_scores(prepared, query)
    order = np.argsort(-hqi, kind="stable")[:top_k]
    return [
        Hit(
            prepared.references[i].name,
            prepared.references[i].substance_class,
            float(hqi[i]),
            float(dhqi[i]),
        )
        for i in order
    ]


__all__ = ["Hit", "PreparedLibrary", "derivative", "hqi_scores", "prepare", "search"]
