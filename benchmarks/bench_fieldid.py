"""Identifications per second, mixture analysis included, against library size.

Libraries of 20, 200 and 2,000 references at 1064 nm (the shipped synthetic library
padded with random synthetic compounds); queries are seeded simulated binary
mixtures (drug 30% in a cutting agent). portwatch's identification (preprocess,
search, forward-selection NNLS, supporting peaks, decision) runs beside the naive
peer: the same preprocessing, then NNLS over every pair of references, best pair
kept. Both see the same queries in the same run.
"""

from __future__ import annotations

import importlib
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.report import machine_line, write_section
from portwatch.fieldid.calibrate import accepted_names
from portwatch.fieldid.cases import peak_table
from portwatch.fieldid.identify import analyse, decide, load_calibration
from portwatch.fieldid.library import build_default_library, padded_library
from portwatch.fieldid.mixtures import exhaustive_pairs
from portwatch.fieldid.samples import Recipe, render
from portwatch.fieldid.search import one_blas_thread, prepare, prepare_cached

#: the module, not the package's ``search`` function of the same name
search_module = importlib.import_module("portwatch.fieldid.search")

LASER_NM = 1064
SIZES = (20, 200, 2000)
SEED = 2026
QUERIES = 12
#: The all-pairs peer grows with the square of the library; queries it runs per size.
PEER_QUERIES = {20: 12, 200: 4, 2000: 1}


def _queries(rng: np.random.Generator) -> list[tuple[str, object]]:
    table = peak_table()
    drugs = ["fentanyl", "cocaine_hcl", "heroin_hcl", "methamphetamine_hcl", "mdma_hcl", "thc"]
    agents = ["lactose", "mannitol", "caffeine", "sodium_bicarbonate"]
    out = []
    for i in range(QUERIES):
        drug, agent = drugs[i % len(drugs)], agents[i % len(agents)]
        recipe = Recipe(((drug, 0.3), (agent, 0.7)), LASER_NM, None, 0.0, 50.0, 0.3, 1.0)
        out.append((drug, render(recipe, table, rng)))
    return out


def main() -> None:
    with one_blas_thread():
        _run()


def _run() -> None:
    rng = np.random.default_rng(SEED)
    base = build_default_library()
    queries = _queries(rng)
    calibration = load_calibration()
    thresholds = calibration.thresholds[LASER_NM]
    rows = []
    cache_rows = []
    for size in SIZES:
        library = padded_library(base, size, LASER_NM, np.random.default_rng([SEED, size]))
        started = time.perf_counter()
        prepared = prepare(library, LASER_NM)
        prepare_s = time.perf_counter() - started
        with tempfile.TemporaryDirectory() as folder:
            search_module._CACHE.clear()  # a real cold start: nothing prepared in memory
            t0 = time.perf_counter()
            prepare_cached(library, LASER_NM, Path(folder))  # builds and writes
            cold = time.perf_counter() - t0
            t0 = time.perf_counter()
            search_module._CACHE.clear()
            prepare_cached(library, LASER_NM, Path(folder))  # read back, keyed by content
            warm = time.perf_counter() - t0
        cache_rows.append((size, cold, warm))
        times, correct = [], 0
        for drug, spectrum in queries:
            t0 = time.perf_counter()
            result = decide(analyse(spectrum, prepared=prepared), thresholds, calibration)
            times.append(time.perf_counter() - t0)
            correct += bool(accepted_names(drug) & result.flagged_candidates())
        peer_times, peer_correct = [], 0
        n_peer = PEER_QUERIES[size]
        for drug, spectrum in queries[:n_peer]:
            t0 = time.perf_counter()
            _, q = prepared.pipeline.apply(spectrum)
            i, j, _ = exhaustive_pairs(prepared, q)
            peer_times.append(time.perf_counter() - t0)
            peer_correct += drug in (prepared.names[i], prepared.names[j])
        ours = float(np.median(times))
        peer = float(np.median(peer_times))
        rows.append((size, ours, correct, len(queries), peer, peer_correct, n_peer, prepare_s))
        print(
            f"size {size}: {1 / ours:.1f} id/s ({correct}/{len(queries)} drugs confirmed); "
            f"all-pairs NNLS {1 / peer:.3g} id/s ({peer_correct}/{n_peer} pairs right); "
            f"speed-up {peer / ours:.3g}x; library prepared in {prepare_s:.2f} s",
            flush=True,
        )
    lines = [
        "## fieldid: identifications per second against library size",
        "",
        f"{machine_line()}. `python -m benchmarks fieldid`, seed {SEED}, {LASER_NM} nm, "
        f"queries: simulated binary mixtures (drug 30% w/w in a cutting agent, SNR 50).",
        "BLAS limited to one thread, as `portwatch identify` does; the machine was shared "
        "with other work while this ran, so absolute rates vary by 2-3x between runs. "
        "portwatch = input gates + preprocessing + axis-drift search + HQI search + "
        "forward-selection NNLS (up to 4 components) + band evidence + decision, per "
        "spectrum. Peer = the same preprocessing, then a plain exhaustive search: NNLS on "
        "every pair of references (n(n-1)/2 fits), best pair kept.",
        "",
        "| references | portwatch id/s | drug confirmed | all-pairs NNLS id/s | pair right "
        "| speed-up | library preparation s |",
        "|---|---|---|---|---|---|---|",
    ]
    for size, ours, correct, n, peer, peer_correct, n_peer, prep in rows:
        lines.append(
            f"| {size} | {1 / ours:.1f} | {correct}/{n} | {1 / peer:.3g} | "
            f"{peer_correct}/{n_peer} | {peer / ours:,.3g}x | {prep:.2f} |"
        )
    lines += [
        "",
        "Medians over queries (the peer runs fewer queries at large sizes because its "
        "cost grows with the square of the library). Library preparation (preprocessing "
        "every reference) happens once per library and laser and is cached on disk, keyed "
        "by the library's content:",
        "",
        "| references | prepare and write cache s | read cache s |",
        "|---|---|---|",
        *[f"| {n} | {cold:.2f} | {warm:.3f} |" for n, cold, warm in cache_rows],
    ]
    write_section("fieldid", "\n".join(lines))


if __name__ == "__main__":
    main()
