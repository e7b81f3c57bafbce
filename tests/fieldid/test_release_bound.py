"""A release needs room for no drug: the upper limit on every flagged fraction is small.

The earlier release rule let a bag with 1-5% of a drug through as its cutting agent
whenever the drug carried no band evidence of its own (362 of 1,582 drug-bearing
samples at 785 nm, seed 2027). A release now also asks that the fit leave no room for
a drug above the limit fitted on the tuning split.
"""

from __future__ import annotations

import numpy as np
import pytest

from portwatch.domain.substances import SubstanceClass, Verdict
from portwatch.fieldid.calibrate import logistic_map
from portwatch.fieldid.identify import (
    FlaggedEvidence,
    Thresholds,
    decide,
    fraction_upper,
    release_score,
)
from portwatch.fieldid.mixtures import Component

from .test_fluorescence import _release_case


@pytest.fixture(scope="module")
def prepared785():
    from portwatch.fieldid.library import default_library
    from portwatch.fieldid.search import prepare

    return prepare(default_library(), 785)


def _with_drug(prepared, fraction, fraction_sd, unique_z=0.0):
    from dataclasses import replace

    base = _release_case(prepared, ("polyethylene",))
    names = [r.name for r in prepared.references]
    i = names.index("fentanyl")
    cls = SubstanceClass.CONTROLLED
    drug = Component(i, "fentanyl", cls, fraction, fraction, fraction_sd, 0.0, 0.1, unique_z)
    flagged = FlaggedEvidence(drug, 0.1, (), (), 0.0, (), (), ())
    return replace(base, flagged=(flagged,))


def test_a_drug_the_fit_cannot_exclude_blocks_the_release(prepared785):
    t = Thresholds(fit_r2_min=0.7, explained_min=0.5, release_upper_max=0.03)
    a = _with_drug(prepared785, 0.02, 0.01, unique_z=2.0)
    assert fraction_upper(a.flagged[0]) == pytest.approx(0.02 + 1.645 * 0.01)
    result = decide(a, t)
    assert result.verdict is Verdict.INCONCLUSIVE and result.reason_code == "cannot_exclude"
    assert "fentanyl" in result.reason
    assert release_score(a, t) < 1.0


def test_a_drug_bounded_below_the_limit_does_not_block_it(prepared785):
    t = Thresholds(fit_r2_min=0.7, explained_min=0.5, release_upper_max=0.03)
    a = _with_drug(prepared785, 0.005, 0.002)
    assert decide(a, t).verdict is Verdict.BENIGN
    assert release_score(a, t) >= 1.0


def test_confidence_map_is_graded_even_when_the_tuning_set_separates():
    scores = [0.1, 0.3, 0.5, 0.8, 1.1, 1.2, 1.4, 1.6]
    right = [False, False, False, False, True, True, True, True]
    m = logistic_map(scores, right)
    p = [m(s) for s in (0.0, 0.9, 1.1, 1.6)]
    assert all(0.0 < v < 1.0 for v in p)
    assert p == sorted(p) and p[-1] > p[0] + 0.2
    assert not np.allclose(p[2], p[3])


def test_a_drug_share_with_no_signal_of_its_own_does_not_block_it(prepared785):
    # measured polystyrene shifted by 1 cm-1: methamphetamine took 84% of the contents
    # with unique z 0 (the polystyrene reference explains all of it), and the release
    # flipped with the drift
    t = Thresholds(fit_r2_min=0.7, explained_min=0.5, release_upper_max=0.03)
    a = _with_drug(prepared785, 0.8, 0.05, unique_z=0.0)
    assert decide(a, t).verdict is Verdict.BENIGN
