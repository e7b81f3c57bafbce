"""Start-up of the ``portwatch`` command (``--help``) against ``python -c "import typer"``,
the least any typer command can cost, measured as whole processes in the same run.

Each pair of runs (ours, then the peer) is timed back to back and the ratio taken pair
by pair, so drift in the machine's speed cancels; the medians are quoted. Output goes to
a pipe, as in a script or a log (on a terminal the help is rich's boxed layout, which
costs more: measured as its own row with ``TYPER_USE_RICH=1``).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from benchmarks.report import machine_line, write_section

PAIRS = 15
TARGET_RATIO = 2.0

PEER = [sys.executable, "-c", "import typer"]
# A typer app of one command with one int option: what typer itself costs for a
# subcommand's --help (it converts parameters through pydantic).
BARE_APP = [sys.executable, "-c", (
    "import typer\n"
    "app = typer.Typer()\n"
    "@app.command()\n"
    "def run(days: int = 7, name: str = 'x') -> None: pass\n"
    "@app.command()\n"
    "def other() -> None: pass\n"
    "app(['run', '--help'])\n"
)]


def _run_s(argv: list[str], env: dict[str, str]) -> float:
    """Wall-clock seconds of one run of ``argv``, output to a pipe and thrown away."""
    start = time.perf_counter()
    subprocess.run(argv, capture_output=True, env=env, check=False)
    return time.perf_counter() - start


def _compare(argv: list[str], extra_env: dict[str, str] | None = None) -> dict[str, float]:
    """Median wall time of ``argv`` and of the peer, and the median pairwise ratio."""
    env = dict(os.environ)
    env.pop("TYPER_USE_RICH", None)
    ours_env = {**env, **(extra_env or {})}
    _run_s(argv, ours_env), _run_s(PEER, env)  # warm the file cache
    ours, peer = [], []
    for _ in range(PAIRS):
        ours.append(_run_s(argv, ours_env))
        peer.append(_run_s(PEER, env))
    ratios = [a / b for a, b in zip(ours, peer, strict=True)]
    return {"ours_s": statistics.median(ours), "peer_s": statistics.median(peer),
            "ratio": statistics.median(ratios), "ratio_max": max(ratios)}


def main() -> None:
    portwatch = [sys.executable, "-m", "portwatch"]
    rows = [
        ("`portwatch --help`", _compare([*portwatch, "--help"])),
        ("`portwatch simulate --help`", _compare([*portwatch, "simulate", "--help"])),
        ("`portwatch custody ingest --help`",
         _compare([*portwatch, "custody", "ingest", "--help"])),
        ("`portwatch --help`, rich layout (`TYPER_USE_RICH=1`)",
         _compare([*portwatch, "--help"], {"TYPER_USE_RICH": "1"})),
        ("a bare typer app's subcommand `--help` (one int, one str option)",
         _compare(BARE_APP)),
    ]
    lines = [
        "## Start-up (`python -m benchmarks startup`)",
        "",
        "Whole processes, output to a pipe; each row against `python -c \"import typer\"` "
        f"in the same run, {PAIRS} alternating pairs, medians (and the largest ratio of a "
        "pair). The heavy libraries (numpy, numba, scipy, SQLAlchemy, pyproj, matplotlib) "
        "are imported only inside commands; `tests/cli/test_startup.py` checks that no "
        "`--help` loads them.",
        "",
        "| command | ms | `import typer` ms | ratio (median) | ratio (max) |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, r in rows:
        lines.append(f"| {label} | {r['ours_s'] * 1e3:.0f} | {r['peer_s'] * 1e3:.0f} | "
                     f"{r['ratio']:.2f} | {r['ratio_max']:.2f} |")
    root = rows[0][1]["ratio"]
    verdict = "reached" if root <= TARGET_RATIO else "not reached"
    lines += [
        "",
        f"Target: `portwatch --help` within {TARGET_RATIO:g}x of `import typer`: "
        f"**{verdict}** ({root:.2f}x). A subcommand's `--help` costs more because typer "
        "builds a pydantic adapter per parameter: compare the bare typer app's row.",
        "",
        machine_line() + ".",
    ]
    markdown = "\n".join(lines)
    print(markdown)
    write_section("startup", markdown)


if __name__ == "__main__":
    main()
