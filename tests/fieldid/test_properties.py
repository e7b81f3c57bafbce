"""Property tests: invariances of the identification and monotone fractions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portwatch.fieldid.cases import peak_table
from portwatch.fieldid.identify import analyse, identify
from portwatch.fieldid.library import default_library
from portwatch.fieldid.search import prepare
from portwatch.fieldid.spectrum import Spectrum
from portwatch.fieldid.synthesis import line_shape, synthesize

from .fieldid_helpers import simulate

TABLE = peak_table()
BASES = [
    simulate(TABLE, [("fentanyl", 0.3), ("lactose", 0.7)], laser=1064, snr=80, seed=11),
    simulate(
        TABLE, [("cocaine_hcl", 1.0)], laser=785, bag="polyethylene", share=0.4, fl=5.0, seed=12
    ),
    simulate(TABLE, [("lactose", 0.5), ("caffeine", 0.5)], laser=1064, snr=80, seed=13),
]
SETTINGS = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def _same_identification(a: Spectrum, b: Spectrum) -> None:
    first, second = identify(a), identify(b)
    assert first.verdict == second.verdict
    assert [c.name for c in first.components] == [c.name for c in second.components]
    for c, d in zip(first.components, second.components, strict=True):
        assert c.fraction == pytest.approx(d.fraction, abs=1e-5)


@pytest.mark.parametrize("base", range(len(BASES)))
@SETTINGS
@given(
    scale=st.floats(1e-3, 1e3),
    offset=st.floats(-5e4, 5e4),
    slope=st.floats(-20.0, 20.0),
)
def test_identification_invariant_to_scale_and_linear_baseline(base, scale, offset, slope):
    s = BASES[base]
    x = s.shift_cm1
    changed = Spectrum(x, scale * s.intensity + offset + slope * (x - x[0]), s.laser_nm, s.source)
    _same_identification(changed, s)


def _reference_counts(name: str, spectrum: Spectrum) -> np.ndarray:
    shape = line_shape(spectrum.laser_nm or 1064)
    return synthesize(TABLE[name].peaks, shape, spectrum.shift_cm1)


MIXTURES = [
    (simulate(TABLE, [("cocaine_hcl", 0.3), ("caffeine", 0.7)], snr=100, seed=21), "cocaine_hcl"),
    (simulate(TABLE, [("fentanyl", 0.2), ("mannitol", 0.8)], snr=100, seed=22), "mannitol"),
    (
        simulate(TABLE, [("heroin_hcl", 0.5), ("lactose", 0.5)], bag="pet", share=0.3, seed=23),
        "heroin_hcl",
    ),
]


@pytest.mark.parametrize("case", range(len(MIXTURES)))
@SETTINGS
@given(amount=st.floats(0.05, 3.0))
def test_adding_a_compound_never_lowers_its_fraction(case, amount):
    spectrum, name = MIXTURES[case]
    prepared = prepare(default_library(), spectrum.laser_nm or 1064)
    before = analyse(spectrum, prepared=prepared).decomposition.fraction_of(name)
    signal = np.ptp(spectrum.intensity)
    more = Spectrum(
        spectrum.shift_cm1,
        spectrum.intensity + amount * signal * _reference_counts(name, spectrum),
        spectrum.laser_nm,
        spectrum.source,
    )
    after = analyse(more, prepared=prepared).decomposition.fraction_of(name)
    assert after >= before - 1e-9
