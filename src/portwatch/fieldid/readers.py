"""Read spectra from the files handheld Raman instruments and libraries write.

Formats: two-column CSV/TXT (shift, intensity; comma, tab, space or semicolon
separated, decimal commas when the separator is not a comma), JCAMP-DX (through the
``jcamp`` package), Galactic SPC (through ``spc-io``) and the semicolon export of
B&W Tek instruments (``key;value`` header lines, then a table with a "Raman Shift"
column, decimal commas). Every failure is a ``SpectrumFormatError`` naming the file.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np

from portwatch.domain.errors import SpectrumFormatError
from portwatch.fieldid.spectrum import Spectrum, nearest_supported_laser

JCAMP_SUFFIXES = {".jdx", ".dx", ".jcamp", ".jcm"}
SPC_SUFFIXES = {".spc"}

# B&W Tek exports carry several intensity columns; the dark-subtracted one is the signal.
_BWTEK_INTENSITY_PREFERENCE = ("Dark Subtracted #1", "Raw data #1", "Raw data")


def read_spectrum(path: str | Path, laser_nm: int | None = None) -> Spectrum:
    """Read the spectrum in ``path``; ``laser_nm`` overrides what the file says.

    Raises ``SpectrumFormatError`` (naming the file) when the file is missing,
    unreadable or holds no usable spectrum.
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise SpectrumFormatError(f"{name}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in SPC_SUFFIXES:
            spectrum = _read_spc(path)
        elif suffix in JCAMP_SUFFIXES:
            spectrum = _read_jcamp(path)
        else:
            text = _decode(path)
            spectrum = _read_bwtek(text, name) if _is_bwtek(text) else _read_columns(text, name)
    except SpectrumFormatError:
        raise
    except (ValueError, KeyError, IndexError, OSError, TypeError, AttributeError) as exc:
        raise SpectrumFormatError(f"{name}: cannot be read: {exc}") from None
    return spectrum.with_laser(laser_nm)


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise SpectrumFormatError(f"{path.name}: binary content, not a text spectrum")
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SpectrumFormatError(f"{path.name}: not a text file")  # pragma: no cover


def _number(token: str, decimal_comma: bool) -> float:
    token = token.strip()
    if decimal_comma:
        token = token.replace(",", ".")
    return float(token)


def _is_bwtek(text: str) -> bool:
    head = text[:20000]
    return ";" in head and re.search(r"^Pixel;.*Raman Shift", head, re.M) is not None


def _read_bwtek(text: str, name: str) -> Spectrum:
    lines = text.splitlines()
    header: dict[str, str] = {}
    table_at = None
    for i, line in enumerate(lines):
        if "Raman Shift" in line and line.startswith("Pixel;"):
            table_at = i
            break
        key, sep, value = line.partition(";")
        if sep:
            header[key.strip()] = value.strip()
    if table_at is None:  # pragma: no cover - _is_bwtek guarantees the header
        raise SpectrumFormatError(f"{name}: no 'Raman Shift' column")
    columns = [c.strip() for c in lines[table_at].split(";")]
    shift_col = columns.index("Raman Shift")
    intensity_col = next(
        (columns.index(c) for c in _BWTEK_INTENSITY_PREFERENCE if c in columns), None
    )
    if intensity_col is None:
        raise SpectrumFormatError(f"{name}: no intensity column ({', '.join(columns)})")
    xs: list[float] = []
    ys: list[float] = []
    for row_no, line in enumerate(lines[table_at + 1 :], start=table_at + 2):
        cells = line.split(";")
        if len(cells) <= max(shift_col, intensity_col):
            continue
        shift_text = cells[shift_col].strip()
        if not shift_text:  # pixels outside the calibrated range have no shift
            continue
        try:
            xs.append(_number(shift_text, True))
            ys.append(_number(cells[intensity_col], True))
        except ValueError:
            raise SpectrumFormatError(
                f"{name}: line {row_no}: not a number: {line.strip()[:60]!r}"
            ) from None
    laser = None
    if "laser_wavelength" in header:
        try:
            laser = nearest_supported_laser(_number(header["laser_wavelength"], True))
        except ValueError:
            laser = None
    metadata: dict[str, str] = {
        k: header[k] for k in ("title", "model", "Date", "laser_wavelength") if k in header
    }
    return Spectrum(np.array(xs), np.array(ys), laser, name, metadata)


def _read_columns(text: str, name: str) -> Spectrum:
    xs: list[float] = []
    ys: list[float] = []
    first_data_line = None
    laser = None
    for line_no, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("#"):
            found = re.search(r"laser_nm\s*[=:]\s*([0-9.]+)", stripped)
            if found:
                laser = nearest_supported_laser(float(found.group(1)))
            continue
        if not stripped:
            continue
        cells, decimal_comma = _split_row(stripped)
        try:
            x = _number(cells[0], decimal_comma)
            y = _number(cells[1], decimal_comma) if len(cells) > 1 else float("nan")
        except ValueError:
            if first_data_line is None:  # a header line such as "shift,intensity"
                continue
            raise SpectrumFormatError(
                f"{name}: line {line_no}: not a number: {stripped[:60]!r}"
            ) from None
        if len(cells) < 2:
            raise SpectrumFormatError(
                f"{name}: line {line_no}: expected two columns (shift, intensity), got one"
            )
        first_data_line = first_data_line or line_no
        xs.append(x)
        ys.append(y)
    if not xs:
        raise SpectrumFormatError(f"{name}: no numeric (shift, intensity) rows")
    return Spectrum(np.array(xs), np.array(ys), laser, name)


def _split_row(line: str) -> tuple[list[str], bool]:
    if ";" in line:
        return line.split(";"), True
    if "\t" in line:
        cells = line.split("\t")
        return cells, len(cells) == 2 and "," in line
    if "," in line:
        cells = line.split(",")
        if len(cells) == 2:
            return cells, False
        # "123,4 567,8": a space separates the columns, commas are decimal marks
        spaced = line.split()
        if len(spaced) == 2:
            return spaced, True
        return cells, False
    return line.split(), False


def _read_jcamp(path: Path) -> Spectrum:
    import jcamp

    with path.open("rb") as handle:
        data = jcamp.read(handle)
    if "x" not in data or "y" not in data:
        raise SpectrumFormatError(f"{path.name}: JCAMP-DX file has no XYDATA block")
    x = np.asarray(data["x"], dtype=float)
    y = np.asarray(data["y"], dtype=float)
    units = str(data.get("xunits", "1/CM")).upper().replace(" ", "")
    if units not in {"1/CM", "CM-1", "CM^-1", "RAMANSHIFT"}:
        raise SpectrumFormatError(
            f"{path.name}: XUNITS: expected 1/CM (Raman shift), got {data.get('xunits')!r}"
        )
    laser = None
    for key in ("$laser wavelength", "$laser_wavelength", "$excitation wavelength", "laser"):
        if key in data:
            try:
                laser = nearest_supported_laser(float(data[key]))
            except (TypeError, ValueError):
                laser = None
            break
    return Spectrum(x, y, laser, path.name, {"title": str(data.get("title", ""))})


def _read_spc(path: Path) -> Spectrum:
    from spc_io import SPC

    try:
        spc = SPC.from_bytes_io(io.BytesIO(path.read_bytes()))
    except Exception as exc:  # spc-io raises many types on a corrupt header
        raise SpectrumFormatError(f"{path.name}: not a valid SPC file: {exc}") from None
    if len(spc) == 0:
        raise SpectrumFormatError(f"{path.name}: SPC file holds no spectrum")
    first = spc[0]
    return Spectrum(np.asarray(first.xarray), np.asarray(first.yarray), None, path.name)


def write_columns(spectrum: Spectrum, path: str | Path) -> None:
    """Write ``spectrum`` as a two-column CSV (``shift_cm1,intensity``)."""
    rows = "\n".join(
        f"{x:.4f},{y:.6g}" for x, y in zip(spectrum.shift_cm1, spectrum.intensity, strict=True)
    )
    laser = f"# laser_nm={spectrum.laser_nm}\n" if spectrum.laser_nm else ""
    Path(path).write_text(f"{laser}shift_cm1,intensity\n{rows}\n")


__all__ = ["read_spectrum", "write_columns"]
