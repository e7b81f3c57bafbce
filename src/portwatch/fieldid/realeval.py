"""Identification judged on measured spectra: tuning samples, held-out figures, perturbations.

``tuned_from_real`` turns the real *tuning* split into calibration samples.
``evaluate_real`` judges a calibration on the *held-out* split only and reports, per
laser: no benign or packaging spectrum may be called controlled or explosive; compounds
the library does not hold must come out inconclusive or under their right name; the
ones it holds should be named. ``perturb`` checks each held-out spectrum again after an
axis shift within the stated accuracy, after clipping (saturation) and with its axis
written in nm, with and without the laser line.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from portwatch.domain.substances import Verdict
from portwatch.fieldid.calibrate import Tuned
from portwatch.fieldid.identify import (
    STATED_ACCURACY_CM1,
    Calibration,
    Identification,
    Thresholds,
    analyse,
    decide,
)
from portwatch.fieldid.library import Library
from portwatch.fieldid.realdata import RealSample, load
from portwatch.fieldid.search import prepare
from portwatch.fieldid.spectrum import Spectrum

ALARMS = (Verdict.CONTROLLED, Verdict.EXPLOSIVE)
SHIFTS_CM1 = (-STATED_ACCURACY_CM1, -2.0, -1.0, 1.0, 2.0, STATED_ACCURACY_CM1)
CLIP_AT = 0.6


def tuned_from_real(
    samples: Sequence[RealSample],
    library: Library,
    cache_dir: Path | None = None,
    progress: Callable[[], None] | None = None,
) -> dict[int, list[Tuned]]:
    """The real tuning split as calibration samples, per laser (held-out ones refused)."""
    out: dict[int, list[Tuned]] = {}
    for s in samples:
        if s.split != "tuning":
            raise ValueError(f"{s.key}: a held-out or fresh spectrum may not be used for tuning")
        prepared = prepare(library, s.laser_nm)
        a = analyse(load(s, cache_dir), prepared=prepared)
        explainable = s.library_name is not None
        out.setdefault(s.laser_nm, []).append(Tuned(a, explainable, frozenset(), s.library_name))
        if progress is not None:
            progress()
    return out


def right_answer(sample: RealSample, ident: Identification) -> bool:
    """Named by its library name (benign), or inconclusive; never an alarm."""
    if ident.verdict in ALARMS:
        return False
    if ident.verdict is Verdict.INCONCLUSIVE:
        return True
    named = {c.name for c in (*ident.components, *ident.packaging)}
    return sample.library_name is not None and sample.library_name in named


@dataclass
class RealReport:
    """Held-out figures per laser, and per source; perturbation results."""

    samples: dict[int, int] = field(default_factory=dict)
    alarms: dict[int, int] = field(default_factory=dict)
    by_truth: dict[int, dict[str, dict[str, int]]] = field(default_factory=dict)
    not_in_library: dict[int, dict[str, int]] = field(default_factory=dict)
    in_library: dict[int, dict[str, int]] = field(default_factory=dict)
    sources: dict[str, dict[str, object]] = field(default_factory=dict)
    perturbations: dict[str, dict[str, int]] = field(default_factory=dict)
    alarm_files: list[str] = field(default_factory=list)
    wrong_names: list[str] = field(default_factory=list)
    reliability: list[dict[str, float]] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        """The report as JSON-ready data."""
        return dict(self.__dict__)


def _identify(
    spectrum: Spectrum, laser: int | None, library: Library, cal: Calibration
) -> Identification:
    prepared = prepare(library, laser or spectrum.laser_nm or 785)
    a = analyse(spectrum, laser_nm=laser, prepared=prepared)
    return decide(a, cal.thresholds.get(a.laser_nm, Thresholds()), cal)


def evaluate_real(
    samples: Sequence[RealSample],
    library: Library,
    calibration: Calibration,
    cache_dir: Path | None = None,
    progress: Callable[[], None] | None = None,
    perturb_every: int = 1,
    split: str = "heldout",
) -> RealReport:
    """Judge ``calibration`` on the ``split`` (heldout or fresh; tuning samples are refused)."""
    from portwatch.fieldid.evaluate import reliability

    if split not in ("heldout", "fresh"):
        raise ValueError(f"split: only heldout or fresh are used for reported figures, not {split}")
    report = RealReport()
    rows: list[tuple[Identification, bool | None]] = []
    singles: dict[str, Identification] = {}
    for i, s in enumerate(samples):
        if s.split != split:
            raise ValueError(f"{s.key}: belongs to the {s.split} split, not {split}")
        spectrum = load(s, cache_dir)
        ident = _identify(spectrum, s.laser_nm, library, calibration)
        singles[s.key] = ident
        _count(report, s, ident)
        named = ident.verdict is not Verdict.INCONCLUSIVE
        rows.append((ident, right_answer(s, ident) if named else None))
        if i % perturb_every == 0:
            _perturbations(report, s, spectrum, ident, library, calibration)
        if progress is not None:
            progress()
    report.reliability = reliability(rows)
    _coadded_repeats(report, samples, singles, library, calibration, cache_dir)
    return report


#: A file of a repeated acquisition: the same name but for a trailing ``_N``.
_REPEAT = re.compile(r"_(\d+)(\.[A-Za-z]+)$")
COADD_REPEATS = "co-added repeat acquisitions of one sample (pairs, and all)"
COADD_NOISE = "co-added with itself plus noise at its own level"


def repeat_groups(samples: Sequence[RealSample]) -> list[list[RealSample]]:
    """Repeated acquisitions of one sample: same instrument and file name but ``_N``."""
    groups: dict[tuple[str, str], list[RealSample]] = {}
    for s in samples:
        stem = _REPEAT.sub(r"\2", s.key)
        if stem != s.key:
            groups.setdefault((s.instrument, stem), []).append(s)
    return [sorted(g, key=lambda s: s.key) for g in groups.values() if len(g) >= 2]


def _coadded_repeats(
    report: RealReport,
    samples: Sequence[RealSample],
    singles: dict[str, Identification],
    library: Library,
    cal: Calibration,
    cache_dir: Path | None,
) -> None:
    """Co-add repeated real acquisitions in pairs and all together: verdicts unchanged?

    A pass is a right answer (``right_answer``); a verdict counts as changed when it is
    none of the co-added acquisitions' own single verdicts.
    """
    from portwatch.fieldid.acquisitions import identify_coadded

    for group in repeat_groups(samples):
        spectra = [load(s, cache_dir) for s in group]
        laser = group[0].laser_nm
        prepared = prepare(library, laser)
        combos = [list(range(k, k + 2)) for k in range(0, len(group) - 1, 2)]
        combos.append(list(range(len(group))))
        for combo in combos:
            got = identify_coadded([spectra[k] for k in combo], library, laser, cal,
                                   prepared=prepared)  # fmt: skip
            own = {singles[group[k].key].verdict for k in combo}
            _tally(report, COADD_REPEATS, right_answer(group[0], got), got.verdict not in own)
            if got.verdict in ALARMS:
                report.alarm_files.append(f"{group[0].key} co-added: {got.reason}")


def _count(report: RealReport, s: RealSample, ident: Identification) -> None:
    laser = s.laser_nm
    report.samples[laser] = report.samples.get(laser, 0) + 1
    alarm = ident.verdict in ALARMS
    report.alarms[laser] = report.alarms.get(laser, 0) + int(alarm)
    if alarm:
        report.alarm_files.append(f"{s.key}: {ident.reason}")
    cell = report.by_truth.setdefault(laser, {}).setdefault(s.truth, {})
    cell[ident.verdict.value] = cell.get(ident.verdict.value, 0) + 1
    ok = right_answer(s, ident)
    if not ok and not alarm:
        names = ", ".join(c.name for c in (*ident.components, *ident.packaging))
        report.wrong_names.append(f"{s.key} ({s.compound}): {ident.verdict.value} as {names}")
    group = report.in_library if s.library_name else report.not_in_library
    row = group.setdefault(laser, {"n": 0, "inconclusive_or_right": 0, "named_right": 0})
    row["n"] += 1
    row["inconclusive_or_right"] += int(ok)
    row["named_right"] += int(ok and ident.verdict is not Verdict.INCONCLUSIVE)
    src = report.sources.setdefault(
        s.source.split(" (")[0], {"licence": s.licence, "count": 0, "lasers": []}
    )
    src["count"] = int(src["count"]) + 1  # type: ignore[call-overload]
    if laser not in src["lasers"]:  # type: ignore[operator]
        src["lasers"].append(laser)  # type: ignore[attr-defined]


def _tally(report: RealReport, kind: str, passed: bool, changed: bool = False) -> None:
    row = report.perturbations.setdefault(kind, {"n": 0, "passed": 0, "verdict_changed": 0})
    row["n"] += 1
    row["passed"] += int(passed)
    row["verdict_changed"] += int(changed)


def _perturbations(
    report: RealReport,
    s: RealSample,
    spectrum: Spectrum,
    base: Identification,
    library: Library,
    cal: Calibration,
) -> None:
    laser = s.laser_nm
    for shift in SHIFTS_CM1:
        moved = Spectrum(spectrum.shift_cm1 + shift, spectrum.intensity, laser, spectrum.source)
        got = _identify(moved, laser, library, cal)
        ok = right_answer(s, got)
        _tally(report, "axis shift (+/-1, 2, 4 cm-1)", ok, got.verdict is not base.verdict)
    y = spectrum.intensity
    level = float(y.min() + CLIP_AT * (y.max() - y.min()))
    clipped = Spectrum(spectrum.shift_cm1, np.minimum(y, level), laser, spectrum.source)
    got = _identify(clipped, laser, library, cal)
    _tally(report, "saturation (clipped at 60%)", got.reason_code == "saturated")
    keep = spectrum.shift_cm1 > -1e7 / laser * 0.5
    nm = 1e7 / (1e7 / laser - spectrum.shift_cm1[keep])
    as_nm = Spectrum(nm, spectrum.intensity[keep], laser, spectrum.source)
    got = _identify(as_nm, laser, library, cal)
    ok = right_answer(s, got)
    _tally(report, "axis in nm, laser given (converted)", ok, got.verdict is not base.verdict)
    unlabelled = Spectrum(nm, spectrum.intensity[keep], None, spectrum.source)
    got = _identify(unlabelled, None, library, cal)
    _tally(report, "axis in nm, laser unknown (refused)", got.reason_code == "axis_units")
    _coadded_with_noise(report, s, spectrum, base, library, cal)


def _coadded_with_noise(
    report: RealReport,
    s: RealSample,
    spectrum: Spectrum,
    base: Identification,
    library: Library,
    cal: Calibration,
) -> None:
    """The spectrum co-added with a second acquisition: itself plus white noise at its
    own raw noise level (second differences), seeded by the file's key."""
    from portwatch.fieldid.acquisitions import identify_coadded
    from portwatch.fieldid.gates import noise_sigma

    rng = np.random.default_rng(zlib.crc32(s.key.encode()))
    y = np.asarray(spectrum.intensity, dtype=float)
    second = Spectrum(spectrum.shift_cm1, y + rng.normal(0.0, noise_sigma(y), y.size),
                      s.laser_nm, spectrum.source)  # fmt: skip
    got = identify_coadded([spectrum, second], library, s.laser_nm, cal,
                           prepared=prepare(library, s.laser_nm))  # fmt: skip
    _tally(report, COADD_NOISE, right_answer(s, got), got.verdict is not base.verdict)
    if got.verdict in ALARMS:
        report.alarm_files.append(f"{s.key} co-added with noise: {got.reason}")


def render_real(report: RealReport, title: str = "held-out split") -> str:
    """The real figures of one split as Markdown."""
    out = [f"### Measured spectra, {title}", ""]
    if not report.samples:
        return "\n".join([*out, "No measured spectra were evaluated.", ""])
    out += ["| source | licence | spectra | lasers |", "|---|---|---|---|"]
    for name, src in report.sources.items():
        lasers = ", ".join(f"{k} nm" for k in sorted(src["lasers"]))  # type: ignore[call-overload]
        out.append(f"| {name} | {src['licence']} | {src['count']} | {lasers} |")
    out += [
        "",
        "| laser | spectra | controlled or explosive calls | not in library: inconclusive "
        "or right name | in library: named right | in library: inconclusive or right |",
        "|---|---|---|---|---|---|",
    ]
    for laser in sorted(report.samples):
        nl = report.not_in_library.get(laser, {"n": 0, "inconclusive_or_right": 0})
        il = report.in_library.get(laser, {"n": 0, "inconclusive_or_right": 0, "named_right": 0})
        out.append(
            f"| {laser} nm | {report.samples[laser]} | {report.alarms.get(laser, 0)} | "
            f"{_frac(nl['inconclusive_or_right'], nl['n'])} | "
            f"{_frac(il['named_right'], il['n'])} | "
            f"{_frac(il['inconclusive_or_right'], il['n'])} |"
        )
    out += ["", f"| perturbation of a spectrum of the {title.split(' (')[0]} | n | passed "
            "| verdict changed |", "|---|---|---|---|"]  # fmt: skip
    for kind, row in report.perturbations.items():
        out.append(
            f"| {kind} | {row['n']} | {_frac(row['passed'], row['n'])} | {row['verdict_changed']} |"
        )
    if report.alarm_files:
        out += ["", "Alarms on benign spectra:", *[f"- {a}" for a in report.alarm_files]]
    out.append("")
    return "\n".join(out)


def _frac(k: int, n: int) -> str:
    if n == 0:
        return "-"
    lo, hi = wilson(k, n)
    return f"{k}/{n} ({k / n:.1%}; 95% CI {lo:.1%}-{hi:.1%})"


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion k/n."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(centre - half, 0.0)), float(min(centre + half, 1.0))


__all__ = [
    "RealReport",
    "evaluate_real",
    "render_real",
    "right_answer",
    "tuned_from_real",
    "wilson",
]
