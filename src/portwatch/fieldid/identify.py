"""The identification an inspector acts on: one verdict, components, bands, action.

``analyse`` does the measurement-dependent work once: the input gates (size, axis
units, saturation, coverage, signal-to-noise), preprocessing, the axis-drift
correction, library search, mixture decomposition and the band-level evidence.
``decide`` applies thresholds to it:

* a gate failure is ``inconclusive`` with its reason, never a guess;
* a controlled or explosive compound is named only on its own evidence: its
  diagnostic bands present, its strong bands covered, its unique signal strong and
  shaped like it, and no benign reference able to take its place as well. Nothing
  pooled over several compounds can confirm one that failed its own test. A positive
  is *presumptive*: it says so, and asks for lab confirmation;
* ``benign`` needs the library to reproduce the spectrum and its bands; otherwise the
  answer is ``inconclusive: not in library``, with the closest references as hints.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from portwatch.domain.errors import ConfigError
from portwatch.domain.substances import ACTION_FOR_VERDICT, Action, SubstanceClass, Verdict
from portwatch.fieldid import evidence as ev
from portwatch.fieldid.acquisitions import acquisitions_of
from portwatch.fieldid.analogues import Resolution, candidates_of, pair_of, resolve
from portwatch.fieldid.gates import (
    FLUORESCENCE_ADVICE_RATIO,
    GateFailure,
    background_ratio,
    check_file_size,
    noise_sigma,
    run_gates,
    snr,
)
from portwatch.fieldid.handling import Handling, handling_for, handling_for_bound
from portwatch.fieldid.library import Library, default_library
from portwatch.fieldid.mixtures import (
    Component,
    Decomposition,
    ForcedBound,
    decompose,
    forced_bounds,
)
from portwatch.fieldid.preprocess import FINGERPRINT_CM1, Pipeline
from portwatch.fieldid.search import Hit, PreparedLibrary, hqi_scores, prepare
from portwatch.fieldid.spectrum import Spectrum

if TYPE_CHECKING:
    from portwatch.fieldid.remeasure import Remeasure

DEFAULT_LASER_NM = 785
PEAK_TOLERANCE_CM1 = ev.PEAK_TOLERANCE_CM1

#: Wavenumber accuracy handheld analysers state (assumed: TruNarc and ResQ-CQL data
#: sheets give +/- 2 to 4 cm-1): drift up to this must never change a verdict. The shift
#: search looks a little wider.
STATED_ACCURACY_CM1 = 4.0
SHIFT_SEARCH_CM1 = 5.0
#: After a calibration with a polystyrene standard, only this much drift is left.
CALIBRATED_SEARCH_CM1 = 1.0
#: Without a calibration the axis is also searched this wide; a shift beyond
#: ``SHIFT_SEARCH_CM1`` is taken only when it raises the best HQI by ``WIDE_SHIFT_GAIN``.
#: The gain was set on the real tuning split: shifted by 0 or +/-4 cm-1, no spectrum
#: gained more than 0.172 from looking wider (228 spectrum-shifts, chance alignments of
#: compounds the library does not hold); polystyrene shifted 8-10 cm-1 gained 0.20-0.67.
WIDE_SHIFT_SEARCH_CM1 = 12.0
WIDE_SHIFT_GAIN = 0.2
#: Step of the drift search (``evidence.estimate_shift``).
DRIFT_STEP_CM1 = 0.5

PRESUMPTIVE_NOTE = "presumptive, confirm in the lab"


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds for one laser (fitted by ``calibrate``; see docs/fieldid.md).

    Name a controlled or explosive component: ``unique_z >= unique_z_min``,
    ``unique_hqi >= unique_hqi_min``, ``fraction >= fraction_min``, three quarters of its
    diagnostic bands present and at least ``diagnostic_min`` (all when it has fewer),
    strong-band coverage ``>= coverage_min``, and ``benign_gap_min`` (the F statistic of
    replacing it by the best benign reference) reached, in a spectrum the library
    mostly explains (``fit_r2 >= confirm_r2_min``, fitted above every tuning negative
    that passes the rest, never under 0.6: a drug pattern in a spectrum the library
    cannot explain goes to the lab). Send to the lab: ``unique_z >= lab_z_min`` and
    ``unique_hqi >= lab_hqi_min`` with at least one diagnostic band. Release as benign:
    ``fit_r2 >= fit_r2_min`` and ``explained >= explained_min`` (share of the query's
    band prominence the references reproduce).
    """

    unique_z_min: float = 8.0
    unique_hqi_min: float = 0.5
    lab_z_min: float = 4.0
    lab_hqi_min: float = 0.25
    fit_r2_min: float = 0.8
    fraction_min: float = 0.01
    min_supporting_peaks: int = 1
    explained_min: float = 0.8
    coverage_min: float = 0.75
    diagnostic_min: int = 2
    benign_gap_min: float = 25.0
    confirm_r2_min: float = 0.6
    #: a release needs every flagged component's one-sided 95% upper limit on its
    #: fraction below this (fitted on the tuning split, ``calibrate.fit_release_bound``)
    release_upper_max: float = 0.05

    @classmethod
    def from_dict(cls, values: dict[str, float]) -> Thresholds:
        """Thresholds from the plain numbers of ``to_dict`` (unknown keys are an error)."""
        numbers = {k: float(v) for k, v in values.items()}
        ints = {
            k: int(numbers.pop(k))
            for k in ("min_supporting_peaks", "diagnostic_min")
            if k in numbers
        }
        return cls(**numbers, **ints)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, float]:
        """Plain numbers, for the thresholds file."""
        return {k: (v if isinstance(v, int) else float(v)) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class ConfidenceMap:
    """Score -> probability the verdict is right, fitted on the tuning set (isotonic).

    ``scores`` increasing; ``probabilities`` non-decreasing, in [0, 1]. A score of 1 is
    where the verdict's own statistic just meets its threshold.
    """

    scores: tuple[float, ...] = (0.0, 1.0, 2.0)
    probabilities: tuple[float, ...] = (0.0, 0.5, 0.9)

    def __call__(self, score: float) -> float:
        p = float(np.interp(score, self.scores, self.probabilities))
        return min(max(p, 0.0), 1.0)


@dataclass(frozen=True)
class Calibration:
    """Thresholds per laser and confidence maps per laser and verdict kind."""

    thresholds: dict[int, Thresholds]
    confidence: dict[int, dict[str, ConfidenceMap]] = field(default_factory=dict)
    library_digest: str = ""

    def confidence_map(self, laser_nm: int, kind: str) -> ConfidenceMap:
        """The map for ``kind`` (benign or flagged) at ``laser_nm`` (a default if none)."""
        return self.confidence.get(laser_nm, {}).get(kind, ConfidenceMap())


def load_calibration(path: Path | None = None) -> Calibration:
    """Thresholds and confidence maps from ``path`` (default: the file shipped)."""
    try:
        if path is None:
            text = resources.files("portwatch.fieldid").joinpath("data/thresholds.json").read_text()
        else:
            text = Path(path).read_text()
        doc = json.loads(text)
        table = {int(laser): Thresholds.from_dict(body) for laser, body in doc["lasers"].items()}
        maps = {
            int(laser): {
                kind: ConfidenceMap(tuple(m["scores"]), tuple(m["probabilities"]))
                for kind, m in kinds.items()
            }
            for laser, kinds in doc.get("confidence", {}).items()
        }
        return Calibration(table, maps, str(doc.get("library_digest", "")))
    except FileNotFoundError:
        return Calibration({785: Thresholds(), 1064: Thresholds()})
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"thresholds.json: {exc}") from None


def load_thresholds(path: Path | None = None) -> dict[int, Thresholds]:
    """Thresholds per laser from ``path`` (default: the calibrated file shipped)."""
    return load_calibration(path).thresholds


@dataclass(frozen=True)
class FlaggedEvidence:
    """What speaks for one controlled or explosive component, on its own."""

    component: Component
    hqi: float
    diagnostic: tuple[float, ...]
    diagnostic_found: tuple[float, ...]
    coverage: float
    matched_cm1: tuple[float, ...]
    missing_cm1: tuple[float, ...]
    #: heights of ``diagnostic`` relative to the reference's tallest band (equal if empty)
    diagnostic_heights: tuple[float, ...] = ()
    #: the diagnostic bands tested together with their shape (``evidence.matched_bands``)
    matched: ev.MatchedBands = field(default_factory=ev.MatchedBands)
    #: per band of ``missing_cm1``: its height, and the factor on the co-added
    #: acquisitions its own matched filter needs to stand (inf: more will not show it)
    missing_heights: tuple[float, ...] = ()
    missing_need: tuple[float, ...] = ()
    #: for one of an analogue pair (fentanyl, carfentanil): what its marker band settles
    #: (``analogues.resolve``); None for any other compound
    analogue: Resolution | None = None


#: A release is refused while a band at least this tall (relative to the query's tallest)
#: is left unexplained by the supported references (assumed: a quarter). The library then
#: explains most of the band area but not the compound: a fatty acid reads as
#: polyethylene (its alkyl chain) plus strong bands of its own (lauric and myristic acid
#: on the real tuning split: 0.87 and 1.0); released in-library spectra of the tuning
#: split leave at most 0.08.
RELEASE_MAX_UNEXPLAINED = 0.25

#: Share of a reference's diagnostic band heights that must stand in the query.
DIAGNOSTIC_SHARE_MIN = 0.75
#: The matched-filter test of the diagnostic bands (``evidence.matched_bands``): their
#: joint projection at least this many noise standard deviations (assumed: the peak
#: finder's 4), and standing at least this share of the height the fitted weight
#: predicts (assumed: half, as a band must to support a release).
MATCHED_Z_MIN = 4.0
MATCHED_AMPLITUDE_MIN = 0.5
#: Window around each diagnostic band the matched filter reads, in match tolerances.
MATCHED_WINDOW_TOLERANCES = 4.0


def diagnostic_ratio(f: FlaggedEvidence, t: Thresholds) -> float:
    """How far the diagnostic-band test is met: 1 when just met, 0 with no diagnostic band.

    At least ``t.diagnostic_min`` diagnostic bands (all when there are fewer) must stand
    in the query, and either three quarters of them by count or bands carrying
    ``DIAGNOSTIC_SHARE_MIN`` of their heights. The count alone vetoed PETN, TATP and urea
    nitrate at 785 nm whenever their weakest diagnostic band (0.15 of the tallest) sank
    into the noise, though the strong ones stood; a missing strong band still vetoes.
    """
    n = len(f.diagnostic)
    if n == 0:
        return 0.0
    heights = f.diagnostic_heights if len(f.diagnostic_heights) == n else (1.0,) * n
    share = sum(h for d, h in zip(f.diagnostic, heights, strict=True) if d in f.diagnostic_found)
    found = len(f.diagnostic_found)
    by_count = found / ev.diagnostic_needed(n, t.diagnostic_min)
    by_height = share / sum(heights) / DIAGNOSTIC_SHARE_MIN
    by_peaks = min(found / min(n, t.diagnostic_min), max(by_count, by_height))
    by_shape = min(f.matched.z / MATCHED_Z_MIN, f.matched.amplitude / MATCHED_AMPLITUDE_MIN)
    by_shape = by_shape if f.matched.aligned else min(by_shape, 0.99)
    return max(by_peaks, by_shape)


def diagnostic_met(f: FlaggedEvidence, t: Thresholds) -> bool:
    """Whether enough of ``f``'s diagnostic bands stand in the query (``diagnostic_ratio``)."""
    return diagnostic_ratio(f, t) >= 1.0 - 1e-9


@dataclass(frozen=True)
class Analysis:
    """Everything measured about one spectrum before thresholds are applied."""

    source: str
    laser_nm: int
    gate: GateFailure | None
    shift_cm1: float = 0.0
    shift_from: str = "none"
    query: np.ndarray = field(default_factory=lambda: np.zeros(0))
    hits: tuple[Hit, ...] = ()
    decomposition: Decomposition | None = None
    supporting_peaks: dict[str, tuple[float, ...]] = field(default_factory=dict)
    display_names: dict[str, str] = field(default_factory=dict)
    flagged: tuple[FlaggedEvidence, ...] = ()
    explained: float = 0.0
    unexplained_cm1: tuple[float, ...] = ()
    query_noise: float = 0.0
    #: references whose own main bands stand in the query (the only names a release uses)
    supported: tuple[str, ...] = ()
    #: tallest band the supported references leave unexplained, over the query's tallest
    largest_unexplained: float = 0.0
    #: every controlled or explosive reference the fit left out, forced back in
    forced: tuple[ForcedBound, ...] = ()
    #: the broad background's level over the tallest band (``gates.background_ratio``)
    background: float = 0.0
    #: how many acquisitions of the sample were co-added (``acquisitions.coadd``)
    acquisitions: int = 1
    #: the signal-to-noise gate's value (``gates.snr``), when that gate refused it
    snr: float = 0.0


#: Linear interpolation onto the common axis at a random phase between two pixels keeps
#: on average (1 - t)^2 + t^2 = 2/3 of the pixel noise variance (t uniform in [0, 1]).
INTERPOLATION_VARIANCE = 2.0 / 3.0
#: The noise-corrected fit never credits more than this share of the query's variance
#: to noise: a spectrum that is mostly noise is the low_snr gate's to refuse, not a fit.
MAX_NOISE_SHARE = 0.8


def signal_r2(analysis: Analysis) -> float:
    """Share of the query's *signal* variance the fit reproduces (noise-corrected R^2).

    ``1 - (RSS - n sigma^2) / (TSS - n sigma^2)``, with sigma the query's noise carried
    over from the raw counts (``query_noise``). The plain R^2 falls with the noise even
    when the library explains every band (a strongly fluorescent sample at 785 nm has
    the shot noise of its background); this one stays near 1 when what is left is
    noise, and falls when bands are left unexplained. Without a noise estimate
    (digitised, noise-free spectra) it equals the plain R^2.
    """
    dec = analysis.decomposition
    if dec is None:
        return 0.0
    q = analysis.query
    tss = float(((q - q.mean()) ** 2).sum())
    if tss <= 0:
        return 0.0
    noise = min(q.size * analysis.query_noise**2, MAX_NOISE_SHARE * tss)
    return float(1.0 - max(dec.rss - noise, 0.0) / (tss - noise))


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
    hqi: float = 0.0
    matched_bands_cm1: tuple[float, ...] = ()
    missing_bands_cm1: tuple[float, ...] = ()
    #: the compounds ``name`` stands for: two when the spectrum cannot tell an analogue
    #: pair apart (``fentanyl or carfentanil``), else the name itself
    candidates: tuple[str, ...] = ()
    #: for one of an analogue pair: what its marker band settles (``analogues``)
    analogue: Resolution | None = None

    def to_json(self) -> dict[str, object]:
        """JSON form: name, class, fraction, confidence, HQI, bands, analogue evidence."""
        return {
            "name": self.name,
            "display_name": self.display_name,
            "class": self.substance_class.value,
            "fraction": round(self.fraction, 4),
            "fraction_sd": round(self.fraction_sd, 4),
            "confidence": round(self.confidence, 3),
            "hqi": round(self.hqi, 4),
            "supporting_peaks_cm1": [round(p, 1) for p in self.supporting_peaks_cm1],
            "matched_bands_cm1": [round(p, 1) for p in self.matched_bands_cm1],
            "missing_bands_cm1": [round(p, 1) for p in self.missing_bands_cm1],
            "analogue": self.analogue.to_json() if self.analogue else None,
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
    confidence: float = 0.0
    reason_code: str = ""
    shift_cm1: float = 0.0
    explained: float = 0.0
    #: how many acquisitions were co-added, and what more the engine asks for
    acquisitions: int = 1
    remeasure: Remeasure | None = None
    #: precautions for handling the sample (the most potent compound it may be), if any
    handling: Handling | None = None

    @property
    def presumptive(self) -> bool:
        """A positive (controlled or explosive): to be confirmed in a lab."""
        return self.verdict in (Verdict.CONTROLLED, Verdict.EXPLOSIVE)

    def controlled_names(self) -> list[str]:
        """Names of the controlled components reported."""
        return [c.name for c in self.components if c.substance_class is SubstanceClass.CONTROLLED]

    def flagged_names(self) -> list[str]:
        """Names of the controlled or explosive components reported."""
        return [c.name for c in self.components if c.substance_class in ev.FLAGGED]

    def flagged_candidates(self) -> set[str]:
        """Every compound the controlled or explosive components may be (a pair: both)."""
        return {n for c in self.components if c.substance_class in ev.FLAGGED
                for n in (c.candidates or (c.name,))}  # fmt: skip

    def to_json(self) -> dict[str, object]:
        """One JSON object: file, verdict, components, action and the rest."""
        doc: dict[str, object] = {
            "file": self.source,
            "laser_nm": self.laser_nm,
            "verdict": self.verdict.value,
            "action": self.action.value,
            "confidence": round(self.confidence, 3),
            "presumptive": self.presumptive,
            "components": [c.to_json() for c in (*self.components, *self.packaging)],
            "reason": self.reason,
            "reason_code": self.reason_code,
            "fit_r2": round(self.fit_r2, 4),
            "explained_bands": round(self.explained, 4),
            "axis_shift_cm1": round(self.shift_cm1, 2),
            "top_hits": [
                {
                    "name": h.name,
                    "hqi": round(h.hqi, 4),
                    "derivative_hqi": round(h.derivative_hqi, 4),
                }
                for h in self.hits
            ],
        }
        doc["acquisitions"] = self.acquisitions
        doc["remeasure"] = self.remeasure.to_json() if self.remeasure else None
        doc["handling"] = self.handling.to_json() if self.handling else None
        if self.presumptive:
            doc["note"] = PRESUMPTIVE_NOTE
        return doc


def analyse(
    spectrum: Spectrum,
    library: Library | None = None,
    laser_nm: int | None = None,
    pipeline: Pipeline | None = None,
    prepared: PreparedLibrary | None = None,
    calibration_shift_cm1: float | None = None,
) -> Analysis:
    """Gate, preprocess, correct drift, search, decompose and gather band evidence."""
    stated = laser_nm or spectrum.laser_nm
    laser = stated or (prepared.laser_nm if prepared is not None else DEFAULT_LASER_NM)
    count = acquisitions_of(spectrum)
    spectrum, gate = run_gates(spectrum, stated)
    if gate is not None:
        weak = gate.code == "low_snr"
        background = background_ratio(spectrum) if weak else 0.0
        return Analysis(
            spectrum.source, laser, gate, background=background, acquisitions=count,
            snr=snr(spectrum) if weak else 0.0,
        )  # fmt: skip
    if prepared is None:
        prepared = prepare(library or default_library(), laser, pipeline)
    q = _aligned_query(spectrum, prepared, calibration_shift_cm1)
    hqi, dhqi = hqi_scores(prepared, q.query)
    dec = decompose(prepared, q.query)
    b = _band_evidence(prepared, q, dec, hqi, laser)
    return Analysis(
        spectrum.source, laser, None, q.shift_cm1, q.shift_from, q.query,
        _top_hits(prepared, hqi, dhqi), dec, b.peaks, b.display, b.flagged, b.explained,
        b.left, q.noise, b.supported, b.largest, forced_bounds(prepared, q.query, dec, q.noise),
        background_ratio(spectrum), count,
    )  # fmt: skip


@dataclass(frozen=True)
class _Query:
    """The query on the library's axis: drift-corrected, unit area, with its noise."""

    query: np.ndarray
    shift_cm1: float
    shift_from: str
    #: noise per point carried from the raw counts, and the smoothing's noise gain
    noise: float
    gain: float


def _aligned_query(
    spectrum: Spectrum, prepared: PreparedLibrary, calibration_shift_cm1: float | None
) -> _Query:
    """Preprocess, correct the axis drift (measured or estimated), scale to unit area."""
    axis = prepared.axis_cm1
    _, raw, divisor = prepared.pipeline.apply_scaled(spectrum)
    shift_from, base_shift, window = "estimated", 0.0, SHIFT_SEARCH_CM1
    if calibration_shift_cm1 is not None:
        shift_from, base_shift, window = "calibration", calibration_shift_cm1, CALIBRATED_SEARCH_CM1
    query = ev.shifted(axis, raw, base_shift)
    rows, sharp = prepared.unit_rows, query
    if prepared.sharp_unit_rows is not None:
        rows = prepared.sharp_unit_rows
        sharp = ev.shifted(axis, prepared.sharp_pipeline().apply(spectrum)[1], base_shift)
    extra = _drift(axis, sharp, rows, window, calibration_shift_cm1 is None)
    query = ev.shifted(axis, query, extra)
    area = max(float(np.abs(query).sum()), 1e-30)
    # the smoothing stage lowers the noise by its gain (and correlates neighbours)
    gain = prepared.pipeline.noise_gain()
    noise = _raw_noise(spectrum) * np.sqrt(INTERPOLATION_VARIANCE) * gain / divisor / area
    return _Query(query / area, base_shift + extra, shift_from, noise, gain)


def _top_hits(prepared: PreparedLibrary, hqi: np.ndarray, dhqi: np.ndarray) -> tuple[Hit, ...]:
    """The five references of highest HQI, with their derivative HQI."""
    order = np.argsort(-hqi, kind="stable")[:5]
    return tuple(
        Hit(prepared.references[i].name, prepared.references[i].substance_class,
            float(hqi[i]), float(dhqi[i]))
        for i in order
    )  # fmt: skip


@dataclass(frozen=True)
class _Bands:
    """The band-level evidence ``analyse`` gathers on a decomposition."""

    peaks: dict[str, tuple[float, ...]]
    display: dict[str, str]
    flagged: tuple[FlaggedEvidence, ...]
    explained: float
    left: tuple[float, ...]
    supported: tuple[str, ...]
    largest: float


def _band_evidence(
    prepared: PreparedLibrary, q: _Query, dec: Decomposition, hqi: np.ndarray, laser: int
) -> _Bands:
    """Supporting peaks, supported references, explained bands and flagged evidence."""
    query, noise = q.query, q.noise
    peaks = {
        c.name: supporting_peaks(prepared, query, dec, c, laser, noise or None)
        for c in dec.components
    }
    display = {c.name: prepared.references[c.index].display_name for c in dec.components}
    # the other of an analogue pair may be the name reported (``_report``)
    display.update({r.name: r.display_name for r in prepared.references if pair_of(r.name)})
    found = ev.query_bands(prepared.axis_cm1, query, sigma=_band_noise(query, noise, q.gain))
    support_fit, supported = _supported(prepared, dec, query, laser)
    explained, left = ev.explained_share(found, query, support_fit)
    flagged = tuple(
        _with_analogue(
            prepared, dec, c, found, float(hqi[c.index]), _partial(prepared, dec, c, query, noise)
        )
        for c in dec.components
        if c.substance_class in ev.FLAGGED
    )
    largest = _largest_unexplained(found, left)
    return _Bands(peaks, display, flagged, explained, left, supported, largest)


def _with_analogue(
    prepared: PreparedLibrary,
    dec: Decomposition,
    c: Component,
    found: ev.QueryBands,
    hqi: float,
    p: _Partial,
) -> FlaggedEvidence:
    """A flagged component's band evidence, with what its analogue's marker band settles."""
    tolerance = PEAK_TOLERANCE_CM1.get(prepared.laser_nm, 8.0)
    f = _flagged_evidence(prepared, c, found, hqi, tolerance, p)
    window = MATCHED_WINDOW_TOLERANCES * tolerance
    settled = resolve(
        prepared, dec, c, p.partial, p.sigma, window, MATCHED_Z_MIN, MATCHED_AMPLITUDE_MIN
    )
    return replace(f, analogue=settled) if settled is not None else f


def _band_noise(query: np.ndarray, carried: float, gain: float) -> float:
    """The query's noise for band finding: carried from the raw counts when smoothed.

    Unsmoothed, the query's own second differences measure it (as they always have);
    smoothed, they see only a fraction of it, so the noise carried through the
    preprocessing is used, never less than the second-difference estimate.
    """
    own = noise_sigma(query)
    return own if gain >= 1.0 else max(carried, own)


def _largest_unexplained(found: ev.QueryBands, left: tuple[float, ...]) -> float:
    """Prominence of the tallest unexplained band over the tallest band's."""
    if found.prominences.size == 0 or not left:
        return 0.0
    mask = np.isin(found.positions_cm1, np.asarray(left))
    return float(found.prominences[mask].max() / found.prominences.max())


def _drift(
    axis: np.ndarray, query: np.ndarray, unit_rows: np.ndarray, window: float, wide: bool
) -> float:
    """The axis drift to correct: within ``window``, or a wider one that fits much better.

    A spectrum whose own axis is off by more than the search window (a Horiba
    polystyrene 5 cm-1 off, drifted 4 more) was slid to the window's edge and matched
    to whatever fitted there (phenylalanine). A drift found beyond the stated accuracy
    is reported, and no drug or explosive is named on such an axis (``decide``).
    """
    near, near_hqi = ev.estimate_shift(axis, query, unit_rows, window)
    if not wide:
        return near
    far, far_hqi = ev.estimate_shift(axis, query, unit_rows, WIDE_SHIFT_SEARCH_CM1)
    return far if abs(far) > window and far_hqi - near_hqi >= WIDE_SHIFT_GAIN else near


def _raw_noise(spectrum: Spectrum) -> float:
    """Noise of the raw counts in the fingerprint region (second differences, robust)."""
    low, high = FINGERPRINT_CM1
    keep = (spectrum.shift_cm1 >= low) & (spectrum.shift_cm1 <= high)
    return noise_sigma(np.asarray(spectrum.intensity, dtype=float)[keep])


#: A reference explains a query's bands only when this share of its own main bands
#: (height-weighted) stands in the query at the height its fitted weight predicts.
SUPPORT_COVERAGE_MIN = 0.75
#: Its main bands: those at least this tall relative to its tallest.
SUPPORT_BAND_MIN_HEIGHT = 0.5
#: A band stands when the query reaches this share of the height the reference, at its
#: fitted weight, puts there (above the local floor, as in ``evidence.explained_share``).
SUPPORT_HEIGHT_SHARE = 0.5


def _supported_fit(
    prepared: PreparedLibrary, dec: Decomposition, query: np.ndarray, laser: int
) -> np.ndarray:
    """The fitted spectrum of the supported references (``_supported``)."""
    return _supported(prepared, dec, query, laser)[0]


def _supported(
    prepared: PreparedLibrary, dec: Decomposition, query: np.ndarray, laser: int
) -> tuple[np.ndarray, tuple[str, ...]]:
    """The fitted spectrum of the references whose own main bands the query shows.

    A band-rich reference priced in at a small weight can fill a few of an unknown
    compound's bands without its own pattern being there: a fatty acid was "explained"
    by polyethylene (its alkyl chain) plus sucrose (its other bands) and released under
    both wrong names. A reference counts only when the query reaches, at its main bands,
    at least half the height its fitted weight predicts there: sucrose at the weight
    that fills a fatty acid's 1127 and 1462 cm-1 bands predicts an 851 cm-1 band the
    fatty acid does not have (a small band that happens to lie within the tolerance
    no longer passes, as a bare presence test let it).
    """
    tolerance = PEAK_TOLERANCE_CM1.get(laser, 8.0)
    axis = prepared.axis_cm1
    out = np.zeros_like(dec.fitted)
    names: list[str] = []
    for c in dec.components:
        row = c.coefficient * prepared.matrix[c.index]
        bands = list(prepared.bands[c.index]) if prepared.bands else []
        main = [b for b in bands if b.height >= SUPPORT_BAND_MIN_HEIGHT]
        total = sum(b.height for b in main)
        met = sum(b.height for b in main if _stands(axis, query, row, b.position_cm1, tolerance))
        if total > 0 and met >= SUPPORT_COVERAGE_MIN * total:
            # with its axis-drift columns, which align its bands with the query's
            parts = dec.contributions or {}
            out += parts.get(c.index, row)
            names.append(c.name)
    return out, tuple(names)


def _stands(
    axis: np.ndarray, query: np.ndarray, row: np.ndarray, position_cm1: float, tolerance: float
) -> bool:
    """Whether ``query`` reaches half the height ``row`` has at ``position_cm1``."""
    near = np.flatnonzero(np.abs(axis - position_cm1) <= tolerance)
    if near.size == 0:
        return False
    lo, hi = max(0, near[0] - 12), min(axis.size, near[-1] + 13)
    predicted = float(row[near].max() - row[lo:hi].min())
    seen = float(query[near].max() - query[lo:hi].min())
    return predicted > 0 and seen >= SUPPORT_HEIGHT_SHARE * predicted


@dataclass(frozen=True)
class _Partial:
    """What a component must explain: the query less every other fitted component."""

    partial: np.ndarray
    own: np.ndarray
    sigma: float


def _partial(
    prepared: PreparedLibrary, dec: Decomposition, c: Component, query: np.ndarray, noise: float
) -> _Partial:
    """``c``'s partial residual and fitted contribution, and the noise to test them with.

    The noise is the larger of the one carried from the raw counts and the fit's
    residual per point (which includes misfit), so a poor fit never makes a band look
    surer than it is.
    """
    parts = dec.contributions or {}
    own = parts.get(c.index, c.coefficient * prepared.matrix[c.index])
    dof = max(query.size - len(dec.components) - 6, 1)
    sigma = max(noise, float(np.sqrt(dec.rss / dof)))
    return _Partial(query - dec.fitted + own, own, sigma)


def _matched(
    prepared: PreparedLibrary, p: _Partial, positions_cm1: tuple[float, ...]
) -> ev.MatchedBands:
    """The matched-filter test of the bands at ``positions_cm1`` (``evidence.matched_bands``)."""
    tolerance = PEAK_TOLERANCE_CM1.get(prepared.laser_nm, 8.0)
    return ev.matched_bands(
        prepared.axis_cm1, p.partial, p.own, positions_cm1,
        MATCHED_WINDOW_TOLERANCES * tolerance, p.sigma,
        prepared.pipeline.noise_autocorrelation(), tolerance,
    )  # fmt: skip


def matched_met(m: ev.MatchedBands) -> bool:
    """Whether a matched-filter test stands: ``MATCHED_Z_MIN`` and ``MATCHED_AMPLITUDE_MIN``."""
    return m.aligned and m.z >= MATCHED_Z_MIN and m.amplitude >= MATCHED_AMPLITUDE_MIN


def _flagged_evidence(
    prepared: PreparedLibrary,
    c: Component,
    found: ev.QueryBands,
    hqi: float,
    tolerance: float,
    p: _Partial | None = None,
) -> FlaggedEvidence:
    """A flagged component's band evidence: the query's own bands, and matched filters.

    A band counts where the query shows a peak (or a shoulder) there. With ``p``, the
    diagnostic bands are also tested together by a matched filter in the partial
    residual (``evidence.matched_bands``), and a strong band the peak finder missed
    counts as covered when its own matched filter stands (``matched_met``): under a
    fluorescence background tens of times the tallest band the per-point noise hides
    bands their whole width still shows. Looking for a diagnostic band as a *peak* in
    the partial residual was withdrawn: on the fresh measured split it turned the misfit
    of a 532 nm polystyrene spectrum into fentanyl's 750 and 1660 cm-1 bands
    (docs/fieldid.md, "How the measured splits were used"); the matched filter asks for
    the predicted band shape, at its height, jointly, over a straight-line local trend.
    """
    bands = list(prepared.bands[c.index]) if prepared.bands else []
    diagnostic = prepared.diagnostic[c.index] if prepared.diagnostic else ()
    present = tuple(d for d in diagnostic if found.present(d, tolerance))
    coverage, matched_cm1, missing = ev.band_coverage(found, bands, tolerance)
    joint = ev.MatchedBands()
    alone: dict[float, ev.MatchedBands] = {}
    if p is not None:
        joint = _matched(prepared, p, diagnostic) if diagnostic else joint
        alone = {b: _matched(prepared, p, (b,)) for b in missing}
        rescued = tuple(b for b in missing if matched_met(alone[b]))
        if rescued:
            strong = [b for b in bands if b.height >= ev.STRONG_BAND_MIN_HEIGHT]
            matched_cm1 = tuple(sorted((*matched_cm1, *rescued)))
            missing = tuple(b for b in missing if b not in rescued)
            total = sum(b.height for b in strong)
            coverage = sum(b.height for b in strong if b.position_cm1 in matched_cm1) / total
    height = {b.position_cm1: b.height for b in bands}
    heights = tuple(height.get(d, 1.0) for d in diagnostic)
    need = tuple(coadd_factor(alone[b]) if b in alone else np.inf for b in missing)
    return FlaggedEvidence(
        c, hqi, diagnostic, present, coverage, matched_cm1, missing, heights, joint,
        tuple(height.get(b, 0.0) for b in missing), need,
    )  # fmt: skip


def coadd_factor(m: ev.MatchedBands) -> float:
    """How many times the co-added acquisitions a matched-filter test needs to stand.

    Its z grows with the square root of the acquisitions co-added (the noise, shot
    noise of bands and fluorescence alike, falls so): it needs ``(MATCHED_Z_MIN / z)^2``.
    Its amplitude and alignment are read off the same noise: the amplitude is uncertain
    by about ``amplitude / z``, and under ``MATCHED_Z_MIN`` the slid pattern projects
    more by chance as often as not. So a test with signal (z > 0) whose amplitude is
    within two of its standard errors of ``MATCHED_AMPLITUDE_MIN`` counts as noise-limited;
    misaligned at ``MATCHED_Z_MIN`` or more, or well under the height, it will not stand
    by co-adding (inf).
    """
    if matched_met(m):
        return 1.0
    if m.z <= 0 or (m.aligned is False and m.z >= MATCHED_Z_MIN):
        return float("inf")
    if m.amplitude * (1.0 + 2.0 / m.z) < MATCHED_AMPLITUDE_MIN:
        return float("inf")
    return float((MATCHED_Z_MIN / m.z) ** 2)


def supporting_peaks(
    prepared: PreparedLibrary,
    query: np.ndarray,
    decomposition: Decomposition,
    component: Component,
    laser_nm: int,
    noise: float | None = None,
) -> tuple[float, ...]:
    """Query band positions (cm-1) that match a band of ``component``'s reference.

    A band supports the component when the query has a local maximum within the
    laser's tolerance of a reference band, standing above three times the noise
    (``noise``, or estimated from the residual's first differences), and the component
    makes at least a third of the fitted intensity there.
    """
    axis = prepared.axis_cm1
    ref = prepared.references[component.index]
    contribution = component.coefficient * prepared.matrix[component.index]
    fitted = np.maximum(decomposition.fitted, 1e-30)
    if noise is None:
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


def flagged_score(f: FlaggedEvidence, t: Thresholds) -> float:
    """The flagged verdict's own statistic: the weakest of its tests, 1 at its threshold."""
    c = f.component
    parts = [
        c.unique_z / max(t.unique_z_min, 1e-9),
        c.unique_hqi / max(t.unique_hqi_min, 1e-9),
        f.coverage / max(t.coverage_min, 1e-9),
        c.evidence / max(t.benign_gap_min, 1e-9),
        diagnostic_ratio(f, t),
    ]
    return float(max(min(parts), 0.0))


def benign_score(a: Analysis, t: Thresholds) -> float:
    """The release verdict's own statistic: the weaker of fit and band explanation."""
    fit = signal_r2(a)
    return float(
        max(min(fit / max(t.fit_r2_min, 1e-9), a.explained / max(t.explained_min, 1e-9)), 0.0)
    )


#: z of the one-sided 95% upper confidence limit on a fraction (normal approximation).
UPPER_BOUND_Z = 1.645


def fraction_upper(f: FlaggedEvidence) -> float:
    """One-sided 95% upper limit on a flagged component's fraction, from the fit's noise."""
    c = f.component
    return float(c.fraction + UPPER_BOUND_Z * max(c.fraction_sd, 0.0))


#: A flagged component bounds a release only with this much signal of its own (unique z,
#: assumed): a drug reference that takes a share of a real polystyrene spectrum with no
#: signal the polystyrene reference does not explain (z about 0) moved the verdict of
#: polystyrene with every 1 cm-1 of drift.
BOUND_MIN_Z = 1.0


def forced_upper(b: ForcedBound) -> float:
    """One-sided 95% upper limit on the fraction of a drug the fit left out (forced in)."""
    return float(b.fraction + UPPER_BOUND_Z * max(b.fraction_sd, 0.0))


def _names_a_cut(a: Analysis) -> bool:
    """Whether a release would name a cutting agent (supported, and shown: ``_shown``)."""
    dec = a.decomposition
    if dec is None:
        return False
    own = set(a.supported)
    return any(
        c.substance_class is SubstanceClass.CUTTING_AGENT and c.name in own and _shown(a, c)
        for c in dec.components
    )


def noise_limited(b: ForcedBound, limit: float, acquisitions: int = 1) -> bool:
    """Whether the noise alone, carried from the raw counts, leaves room for ``limit`` of ``b``.

    Then a forced-in share near zero (z under ``BOUND_MIN_Z``) does not exclude the
    drug: its upper limit reaches ``limit`` from the shot noise, whatever the estimate.
    Only the carried noise counts here, never the misfit term of ``fraction_sd``: on
    measured spectra from another instrument than the library's references, band-shape
    misfit, not noise, lets a drug reference take a few percent (``largest_upper``).

    With ``acquisitions`` co-added, the noise of *one* of them is what counts
    (``noise_sd * sqrt(acquisitions)``): a drug one acquisition could not exclude stays
    bounded after co-adding, and is excluded only when its whole upper limit (misfit
    included) falls under ``limit``, not because co-adding took it out of this rule.
    Without that, following a request to exclude a drug released 5-20% drug cuts the
    single acquisition had sent to the lab (development seed 3001, 785 nm: 13 of 34
    new releases).
    """
    return UPPER_BOUND_Z * b.noise_sd * np.sqrt(max(acquisitions, 1)) >= limit


def largest_upper(a: Analysis, limit: float = Thresholds.release_upper_max) -> tuple[float, str]:
    """The largest upper limit on a controlled or explosive fraction the fit allows.

    Over the flagged components with signal of their own (unique z >= ``BOUND_MIN_Z``)
    and, when the release would name a cutting agent, the flagged references the fit
    left out, forced back in (``mixtures.forced_bounds``) with a forced coefficient of
    at least ``BOUND_MIN_Z`` standard errors: a drug the non-negative fit drops
    entirely is bounded too, or a cut with a few percent of it reads as the cutting
    agent alone. Two limits, both from the measured splits: a forced-in drug with no
    signal either way is not counted, as in the fit (held-out polystyrene and calcite
    leave a drug of similar bands an upper limit of 8-13% at z under 1); and a release
    under a reference material or polymer alone (silicon, calcite, polystyrene) is not
    bounded this way (measured on other instruments, their band-shape misfit lets an
    explosive reference take 5-10% at z 1-3, which sent 4 of the fresh split's 25
    released in-library spectra to the lab). A drug is hidden in a cut, not in a wafer.
    A forced-in drug under ``BOUND_MIN_Z`` still counts when the noise alone leaves
    room for ``limit`` of it (``noise_limited``): a noisy cut cannot exclude the drug.
    """
    limits = [
        (fraction_upper(f), f.component.name)
        for f in a.flagged
        if f.component.unique_z >= BOUND_MIN_Z
    ]
    if _names_a_cut(a):
        limits += [
            (forced_upper(b), b.name)
            for b in a.forced
            if b.z >= BOUND_MIN_Z or noise_limited(b, limit, a.acquisitions)
        ]
    if not limits:
        return 0.0, ""
    return max(limits)


def release_score(a: Analysis, t: Thresholds) -> float:
    """The release's own statistic: the benign score, and the room left for a drug.

    1 where the weakest of fit, band explanation and ``release_upper_max`` over the
    largest upper limit on a flagged fraction just meets its threshold.
    """
    bound, _ = largest_upper(a, t.release_upper_max)
    room = t.release_upper_max / bound if bound > 0 else 2.0
    return float(min(benign_score(a, t), room))


def _confirmed(f: FlaggedEvidence, t: Thresholds, fit_r2: float) -> bool:
    return (
        flagged_score(f, t) >= 1.0
        and f.component.fraction >= t.fraction_min
        and len(f.diagnostic) > 0
        and fit_r2 >= t.confirm_r2_min
    )


#: Share of the diagnostic-band test that makes a component a lab case ("possible"):
#: half, as the lab's z and HQI are half the confirmation's.
SUSPECT_DIAGNOSTIC_RATIO = 0.5


def _suspected(f: FlaggedEvidence, t: Thresholds) -> bool:
    """Weaker signs: z and HQI above the lab's, and some band evidence of its own.

    Band evidence is a diagnostic band found as a peak, the strong bands covered, or
    half the diagnostic-band test met (the matched filter at half its z): with the noise
    counted honestly, a drug at 10-20% under fluorescence rarely shows a diagnostic
    *peak*, and without this it was released as its cutting agent.
    """
    c = f.component
    return (
        c.unique_z >= t.lab_z_min
        and c.unique_hqi >= t.lab_hqi_min
        and (
            len(f.diagnostic_found) > 0
            or f.coverage >= t.coverage_min
            or diagnostic_ratio(f, t) >= SUSPECT_DIAGNOSTIC_RATIO
        )
    )


#: A controlled or explosive reference taking at least this share of the fitted
#: contents, with unique signal z at the lab's threshold, blocks a release (assumed).
TRACE_FRACTION_MIN = 0.05


def _trace(f: FlaggedEvidence, t: Thresholds) -> bool:
    """A flagged component with a share of the fit and signal of its own, though no bands.

    With the noise counted honestly, the bands of a drug at 10-20% in a cutting agent
    under fluorescence rarely stand as peaks, and its ring bands may be fitted to
    another reference's name: such samples were released as the cutting agent. The
    fit still gives the drug a share and a unique signal above the noise; that is
    reason enough to send it to the lab, never to name it.
    """
    c = f.component
    return c.fraction >= TRACE_FRACTION_MIN and c.unique_z >= t.lab_z_min


def decide(
    analysis: Analysis, thresholds: Thresholds, calibration: Calibration | None = None
) -> Identification:
    """Apply ``thresholds`` to ``analysis``: the verdict, the action and a confidence.

    An inconclusive answer that more co-added acquisitions of the same sample could
    settle also says how many (``remeasure.request``).
    """
    from portwatch.fieldid.remeasure import request

    result = _verdict(analysis, thresholds, calibration)
    wanted = request(analysis, result, thresholds)
    if wanted is not None:
        reason = f"{result.reason}; {wanted.advice()}"
        return replace(result, reason=reason, remeasure=wanted,
                       acquisitions=analysis.acquisitions)  # fmt: skip
    return replace(result, acquisitions=analysis.acquisitions)


def _verdict(
    analysis: Analysis, thresholds: Thresholds, calibration: Calibration | None = None
) -> Identification:
    """The verdict, action and confidence ``decide`` gives, before any request."""
    laser = analysis.laser_nm
    maps = calibration or Calibration({laser: thresholds})
    if analysis.gate is not None or analysis.decomposition is None:
        gate = analysis.gate or GateFailure("no_signal", "no analysis")
        return _result(analysis, Verdict.INCONCLUSIVE, (), (), gate.reason, 0.0, gate.code)
    dec = analysis.decomposition
    fit = signal_r2(analysis)
    confirmed = [f for f in analysis.flagged if _confirmed(f, thresholds, fit)]
    suspected = [f for f in analysis.flagged if f not in confirmed and _suspected(f, thresholds)]
    # a drift found beyond the stated accuracy (at the narrow search's edge, or by the
    # wide search) names no drug: the axis may be wrong, not the library
    drifted = (
        abs(analysis.shift_cm1) > STATED_ACCURACY_CM1 + DRIFT_STEP_CM1
        and analysis.shift_from == "estimated"
    )
    if drifted and (confirmed or suspected):
        names = ", ".join(f.component.name for f in (*confirmed, *suspected))
        reason = (
            f"axis off by {analysis.shift_cm1:+.1f} cm-1, beyond the stated accuracy "
            f"({STATED_ACCURACY_CM1:g} cm-1); on the corrected axis it reads as {names}: "
            "measure the polystyrene standard, identify again with --calibration"
        )
        return _result(analysis, Verdict.INCONCLUSIVE, (), (), reason, 0.0, "axis_drift")
    packaging = [c for c in dec.components if c.substance_class is SubstanceClass.PACKAGING]
    others = [
        c for c in dec.components
        if c.substance_class not in (*ev.FLAGGED, SubstanceClass.PACKAGING)
    ]  # fmt: skip
    if confirmed:
        explosive = [
            f for f in confirmed if f.component.substance_class is SubstanceClass.EXPLOSIVE
        ]
        verdict = Verdict.EXPLOSIVE if explosive else Verdict.CONTROLLED
        best = max(flagged_score(f, thresholds) for f in confirmed)
        confidence = maps.confidence_map(laser, "flagged")(best)
        names = ", ".join(reported_name(f) for f in confirmed)
        reason = f"{verdict.value} substance identified: {names} ({PRESUMPTIVE_NOTE})"
        reason += _analogue_note(confirmed)
        shown = [_report(analysis, f.component, confidence, f) for f in confirmed]
        return _result(analysis, verdict, shown, packaging, reason, confidence, "identified")
    if not suspected:
        # a drug or explosive carrying signal of its own in the fit is not released with
        # the rest, even without band evidence: it goes to the lab as a trace
        suspected = [f for f in analysis.flagged if f not in confirmed and _trace(f, thresholds)]
    if suspected:
        best = max(flagged_score(f, thresholds) for f in suspected)
        confidence = maps.confidence_map(laser, "flagged")(best)
        names = ", ".join(reported_name(f) for f in suspected)
        reason = f"possible {names} below the confirmation threshold; confirm in a lab"
        reason += _analogue_note(suspected)
        shown = [_report(analysis, f.component, confidence, f) for f in suspected]
        return _result(
            analysis, Verdict.INCONCLUSIVE, shown, packaging, reason, confidence, "possible"
        )
    return _release_or_unknown(analysis, thresholds, maps, others, packaging, drifted)


def _release_or_unknown(
    analysis: Analysis,
    thresholds: Thresholds,
    maps: Calibration,
    others: list[Component],
    packaging: list[Component],
    drifted: bool,
) -> Identification:
    """Released under its supported references' names, or ``inconclusive: not in library``."""
    dec = analysis.decomposition
    assert dec is not None
    laser = analysis.laser_nm
    score = benign_score(analysis, thresholds)
    confidence = maps.confidence_map(laser, "benign")(release_score(analysis, thresholds))
    own = set(analysis.supported)
    others = [c for c in others if c.name in own]
    # a bag priced in at a negligible share names nothing (as ``_shown`` for contents)
    bags = [c for c in packaging if c.name in own and c.fraction >= 0.05]
    clean = analysis.largest_unexplained <= RELEASE_MAX_UNEXPLAINED
    bound, worst = largest_upper(analysis, thresholds.release_upper_max)
    if score >= 1.0 and (others or bags) and clean and bound >= thresholds.release_upper_max:
        noisy = any(
            b.name == worst and b.z < BOUND_MIN_Z
            and noise_limited(b, thresholds.release_upper_max)
            for b in analysis.forced
        )  # fmt: skip
        why = " (the noise alone allows that much: measure longer)" if noisy else ""
        reason = (
            f"cannot exclude {worst}: the fit allows up to {bound:.1%} of it{why} "
            f"(a release needs below {thresholds.release_upper_max:.1%}); confirm in a lab"
        )
        if drifted:
            reason += _drift_note(analysis)
        return _result(
            analysis, Verdict.INCONCLUSIVE, (), bags, reason, confidence, "cannot_exclude",
            handling_for_bound(worst),
        )  # fmt: skip
    if score >= 1.0 and (others or bags) and clean:
        shown = [_report(analysis, c, confidence) for c in others if _shown(analysis, c)]
        names = (
            ", ".join([c.name for c in shown] + [c.name for c in bags])
            or "non-controlled references"
        )
        reason = f"explained by {names}"
        if drifted:
            reason += _drift_note(analysis)
        return _result(analysis, Verdict.BENIGN, shown, bags, reason, confidence, "benign")
    hints = ", ".join(f"{h.name} (HQI {h.hqi:.2f})" for h in analysis.hits[:3])
    left = ", ".join(f"{p:.0f}" for p in analysis.unexplained_cm1[:6]) or "none"
    tall = ""
    if analysis.largest_unexplained > RELEASE_MAX_UNEXPLAINED:
        tall = f"; a band {analysis.largest_unexplained:.0%} of the tallest is unexplained"
    reason = (
        f"not in library: the library explains {dec.fit_r2:.0%} of the spectrum and "
        f"{analysis.explained:.0%} of its bands (needs {thresholds.fit_r2_min:.0%} and "
        f"{thresholds.explained_min:.0%}){tall}; unexplained bands at {left} cm-1; "
        f"closest: {hints}"
    )
    return _result(
        analysis, Verdict.INCONCLUSIVE, (), packaging, reason, confidence, "not_in_library"
    )


def reported_name(f: FlaggedEvidence) -> str:
    """The name a flagged component is reported under: an analogue pair's settled name."""
    return f.analogue.name if f.analogue is not None else f.component.name


def _analogue_note(flagged: list[FlaggedEvidence]) -> str:
    """What the reason adds for an analogue pair the spectrum cannot tell apart."""
    notes = [f.analogue for f in flagged if f.analogue is not None and not f.analogue.resolved]
    if not notes:
        return ""
    worst = handling_for(r.pair.label for r in notes)
    handle = f"; handle as {worst.compound}" if worst is not None else ""
    return "; " + "; ".join(r.reason() for r in notes) + handle


def _drift_note(analysis: Analysis) -> str:
    """What a release or a bound says of an axis drifted beyond the stated accuracy."""
    return (
        f" (axis off by {analysis.shift_cm1:+.1f} cm-1, beyond the stated accuracy: "
        "calibrate with the polystyrene standard)"
    )


def _shown(analysis: Analysis, c: Component) -> bool:
    """A benign component worth showing: it carries bands, not just misfit."""
    return len(analysis.supporting_peaks.get(c.name, ())) >= 1 and c.fraction >= 0.05


def _report(
    analysis: Analysis, c: Component, confidence: float, f: FlaggedEvidence | None = None
) -> ReportedComponent:
    settled = f.analogue if f is not None else None
    name = reported_name(f) if f is not None else c.name
    return ReportedComponent(
        name,
        _display_name(analysis, settled) if settled else analysis.display_names.get(name, name),
        c.substance_class,
        c.fraction,
        c.fraction_sd,
        confidence,
        analysis.supporting_peaks.get(c.name, ()),
        f.hqi if f else next((h.hqi for h in analysis.hits if h.name == c.name), c.shape_hqi),
        f.matched_cm1 if f else analysis.supporting_peaks.get(c.name, ()),
        f.missing_cm1 if f else (),
        candidates_of(name),
        settled,
    )


def _display_name(analysis: Analysis, settled: Resolution) -> str:
    """The settled compound's display name, or the pair's: ``Fentanyl or Carfentanil (...)``."""
    if settled.named is not None:
        return analysis.display_names.get(settled.named, settled.named)
    pair = settled.pair
    plain, marked = (analysis.display_names.get(n, n) for n in pair.names)
    return f"{plain} or {marked} ({pair.group})"


#: Inconclusive answers a stronger signal could settle (not a gate on the file or axis).
ADVICE_CODES = ("low_snr", "possible", "cannot_exclude", "not_in_library")


def fluorescence_advice(analysis: Analysis) -> str:
    """What to do about a fluorescence background above ``FLUORESCENCE_ADVICE_RATIO``.

    Its shot noise, not the sample, limits the answer: a longer exposure lowers the
    noise relative to the bands, and at 785 nm the 1064 nm laser excites far less
    fluorescence. Empty below the ratio.
    """
    ratio = analysis.background
    if ratio < FLUORESCENCE_ADVICE_RATIO:
        return ""
    remedy = "a longer exposure"
    if analysis.laser_nm < 1064:
        remedy += " or the 1064 nm laser"
    return (
        f"; the fluorescence background is about {ratio:.0f} times the tallest band: "
        f"measure again with {remedy}"
    )


def _result(
    analysis: Analysis,
    verdict: Verdict,
    shown: list[ReportedComponent] | tuple[()],
    packaging: list[Component] | tuple[()],
    reason: str,
    confidence: float,
    code: str,
    handling: Handling | None = None,
) -> Identification:
    dec = analysis.decomposition
    if verdict is Verdict.INCONCLUSIVE and code in ADVICE_CODES:
        reason += fluorescence_advice(analysis)
    flagged = [c.name for c in shown if c.substance_class in ev.FLAGGED]
    handling = handling or handling_for(flagged)
    return Identification(
        analysis.source,
        analysis.laser_nm,
        verdict,
        ACTION_FOR_VERDICT[verdict],
        tuple(shown),
        tuple(_report(analysis, c, confidence) for c in packaging),
        reason,
        dec.fit_r2 if dec else 0.0,
        analysis.hits,
        confidence,
        code,
        analysis.shift_cm1,
        analysis.explained,
        handling=handling,
    )


def identify(
    spectrum: Spectrum,
    library: Library | None = None,
    laser_nm: int | None = None,
    thresholds: dict[int, Thresholds] | Calibration | None = None,
    calibration_shift_cm1: float | None = None,
    prepared: PreparedLibrary | None = None,
) -> Identification:
    """Identify what ``spectrum`` shows: verdict, components, bands, action, confidence."""
    laser = laser_nm or spectrum.laser_nm or DEFAULT_LASER_NM
    if prepared is None:
        prepared = prepare(library or default_library(), laser)
    analysis = analyse(
        spectrum, laser_nm=laser_nm, prepared=prepared, calibration_shift_cm1=calibration_shift_cm1
    )
    if isinstance(thresholds, Calibration):
        calibration = thresholds
    elif thresholds is not None:
        calibration = Calibration(thresholds)
    else:
        calibration = load_calibration()
    table = calibration.thresholds.get(analysis.laser_nm, Thresholds())
    return decide(analysis, table, calibration)


def identify_file(
    path: Path,
    library: Library | None = None,
    laser_nm: int | None = None,
    calibration: Calibration | None = None,
    calibration_shift_cm1: float | None = None,
    prepared: dict[int, PreparedLibrary] | None = None,
) -> Identification:
    """Identify the spectrum in ``path``; an oversize file is refused before it is read.

    ``prepared`` holds prepared libraries per laser across a batch (filled as needed).

    The result's ``source`` is the path as given, so two files of the same name in
    different folders stay apart.
    """
    from portwatch.fieldid.readers import read_spectrum

    label = str(path)
    failure = check_file_size(Path(path))
    if failure is not None:
        laser = laser_nm or DEFAULT_LASER_NM
        return decide(Analysis(label, laser, failure), Thresholds(), calibration)
    spectrum = read_spectrum(path, laser_nm)
    spectrum = Spectrum(
        spectrum.shift_cm1, spectrum.intensity, spectrum.laser_nm, label, spectrum.metadata
    )
    from portwatch.fieldid.search import prepare_cached

    laser = laser_nm or spectrum.laser_nm or DEFAULT_LASER_NM
    held = prepared if prepared is not None else {}
    if laser not in held:
        held[laser] = prepare_cached(library or default_library(), laser)
    return identify(
        spectrum, library, laser_nm, calibration, calibration_shift_cm1, prepared=held[laser]
    )


__all__ = [
    "Analysis",
    "Calibration",
    "ConfidenceMap",
    "DEFAULT_LASER_NM",
    "FlaggedEvidence",
    "Identification",
    "PRESUMPTIVE_NOTE",
    "RELEASE_MAX_UNEXPLAINED",
    "ReportedComponent",
    "STATED_ACCURACY_CM1",
    "Thresholds",
    "analyse",
    "benign_score",
    "decide",
    "diagnostic_met",
    "diagnostic_ratio",
    "flagged_score",
    "fluorescence_advice",
    "identify",
    "identify_file",
    "load_calibration",
    "load_thresholds",
    "reported_name",
    "signal_r2",
    "supporting_peaks",
]
