"""Measured spectra recorded by others (ramanchada2 1.5.0 test data, MIT licence).

Two polystyrene spectra from two laboratories and two instruments (B&W Tek i-Raman
Plus and a Horiba, both 785 nm) are identified against the synthetic library.
"""

from __future__ import annotations

import pytest
from fieldid_helpers import DATA

from portwatch.domain.substances import Verdict
from portwatch.fieldid.identify import identify
from portwatch.fieldid.readers import read_spectrum

FILES = ["PST02_iRPlus785_Z050_100_3200ms.txt", "PST10_iR785_OP01_40000msx4.txt"]


@pytest.mark.parametrize("name", FILES)
def test_measured_polystyrene_is_identified(name):
    spectrum = read_spectrum(DATA / name, laser_nm=785)
    result = identify(spectrum)
    assert result.hits[0].name == "polystyrene"
    assert result.hits[0].hqi > 0.8
    assert [c.name for c in result.packaging][0] == "polystyrene"
    # polystyrene shares its strongest bands with fentanyl; it must not raise an alarm
    assert result.verdict is Verdict.BENIGN
    assert not result.controlled_names()
