"""The library: synthetic default, file format, measured precedence, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from portwatch.domain.errors import ConfigError, ConflictError
from portwatch.domain.substances import SubstanceClass
from portwatch.fieldid.library import (
    add_to_library_file,
    build_default_library,
    load_library,
    measured_reference,
    padded_library,
    save_library,
)
from portwatch.fieldid.synthesis import INSTRUMENT_FWHM_CM1, line_shape, synthesize

from .fieldid_helpers import clean_spectrum


def test_default_library_is_synthetic_and_covers_both_lasers(table):
    lib = build_default_library()
    assert "SYNTHETIC" in lib.description
    measured = {(r.name, r.laser_nm) for r in lib.references if not r.synthetic}
    # the only measured references are the shipped MIT-licensed ones, at 785 nm
    assert measured == {("polystyrene", 785), ("silicon", 785), ("calcite", 785)}
    assert all("MIT" in r.source for r in lib.references if not r.synthetic)
    for laser in (785, 1064):
        names = {r.name for r in lib.select(laser)}
        assert names == set(table)
    classes = {r.substance_class for r in lib.references}
    assert {
        SubstanceClass.CONTROLLED,
        SubstanceClass.CUTTING_AGENT,
        SubstanceClass.PACKAGING,
        SubstanceClass.EXPLOSIVE,
    } <= classes


def test_line_width_follows_the_laser():
    axis = np.arange(900.0, 1100.0, 0.1)
    widths = {}
    for laser in (785, 1064):
        y = synthesize([(1000.0, 1.0)], line_shape(laser), axis)
        widths[laser] = np.ptp(axis[y >= 0.5])
    assert widths[1064] > widths[785]
    # Voigt FWHM lies between the larger component and their sum
    assert INSTRUMENT_FWHM_CM1[785] < widths[785] < INSTRUMENT_FWHM_CM1[785] + 6.0 + 0.2


def test_file_round_trip_and_measured_precedence(tmp_path, table):
    path = tmp_path / "lib.json"
    save_library(build_default_library(), path)
    measured = measured_reference(
        "lactose", clean_spectrum(table, "lactose", 1064), SubstanceClass.CUTTING_AGENT, "lab A"
    )
    updated = add_to_library_file(path, measured)
    assert updated.revision == 2
    again = load_library(path)
    assert again.revision == 2
    chosen = {r.name: r for r in again.select(1064)}
    assert chosen["lactose"].synthetic is False and chosen["lactose"].source == "lab A"
    assert chosen["fentanyl"].synthetic is True
    assert {r.name: r for r in again.select(785)}["lactose"].synthetic is True
    assert pytest.approx(min(chosen["lactose"].peaks_cm1, key=lambda p: abs(p - 477)), abs=4) == 477


def test_add_with_another_class_is_a_conflict_and_file_is_kept(tmp_path, table):
    path = tmp_path / "lib.json"
    save_library(build_default_library(), path)
    before = path.read_bytes()
    bad = measured_reference(
        "lactose", clean_spectrum(table, "lactose"), SubstanceClass.CONTROLLED, "x"
    )
    with pytest.raises(ConflictError, match="lactose: already in the library as cutting_agent"):
        add_to_library_file(path, bad)
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("not json", "not JSON"),
        ({"format": "other", "format_version": 1, "revision": 1, "references": []}, "format"),
        (
            {
                "format": "portwatch-raman-library",
                "format_version": 1,
                "revision": 0,
                "references": [],
            },
            "revision",
        ),
        (
            {
                "format": "portwatch-raman-library",
                "format_version": 9,
                "revision": 1,
                "references": [],
            },
            "format_version",
        ),
    ],
)
def test_bad_library_files(tmp_path, doc, message):
    path = tmp_path / "bad.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    with pytest.raises(ConfigError, match=message) as err:
        load_library(path)
    assert "bad.json" in str(err.value)


def test_padded_library_has_the_size_asked():
    lib = padded_library(build_default_library(), 60, 1064, np.random.default_rng(0))
    assert len(lib.select(1064)) == 60


def test_shipped_thresholds_were_fitted_for_the_shipped_library():
    """A changed peak table or measured reference needs `fieldid evaluate --thresholds-out`."""
    from portwatch.fieldid.identify import load_calibration
    from portwatch.fieldid.library import library_digest

    assert load_calibration().library_digest == library_digest(build_default_library())


def test_prepared_library_cache_is_keyed_by_content(tmp_path):
    from portwatch.fieldid.library import Library
    from portwatch.fieldid.search import prepare_cached

    lib = build_default_library(lasers=(785,))
    first = prepare_cached(lib, 785, tmp_path)
    assert len(list(tmp_path.glob("prepared-785-*.pickle"))) == 1
    again = prepare_cached(Library(lib.references, lib.revision, lib.description), 785, tmp_path)
    assert np.array_equal(first.matrix, again.matrix)
    smaller = Library(lib.references[1:], lib.revision, lib.description)
    prepare_cached(smaller, 785, tmp_path)
    assert len(list(tmp_path.glob("prepared-785-*.pickle"))) == 2
