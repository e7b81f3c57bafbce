"""Measured spectra recorded by others (ramanchada2 1.5.0 test data, MIT licence).

Two polystyrene spectra from two laboratories and two instruments (B&W Tek i-Raman
Plus and a Horiba, both 785 nm) are identified against the synthetic library.
"""

from __future__ import annotations

import pytest

from portwatch.domain.substances import Action, Verdict
from portwatch.fieldid.identify import identify
from portwatch.fieldid.readers import read_spectrum

from .fieldid_helpers import DATA

FILES = ["PST02_iRPlus785_Z050_100_3200ms.txt", "PST10_iR785_OP01_40000msx4.txt"]


@pytest.mark.parametrize("name", FILES)
def test_measured_polystyrene_is_identified(name):
    spectrum = read_spectrum(DATA / name, laser_nm=785)
    result = identify(spectrum)
    assert result.hits[0].name == "polystyrene"
    assert result.hits[0].hqi > 0.8
    assert [c.name for c in result.packaging][0] == "polystyrene"
    # polystyrene shares its strongest bands with fentanyl; it must never raise an alarm
    assert result.verdict is not Verdict.CONTROLLED
    assert result.action is not Action.SEIZE_AND_SECURE


def test_bwtek_polystyrene_is_released():
    result = identify(read_spectrum(DATA / FILES[0]))
    assert result.verdict is Verdict.BENIGN
    assert result.action is Action.RELEASE


def test_horiba_polystyrene_goes_to_the_lab_not_to_an_alarm():
    """Its ~1199 cm-1 band, absent from the peak table, is what fentanyl's 1206 fits.

    The drug pattern is too weak to confirm but too strong to ignore: the sample is sent
    to the lab. This pins the current behaviour on a gap of the synthetic library.
    """
    result = identify(read_spectrum(DATA / FILES[1], laser_nm=785))
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.action is Action.SEND_TO_LAB
