"""The outputs of a study: metrics as CSV and JSON, plots, and a one-page HTML report.

``write_report(result, scenario, out_dir)`` writes into ``out_dir``:

- ``study.json``: ``StudyResult.to_dict()`` (the record of the run: scenario, seed,
  portwatch version, adversary, and every policy's summary with 95% intervals);
- ``metrics.csv``: one row per policy and headline figure (mean, 95% interval);
- ``replications.csv``: one row per policy and replication (the headline figures);
- ``by_drug.csv``: loads attempted and interdicted per drug per day (count, kg, USD, harm);
- ``waits.csv``: primary wait per policy, mode and lane (mean, median, p95, max, s);
- ``queue_by_hour.png``, ``wait_distribution.png``, ``interdiction_by_drug.png``;
- ``report.html``: one self-contained page with the figures embedded.

Files are first written to a temporary folder beside ``out_dir`` and then moved in, so
an error half-way leaves what ``out_dir`` held before untouched.
"""

from __future__ import annotations

import base64
import csv
import html
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from portwatch.domain.errors import InputError  # noqa: E402
from portwatch.targeting.policy import LANE_ORDER, MODE_ORDER  # noqa: E402
from portwatch.twin.process.metrics import WAIT_EDGES_S  # noqa: E402
from portwatch.twin.scenario.schema import CompiledScenario  # noqa: E402
from portwatch.twin.study.replications import StudyResult  # noqa: E402

FILES = ("study.json", "metrics.csv", "replications.csv", "by_drug.csv", "waits.csv",
         "queue_by_hour.png", "wait_distribution.png", "interdiction_by_drug.png",
         "report.html")

#: Headline figures shown in the report's table, with their label and unit.
TABLE_ROWS: tuple[tuple[str, str], ...] = (
    ("crossings", "conveyances crossed / day"),
    ("loads_attempted", "loads attempted / day"),
    ("loads_interdicted", "loads interdicted / day"),
    ("interdiction_rate", "share of loads interdicted"),
    ("kg_interdicted", "kg interdicted / day"),
    ("value_interdicted_usd", "street value interdicted, USD / day"),
    ("harm_interdicted", "harm interdicted / day"),
    ("share_uninspected", "share crossed uninspected"),
    ("share_unverified", "share crossed neither inspected nor custody-verified"),
    ("waved_through", "referrals waved through (secondary full) / day"),
    ("decoys_inspected", "decoys inspected / day"),
    ("false_alarms", "false alarms / day"),
    ("delay_cost_usd", "delay cost to commerce, USD / day"),
)


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with path.open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _fmt(x: Any) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "n/a"
    if isinstance(x, float):
        if abs(x) >= 1000:
            return f"{x:,.0f}"
        if abs(x) < 1:
            return f"{x:.4f}"
        return f"{x:.2f}"
    return str(x)


def metrics_rows(data: dict[str, Any]) -> list[list[Any]]:
    """``[policy, metric, mean, ci_low, ci_high]`` for every headline figure."""
    rows = []
    for name, summary in data["policies"].items():
        for key, (low, high) in summary["ci95"].items():
            mean = _headline_value(summary, key)
            rows.append([name, key, mean, low, high])
    return rows


def _headline_value(summary: dict[str, Any], key: str) -> Any:
    if key.startswith("wait_s."):
        _, mode, stat = key.split(".")
        return summary["wait_s"][mode][stat]
    return summary[key]


def _plot_queue(data: dict[str, Any], path: Path) -> None:
    modes = list(next(iter(data["policies"].values()))["queue_length_by_hour"])
    fig, axes = plt.subplots(1, len(modes), figsize=(4 * len(modes), 3.2), squeeze=False)
    for ax, mode in zip(axes[0], modes, strict=True):
        for name, summary in data["policies"].items():
            ax.plot(range(24), summary["queue_length_by_hour"][mode], marker=".", label=name)
        ax.set_title(f"{mode}: waiting for primary")
        ax.set_xlabel("hour of day")
        ax.set_ylabel("conveyances in queue (mean)")
        ax.set_xticks(range(0, 24, 3))
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _plot_waits(result: StudyResult, scenario: CompiledScenario, path: Path) -> None:
    modes = [m for m in range(len(MODE_ORDER)) if scenario.mode_present[m]]
    fig, axes = plt.subplots(1, len(modes), figsize=(4 * len(modes), 3.2), squeeze=False)
    # upper edge of each bin (min); the last bin holds waits beyond two days
    upper = np.append(WAIT_EDGES_S[1:], WAIT_EDGES_S[-1] * 2) / 60.0
    for ax, m in zip(axes[0], modes, strict=True):
        for name, total in result.totals.items():
            for lane in range(len(LANE_ORDER)):
                hist = total.wait_hist[m * 2 + lane]
                if hist.sum() <= 0:
                    continue
                cdf = np.cumsum(hist) / hist.sum()
                ax.step(np.maximum(upper, 1e-2), cdf, where="post",
                        label=f"{name} {LANE_ORDER[lane]}")
        ax.set_xscale("log")
        ax.set_xlim(0.05, max(1.0, float(total.wait_max_s.max()) / 60.0 * 1.2))
        ax.set_title(f"{MODE_ORDER[m]}: primary wait")
        ax.set_xlabel("wait (min, log scale)")
        ax.set_ylabel("share of conveyances waiting at most")
    axes[0][0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _plot_drugs(data: dict[str, Any], drugs: tuple[str, ...], path: Path) -> None:
    policies = list(data["policies"])
    fig, ax = plt.subplots(figsize=(7, 3.4))
    width = 0.8 / (len(policies) + 1)
    x = np.arange(len(drugs))
    first = data["policies"][policies[0]]["by_drug"]
    ax.bar(x, [first[d]["attempted"] for d in drugs], width, label="attempted", color="0.75")
    for i, name in enumerate(policies, start=1):
        by = data["policies"][name]["by_drug"]
        ax.bar(x + i * width, [by[d]["interdicted"] for d in drugs], width,
               label=f"interdicted: {name}")
    ax.set_xticks(x + width * len(policies) / 2, drugs)
    ax.set_ylabel("loads / day")
    ax.set_title("interdiction by drug")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _html(data: dict[str, Any], images: dict[str, bytes]) -> str:
    policies = list(data["policies"])
    head = "".join(f"<th>{html.escape(p)}</th>" for p in policies)
    rows = []
    for key, label in TABLE_ROWS:
        cells = []
        for p in policies:
            s = data["policies"][p]
            low, high = s["ci95"].get(key, [None, None])
            ci = f" <small>[{_fmt(low)}, {_fmt(high)}]</small>" if low is not None else ""
            cells.append(f"<td>{_fmt(s[key])}{ci}</td>")
        rows.append(f"<tr><th>{html.escape(label)}</th>{''.join(cells)}</tr>")
    first = data["policies"][policies[0]]
    for mode in first["wait_s"]:
        for stat in ("mean", "p95"):
            wait_cells = "".join(
                f"<td>{_fmt(data['policies'][p]['wait_s'][mode][stat] / 60.0)}</td>"
                if data["policies"][p]["wait_s"][mode][stat] is not None else "<td>n/a</td>"
                for p in policies
            )
            rows.append(f"<tr><th>{mode} primary wait, {stat} (min)</th>{wait_cells}</tr>")
    for label, row_values in _lane_rows(data) + _study_rows(data):
        row_html = "".join(f"<td>{html.escape(v)}</td>" for v in row_values)
        rows.append(f"<tr><th>{html.escape(label)}</th>{row_html}</tr>")
    figures = "".join(
        f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,'
        f'{base64.b64encode(png).decode()}"><figcaption>{html.escape(name)}</figcaption>'
        "</figure>"
        for name, png in images.items()
    )
    params = html.escape(str(data.get("adversary_params") or {}))
    value_src = html.escape(first.get("value_of_hour_source", ""))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>portwatch study: {html.escape(data['scenario'])}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; max-width: 1200px; }}
table {{ border-collapse: collapse; font-size: 0.9em; }}
th, td {{ border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }}
th:first-child {{ text-align: left; }}
figure {{ display: inline-block; margin: 0.5em; }} img {{ max-width: 100%; }}
small {{ color: #666; }}
</style></head><body>
<h1>portwatch study: {html.escape(data['scenario'])}</h1>
<p>Adversary <b>{html.escape(data['adversary'])}</b> {params};
{data['days']} measured days after {data['warmup_days']} warm-up days,
{data['replications']} replications, seed {data['seed']}, portwatch
{html.escape(data['portwatch_version'])}. Policies share common random numbers.
Figures are means per day over replications, with 95% intervals in brackets.</p>
<table><tr><th></th>{head}</tr>
{''.join(rows)}
</table>
<p><small>Value of time: {value_src}</small></p>
{figures}
</body></html>
"""



@contextmanager
def staged_folder(out_dir: Path, prefix: str, files: Sequence[str]) -> Iterator[Path]:
    """A temporary folder beside ``out_dir``; when the block ends without error, ``files``
    are moved from it into ``out_dir``, so that a failed write leaves nothing half-written.
    A folder that cannot be written is an ``InputError`` naming ``--out``."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out {out_dir}: exists and is not a folder")
    parent = out_dir.parent if str(out_dir.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    except OSError as exc:
        raise InputError(f"--out {out_dir}: cannot write ({exc.strerror})") from None
    try:
        yield tmp
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in files:
            os.replace(tmp / name, out_dir / name)
    except OSError as exc:
        raise InputError(f"--out {out_dir}: cannot write ({exc.strerror})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_report(result: StudyResult, scenario: CompiledScenario, out_dir: Path) -> list[Path]:
    """Write the study's files (see the module docstring) into ``out_dir``."""
    with staged_folder(out_dir, ".portwatch-report-", FILES) as tmp:
        data = result.to_dict()
        (tmp / "study.json").write_text(result.to_json())
        _write_csv(tmp / "metrics.csv", ["policy", "metric", "mean", "ci95_low", "ci95_high"],
                   metrics_rows(data))
        keys = list(next(iter(data["policies"].values()))["per_replication"])
        rep_rows = []
        for name, s in data["policies"].items():
            n = len(s["per_replication"][keys[0]])
            rep_rows += [[name, r] + [s["per_replication"][k][r] for k in keys] for r in range(n)]
        _write_csv(tmp / "replications.csv", ["policy", "replication", *keys], rep_rows)
        drug_rows = [[name, drug, *by.values()] for name, s in data["policies"].items()
                     for drug, by in s["by_drug"].items()]
        drug_keys = list(next(iter(next(iter(data["policies"].values()))["by_drug"].values())))
        _write_csv(tmp / "by_drug.csv", ["policy", "drug", *drug_keys], drug_rows)
        wait_rows = [[name, lane, w["mean"], w["median"], w["p95"], w["max"], w["count"]]
                     for name, s in data["policies"].items()
                     for lane, w in s["wait_s_by_lane"].items()]
        _write_csv(tmp / "waits.csv", ["policy", "mode.lane", "mean_s", "median_s", "p95_s",
                                       "max_s", "count"], wait_rows)
        _plot_queue(data, tmp / "queue_by_hour.png")
        _plot_waits(result, scenario, tmp / "wait_distribution.png")
        _plot_drugs(data, scenario.drugs, tmp / "interdiction_by_drug.png")
        images = {name: (tmp / name).read_bytes() for name in FILES if name.endswith(".png")}
        (tmp / "report.html").write_text(_html(data, images))
    return [Path(out_dir) / name for name in FILES]


def headline_table(data: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """``(label, value per policy)`` rows for a terminal table of a study's JSON form;
    brackets hold the 95% interval (over replications, kept in the figure's domain; the
    pooled Wilson interval for the share of loads interdicted)."""
    out = []
    for key, label in TABLE_ROWS:
        values = []
        for s in data["policies"].values():
            low, high = s["ci95"].get(key, [None, None])
            ci = f" [{_fmt(low)}, {_fmt(high)}]" if low is not None and high is not None else ""
            values.append(_fmt(s[key]) + ci)
        out.append((label, values))
    first = next(iter(data["policies"].values()))
    for mode in first["wait_s"]:
        for stat in ("mean", "p95"):
            vals = [s["wait_s"][mode][stat] for s in data["policies"].values()]
            out.append((f"{mode} primary wait, {stat} (min)",
                        [_fmt(v / 60.0) if v is not None else "n/a" for v in vals]))
    out += _lane_rows(data)
    out += _study_rows(data)
    return out


def _lane_rows(data: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Per mode with an express lane: each lane's mean and p95 primary wait, the share of
    arrivals eligible for express and the mean gain of holding the enrolment; then the
    travellers who left the line (gave up, or diverted to another port)."""
    pols = list(data["policies"].values())
    rows: list[tuple[str, list[str]]] = []

    def minutes(v: Any) -> str:
        return _fmt(v / 60.0) if isinstance(v, int | float) else "n/a"

    for mode in pols[0].get("express", {}):
        for lane in ("general", "express"):
            for stat in ("mean", "p95"):
                rows.append((f"{mode} {lane} lane wait, {stat} (min)", [
                    minutes(s["wait_s_by_lane"].get(f"{mode}.{lane}", {}).get(stat))
                    for s in pols]))
        rows.append((f"{mode} share eligible for express",
                     [_fmt(s["express"][mode]["eligible_share"]) for s in pols]))
        rows.append((f"{mode} express gain, mean wait saved (min)",
                     [minutes(s["express"][mode]["gain_s"]) for s in pols]))
    if any("balked" in s for s in pols):
        rows.append(("left the line and gave up / day", [_fmt(s.get("balked")) for s in pols]))
        rows.append(("left the line for another port / day",
                     [_fmt(s.get("diverted")) for s in pols]))
    return rows


#: Paired differences shown under the table: figure, label.
DIFF_ROWS: tuple[tuple[str, str], ...] = (
    ("interdiction_rate", "share of loads interdicted"),
    ("harm_interdicted", "harm interdicted / day"),
    ("share_uninspected", "share crossed uninspected"),
    ("delay_cost_usd", "delay cost, USD / day"),
)


def _study_rows(data: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Loads and replications, the adversary's own prediction where it made one, and
    the paired differences against the first policy (common random numbers, 95% t
    interval over replications)."""
    pols = list(data["policies"].values())
    rows = [("loads (all replications)", [f"{int(s.get('loads', 0)):,}" for s in pols]),
            ("replications", [str(s.get("replications", "")) for s in pols])]
    if any("adversary" in s for s in pols):
        rows.append(("adversary's predicted share interdicted", [
            _fmt(s["adversary"]["predicted_interdiction_rate"]) if "adversary" in s else "n/a"
            for s in pols]))
    base = next(iter(data["policies"]))
    diffs = data.get("differences") or {}
    for key, label in DIFF_ROWS:
        if not diffs:
            break
        cells = ["(base)"]
        for name in list(data["policies"])[1:]:
            d = diffs.get(name, {}).get(key)
            if d is None:
                cells.append("n/a")
                continue
            low, high = d["ci95"]
            cells.append(f"{_fmt(d['mean'])} [{_fmt(low)}, {_fmt(high)}]")
        rows.append((f"paired difference vs {base}: {label}", cells))
    return rows


__all__ = ["DIFF_ROWS", "FILES", "TABLE_ROWS", "headline_table", "metrics_rows", "staged_folder",
           "write_report"]
