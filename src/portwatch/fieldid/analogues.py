"""Analogues a spectrum may not tell apart: "fentanyl or carfentanil".

Fentanyl and carfentanil share every band of the peak table that has a chemical reason
to be shared (the phenyl ring modes, the amide band near 1660 cm-1); what carfentanil
has and fentanyl lacks is its methyl ester, whose C=O stretch stands near 1730 cm-1 at
about 0.15 of the tallest band. The fit (``mixtures._settle_analogues``) picks the name
whose whole pattern fits best, which under a bag or at the noise is decided by band
heights the simulator and real samples vary, not by the ester. So the name is settled
on the ester band alone (``resolve``):

* the band stands (its matched filter at z >= ``identify.MATCHED_Z_MIN``, at least half
  its predicted height, aligned) and no other fitted component puts intensity there:
  carfentanil;
* it is absent (the test could see it: at its predicted height it would stand at
  ``MATCHED_Z_MIN``; and its one-sided 95% upper limit is under half that height) and
  nothing else puts intensity there: fentanyl;
* otherwise (at the noise, or under another compound's band: PET's 1729 cm-1 band is
  0.6 of PET's tallest) the spectrum cannot tell them apart, and the component is
  reported as the pair, ``fentanyl or carfentanil``, a fentanyl-related compound to be
  handled as the more potent of the two (``handling``).

Fentanyl's 1585 cm-1 band in the table is a ring stretch every monosubstituted benzene
shows (``evidence.GENERIC_AROMATIC_CM1``), carfentanil's phenyl rings included (the table
lists it for one only), and the two tables' height differences are within the
sample-to-sample spread: neither is used to tell them apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from portwatch.fieldid import evidence as ev
from portwatch.fieldid.mixtures import Component, Decomposition
from portwatch.fieldid.search import PreparedLibrary


@dataclass(frozen=True)
class AnaloguePair:
    """Two references told apart only by one band of ``marked`` at ``marker_cm1``."""

    plain: str
    marked: str
    marker_cm1: float
    marker: str
    group: str

    @property
    def names(self) -> tuple[str, str]:
        """Both names, the plain one first."""
        return (self.plain, self.marked)

    @property
    def label(self) -> str:
        """The pair's name as reported: ``fentanyl or carfentanil``."""
        return f"{self.plain} or {self.marked}"


#: Carfentanil's ester C=O stretch near 1730 cm-1 (an ester carbonyl, 1735-1750 cm-1 in
#: aliphatic esters, lower when conjugated: Socrates, Infrared and Raman Characteristic
#: Group Frequencies, 3rd ed., Wiley 2001; 1730 in the peak table); fentanyl has no ester.
PAIRS: tuple[AnaloguePair, ...] = (
    AnaloguePair("fentanyl", "carfentanil", 1730.0, "ester band", "fentanyl-related compound"),
)

#: Another fitted component masks the marker band when its own fitted intensity there is
#: at least this share of the marker's predicted height (assumed: a quarter; PET's band
#: heights vary from bag to bag, so a split of the intensity between the bag and the
#: ester cannot be trusted; in the synthetic stream PET at 20-80% of the contents' signal
#: puts 0.8-3 times the ester's height there).
MASK_SHARE = 0.25
#: z of the one-sided 95% upper limit on the marker's amplitude (normal approximation).
ABSENT_Z = 1.645


def pair_of(name: str) -> AnaloguePair | None:
    """The pair ``name`` belongs to, if any."""
    return next((p for p in PAIRS if name in p.names), None)


def candidates_of(name: str) -> tuple[str, ...]:
    """The names a reported name stands for: both of a pair's label, else the name itself."""
    pair = next((p for p in PAIRS if name == p.label), None)
    return pair.names if pair else (name,)


@dataclass(frozen=True)
class Resolution:
    """Whether the spectrum tells a pair apart, and on what evidence.

    ``named``: the name the marker band settles on, or None when it cannot; ``z``,
    ``amplitude`` and ``amplitude_sd``: the marker's matched filter in the component's
    partial residual (amplitude 1 = the height the marked reference predicts at the
    fitted weight); ``masked_by``: other fitted components with intensity at the marker.
    """

    pair: AnaloguePair
    named: str | None
    z: float
    amplitude: float
    amplitude_sd: float
    aligned: bool
    masked_by: tuple[str, ...] = ()

    @property
    def resolved(self) -> bool:
        """Whether one name is settled."""
        return self.named is not None

    @property
    def name(self) -> str:
        """The name reported: the settled one, or the pair's label."""
        return self.named or self.pair.label

    def reason(self) -> str:
        """One clause on what the marker band shows."""
        p = self.pair
        where = f"{p.marked}'s {p.marker} near {p.marker_cm1:.0f} cm-1"
        if self.named == p.marked:
            return f"{p.marked}: {where} stands (z {self.z:.1f})"
        if self.named == p.plain:
            top = self.amplitude + ABSENT_Z * self.amplitude_sd
            return f"{p.plain}: no {where} (at most {max(top, 0.0):.2f} of its height)"
        if self.masked_by:
            return (
                f"a {p.group}: {where} cannot be read under "
                f"{', '.join(self.masked_by)}'s band there"
            )
        return (
            f"a {p.group}: {where} is at the noise "
            f"(z {self.z:.1f}, {self.amplitude:.2f} +/- {self.amplitude_sd:.2f} of its height)"
        )

    def to_json(self) -> dict[str, object]:
        """JSON form: candidates, whether resolved, the marker's evidence and why."""
        return {
            "candidates": list(self.pair.names),
            "resolved": self.resolved,
            "marker_band_cm1": self.pair.marker_cm1,
            "marker_z": round(self.z, 2),
            "marker_amplitude": round(self.amplitude, 3),
            "marker_amplitude_sd": round(self.amplitude_sd, 3),
            "masked_by": list(self.masked_by),
            "reason": self.reason(),
        }


def resolve(
    prepared: PreparedLibrary,
    dec: Decomposition,
    component: Component,
    partial: np.ndarray,
    sigma: float,
    window_cm1: float,
    z_min: float,
    amplitude_min: float,
) -> Resolution | None:
    """Settle which of a pair ``component`` is, on the marker band alone (module doc).

    ``partial`` is the query less every other fitted component, ``sigma`` its noise per
    point; the marker is tested by its matched filter over +/- ``window_cm1`` (present at
    ``z_min`` and ``amplitude_min``; absent when the band at its predicted height would
    reach ``z_min`` and its upper limit is under ``amplitude_min``). None when
    ``component`` belongs to no pair or the library lacks the marked reference.
    """
    pair = pair_of(component.name)
    names = prepared.names
    if pair is None or pair.marked not in names:
        return None
    tolerance = ev.PEAK_TOLERANCE_CM1.get(prepared.laser_nm, 8.0)
    predicted = component.coefficient * prepared.matrix[names.index(pair.marked)]
    m = ev.matched_bands(
        prepared.axis_cm1, partial, predicted, (pair.marker_cm1,), window_cm1, sigma,
        prepared.pipeline.noise_autocorrelation(), tolerance,
    )  # fmt: skip
    masked = _masking(prepared, dec, component, predicted, pair.marker_cm1, tolerance)
    named: str | None = None
    if not masked and m.aligned and m.z >= z_min and m.amplitude >= amplitude_min:
        named = pair.marked
    elif not masked and 0 < m.amplitude_sd * z_min <= 1.0:
        # absent: were it there at its predicted height it would stand at z_min (the test
        # can see it), and even its one-sided 95% upper limit is under the presence
        # test's height. Without the first condition a noisy reading (sd 1-3) names a
        # carfentanil fentanyl 1.6-3.5% of the time, the costly way round.
        top = m.amplitude + ABSENT_Z * m.amplitude_sd
        named = pair.plain if top < amplitude_min else None
    return Resolution(pair, named, m.z, m.amplitude, m.amplitude_sd, m.aligned, masked)


def _masking(
    prepared: PreparedLibrary,
    dec: Decomposition,
    component: Component,
    predicted: np.ndarray,
    position_cm1: float,
    tolerance: float,
) -> tuple[str, ...]:
    """Other fitted components whose intensity at the marker is ``MASK_SHARE`` of its height."""
    axis = prepared.axis_cm1
    own = _height(axis, predicted, position_cm1, tolerance)
    if own <= 0:
        return ()
    parts = dec.contributions or {}
    out = []
    for c in dec.components:
        if c.index == component.index:
            continue
        row = parts.get(c.index, c.coefficient * prepared.matrix[c.index])
        if _height(axis, row, position_cm1, tolerance) >= MASK_SHARE * own:
            out.append(c.name)
    return tuple(out)


def _height(axis: np.ndarray, row: np.ndarray, position_cm1: float, tolerance: float) -> float:
    """``row``'s height within ``tolerance`` of a position over its local floor (+/- 24 cm-1)."""
    near = np.flatnonzero(np.abs(axis - position_cm1) <= tolerance)
    if near.size == 0:
        return 0.0
    lo, hi = max(0, near[0] - 12), min(axis.size, near[-1] + 13)
    return float(row[near].max() - row[lo:hi].min())


__all__ = [
    "MASK_SHARE",
    "PAIRS",
    "AnaloguePair",
    "Resolution",
    "candidates_of",
    "pair_of",
    "resolve",
]
