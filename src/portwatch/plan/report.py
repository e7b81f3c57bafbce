"""What ``portwatch compare`` shows: a console table (rich), two plots (matplotlib, Agg)
and one HTML page that embeds them, written with the JSON into ``--out DIR``.

Files: ``compare.json`` (the comparison's JSON form), ``compare.csv`` (one row per
adversary and policy), ``harm_vs_uniform.png`` (each policy's harm interdicted per day
minus uniform's, with its 95% interval, per adversary), ``wait_p95.png`` (p95 truck
wait at primary per policy and adversary) and ``compare.html`` (the table, the model's
prediction against the informed adversary and both plots, with no external resource).
The folder is written through a temporary folder beside it, so a failed write leaves no
half-written report.
"""

from __future__ import annotations

import base64
import csv
import html
import json
from pathlib import Path
from typing import Any

from rich.table import Table

from portwatch.twin.study.report import staged_folder

FILES = ("compare.json", "compare.csv", "harm_vs_uniform.png", "wait_p95.png",
         "compare.html")
COLUMNS = ("adversary", "policy", "loads", "harm caught / day", "minus uniform [95% CI]",
           "x uniform [95% CI]", "interdiction rate", "p95 truck wait (min)",
           "decoys sent/alerted/to secondary")


def _diff(row: dict[str, Any], key: str = "harm_interdicted") -> str:
    d = row.get(f"{key}_minus_uniform")
    if not d:
        return "baseline"
    low, high = d["ci95"]
    return f"{d['mean']:+.2f} [{low:+.2f}, {high:+.2f}]"


def table_rows(data: dict[str, Any]) -> list[list[str]]:
    """The table's cells, one row per adversary and policy (strings, as shown)."""
    return [[r["adversary"], r["policy"], str(r["loads"]), f"{r['harm_interdicted']:.2f}",
             _diff(r), _ratio(r), f"{r['interdiction_rate']:.3f}",
             f"{r['p95_truck_wait_s'] / 60:.1f}", _decoys(r)] for r in data["rows"]]


def _ratio(row: dict[str, Any]) -> str:
    q = row.get("harm_interdicted_ratio_to_uniform")
    if not q:
        return "baseline" if "harm_interdicted_minus_uniform" not in row else ""
    low, high = q["ci95"]
    if q["mean"] != q["mean"]:  # NaN: uniform caught nothing, or one replication
        return "n/a"
    return f"{q['mean']:.2f} [{low:.2f}, {high:.2f}]"


def _decoys(row: dict[str, Any]) -> str:
    keys = ("decoys_sent", "decoys_alerted", "decoys_inspected")
    if any(k not in row for k in keys):
        return ""
    return "/".join(f"{row[k]:.1f}" for k in keys)


def table(data: dict[str, Any]) -> Table:
    """The comparison as a rich table."""
    warm = data.get("warmup_days", 0)
    t = Table(title=f"{data['scenario']}: {data['days']} days x {data['replications']} "
                    f"replications" + (f" after {warm} learning days" if warm else "")
                    + f", seed {data['seed']}; uniform referral "
                    f"{data['uniform_rate']:.4f} (the plan's bay time); plan "
                    + ("proven optimal" if data.get("plan_proven_optimal")
                       else "not proven optimal"))
    for c in COLUMNS:
        t.add_column(c, justify="left" if c in ("adversary", "policy") else "right")
    last = None
    for cells in table_rows(data):
        if last is not None and cells[0] != last:
            t.add_section()
        last = cells[0]
        t.add_row(*cells)
    return t


def _grouped(data: dict[str, Any]) -> tuple[list[str], list[str]]:
    adversaries = list(dict.fromkeys(r["adversary"] for r in data["rows"]))
    policies = list(dict.fromkeys(r["policy"] for r in data["rows"]))
    return adversaries, policies


def _plt() -> Any:
    """matplotlib's pyplot on the Agg backend, imported only when a plot is drawn (it
    is the ``plot`` extra: the table needs no matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _plot_harm(data: dict[str, Any], path: Path) -> None:
    plt = _plt()
    adversaries, policies = _grouped(data)
    others = [p for p in policies if p != "uniform"]
    fig, axes = plt.subplots(1, len(adversaries), figsize=(4.2 * len(adversaries), 3.6),
                             squeeze=False, sharey=True)
    for ax, adv in zip(axes[0], adversaries, strict=True):
        rows = {r["policy"]: r for r in data["rows"] if r["adversary"] == adv}
        means, lows, highs = [], [], []
        for p in others:
            d = rows[p].get("harm_interdicted_minus_uniform") or {"mean": 0, "ci95": [0, 0]}
            means.append(d["mean"])
            lows.append(d["mean"] - d["ci95"][0])
            highs.append(d["ci95"][1] - d["mean"])
        ax.barh(range(len(others)), means, xerr=[lows, highs], color="#4a78b0", capsize=3)
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_yticks(range(len(others)), others)
        ax.set_title(adv)
        ax.set_xlabel("harm caught / day minus uniform")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_waits(data: dict[str, Any], path: Path) -> None:
    plt = _plt()
    adversaries, policies = _grouped(data)
    width = 0.8 / max(len(policies), 1)
    fig, ax = plt.subplots(figsize=(3.6 + 1.8 * len(adversaries), 3.6))
    for k, p in enumerate(policies):
        vals = [next(r["p95_truck_wait_s"] / 60 for r in data["rows"]
                     if r["adversary"] == a and r["policy"] == p) for a in adversaries]
        ax.bar([i + k * width for i in range(len(adversaries))], vals, width, label=p)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(adversaries))], adversaries)
    ax.set_ylabel("p95 truck wait at primary (min)")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _html(data: dict[str, Any], images: dict[str, bytes]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"
                   for cells in table_rows(data))
    predicted = "".join(f"<tr><td>{html.escape(p)}</td><td>{v:.3f}</td></tr>"
                        for p, v in data.get("predicted_harm_per_load_informed", {}).items())
    figures = "".join(
        f'<figure><img alt="{html.escape(n)}" src="data:image/png;base64,'
        f'{base64.b64encode(png).decode()}"><figcaption>{html.escape(n)}</figcaption></figure>'
        for n, png in images.items())
    params = html.escape(json.dumps(data.get("adversary_params") or {}))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>portwatch compare: {html.escape(data['scenario'])}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; max-width: 1200px; }}
table {{ border-collapse: collapse; font-size: 0.9em; margin-bottom: 1em; }}
th, td {{ border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }}
td:nth-child(-n+2) {{ text-align: left; }}
figure {{ display: inline-block; margin: 0.5em; }} img {{ max-width: 100%; }}
</style></head><body>
<h1>portwatch compare: {html.escape(data['scenario'])}</h1>
<p>{data['days']} measured days, {data['replications']} replications, seed {data['seed']};
adversary parameters {params}. Every policy sees the same traffic and adversary draws in a
replication (common random numbers); differences are paired against uniform random
referral at the bay time the game-theoretic plan uses (rate {data['uniform_rate']:.4f}),
with 95% intervals.</p>
<table><tr>{head}</tr>{body}</table>
<h2>What the interdiction model predicts against the informed adversary</h2>
<p>Harm interdicted per load, from the one interdiction model and the informed adversary's
own choices (no simulation noise): set it beside the realised figures above.</p>
<table><tr><th>policy</th><th>predicted harm / load</th></tr>{predicted}</table>
{figures}
</body></html>
"""


def write_compare_report(data: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write every file of ``FILES`` for the comparison ``data`` into ``out_dir``."""
    with staged_folder(out_dir, ".portwatch-compare-", FILES) as tmp:
        (tmp / "compare.json").write_text(json.dumps(data, indent=2) + "\n")
        with (tmp / "compare.csv").open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(COLUMNS)
            w.writerows(table_rows(data))
        _plot_harm(data, tmp / "harm_vs_uniform.png")
        _plot_waits(data, tmp / "wait_p95.png")
        images = {n: (tmp / n).read_bytes() for n in FILES if n.endswith(".png")}
        (tmp / "compare.html").write_text(_html(data, images))
    return [Path(out_dir) / n for n in FILES]


__all__ = ["FILES", "table", "table_rows", "write_compare_report"]
