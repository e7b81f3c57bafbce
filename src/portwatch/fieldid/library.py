"""The reference library: spectra with metadata, in a versioned file.

The default library is synthesised from the peak table shipped in
``fieldid/data/raman_peaks.toml`` (literature positions, cited per compound) with
per-laser line shapes; every entry built that way says ``synthetic: true``. Users add
measured references (``portwatch fieldid library add``); for a given name and laser a
measured reference takes precedence over a synthetic one.

File format (JSON): ``{"format": "portwatch-raman-library", "format_version": 1,
"revision": N, "description": ..., "references": [{"name", "display_name", "class",
"laser_nm", "synthetic", "source", "confidence", "peaks_cm1", "shift_cm1",
"intensity"}, ...]}``. ``revision`` grows by one on every change.
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from scipy.signal import find_peaks

from portwatch.domain.errors import ConfigError, ConflictError, InputError
from portwatch.domain.substances import SubstanceClass
from portwatch.fieldid.spectrum import SUPPORTED_LASERS_NM, Spectrum
from portwatch.fieldid.synthesis import SYNTHETIC_AXIS_CM1, line_shape, synthesize

FORMAT = "portwatch-raman-library"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Reference:
    """One library entry: a compound's spectrum at one laser, with where it came from."""

    name: str
    display_name: str
    substance_class: SubstanceClass
    laser_nm: int
    spectrum: Spectrum
    synthetic: bool
    source: str
    confidence: str = "measured"
    peaks_cm1: tuple[float, ...] = field(default=())


@dataclass(frozen=True)
class Library:
    """A set of references plus the file revision they came from."""

    references: tuple[Reference, ...]
    revision: int = 1
    description: str = ""

    def select(self, laser_nm: int) -> tuple[Reference, ...]:
        """One reference per compound for ``laser_nm``: measured beats synthetic."""
        chosen: dict[str, Reference] = {}
        for ref in self.references:
            if ref.laser_nm != laser_nm:
                continue
            held = chosen.get(ref.name)
            if held is None or (held.synthetic and not ref.synthetic):
                chosen[ref.name] = ref
        return tuple(chosen.values())

    def names(self) -> list[str]:
        """The distinct compound names, sorted."""
        return sorted({r.name for r in self.references})

    def with_reference(self, ref: Reference) -> Library:
        """This library plus ``ref``; a measured entry of the same name and laser is replaced."""
        if ref.synthetic:
            raise InputError(f"{ref.name}: only measured references can be added")
        kept = tuple(
            r
            for r in self.references
            if not (r.name == ref.name and r.laser_nm == ref.laser_nm and not r.synthetic)
        )
        return Library(kept + (ref,), self.revision + 1, self.description)


# ---- the peak table -----------------------------------------------------------------


@dataclass(frozen=True)
class PeakEntry:
    """A compound of the peak table: positions (cm-1) and heights, with its source."""

    name: str
    display_name: str
    substance_class: SubstanceClass
    peaks: tuple[tuple[float, float], ...]
    source: str
    confidence: str


def load_peak_table(path: Path | None = None) -> tuple[PeakEntry, ...]:
    """Read the peak table (default: the one shipped with portwatch)."""
    if path is None:
        text = resources.files("portwatch.fieldid").joinpath("data/raman_peaks.toml").read_text()
        label = "raman_peaks.toml"
    else:
        text, label = Path(path).read_text(), Path(path).name
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label}: {exc}") from None
    entries = []
    for key, body in table.items():
        try:
            entries.append(
                PeakEntry(
                    key,
                    body["name"],
                    SubstanceClass(body["class"]),
                    tuple((float(p), float(h)) for p, h in body["peaks"]),
                    body["source"],
                    body.get("confidence", "approximate"),
                )
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ConfigError(f"{label}: [{key}]: {exc}") from None
    return tuple(entries)


def synthetic_reference(entry: PeakEntry, laser_nm: int) -> Reference:
    """The spectrum ``entry``'s peaks give at ``laser_nm``, as a synthetic reference."""
    kind = "polymer" if entry.substance_class is SubstanceClass.PACKAGING else "crystal"
    intensity = synthesize(entry.peaks, line_shape(laser_nm, kind))
    spectrum = Spectrum(SYNTHETIC_AXIS_CM1, intensity, laser_nm, f"synthetic:{entry.name}")
    return Reference(
        entry.name,
        entry.display_name,
        entry.substance_class,
        laser_nm,
        spectrum,
        True,
        f"synthetic from peak table; {entry.source}",
        entry.confidence,
        tuple(p for p, _ in entry.peaks),
    )


def build_default_library(lasers: Iterable[int] = SUPPORTED_LASERS_NM) -> Library:
    """The default library: every peak-table compound at every supported laser, synthetic,
    plus the measured references shipped in ``fieldid/data/measured`` (which take
    precedence at their laser)."""
    lasers = tuple(lasers)
    table = load_peak_table()
    refs = tuple(synthetic_reference(e, laser) for e in table for laser in lasers)
    measured = tuple(r for r in shipped_measured(table) if r.laser_nm in lasers)
    return Library(
        refs + measured,
        1,
        "Mostly SYNTHETIC library: Voigt bands at literature peak positions "
        "(raman_peaks.toml), plus measured polystyrene, silicon and calcite at 785 nm "
        "(ramanchada2 round-robin data, MIT). Add measured references before operational use.",
    )


#: Measured references shipped with portwatch: file stem -> (peak-table name, source).
SHIPPED_MEASURED = {
    "polystyrene_785": "ramanchada2 1.5.0 (MIT): ICV_BW785/PST02_iRPlus785_Z050_100_3200ms.txt",
    "silicon_785": "ramanchada2 1.5.0 (MIT): ICV_BW785/S0N02_iRPlus785_Z050_100_3200ms.txt",
    "calcite_785": "ramanchada2 1.5.0 (MIT): ICV_BW785/sCAL02_iRPlus785_Z050_100_3800ms.txt",
}


def shipped_measured(table: Sequence[PeakEntry]) -> tuple[Reference, ...]:
    """The measured references in ``fieldid/data/measured`` (B&W Tek i-Raman Plus, 785 nm)."""
    from portwatch.fieldid.readers import read_spectrum

    by_name = {e.name: e for e in table}
    out = []
    folder = resources.files("portwatch.fieldid").joinpath("data/measured")
    for stem, source in SHIPPED_MEASURED.items():
        name = stem.rsplit("_", 1)[0]
        entry = by_name[name]
        with resources.as_file(folder.joinpath(f"{stem}.csv")) as path:
            spectrum = read_spectrum(path)
        out.append(
            Reference(
                name,
                entry.display_name,
                entry.substance_class,
                785,
                spectrum,
                False,
                f"measured: {source}",
                "measured",
                tuple(p for p, _ in entry.peaks),
            )
        )
    return tuple(out)


@lru_cache(maxsize=1)
def default_library() -> Library:
    """The default library, built once and cached on disk keyed by its inputs' content.

    The key hashes the shipped peak table and measured reference files, so editing any
    of them builds the library anew; an unusable cache only costs the build.
    """
    import hashlib
    import pickle

    from portwatch.fieldid.search import CACHE_VERSION, cache_dir

    data = resources.files("portwatch.fieldid").joinpath("data")
    digest = hashlib.sha256(CACHE_VERSION.encode())
    digest.update(data.joinpath("raman_peaks.toml").read_bytes())
    for stem in SHIPPED_MEASURED:
        digest.update(data.joinpath(f"measured/{stem}.csv").read_bytes())
    path = cache_dir() / f"default-library-{digest.hexdigest()[:32]}.pickle"
    try:
        with path.open("rb") as handle:
            held = pickle.load(handle)  # noqa: S301 - our own cache file, keyed by content
        if isinstance(held, Library):
            return held
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError):
        pass
    library = build_default_library()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as handle:
            pickle.dump(library, handle, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    except OSError:
        pass
    return library


def measured_reference(
    name: str,
    spectrum: Spectrum,
    substance_class: SubstanceClass,
    source: str,
    display_name: str | None = None,
) -> Reference:
    """A measured reference from ``spectrum``; its peaks are picked from the spectrum."""
    if spectrum.laser_nm is None:
        raise InputError(f"{spectrum.source}: laser unknown; give --laser 785 or 1064")
    if not name.strip():
        raise InputError("name: must not be empty")
    return Reference(
        name.strip(),
        display_name or name.strip(),
        substance_class,
        spectrum.laser_nm,
        spectrum,
        False,
        source,
        "measured",
        pick_peaks(spectrum),
    )


def pick_peaks(spectrum: Spectrum, max_peaks: int = 12) -> tuple[float, ...]:
    """Positions (cm-1) of the most prominent bands of ``spectrum`` in the fingerprint."""
    from portwatch.fieldid.preprocess import default_pipeline

    x, y = default_pipeline(None).apply(spectrum)
    found, props = find_peaks(y, prominence=0.05 * (y.max() - y.min()))
    order = np.argsort(props["prominences"])[::-1][:max_peaks]
    return tuple(sorted(float(x[found[i]]) for i in order))


# ---- the file -------------------------------------------------------------------------


class _RefModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1)
    display_name: str
    substance_class: SubstanceClass = Field(alias="class")
    laser_nm: int
    synthetic: bool
    source: str
    confidence: str = "measured"
    peaks_cm1: list[float] = []
    shift_cm1: list[float]
    intensity: list[float]


class _LibraryModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: str
    format_version: int
    revision: int = Field(ge=1)
    description: str = ""
    references: list[_RefModel]


def load_library(path: str | Path) -> Library:
    """Read a library file; errors name the file and the field."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path.name}: no such library file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name}: not JSON: {exc}") from None
    try:
        model = _LibraryModel.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path.name}: {where}: {first['msg']}") from None
    if model.format != FORMAT:
        raise ConfigError(f"{path.name}: format: expected {FORMAT!r}, got {model.format!r}")
    if model.format_version > FORMAT_VERSION:
        raise ConfigError(
            f"{path.name}: format_version: {model.format_version} is newer than this "
            f"portwatch reads ({FORMAT_VERSION})"
        )
    refs = []
    for i, r in enumerate(model.references):
        label = f"{path.name}: references.{i} ({r.name})"
        spectrum = _spectrum_or_error(r, label)
        refs.append(
            Reference(
                r.name,
                r.display_name,
                r.substance_class,
                r.laser_nm,
                spectrum,
                r.synthetic,
                r.source,
                r.confidence,
                tuple(r.peaks_cm1),
            )
        )
    return Library(tuple(refs), model.revision, model.description)


def _spectrum_or_error(r: _RefModel, label: str) -> Spectrum:
    from portwatch.domain.errors import SpectrumFormatError

    try:
        return Spectrum(np.array(r.shift_cm1), np.array(r.intensity), r.laser_nm, r.name)
    except SpectrumFormatError as exc:
        raise ConfigError(f"{label}: {exc}") from None


def save_library(library: Library, path: str | Path) -> None:
    """Write ``library`` to ``path`` atomically: a failed write leaves the old file intact."""
    path = Path(path)
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "revision": library.revision,
        "description": library.description,
        "references": [_ref_doc(r) for r in library.references],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(doc, handle, separators=(",", ":"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _ref_doc(r: Reference) -> dict[str, object]:
    return {
        "name": r.name,
        "display_name": r.display_name,
        "class": r.substance_class.value,
        "laser_nm": r.laser_nm,
        "synthetic": r.synthetic,
        "source": r.source,
        "confidence": r.confidence,
        "peaks_cm1": [round(p, 2) for p in r.peaks_cm1],
        "shift_cm1": [round(float(v), 3) for v in r.spectrum.shift_cm1],
        "intensity": [float(f"{v:.6g}") for v in r.spectrum.intensity],
    }


def add_to_library_file(path: str | Path, ref: Reference) -> Library:
    """Add ``ref`` to the library file at ``path`` (created from the default if absent)."""
    path = Path(path)
    library = load_library(path) if path.exists() else default_library()
    held = next((r for r in library.references if r.name == ref.name), None)
    if held is not None and held.substance_class != ref.substance_class:
        raise ConflictError(
            f"{ref.name}: already in the library as {held.substance_class.value}, "
            f"not {ref.substance_class.value}"
        )
    updated = library.with_reference(ref)
    save_library(updated, path)
    return updated


def padded_library(base: Library, size: int, laser_nm: int, rng: np.random.Generator) -> Library:
    """``base`` at ``laser_nm`` padded with random synthetic benign compounds to ``size``.

    Used by the benchmark to measure search cost at large library sizes.
    """
    refs = list(base.select(laser_nm))
    shape = line_shape(laser_nm)
    i = 0
    while len(refs) < size:
        n_peaks = int(rng.integers(4, 12))
        positions = np.sort(rng.uniform(380.0, 1780.0, n_peaks))
        heights = rng.uniform(0.1, 1.0, n_peaks)
        heights[rng.integers(n_peaks)] = 1.0
        peaks = tuple(zip(positions.tolist(), heights.tolist(), strict=True))
        spectrum = Spectrum(SYNTHETIC_AXIS_CM1, synthesize(peaks, shape), laser_nm, f"pad{i}")
        refs.append(
            Reference(
                f"padding_{i:04d}",
                f"Padding compound {i}",
                SubstanceClass.BENIGN,
                laser_nm,
                spectrum,
                True,
                "random synthetic padding",
                "synthetic",
                tuple(positions),
            )
        )
        i += 1
    return replace(base, references=tuple(refs[:size]))


def library_digest(library: Library) -> str:
    """sha256 of the library's content (names, classes, lasers, bands and spectra)."""
    import hashlib

    digest = hashlib.sha256()
    for r in library.references:
        head = f"{r.name}|{r.substance_class.value}|{r.laser_nm}|{r.synthetic}|{r.peaks_cm1}"
        digest.update(head.encode())
        digest.update(np.ascontiguousarray(r.spectrum.shift_cm1).tobytes())
        digest.update(np.ascontiguousarray(r.spectrum.intensity).tobytes())
    return digest.hexdigest()


def class_of(references: Sequence[Reference], name: str) -> SubstanceClass:
    """The class of the reference called ``name``."""
    for r in references:
        if r.name == name:
            return r.substance_class
    raise InputError(f"{name}: not in the library")


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Library",
    "PeakEntry",
    "Reference",
    "add_to_library_file",
    "build_default_library",
    "class_of",
    "default_library",
    "load_library",
    "library_digest",
    "load_peak_table",
    "measured_reference",
    "padded_library",
    "pick_peaks",
    "save_library",
    "synthetic_reference",
]
