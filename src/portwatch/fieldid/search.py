"""Library search: hit quality index and a derivative metric, top-k hits.

HQI is the squared Pearson correlation between the preprocessed query and a
preprocessed reference. The derivative metric is the same on Savitzky-Golay first
derivatives, which a slowly varying residual baseline barely touches.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from scipy.signal import savgol_filter

from portwatch.domain.substances import SubstanceClass
from portwatch.fieldid.evidence import (
    PEAK_TOLERANCE_CM1,
    Band,
    diagnostic_bands,
    reference_bands,
)
from portwatch.fieldid.library import Library, Reference
from portwatch.fieldid.preprocess import Pipeline, Smooth, default_pipeline
from portwatch.fieldid.spectrum import Spectrum

DERIVATIVE_WINDOW = 9


@dataclass(frozen=True)
class PreparedLibrary:
    """A library's references for one laser, preprocessed onto the common axis.

    ``matrix`` has one row per reference (unit area, as the pipeline leaves them);
    ``unit_rows`` the same rows centred and scaled to unit norm for correlation;
    ``unit_derivative_rows`` likewise for first derivatives; ``drift_matrix`` each
    row's change for a 1 cm-1 axis shift (its derivative along the axis); ``bands`` each
    reference's listed bands with heights read off its row; ``diagnostic`` the band
    positions that separate each controlled or explosive reference from the rest
    (``evidence.diagnostic_bands``).
    """

    laser_nm: int
    axis_cm1: np.ndarray
    references: tuple[Reference, ...]
    matrix: np.ndarray
    unit_rows: np.ndarray
    unit_derivative_rows: np.ndarray
    pipeline: Pipeline
    drift_matrix: np.ndarray
    bands: tuple[tuple[Band, ...], ...] = ()
    diagnostic: tuple[tuple[float, ...], ...] = ()
    #: ``unit_rows`` without the smoothing stage (None when the pipeline has none): the
    #: axis-drift search reads the instrument's own resolution, where a smoothed
    #: correlation peak is too flat to tell 5 cm-1 from 8
    sharp_unit_rows: np.ndarray | None = None

    def sharp_pipeline(self) -> Pipeline:
        """The pipeline without its smoothing stages."""
        return Pipeline(tuple(s for s in self.pipeline.stages if not isinstance(s, Smooth)))

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
    bands = tuple(
        tuple(reference_bands(axis, row, r.peaks_cm1)) for r, row in zip(refs, matrix, strict=True)
    )
    tolerance = PEAK_TOLERANCE_CM1.get(laser_nm, 8.0)
    diagnostic = diagnostic_bands(
        [list(b) for b in bands], [r.substance_class for r in refs], tolerance
    )
    sharp = Pipeline(tuple(s for s in pipeline.stages if not isinstance(s, Smooth)))
    sharp_rows = (
        _unit(np.vstack([sharp.apply(r.spectrum)[1] for r in refs]))
        if len(sharp.stages) < len(pipeline.stages)
        else None
    )
    prepared = PreparedLibrary(
        laser_nm,
        axis,
        refs,
        matrix,
        _unit(matrix),
        _unit(derivative(matrix)),
        pipeline,
        drift,
        bands,
        tuple(diagnostic),
        sharp_rows,
    )
    if len(_CACHE) > 16:
        _CACHE.clear()
    _CACHE[key] = (library, prepared)
    return prepared


def one_blas_thread() -> AbstractContextManager[object]:
    """Limit BLAS to one thread while identifying (a no-op without threadpoolctl).

    Identification is matrix-vector work on small arrays; on a shared 2-core machine a
    multi-threaded BLAS made it about 3x slower (0.29 s against 0.08 s per spectrum at
    2,000 references, measured while the machine was loaded).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with the scientific stack
        return nullcontext()
    return threadpool_limits(limits=1)


def _code_digest() -> str:
    """sha256 of the modules whose code shapes a cached library (a changed class or
    computation gets a new cache key, so no stale pickle is ever loaded)."""
    digest = hashlib.sha256()
    package = resources.files("portwatch.fieldid")
    for name in (
        "spectrum.py", "synthesis.py", "library.py", "preprocess.py", "evidence.py",
        "search.py",
    ):  # fmt: skip
        digest.update(package.joinpath(name).read_bytes())
    return digest.hexdigest()[:16]


#: Part of every cache key: the code that made the cached object.
CACHE_VERSION = _code_digest()


def cache_dir() -> Path:
    """Where prepared libraries are cached: ``$PORTWATCH_CACHE`` or the user cache folder."""
    if os.environ.get("PORTWATCH_CACHE"):
        return Path(os.environ["PORTWATCH_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "portwatch" / "fieldid-library"


def prepare_cached(library: Library, laser_nm: int, folder: Path | None = None) -> PreparedLibrary:
    """``prepare``, read from an on-disk cache keyed by the library's content when present.

    The key hashes every reference (``library.library_digest``), the laser, the pipeline
    and ``CACHE_VERSION``; a changed library gets a new key, so it is prepared again.
    An unreadable or unwritable cache only costs the preparation.
    """
    from portwatch.fieldid.library import library_digest

    pipeline = default_pipeline()
    key = hashlib.sha256(
        f"{library_digest(library)}|{laser_nm}|{pipeline!r}|{CACHE_VERSION}".encode()
    ).hexdigest()[:32]
    path = (folder or cache_dir()) / f"prepared-{laser_nm}-{key}.pickle"
    try:
        with path.open("rb") as handle:
            held = pickle.load(handle)  # noqa: S301 - our own cache file, keyed by content
        if isinstance(held, PreparedLibrary):
            _CACHE[(id(library), laser_nm, repr(pipeline))] = (library, held)
            return held
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError):
        pass
    prepared = prepare(library, laser_nm, pipeline)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as handle:
            pickle.dump(prepared, handle, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    except OSError:
        pass
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


__all__ = [
    "Hit",
    "PreparedLibrary",
    "cache_dir",
    "derivative",
    "hqi_scores",
    "one_blas_thread",
    "prepare",
    "prepare_cached",
    "search",
]
