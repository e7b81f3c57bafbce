"""Checks of values at the edges: CLI options, fields of scenario, policy and settings
files, identifiers that end up in file names.

Each check returns the value (converted: ``float``, ``int``, ``str`` or ``Path``) or
raises ``InputError`` with one line that names the field and the problem, in the
project's form ``NAME: must be ..., got VALUE``. ``name`` is what the user typed or
wrote: ``--seed``, ``policy.json: coverage.truck``, ``thresholds.gap_periods``.

Pure Python (``math`` only), so a CLI module can use it without delaying ``--help``.
For pydantic models, ``portwatch.domain.fields`` holds the same constraints as types.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from portwatch.domain.errors import InputError

MAX_SEED = 2**63 - 1
"""Seeds are accepted in [0, 2**63 - 1]: what numpy's SeedSequence takes as one word."""

_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or value is None:
        raise InputError(f"{name}: must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{name}: must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise InputError(f"{name}: must be finite, got {value!r}")
    return number


def finite(name: str, value: Any) -> float:
    """``value`` as a float, refusing NaN, infinities and non-numbers (also strings)."""
    if isinstance(value, str):
        raise InputError(f"{name}: must be a number, got {value!r}")
    return _number(name, value)


def in_range(
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
    unit: str = "",
) -> float:
    """``value`` as a finite float within ``[low, high]`` (``(low`` / ``high)`` when open;
    ``None``: unbounded on that side). ``unit`` is shown after the bound, e.g. ``m``."""
    number = finite(name, value)
    suffix = f" {unit}" if unit else ""
    if low is not None and (number <= low if low_open else number < low):
        raise InputError(f"{name}: must be {'>' if low_open else '>='} {low:g}{suffix}, "
                         f"got {value!r}")
    if high is not None and (number >= high if high_open else number > high):
        raise InputError(f"{name}: must be {'<' if high_open else '<='} {high:g}{suffix}, "
                         f"got {value!r}")
    return number


def probability(name: str, value: Any) -> float:
    """A probability or share: a finite float in [0, 1]."""
    return in_range(name, value, 0.0, 1.0)


def positive(name: str, value: Any, *, maximum: float | None = None, unit: str = "") -> float:
    """A finite float > 0 (and <= ``maximum`` when given): a duration, distance, rate."""
    return in_range(name, value, 0.0, maximum, low_open=True, unit=unit)


def non_negative(name: str, value: Any, *, maximum: float | None = None,
                 unit: str = "") -> float:
    """A finite float >= 0 (and <= ``maximum`` when given)."""
    return in_range(name, value, 0.0, maximum, unit=unit)


def count(name: str, value: Any, *, minimum: int = 0, maximum: int | None = None) -> int:
    """A whole number in ``[minimum, maximum]``: a count of days, trips, replications.
    A float is accepted only when it is whole (``3.0``), never NaN or infinite."""
    if isinstance(value, str):
        raise InputError(f"{name}: must be a whole number, got {value!r}")
    if isinstance(value, int) and not isinstance(value, bool):
        whole = value  # exact, however large
    else:
        number = _number(name, value)
        if number != int(number):
            raise InputError(f"{name}: must be a whole number, got {value!r}")
        whole = int(number)
    if whole < minimum:
        raise InputError(f"{name}: must be >= {minimum}, got {value!r}")
    if maximum is not None and whole > maximum:
        raise InputError(f"{name}: must be <= {maximum}, got {value!r}")
    return whole


def seed(name: str, value: Any) -> int:
    """A random seed: a whole number in [0, 2**63 - 1]."""
    return count(name, value, maximum=MAX_SEED)


def identifier(name: str, value: Any, *, max_length: int = 64) -> str:
    """An id that is safe as a file name on every system: letters, digits, ``.``, ``_``
    and ``-``, starting with a letter or digit, no ``..``, at most ``max_length`` long.
    So ``--seal-id ../escape`` or ``a/b`` can never name a file outside its folder."""
    if not isinstance(value, str):
        raise InputError(f"{name}: must be text, got {value!r}")
    if not value:
        raise InputError(f"{name}: must not be empty")
    if len(value) > max_length:
        raise InputError(f"{name}: must be at most {max_length} characters, got {len(value)}")
    for bad in ("/", "\\", ".."):
        if bad in value:
            raise InputError(f"{name}: must not contain {bad!r}, got {value!r}")
    if not _IDENTIFIER.fullmatch(value):
        raise InputError(f"{name}: only letters, digits, '.', '_' and '-', starting with a "
                         f"letter or digit, got {value!r}")
    return value


def file_in(folder: Path, name: str, value: Any, suffix: str = "") -> Path:
    """The path ``folder / (value + suffix)`` for an identifier ``value`` checked with
    ``identifier`` (no separator, no ``..``: the file cannot be outside ``folder``)."""
    return folder / f"{identifier(name, value)}{suffix}"


def output_folder(name: str, path: Path) -> Path:
    """A folder to write into: absent (it will be made) or a folder, never a file.
    Checked before a long computation, so its result is not lost at the end."""
    if path.exists() and not path.is_dir():
        raise InputError(f"{name} {path}: exists and is not a folder")
    return path


def output_file(name: str, path: Path) -> Path:
    """A file to write: absent or a file, never a folder. Checked before a long
    computation, so its result is not lost at the end."""
    if path.is_dir():
        raise InputError(f"{name} {path}: is a folder, not a file")
    return path


__all__ = [
    "MAX_SEED",
    "count",
    "file_in",
    "finite",
    "identifier",
    "in_range",
    "non_negative",
    "output_file",
    "output_folder",
    "positive",
    "probability",
    "seed",
]
