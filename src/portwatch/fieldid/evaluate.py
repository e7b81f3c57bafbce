"""Reproducible evaluation of field identification on seeded simulated samples.

``evaluate(seed)`` calibrates thresholds on the calibration set of ``seed`` and judges
them on the evaluation set of ``seed`` (a different stream), then reports: a
confusion matrix (truth x verdict), sensitivity and false-positive rate per drug,
correct identification of pure drugs per laser and per bag, the detection limit per
drug, matrix and laser (lowest swept fraction from which sensitivity stays >= 90%),
and a plot of sensitivity against fraction.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from portwatch.domain.substances import Verdict
from portwatch.fieldid.calibrate import Measured, Tuned, accepted_names, calibrate, run_cases
from portwatch.fieldid.cases import FRACTIONS, SNR_LEVELS, SWEEP_MATRICES, build_cases
from portwatch.fieldid.identify import Calibration, Identification, Thresholds, decide
from portwatch.fieldid.library import Library

DETECTION_SENSITIVITY = 0.9
ALARMS = (Verdict.CONTROLLED, Verdict.EXPLOSIVE)


@dataclass(frozen=True)
class Outcome:
    """One evaluated sample: its case and the identification."""

    measured: Measured
    identification: Identification

    @property
    def detected(self) -> bool:
        """The case's drug (or an accepted analogue) was reported as controlled."""
        drug = self.measured.case.drug
        if drug is None or self.identification.verdict not in ALARMS:
            return False
        return bool(accepted_names(drug) & self.identification.flagged_candidates())


@dataclass
class Report:
    """The evaluation's figures (plain data, JSON-ready)."""

    seed: int
    repeats: int
    calibration_repeats: int
    thresholds: dict[int, dict[str, float]]
    samples: dict[int, int] = field(default_factory=dict)
    confusion: dict[int, dict[str, dict[str, int]]] = field(default_factory=dict)
    per_drug: dict[int, dict[str, dict[str, float]]] = field(default_factory=dict)
    pure: dict[int, dict[str, float]] = field(default_factory=dict)
    false_alarms: dict[int, dict[str, int]] = field(default_factory=dict)
    sweep: dict[int, dict[str, dict[str, list[float]]]] = field(default_factory=dict)
    detection_limit: dict[int, dict[str, dict[str, float | None]]] = field(default_factory=dict)
    by_snr: dict[int, dict[str, float]] = field(default_factory=dict)
    detection_limit_by_snr: dict[int, dict[str, dict[str, dict[str, float | None]]]] = field(
        default_factory=dict
    )
    detection_limit_alarm: dict[int, dict[str, dict[str, float | None]]] = field(
        default_factory=dict
    )
    reliability: dict[int, list[dict[str, float]]] = field(default_factory=dict)
    #: per laser and budget (acquisitions per sample): the figures with the engine's
    #: re-measurement request followed (``protocol.follow``)
    protocol: dict[int, dict[str, dict[str, float]]] = field(default_factory=dict)
    #: per laser: how samples bearing one of an analogue pair (fentanyl, carfentanil) are
    #: named: exactly, as the pair, as the other (``analogue_counts``)
    analogues: dict[int, dict[str, int]] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        """The report as JSON-ready data."""
        return {k: v for k, v in self.__dict__.items()}


def evaluate(
    seed: int,
    repeats: int = 3,
    lasers: Sequence[int] = (785, 1064),
    library: Library | None = None,
    calibration_repeats: int = 2,
    real: dict[int, list[Tuned]] | None = None,
    progress: Callable[[], None] | None = None,
    calibration: Calibration | None = None,
) -> tuple[Report, Calibration]:
    """Calibrate on the tuning sets of ``seed`` (and ``real``), then judge on its evaluation set.

    With ``calibration`` given, that one is judged instead (no fitting).
    """
    cal = calibration or calibrate(seed, lasers, calibration_repeats, library, real, progress)
    report = Report(
        seed, repeats, calibration_repeats, {k: v.to_dict() for k, v in cal.thresholds.items()}
    )
    for laser in lasers:
        measured = run_cases(build_cases(seed, laser, repeats), seed, library, progress)
        t = cal.thresholds[laser]
        outcomes = [Outcome(m, decide(m.analysis, t, cal)) for m in measured]
        _summarise(report, laser, outcomes, t)
        report.reliability[laser] = reliability([(o.identification, _right(o)) for o in outcomes])
        report.protocol[laser] = {
            str(b): _protocol(outcomes, seed, laser, library, cal, b) for b in PROTOCOL_BUDGETS
        }
    return report, cal


#: Acquisitions per sample the protocol may take (assumed; docs/fieldid.md,
#: "Re-measurement"): a short budget and the engine's own cap.
PROTOCOL_BUDGETS = (4, 16)


def _protocol(
    outcomes: list[Outcome],
    seed: int,
    laser: int,
    library: Library | None,
    cal: Calibration,
    budget: int,
) -> dict[str, float]:
    """The evaluation stream's figures with every re-measurement request followed."""
    from portwatch.fieldid.cases import peak_table
    from portwatch.fieldid.library import default_library
    from portwatch.fieldid.protocol import follow
    from portwatch.fieldid.search import prepare

    table = peak_table()
    prepared = prepare(library or default_library(), laser)
    after: list[Outcome] = []
    used: list[int] = []
    for i, o in enumerate(outcomes):
        got = follow(o.measured.case, (seed, laser, i), o.identification, table, prepared,
                     cal, budget)  # fmt: skip
        after.append(Outcome(o.measured, got.identification))
        used.append(got.acquisitions)
    return _protocol_figures(outcomes, after, used, budget)


def _protocol_figures(
    before: list[Outcome], after: list[Outcome], used: list[int], budget: int
) -> dict[str, float]:
    """Counts before and after the protocol (plain numbers, JSON-ready)."""
    def count(rows: list[Outcome], test: Callable[[Outcome], bool]) -> int:
        return sum(bool(test(o)) for o in rows)

    def pure(kind: str) -> Callable[[Outcome], bool]:
        return lambda o: o.measured.case.kind == kind and _named_exactly(o)

    def negative(o: Outcome) -> bool:
        return o.measured.case.truth not in ("controlled", "explosive")

    def released(o: Outcome) -> bool:
        return o.identification.verdict is Verdict.BENIGN

    out: dict[str, float] = {"budget": budget}
    for label, rows in (("single", before), ("protocol", after)):
        out[f"{label}_pure_drugs_named"] = count(rows, pure("pure_drug"))
        out[f"{label}_pure_drugs_named_or_pair"] = count(
            rows, lambda o: o.measured.case.kind == "pure_drug" and (
                _named_exactly(o) or _named_as_pair(o))
        )  # fmt: skip
        out[f"{label}_pure_explosives_named"] = count(rows, pure("pure_explosive"))
        out[f"{label}_false_alarms"] = count(
            rows, lambda o: negative(o) and o.identification.verdict in ALARMS
        )
        out[f"{label}_drug_bearing_released"] = count(
            rows, lambda o: o.measured.case.truth == "controlled" and released(o)
        )
        out[f"{label}_drug_free_to_lab"] = count(
            rows, lambda o: negative(o) and o.identification.verdict is Verdict.INCONCLUSIVE
        )
        out[f"{label}_drug_bearing_called"] = count(
            rows, lambda o: o.measured.case.truth == "controlled" and o.detected
        )
        named = analogue_counts(rows)
        for kind in ("exact", "pair", "other"):
            out[f"{label}_fentanyls_{kind}"] = named[kind]
    out["pure_drugs"] = count(before, lambda o: o.measured.case.kind == "pure_drug")
    out["pure_explosives"] = count(before, lambda o: o.measured.case.kind == "pure_explosive")
    out["negatives"] = count(before, negative)
    out["drug_bearing"] = count(before, lambda o: o.measured.case.truth == "controlled")
    out["fentanyls"] = analogue_counts(before)["samples"]
    asked = [n for n in used if n > 1]
    out["asked_again"] = len(asked)
    out["mean_acquisitions_when_asked"] = float(np.mean(asked)) if asked else 0.0
    out["at_budget"] = sum(n >= budget for n in asked)
    out["verdict_changed"] = sum(
        a.identification.verdict is not b.identification.verdict
        for a, b in zip(after, before, strict=True)
    )
    return out


def _right(o: Outcome) -> bool | None:
    """Whether a named verdict was right (None for inconclusive)."""
    ident = o.identification
    if ident.verdict is Verdict.INCONCLUSIVE:
        return None
    if ident.verdict in ALARMS:
        return o.detected
    return o.measured.case.truth == "benign"


def reliability(
    rows: Sequence[tuple[Identification, bool | None]],
    edges: Sequence[float] = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0001),
) -> list[dict[str, float]]:
    """Per confidence bin: named verdicts, mean confidence, share right."""
    out = []
    named = [(i.confidence, ok) for i, ok in rows if ok is not None]
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        cell = [(c, ok) for c, ok in named if lo <= c < hi]
        if not cell:
            continue
        out.append(
            {
                "low": lo,
                "high": min(hi, 1.0),
                "n": len(cell),
                "mean_confidence": float(np.mean([c for c, _ in cell])),
                "share_right": float(np.mean([ok for _, ok in cell])),
            }
        )
    return out


def _summarise(report: Report, laser: int, outcomes: list[Outcome], thresholds: Thresholds) -> None:
    report.samples[laser] = len(outcomes)
    confusion: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for o in outcomes:
        confusion[o.measured.case.truth][o.identification.verdict.value] += 1
    report.confusion[laser] = {k: dict(v) for k, v in confusion.items()}

    report.per_drug[laser] = _per_drug(outcomes)
    report.analogues[laser] = analogue_counts(outcomes)

    pure = [o for o in outcomes if o.measured.case.kind in ("pure_drug", "pure_explosive")]
    pure_table: dict[str, float] = {}
    for bag in (None, "polyethylene", "polypropylene", "pet"):
        group = [o for o in pure if o.measured.case.recipe.packaging == bag]
        correct = sum(
            o.identification.verdict in ALARMS
            and bool(o.identification.components)
            and o.identification.components[0].name == o.measured.case.drug
            for o in group
        )
        pure_table[bag or "bare"] = _share(correct, len(group))
    all_correct = sum(
        o.identification.verdict in ALARMS
        and bool(o.identification.components)
        and o.identification.components[0].name == o.measured.case.drug
        for o in pure
    )
    pure_table["all"] = _share(all_correct, len(pure))
    for kind, label in (("pure_drug", "drugs"), ("pure_explosive", "explosives")):
        group = [o for o in pure if o.measured.case.kind == kind]
        named = sum(_named_exactly(o) for o in group)
        pure_table[label] = _share(named, len(group))
    drugs = [o for o in pure if o.measured.case.kind == "pure_drug"]
    pair = sum(_named_exactly(o) or _named_as_pair(o) for o in drugs)
    pure_table["drugs_or_pair"] = _share(pair, len(drugs))
    pure_table["class_level"] = _share(sum(o.detected for o in pure), len(pure))
    report.pure[laser] = pure_table

    report.by_snr[laser] = {}
    for snr in sorted({o.measured.case.recipe.snr for o in outcomes}):
        group = [o for o in outcomes if o.measured.case.drug and o.measured.case.recipe.snr == snr]
        report.by_snr[laser][f"{snr:g}"] = _share(sum(o.detected for o in group), len(group))

    negatives = [o for o in outcomes if o.measured.case.truth not in ("controlled", "explosive")]
    report.false_alarms[laser] = {
        "benign_and_bag_samples": sum(o.measured.case.truth == "benign" for o in negatives),
        "unknown_samples": sum(o.measured.case.truth == "unknown" for o in negatives),
        "controlled_verdicts": sum(o.identification.verdict in ALARMS for o in negatives),
        "sent_to_lab": sum(o.identification.verdict is Verdict.INCONCLUSIVE for o in negatives),
    }

    _summarise_sweeps(report, laser, outcomes)


def _named_as_pair(o: Outcome) -> bool:
    """A flagged verdict whose top component is the pair the case's drug belongs to."""
    from portwatch.fieldid.analogues import pair_of

    ident, pair = o.identification, pair_of(o.measured.case.drug or "")
    return (
        pair is not None
        and ident.verdict in ALARMS
        and bool(ident.components)
        and ident.components[0].name == pair.label
    )


def _named_exactly(o: Outcome) -> bool:
    """A flagged verdict whose top component is the case's own compound."""
    ident = o.identification
    return (
        ident.verdict in ALARMS
        and bool(ident.components)
        and ident.components[0].name == o.measured.case.drug
    )


ANALOGUE_NAMINGS = ("exact", "pair", "other", "other_drug")


def analogue_counts(outcomes: Sequence[Outcome]) -> dict[str, int]:
    """How samples bearing one of an analogue pair are named, and drug-free ones.

    For each sample whose drug belongs to a pair (fentanyl or carfentanil): named by a
    controlled verdict ``exact`` (its own name), as the ``pair`` (``fentanyl or
    carfentanil``), as the ``other`` of the pair, or another drug only (``other_drug``);
    the same with ``possible_`` for an inconclusive "possible" answer; ``pure_`` for the
    pure samples; ``drug_free_with_pair``: samples with no drug reported with the pair.
    """
    from portwatch.fieldid.analogues import candidates_of, pair_of

    out = {"samples": 0, "pure_samples": 0, "drug_free_with_pair": 0, "not_named": 0}
    for prefix in ("", "possible_", "pure_"):
        out.update({prefix + k: 0 for k in ANALOGUE_NAMINGS})
    for o in outcomes:
        ident, case = o.identification, o.measured.case
        named = {c.name for c in ident.components}
        if case.truth not in ("controlled", "explosive"):
            out["drug_free_with_pair"] += any(len(candidates_of(n)) > 1 for n in named)
            continue
        pair = pair_of(case.drug or "")
        if pair is None:
            continue
        other = next(n for n in pair.names if n != case.drug)
        kind = next(
            (k for k, n in (("exact", case.drug), ("pair", pair.label), ("other", other))
             if n in named),
            "other_drug" if named else "",
        )  # fmt: skip
        out["samples"] += 1
        pure = case.kind == "pure_drug"
        out["pure_samples"] += pure
        if ident.verdict in ALARMS and kind:
            out[kind] += 1
            out["pure_" + kind] += pure
        elif ident.reason_code == "possible" and kind:
            out["possible_" + kind] += 1
        else:
            out["not_named"] += 1
    return out


def _per_drug(outcomes: list[Outcome]) -> dict[str, dict[str, float]]:
    """Per drug: sensitivity, exact naming and the false-positive rate on the others."""
    per_drug: dict[str, dict[str, float]] = {}
    drugs = sorted({o.measured.case.drug for o in outcomes if o.measured.case.drug})
    for drug in drugs:
        with_drug = [o for o in outcomes if o.measured.case.drug == drug]
        without = [o for o in outcomes if o.measured.case.drug != drug]
        reported_without = sum(
            o.identification.verdict in ALARMS and drug in o.identification.flagged_names()
            for o in without
        )
        exact = [
            o
            for o in with_drug
            if o.identification.verdict in ALARMS and drug in o.identification.flagged_names()
        ]
        per_drug[drug] = {
            "samples": len(with_drug),
            "sensitivity": _share(sum(o.detected for o in with_drug), len(with_drug)),
            "exact_name": _share(len(exact), len(with_drug)),
            "false_positive_rate": _share(reported_without, len(without)),
        }
    return per_drug


def _summarise_sweeps(report: Report, laser: int, outcomes: list[Outcome]) -> None:
    """The fraction sweeps: detection curves and limits, overall and by SNR level."""
    sweep: dict[str, dict[str, list[float]]] = defaultdict(dict)
    limits: dict[str, dict[str, float | None]] = defaultdict(dict)
    alarm_limits: dict[str, dict[str, float | None]] = defaultdict(dict)
    swept = sorted({name for o in outcomes if o.measured.case.kind == "sweep"
                    and (name := o.measured.case.drug) is not None})
    for drug in swept:
        for matrix in SWEEP_MATRICES:
            curve, alarm = [], []
            for f in FRACTIONS:
                cell = _sweep_cell(outcomes, drug, matrix, f)
                curve.append(_share(sum(o.detected for o in cell), len(cell)))
                alarms = sum(o.identification.verdict in ALARMS for o in cell)
                alarm.append(_share(alarms, len(cell)))
            sweep[drug][matrix] = curve
            limits[drug][matrix] = detection_limit(curve)
            alarm_limits[drug][matrix] = detection_limit(alarm)
    by_level: dict[str, dict[str, dict[str, float | None]]] = {}
    for snr in SNR_LEVELS:
        level: dict[str, dict[str, float | None]] = defaultdict(dict)
        for drug in swept:
            for matrix in SWEEP_MATRICES:
                curve = []
                for f in FRACTIONS:
                    cell = _sweep_cell(outcomes, drug, matrix, f, snr)
                    curve.append(_share(sum(o.detected for o in cell), len(cell)))
                level[drug][matrix] = detection_limit(curve)
        by_level[f"{snr:g}"] = dict(level)
    report.detection_limit_by_snr[laser] = by_level
    report.sweep[laser] = dict(sweep)
    report.detection_limit[laser] = dict(limits)
    report.detection_limit_alarm[laser] = dict(alarm_limits)


def _sweep_cell(
    outcomes: list[Outcome], drug: str, matrix: str, fraction: float, snr: float | None = None
) -> list[Outcome]:
    """The detection-limit sweep's outcomes for one drug, matrix, fraction (and SNR)."""
    return [
        o
        for o in outcomes
        if o.measured.case.kind == "sweep"
        and o.measured.case.drug == drug
        and o.measured.case.matrix == matrix
        and o.measured.case.drug_fraction == fraction
        and (snr is None or o.measured.case.recipe.snr == snr)
    ]


def _share(k: int, n: int) -> float:
    return float(k) / n if n else float("nan")


def detection_limit(curve: Sequence[float], fractions: Sequence[float] = FRACTIONS) -> float | None:
    """Lowest fraction from which sensitivity stays >= 90% at every higher fraction."""
    limit = None
    for f, s in zip(reversed(fractions), reversed(curve), strict=True):
        if np.isnan(s) or s < DETECTION_SENSITIVITY:
            break
        limit = f
    return limit


def render_markdown(report: Report) -> str:
    """The report as the Markdown section of docs/fieldid.md."""
    out = [
        f"Reproduce: `portwatch fieldid evaluate --seed {report.seed} "
        f"--repeats {report.repeats} --calibration-repeats {report.calibration_repeats}` "
        "(thresholds calibrated on the seed's separate calibration stream).",
        "",
    ]
    for laser in sorted(report.confusion):
        th = report.thresholds[laser]
        out += [
            f"### {laser} nm ({report.samples[laser]} samples)",
            "",
            f"Calibrated thresholds: unique-signal z >= {th['unique_z_min']:.2f} and HQI >= "
            f"{th['unique_hqi_min']:.3f}; fit R^2 >= {th['fit_r2_min']:.3f} to release.",
            "",
            "Confusion matrix (rows: truth, columns: verdict)",
            "",
            "| truth | controlled | explosive | benign | inconclusive |",
            "|---|---|---|---|---|",
        ]
        for truth in ("controlled", "explosive", "benign", "unknown"):
            row = report.confusion[laser].get(truth, {})
            out.append(
                f"| {truth} | {row.get('controlled', 0)} | {row.get('explosive', 0)} | "
                f"{row.get('benign', 0)} | {row.get('inconclusive', 0)} |"
            )
        fa = report.false_alarms[laser]
        out += [
            "",
            f"False alarms: {fa['controlled_verdicts']} controlled verdicts on "
            f"{fa['benign_and_bag_samples']} benign/empty-bag and {fa['unknown_samples']} "
            f"unknown samples; {fa['sent_to_lab']} of them sent to the lab.",
            "",
            "Pure drugs and explosives identified by exact name (top component, verdict "
            "controlled or explosive; `drugs` and `explosives` apart): "
            + ", ".join(f"{k} {v:.1%}" for k, v in report.pure[laser].items()),
            "",
            "Sensitivity by signal-to-noise of the tallest band: "
            + ", ".join(f"SNR {k}: {v:.1%}" for k, v in report.by_snr[laser].items()),
            "",
            "| drug | samples | sensitivity | exact name | false-positive rate |",
            "|---|---|---|---|---|",
        ]
        for drug, stats in report.per_drug[laser].items():
            out.append(
                f"| {drug} | {int(stats['samples'])} | {stats['sensitivity']:.1%} | "
                f"{stats['exact_name']:.1%} | {stats['false_positive_rate']:.2%} |"
            )
        out += _render_analogues(report, laser)
        tables = [
            ("the drug named (or its analogue), all SNR pooled", report.detection_limit[laser]),
            ("any controlled verdict (seize), all SNR pooled", report.detection_limit_alarm[laser]),
        ]
        tables += [
            (f"the drug named (or its analogue), SNR {snr}", table)
            for snr, table in report.detection_limit_by_snr[laser].items()
        ]
        for title, table in tables:
            out += [
                "",
                f"Detection limit, {title}: lowest fraction (w/w) from which sensitivity "
                "stays >= 90% at every higher fraction; '-' = not reached at 75%; no bag.",
                "",
                "| drug | " + " | ".join(SWEEP_MATRICES) + " |",
                "|---|" + "---|" * len(SWEEP_MATRICES),
            ]
            for drug, limits in table.items():
                cells = [
                    f"{limits[m]:.0%}" if limits[m] is not None else "-" for m in SWEEP_MATRICES
                ]
                out.append(f"| {drug} | " + " | ".join(cells) + " |")
        out += _render_protocol(report, laser)
        out.append("")
    return "\n".join(out)


def _render_analogues(report: Report, laser: int) -> list[str]:
    """How fentanyl- and carfentanil-bearing samples are named (``analogue_counts``)."""
    a = report.analogues.get(laser)
    if not a:
        return []
    cells = ("exact", "pair", "other", "other_drug")
    head = "| samples | n | own name | fentanyl or carfentanil | the other | another drug only |"
    rows = [
        ("controlled verdict", "", a["samples"]),
        ("pure, controlled verdict", "pure_", a["pure_samples"]),
        ("possible (to the lab)", "possible_", a["samples"]),
    ]
    out = [
        "",
        "Fentanyl- and carfentanil-bearing samples by the name given (the pair when the "
        f"ester band near 1730 cm-1 cannot settle it); not named: {a['not_named']}; "
        f"drug-free samples given the pair: {a['drug_free_with_pair']}.",
        "",
        head,
        "|---|---|---|---|---|---|",
    ]
    for label, prefix, n in rows:
        out.append(f"| {label} | {n} | " + " | ".join(str(a[prefix + c]) for c in cells) + " |")
    return out


PROTOCOL_ROWS = (
    ("pure drugs named exactly", "pure_drugs_named", "pure_drugs"),
    ("pure drugs named exactly or as fentanyl or carfentanil", "pure_drugs_named_or_pair",
     "pure_drugs"),
    ("pure explosives named exactly", "pure_explosives_named", "pure_explosives"),
    ("drug-free samples called controlled or explosive", "false_alarms", "negatives"),
    ("drug-free samples sent to the lab", "drug_free_to_lab", "negatives"),
    ("drug-bearing samples released as benign", "drug_bearing_released", "drug_bearing"),
    ("drug-bearing samples with the drug named", "drug_bearing_called", "drug_bearing"),
    ("fentanyl- or carfentanil-bearing, controlled, own name", "fentanyls_exact", "fentanyls"),
    ("same, as fentanyl or carfentanil", "fentanyls_pair", "fentanyls"),
    ("same, as the other of the two", "fentanyls_other", "fentanyls"),
)


def _render_protocol(report: Report, laser: int) -> list[str]:
    """The single-acquisition figures beside the re-measurement protocol's, per budget."""
    from portwatch.fieldid.realeval import wilson

    runs = report.protocol.get(laser, {})
    if not runs:
        return []
    budgets = sorted(runs, key=int)
    out = [
        "",
        "Re-measurement protocol: each request to co-add more acquisitions of the same "
        "sample followed, at most B acquisitions per sample (assumed); single-acquisition "
        "thresholds throughout. Counts with 95% Wilson intervals.",
        "",
        "| figure | single acquisition | " + " | ".join(f"B = {b}" for b in budgets) + " |",
        "|---|---|" + "---|" * len(budgets),
    ]
    first = runs[budgets[0]]

    def cell(k: float, n: float) -> str:
        lo, hi = wilson(int(k), int(n))
        return f"{int(k)}/{int(n)} ({k / n:.1%}, {lo:.1%}-{hi:.1%})" if n else "-"

    for title, key, total in PROTOCOL_ROWS:
        n = first[total]
        cells = [cell(first[f"single_{key}"], n)]
        cells += [cell(runs[b][f"protocol_{key}"], n) for b in budgets]
        out.append(f"| {title} | " + " | ".join(cells) + " |")
    asked = [
        f"B = {b}: {int(runs[b]['asked_again'])} samples asked again, "
        f"{runs[b]['mean_acquisitions_when_asked']:.1f} acquisitions on average when asked, "
        f"{int(runs[b]['at_budget'])} stopped at the budget, "
        f"{int(runs[b]['verdict_changed'])} verdicts changed"
        for b in budgets
    ]
    return [*out, "", "; ".join(asked) + "."]


def plot_sensitivity(report: Report, path: Path) -> None:
    """Sensitivity against drug fraction, one panel per laser, one line per drug."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lasers = sorted(report.sweep)
    fig, axes = plt.subplots(1, len(lasers), figsize=(6 * len(lasers), 4.2), squeeze=False)
    for ax, laser in zip(axes[0], lasers, strict=True):
        for drug, by_matrix in report.sweep[laser].items():
            mean = np.nanmean(np.array(list(by_matrix.values())), axis=0)
            ax.plot(np.array(FRACTIONS) * 100, mean, marker="o", label=drug)
        ax.axhline(DETECTION_SENSITIVITY, color="grey", linestyle="--", linewidth=1)
        ax.set_xscale("log")
        ax.set_xlabel("drug fraction (% w/w)")
        ax.set_ylabel("sensitivity (mean over matrices)")
        ax.set_title(f"{laser} nm, seed {report.seed}")
        ax.set_ylim(-0.02, 1.02)
    axes[0][-1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_outputs(report: Report, out_dir: Path) -> list[Path]:
    """Write evaluation.json, evaluation.md and sensitivity_vs_fraction.png to ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [
        out_dir / "evaluation.json",
        out_dir / "evaluation.md",
        out_dir / "sensitivity_vs_fraction.png",
    ]
    paths[0].write_text(json.dumps(report.to_json(), indent=1, default=_jsonable) + "\n")
    paths[1].write_text(render_markdown(report) + "\n")
    plot_sensitivity(report, paths[2])
    return paths


def _jsonable(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {type(value).__name__}")


__all__ = [
    "Outcome",
    "Report",
    "detection_limit",
    "evaluate",
    "plot_sensitivity",
    "render_markdown",
    "write_outputs",
]
