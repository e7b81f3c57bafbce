"""Search (HQI, derivative HQI) and mixture analysis, packaging included."""

from __future__ import annotations

import numpy as np
import pytest

from portwatch.domain.substances import SubstanceClass
from portwatch.fieldid.library import default_library
from portwatch.fieldid.mixtures import baseline_columns, decompose, exhaustive_pairs
from portwatch.fieldid.search import prepare, search

from .fieldid_helpers import clean_spectrum, simulate


@pytest.fixture(scope="module")
def prepared():
    return prepare(default_library(), 1064)


@pytest.mark.parametrize("name", ["fentanyl", "cocaine_hcl", "lactose", "polyethylene", "thc"])
def test_clean_reference_is_its_own_top_hit(prepared, table, name):
    hits = search(prepared, clean_spectrum(table, name), top_k=3)
    assert hits[0].name == name
    assert hits[0].hqi > 0.97 and hits[0].derivative_hqi > 0.9
    assert hits[0].hqi >= hits[1].hqi


def test_derivative_hqi_tolerates_a_residual_baseline(prepared, table):
    _, q = prepared.pipeline.apply(clean_spectrum(table, "cocaine_hcl"))
    tilted = q + 0.002 * np.linspace(-1, 1, q.size) ** 2
    hit = next(h for h in search(prepared, tilted, 20) if h.name == "cocaine_hcl")
    assert hit.derivative_hqi > hit.hqi


def test_binary_mixture_fractions(prepared, table):
    spectrum = simulate(table, [("cocaine_hcl", 0.4), ("caffeine", 0.6)], snr=300, seed=4)
    _, q = prepared.pipeline.apply(spectrum)
    dec = decompose(prepared, q)
    assert dec.fit_r2 > 0.95
    assert dec.fraction_of("cocaine_hcl") == pytest.approx(0.4, abs=0.15)
    assert dec.fraction_of("caffeine") == pytest.approx(0.6, abs=0.15)
    sds = [c.fraction_sd for c in dec.components]
    assert all(0 < s < 0.1 for s in sds)


@pytest.mark.parametrize("bag", ["polyethylene", "polypropylene", "pet"])
def test_contents_found_through_packaging(prepared, table, bag):
    spectrum = simulate(table, [("methamphetamine_hcl", 1.0)], bag=bag, share=0.6, seed=5)
    _, q = prepared.pipeline.apply(spectrum)
    dec = decompose(prepared, q)
    contents = [c for c in dec.components if c.substance_class is not SubstanceClass.PACKAGING]
    packaging = [c.name for c in dec.components if c.substance_class is SubstanceClass.PACKAGING]
    assert contents[0].name == "methamphetamine_hcl"
    assert contents[0].fraction > 0.8  # fractions are among the contents, the bag excluded
    assert bag in packaging


def test_at_most_max_components(prepared, table):
    spectrum = simulate(
        table,
        [("cocaine_hcl", 0.3), ("caffeine", 0.3), ("lactose", 0.2), ("procaine", 0.2)],
        bag="pet",
        share=0.5,
        seed=6,
    )
    _, q = prepared.pipeline.apply(spectrum)
    assert len(decompose(prepared, q, max_components=3).components) <= 3


def test_exhaustive_pairs_finds_the_binary(prepared, table):
    spectrum = simulate(table, [("mdma_hcl", 0.5), ("mannitol", 0.5)], snr=300, seed=7)
    _, q = prepared.pipeline.apply(spectrum)
    i, j, _ = exhaustive_pairs(prepared, q)
    assert {prepared.names[i], prepared.names[j]} == {"mdma_hcl", "mannitol"}


def test_baseline_columns_have_both_signs():
    cols = baseline_columns(50, 2, 1.0)
    assert cols.shape == (50, 6)
    np.testing.assert_allclose(cols[:, :3], -cols[:, 3:])


def test_an_analogue_chosen_first_is_swapped_for_the_one_the_final_fit_prefers():
    """Fentanyl and carfentanil differ by one band: the final fit settles the name."""
    from portwatch.fieldid.mixtures import _settle_analogues, baseline_columns

    prepared = prepare(default_library(), 785)
    names = [r.name for r in prepared.references]
    fen, carf = names.index("fentanyl"), names.index("carfentanil")
    query = prepared.matrix[fen] + 0.3 * prepared.drift_matrix[fen]
    poly = baseline_columns(query.size, 2, float(np.linalg.norm(prepared.matrix[fen])))
    assert _settle_analogues(prepared, query, [carf], poly) == [fen]
    assert _settle_analogues(prepared, prepared.matrix[carf], [carf], poly) == [carf]
