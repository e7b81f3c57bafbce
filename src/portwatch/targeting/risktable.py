"""Reading a feature table (CSV with a header row) into a ``RiskTable``; one-line errors.

Every column other than the label and the time is a numeric feature. The label column
holds 0/1 (or true/false): whether the crossing carried contraband.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from portwatch.domain.errors import InputError
from portwatch.targeting.risk import RiskTable

_TRUE = {"1", "true", "yes"}
_FALSE = {"0", "false", "no"}


def read_risk_table(path: Path, *, label: str, time: str,
                    drop: tuple[str, ...] = ()) -> RiskTable:
    """The table in ``path``; ``drop`` names columns that are not features (ids, notes)."""
    where = path.name
    try:
        with path.open(newline="") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise InputError(f"{where}: cannot read: {exc.strerror}") from None
    if len(rows) < 2:
        raise InputError(f"{where}: needs a header row and at least one crossing")
    header = [h.strip() for h in rows[0]]
    for name, what in ((label, "--label"), (time, "--time")):
        if name not in header:
            raise InputError(f"{where}: {what} column {name!r} is not in the header")
    unknown = [d for d in drop if d not in header]
    if unknown:
        raise InputError(f"{where}: --drop column {unknown[0]!r} is not in the header")
    features = [h for h in header if h not in (label, time, *drop)]
    if not features:
        raise InputError(f"{where}: no feature columns besides {label!r} and {time!r}")
    idx = {h: i for i, h in enumerate(header)}
    x = np.empty((len(rows) - 1, len(features)))
    y = np.empty(len(rows) - 1, dtype=bool)
    t = np.empty(len(rows) - 1)
    for r, row in enumerate(rows[1:]):
        line = r + 2
        if len(row) != len(header):
            raise InputError(f"{where}: line {line}: {len(row)} fields, header has "
                             f"{len(header)}")
        flag = row[idx[label]].strip().lower()
        if flag not in _TRUE | _FALSE:
            raise InputError(f"{where}: line {line}: {label}: must be 0/1 or true/false, "
                             f"got {row[idx[label]]!r}")
        y[r] = flag in _TRUE
        for c, name in enumerate((time, *features)):
            try:
                value = float(row[idx[name]])
            except ValueError:
                raise InputError(f"{where}: line {line}: {name}: not a number: "
                                 f"{row[idx[name]]!r}") from None
            if c == 0:
                t[r] = value
            else:
                x[r, c - 1] = value
    try:
        return RiskTable(x, tuple(features), y, t)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None


__all__ = ["read_risk_table"]
