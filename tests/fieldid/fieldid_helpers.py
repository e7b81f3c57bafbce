"""Helpers shared by the fieldid tests: data folder and seeded simulated spectra."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from portwatch.fieldid.samples import Recipe, render
from portwatch.fieldid.spectrum import Spectrum
from portwatch.fieldid.synthesis import line_shape, synthesize

DATA = Path(__file__).parent / "data"


def simulate(table, contents, laser=1064, bag=None, share=0.0, snr=150.0, fl=0.2, seed=0):
    """One seeded simulated measurement."""
    recipe = Recipe(tuple(contents), laser, bag, share, snr, fl, 0.5)
    return render(recipe, table, np.random.default_rng(seed))


def clean_spectrum(table, name: str, laser: int = 1064) -> Spectrum:
    """A noiseless synthetic spectrum of one compound on an axis of its own."""
    axis = np.arange(200.0, 2400.0, 1.7)
    y = synthesize(table[name].peaks, line_shape(laser), axis)
    return Spectrum(axis, 1000.0 * y + 50.0, laser, name)
