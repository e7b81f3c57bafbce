"""The identification an inspector acts on: one verdict, components, peaks, action.

``analyse`` does the measurement-dependent work once (preprocess, search, mixture
decomposition, supporting peaks); ``decide`` applies calibrated thresholds to it. A
controlled compound is reported only when the signal it alone explains (where it
makes most of the fitted spectrum) is both strong (z-score) and shaped like its
reference (HQI there), with a supporting peak, all above thresholds calibrated for
zero false alarms; weaker signs of one send the sample to the lab rather than guess.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from portwatch.domain.errors import ConfigError
from portwatch.domain.substances import ACTION_FOR_VERDICT, Action, SubstanceClass, Verdict
from portwatch.fieldid.library import Library, default_library
from portwatch.fieldid.mixtures import Component, Decomposition, decompose
from portwatch.fieldid.preprocess import Pipeline
from portwatch.fieldid.search import Hit, PreparedLibrary, prepare, search
from portwatch.fieldid.spectrum import Spectrum

DEFAULT_LASER_NM = 785

#: Half-width (cm-1) of the window a query band must fall in to support a reference
#: band: about half the instrument resolution plus 2 cm-1 of laser drift.
PEAK_TOLERANCE_CM1 = {785: 7.0, 1064: 10.0}


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds for one laser (see ``calibrate``).

    Confirm a controlled component: ``unique_z >= unique_z_min``, ``unique_hqi >=
    unique_hqi_min``, ``fraction >= fraction_min`` and ``min_supporting_peaks``
    supporting peaks, in a spectrum the library explains (``fit_r2 >= fit_r2_min``).
    Send to the lab: ``unique_z >= lab_z_min`` and ``unique_hqi >= lab_hqi_min``, or a
    confirmed pattern in an unexplained spectrum. Release as benign: nothing
    controlled and ``fit_r2 >= fit_r2_min``.
    """

    unique_z_min: float = 8.0
    unique_hqi_min: float = 0.5
    lab_z_min: float = 4.0
    lab_hqi_min: float = 0.25
    fit_r2_min: float = 0.8
    fraction_min: float = 0.01
    min_supporting_peaks: int = 1

    @classmethod
    def from_dict(cls, values: dict[str, float]) -> Thresholds:
        """Thresholds from the plain numbers of ``to_dict`` (unknown keys are an error)."""
        numbers = {k: float(v) for k, v in values.items()}
        peaks = int(numbers.pop("min_supporting_peaks", 1))
        return cls(**numbers, min_supporting_peaks=peaks)

    def to_dict(self) -> dict[str, float]:
        """Plain numbers, for the thresholds file."""
        return {k: (v if isinstance(v, int) else float(v)) for k, v in self.__dict__.items()}


def load_thresholds(path: Path | None = None) -> dict[int, Thresholds]:
    """Thresholds per laser from ``path`` (default: the calibrated file shipped)."""
    try:
        if path is None:
            text = resources.files("portwatch.fieldid").joinpath("data/thresholds.json").read_text()
        else:
            text = Path(path).read_text()
        doc = json.loads(text)
        return {int(laser): Thresholds.from_dict(body) for laser, body in doc["lasers"].items()}
    except FileNotFoundError:
        return {785: Thresholds(), 1064: Thresholds()}
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"thresholds.json: {exc}") from None


@dataclass(frozen=True)
class Analysis:
    """Everything measured about one spectrum before thresholds are applied."""

    source: str
    laser_nm: int
    query: np.ndarray
    hits: tuple[Hit, ...]
    decomposition: Decomposition
    supporting_peaks: dict[str, tuple[float, ...]]
    display_names: dict[str, str]


@dataclass(frozen=True)
class ReportedComponent:
    """A component as the inspector sees it."""

    name: str
    display_name: str
    substance_class: SubstanceClass
    fraction: float
    fraction_sd: float
    confidence: float
    supporting_peaks_cm1: tuple[float, ...]

    def to_json(self) -> dict[str, object]:
        """JSON form: name, class, fraction, confidence, uncertainty, peaks."""
        return {
            "name": self.name,
            "display_name": self.display_name,
            "class": self.substance_class.value,
            "fraction": round(self.fraction, 4),
            "fraction_sd": round(self.fraction_sd, 4),
            "confidence": round(self.confidence, 3),
            "supporting_peaks_cm1": [round(p, 1) for p in self.supporting_peaks_cm1],
        }


@dataclass(frozen=True)
class Identification:
    """The result for one spectrum: verdict, action, components, and why."""

    source: str
    laser_nm: int
    verdict: Verdict
    action: Action
    components: tuple[ReportedComponent, ...]
    packaging: tuple[ReportedComponent, ...]
    reason: str
    fit_r2: float
    hits: tuple[Hit, ...] = field(default=())

    def controlled_names(self) -> list[str]:
        """Names of the controlled components reported."""
        return [c.name for c in self.components if c.substance_class is SubstanceClass.CONTROLLED]

    def to_json(self) -> dict[str, object]:
        """One JSON object: file, verdict, components, action and the rest."""
        return {
            "file": self.source,
            "laser_nm": self.laser_nm,
            "verdict": self.verdict.value,
            "action": self.action.value,
            "components": [c.to_json() for c in (*self.components, *self.packaging)],
            "reason": self.reason,
            "fit_r2": round(self.fit_r2, 4),
            "top_hits": [
                {
                    "name": h.name,
                    "hqi": round(h.hqi, 4),
                    "derivative_hqi": round(h.derivative_hqi, 4),
                }
                for h in self.hits
            ],
        }


def analyse(
    spectrum: Spectrum,
    library: Library | None = None,
    laser_nm: int | None = None,
    pipeline: Pipeline | None = None,
    prepared: PreparedLibrary | None = None,
) -> Analysis:
    """Preprocess, search and decompose ``spectrum`` (laser: argument, file, else 785)."""
    laser = laser_nm or spectrum.laser_nm or DEFAULT_LASER_NM
    if prepared is None:
        prepared = prepare(library or default_library(), laser, pipeline)
    _, query = prepared.pipeline.apply(spectrum)
    hits = tuple(search(prepared, query, top_k=5))
    decomposition = decompose(prepared, query)
    peaks = {
        c.name: supporting_peaks(prepared, query, decomposition, c, laser)
        for c in decomposition.components
    }
    display = {c.name: prepared.references[c.index].display_name for c in decomposition.components}
    return Analysis(spectrum.source, laser, query, hits, decomposition, peaks, display)


def supporting_peaks(
    prepared: PreparedLibrary,
    query: np.ndarray,
    decomposition: Decomposition,
    component: Component,
    laser_nm: int,
) -> tuple[float, ...]:
    """Query band positions (cm-1) that match a band of ``component``'s reference.

    A band supports the component when the query has a local maximum within the
    laser's tolerance of a reference band, standing above three times the noise, and
    the component makes at least a third of the fitted intensity there.
    """
    axis = prepared.axis_cm1
    ref = prepared.references[component.index]
    contribution = component.coefficient * prepared.matrix[component.index]
    fitted = np.maximum(decomposition.fitted, 1e-30)
    noise = np.median(np.abs(np.diff(decomposition.residual))) / 0.6745 / np.sqrt(2.0)
    tolerance = PEAK_TOLERANCE_CM1.get(laser_nm, 8.0)
    interior = (query[1:-1] >= query[:-2]) & (query[1:-1] >= query[2:])
    maxima = np.flatnonzero(interior) + 1
    found: list[float] = []
    for band in ref.peaks_cm1:
        near = maxima[np.abs(axis[maxima] - band) <= tolerance]
        if near.size == 0:
            continue
        best = near[np.argmax(query[near])]
        if query[best] > 3.0 * noise and contribution[best] >= fitted[best] / 3.0:
            found.append(float(axis[best]))
    return tuple(sorted(set(found)))


def _confidence(component: Component, thresholds: Thresholds) -> float:
    ratio = min(
        component.unique_z / max(thresholds.unique_z_min, 1e-9),
        component.unique_hqi / max(thresholds.unique_hqi_min, 1e-9),
    )
    return float(ratio / (1.0 + ratio))


def controlled_statistics(dec: Decomposition) -> list[tuple[Component, float, float]]:
    """Each controlled component with the (unique z, unique HQI) its decision uses.

    The leading controlled component (largest fraction) is judged on the statistics of
    all controlled components together, since drug analogues split one drug's bands
    between them; any other controlled component must stand on its own.
    """
    controlled = [c for c in dec.components if c.substance_class is SubstanceClass.CONTROLLED]
    out = []
    for rank, c in enumerate(sorted(controlled, key=lambda c: -c.fraction)):
        if rank == 0:
            out.append(
                (c, max(c.unique_z, dec.controlled_z), max(c.unique_hqi, dec.controlled_hqi))
            )
        else:
            out.append((c, c.unique_z, c.unique_hqi))
    return out


def decide(analysis: Analysis, thresholds: Thresholds) -> Identification:
    """Apply ``thresholds`` to ``analysis``: the verdict and the action."""
    dec = analysis.decomposition
    confirmed: list[Component] = []
    suspected: list[Component] = []
    others: list[Component] = []
    packaging: list[Component] = []
    for c, z, hqi in controlled_statistics(dec):
        peaks = analysis.supporting_peaks.get(c.name, ())
        if (
            z >= thresholds.unique_z_min
            and hqi >= thresholds.unique_hqi_min
            and c.fraction >= thresholds.fraction_min
            and len(peaks) >= thresholds.min_supporting_peaks
            # a drug pattern inside a spectrum the library cannot explain is a lookalike
            # of an unknown substance as often as it is the drug: the lab decides
            and dec.fit_r2 >= thresholds.fit_r2_min
        ):
            confirmed.append(c)
        elif z >= thresholds.lab_z_min and hqi >= thresholds.lab_hqi_min and c.fraction > 0:
            suspected.append(c)
    for c in dec.components:
        if c.substance_class is SubstanceClass.PACKAGING:
            packaging.append(c)
        elif c.substance_class is not SubstanceClass.CONTROLLED:
            others.append(c)
    if confirmed:
        verdict = Verdict.CONTROLLED
        names = ", ".join(c.name for c in confirmed)
        reason = f"controlled substance identified: {names}"
    elif suspected:
        verdict = Verdict.INCONCLUSIVE
        names = ", ".join(c.name for c in suspected)
        reason = f"possible {names} below the confirmation threshold; confirm in a lab"
    elif dec.fit_r2 >= thresholds.fit_r2_min and (others or packaging):
        verdict = Verdict.BENIGN
        reason = "explained by non-controlled references"
    else:
        verdict = Verdict.INCONCLUSIVE
        reason = (
            f"the library explains {dec.fit_r2:.0%} of the spectrum "
            f"(needs {thresholds.fit_r2_min:.0%}); unknown substance"
        )
    shown = [*confirmed, *suspected] if verdict is not Verdict.BENIGN else []
    # weak stand-ins that only soak up misfit would read as findings; show the real ones
    shown += [
        c
        for c in others
        if len(analysis.supporting_peaks.get(c.name, ())) >= 2 or _confidence(c, thresholds) >= 0.5
    ]

    def report(c: Component) -> ReportedComponent:
        return ReportedComponent(
            c.name,
            analysis.display_names.get(c.name, c.name),
            c.substance_class,
            c.fraction,
            c.fraction_sd,
            _confidence(c, thresholds),
            analysis.supporting_peaks.get(c.name, ()),
        )

    return Identification(
        analysis.source,
        analysis.laser_nm,
        verdict,
        ACTION_FOR_VERDICT[verdict],
        tuple(report(c) for c in shown),
        tuple(report(c) for c in packaging),
        reason,
        dec.fit_r2,
        analysis.hits,
    )


def identify(
    spectrum: Spectrum,
    library: Library | None = None,
    laser_nm: int | None = None,
    thresholds: dict[int, Thresholds] | None = None,
) -> Identification:
    """Identify what ``spectrum`` shows: verdict, components, supporting peaks, action."""
    library = library or default_library()
    laser = laser_nm or spectrum.laser_nm or DEFAULT_LASER_NM
    prepared = prepare(library, laser)
    analysis = analyse(spectrum, laser_nm=laser, prepared=prepared)
    table = thresholds or load_thresholds()
    return decide(analysis, table.get(laser, Thresholds()))


__all__ = [
    "Analysis",
    "DEFAULT_LASER_NM",
    "Identification",
    "ReportedComponent",
    "Thresholds",
    "analyse",
    "decide",
    "identify",
    "load_thresholds",
    "supporting_peaks",
]
