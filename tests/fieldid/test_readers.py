"""Readers: every supported format, metadata, and clear errors for bad files."""

from __future__ import annotations

import io

import numpy as np
import pytest

from portwatch.domain.errors import SpectrumFormatError
from portwatch.fieldid.readers import read_spectrum, write_columns
from portwatch.fieldid.spectrum import Spectrum

from .fieldid_helpers import DATA


def _spectrum() -> Spectrum:
    x = np.linspace(200.0, 1800.0, 200)
    return Spectrum(x, 100.0 + 50.0 * np.exp(-0.5 * ((x - 1001.0) / 5.0) ** 2), 1064, "s")


def test_csv_round_trip_keeps_axis_intensity_and_laser(tmp_path):
    path = tmp_path / "s.csv"
    write_columns(_spectrum(), path)
    got = read_spectrum(path)
    assert got.laser_nm == 1064
    np.testing.assert_allclose(got.shift_cm1, _spectrum().shift_cm1, atol=1e-4)
    np.testing.assert_allclose(got.intensity, _spectrum().intensity, rtol=1e-5)


def test_tab_and_semicolon_decimal_comma_text(tmp_path):
    s = _spectrum()
    tab = tmp_path / "s.txt"
    tab.write_text("".join(f"{x}\t{y}\n" for x, y in zip(s.shift_cm1, s.intensity, strict=True)))
    semi = tmp_path / "s2.txt"
    semi.write_text(
        "".join(
            f"{x:.3f};{y:.4f}\n".replace(".", ",")
            for x, y in zip(s.shift_cm1, s.intensity, strict=True)
        )
    )
    for path in (tab, semi):
        got = read_spectrum(path, laser_nm=785)
        assert got.laser_nm == 785
        np.testing.assert_allclose(got.intensity, s.intensity, rtol=1e-4)


def test_descending_axis_is_sorted(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("shift,intensity\n" + "".join(f"{x},{x / 10}\n" for x in range(2000, 199, -10)))
    got = read_spectrum(path)
    assert np.all(np.diff(got.shift_cm1) > 0)


def test_bwtek_export_real_file():
    got = read_spectrum(DATA / "PST02_iRPlus785_Z050_100_3200ms.txt")
    assert got.laser_nm == 785  # from laser_wavelength;784,82 (decimal comma)
    assert got.metadata["model"] == "BTC162E-785S-SYS"
    inside = (got.shift_cm1 > 950) & (got.shift_cm1 < 1050)
    assert abs(got.shift_cm1[inside][np.argmax(got.intensity[inside])] - 1001) < 3


def test_jcamp_dx(tmp_path):
    s = _spectrum()
    lines = [
        "##TITLE=test",
        "##JCAMP-DX=4.24",
        "##DATA TYPE=RAMAN SPECTRUM",
        "##XUNITS=1/CM",
        "##YUNITS=ARBITRARY UNITS",
        "##$LASER WAVELENGTH=1064",
        f"##NPOINTS={s.shift_cm1.size}",
        "##XYPOINTS=(XY..XY)",
    ]
    lines += [f"{x:.4f}, {y:.5f}" for x, y in zip(s.shift_cm1, s.intensity, strict=True)]
    lines.append("##END=")
    path = tmp_path / "s.jdx"
    path.write_text("\n".join(lines) + "\n")
    got = read_spectrum(path)
    assert got.laser_nm == 1064
    np.testing.assert_allclose(got.intensity, s.intensity, rtol=1e-4)


def test_spc(tmp_path):
    from spc_io import SPC

    s = _spectrum()
    spc = SPC(xarray=s.shift_cm1.astype(np.float32))
    spc.add_subfile(yarray=s.intensity.astype(np.float32))
    path = tmp_path / "s.spc"
    path.write_bytes(spc.to_spc_raw().to_bytes())
    got = read_spectrum(path, laser_nm=785)
    np.testing.assert_allclose(got.shift_cm1, s.shift_cm1, rtol=1e-5)
    np.testing.assert_allclose(got.intensity, s.intensity, rtol=1e-4)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.csv", "shift,intensity\n100,1\n200,abc\n", "line 3: not a number"),
        ("one.csv", "100\n200\n300\n", "expected two columns"),
        ("empty.csv", "", "no numeric"),
        ("short.csv", "100,1\n200,2\n", "at least 16 points"),
        ("nan.csv", "".join(f"{i},nan\n" for i in range(100)), "non-finite"),
        ("bad.jdx", "##TITLE=x\n##END=\n", "bad.jdx"),
        (
            "units.jdx",
            "##TITLE=x\n##XUNITS=NANOMETERS\n##XYPOINTS=(XY..XY)\n"
            + "".join(f"{500 + i}, {i}\n" for i in range(30))
            + "##END=\n",
            "XUNITS",
        ),
    ],
)
def test_malformed_files_name_file_and_problem(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(SpectrumFormatError) as err:
        read_spectrum(path)
    assert name in str(err.value)
    assert message in str(err.value)


def test_corrupt_spc_and_binary_text(tmp_path):
    spc = tmp_path / "x.spc"
    spc.write_bytes(b"\x00\x01garbage" * 10)
    with pytest.raises(SpectrumFormatError, match="x.spc"):
        read_spectrum(spc)
    binary = tmp_path / "x.csv"
    binary.write_bytes(io.BytesIO(b"\x00\xff" * 100).getvalue())
    with pytest.raises(SpectrumFormatError, match="binary"):
        read_spectrum(binary)


def test_missing_file():
    with pytest.raises(SpectrumFormatError, match="nope.csv: no such file"):
        read_spectrum("nope.csv")
