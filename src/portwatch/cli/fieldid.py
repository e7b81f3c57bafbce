"""CLI commands of portwatch.fieldid: identify spectra, manage the library, evaluate."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from portwatch.cli.errors import require
from portwatch.cli.progress import working
from portwatch.domain import validate
from portwatch.domain.errors import PortwatchError
from portwatch.domain.substances import SubstanceClass

fieldid_app = typer.Typer(
    help="Field identification of unknown substances from handheld Raman spectra.",
    no_args_is_help=True,
)
library_app = typer.Typer(help="The reference library: list, add measured spectra, build.")
fieldid_app.add_typer(library_app, name="library")

_LASER_HELP = "Excitation wavelength in nm (785 or 1064); overrides what the file says."
LaserOpt = Annotated[int | None, typer.Option("--laser", help=_LASER_HELP)]
MAX_REPEATS = 1000
"""Samples per cell at most: a bound so that a typo is an error, not a week-long run."""
LibraryOpt = Annotated[
    Path | None, typer.Option("--library", help="Library file (default: the built-in one).")
]


def _check_laser(laser: int | None) -> int | None:
    if laser is not None and laser not in (785, 1064):
        raise typer.BadParameter(f"must be 785 or 1064, got {laser}", param_hint="--laser")
    return laser


def _load_library(path: Path | None):  # noqa: ANN202 - the library type stays internal
    from portwatch.fieldid.library import default_library, load_library

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
) -> None:
    """Identify what each spectrum shows: verdict, components, supporting peaks, action."""
    from portwatch.fieldid.identify import identify
    from portwatch.fieldid.readers import read_spectrum

    _check_laser(laser)
    lib = _load_library(library)
    failed = 0
    for path in files:
        try:
            result = identify(read_spectrum(path, laser), lib)
        except PortwatchError as exc:
            failed += 1
            if as_json:
                typer.echo(json.dumps({"file": path.name, "error": str(exc)}))
            else:
                print(f"error: {exc}", file=sys.stderr)
            continue
        if as_json:
            typer.echo(json.dumps(result.to_json()))
        else:
            typer.echo(_human(result))
    if failed:
        raise typer.Exit(2)


def _human(result) -> str:  # noqa: ANN001 - Identification, imported lazily
    lines = [
        f"{result.source}: {result.verdict.value.upper()} -> {result.action.value} "
        f"({result.laser_nm} nm; {result.reason})"
    ]
    for c in result.components:
        peaks = ", ".join(f"{p:.0f}" for p in c.supporting_peaks_cm1) or "none"
        lines.append(
            f"  {c.display_name} [{c.substance_class.value}] {c.fraction:.0%} "
            f"+/- {c.fraction_sd:.0%}, confidence {c.confidence:.2f}; peaks {peaks} cm-1"
        )
    for c in result.packaging:
        lines.append(f"  packaging: {c.display_name}")
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
    """Write the synthetic default library (from the shipped peak table) to a file."""
    from portwatch.fieldid.library import build_default_library, save_library

    validate.output_file("--out", out)
    lib = build_default_library()
    save_library(lib, out)
    typer.echo(f"wrote {len(lib.references)} synthetic references to {out}")


@fieldid_app.command("evaluate")
def evaluate_command(
    seed: Annotated[int, typer.Option("--seed", help="Seed of evaluation and calibration.")] = 2027,
    repeats: Annotated[int, typer.Option("--repeats", min=1, help="Samples per cell.")] = 5,
    calibration_repeats: Annotated[int, typer.Option("--calibration-repeats", min=1)] = 8,
    out: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path(
        "fieldid-evaluation"
    ),
    lasers: Annotated[
        list[int] | None, typer.Option("--laser", help="Only this laser (repeatable).")
    ] = None,
    thresholds_out: Annotated[
        Path | None,
        typer.Option("--thresholds-out", help="Also write the calibrated thresholds here."),
    ] = None,
) -> None:
    """Calibrate on one seeded set, evaluate on another; write tables and a plot."""
    from portwatch.fieldid.calibrate import save_thresholds
    from portwatch.fieldid.evaluate import evaluate, render_markdown, write_outputs
    from portwatch.fieldid.identify import Thresholds

    require("matplotlib")  # the evaluation ends with a plot: fail before, not after
    validate.seed("--seed", seed)
    validate.count("--repeats", repeats, minimum=1, maximum=MAX_REPEATS)
    validate.count("--calibration-repeats", calibration_repeats, minimum=1, maximum=MAX_REPEATS)
    validate.output_folder("--out", out)
    if thresholds_out is not None:
        validate.output_file("--thresholds-out", thresholds_out)
    for laser in lasers or []:
        _check_laser(laser)
    chosen = tuple(lasers) if lasers else (785, 1064)
    with working(f"calibrating and evaluating ({', '.join(map(str, chosen))} nm)"):
        report = evaluate(seed, repeats, chosen, calibration_repeats=calibration_repeats)
    paths = write_outputs(report, out)
    if thresholds_out is not None:
        calibrated = {k: Thresholds.from_dict(v) for k, v in report.thresholds.items()}
        save_thresholds(calibrated, thresholds_out, seed, calibration_repeats)
        paths.append(thresholds_out)
    typer.echo(render_markdown(report))
    typer.echo("wrote " + ", ".join(str(p) for p in paths))


@fieldid_app.command("calibrate")
def calibrate_command(
    out: Annotated[Path, typer.Option("--out", help="Thresholds file to write (JSON).")],
    seed: Annotated[int, typer.Option("--seed")] = 2027,
    repeats: Annotated[int, typer.Option("--repeats", min=1)] = 8,
) -> None:
    """Calibrate decision thresholds on the seeded calibration set and write them."""
    from portwatch.fieldid.calibrate import calibrate, save_thresholds

    validate.seed("--seed", seed)
    validate.count("--repeats", repeats, minimum=1, maximum=MAX_REPEATS)
    validate.output_file("--out", out)
    with working("calibrating thresholds"):
        thresholds = calibrate(seed, repeats=repeats)
    save_thresholds(thresholds, out, seed, repeats)
    for laser, t in sorted(thresholds.items()):
        typer.echo(f"{laser} nm: {t.to_dict()}")
    typer.echo(f"wrote {out}")


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the root app."""
    app.command("identify")(identify_command)
    app.add_typer(fieldid_app, name="fieldid")
