"""How many co-added acquisitions of the same sample an inconclusive answer needs.

Commercial handhelds co-add scans or extend the integration until the signal-to-noise
suffices. Here the engine says how many acquisitions of the same sample, co-added
(``acquisitions.coadd``), it needs when its answer is inconclusive because the signal
is too weak to decide (or names ``fentanyl or carfentanil`` with the ester band that
tells them apart at the noise), from its own measured noise: in the shot-noise limit the noise
of ``n`` co-added acquisitions is ``1/sqrt(n)`` of one, the fluorescence's shot noise
included (it is in the noise read from the raw counts). So a statistic in noise
standard deviations (a z, a signal-to-noise) grows with ``sqrt(n)``, an F statistic
(a ratio of sums of squares over the noise variance) with ``n``, and an upper limit
from the noise alone shrinks with ``1/sqrt(n)``. Four answers get a request:

* ``low_snr``: the gate's signal-to-noise up to ``MIN_SNR``;
* ``possible X``: every failed test of X's own evidence that the noise limits (unique
  z, unique HQI, the benign-explanation F, the diagnostic bands' matched filter, the
  strong bands' coverage through their matched filters, the noise-corrected fit when
  its noise credit is capped) up to its threshold; a failed test that co-adding does
  not move (the fraction, the fit otherwise, a band not there at half its predicted
  height) means no request;
* ``cannot exclude X (the noise alone allows that much)``: the noise's upper limit on
  X's share under the release limit;
* a controlled ``fentanyl or carfentanil`` whose ester band is at the noise (not masked
  by another component: co-adding does not unmask it), until the band would stand at
  ``MATCHED_Z_MIN`` at its predicted height and its reading decides (``pair_factor``).

The request is a count, not a promise: the statistics were read off one noisy
spectrum, and a drug that is not there will not appear however long the sample is
measured. The thresholds are the single-acquisition ones; nothing is relaxed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from portwatch.fieldid.analogues import ABSENT_Z, Resolution
from portwatch.fieldid.gates import MIN_SNR
from portwatch.fieldid.identify import (
    BOUND_MIN_Z,
    MATCHED_AMPLITUDE_MIN,
    MATCHED_Z_MIN,
    MAX_NOISE_SHARE,
    UPPER_BOUND_Z,
    Analysis,
    FlaggedEvidence,
    Identification,
    Thresholds,
    coadd_factor,
    diagnostic_ratio,
    largest_upper,
    noise_limited,
)

#: The request aims this much past each threshold (assumed): a statistic read off one
#: noisy spectrum is itself uncertain by about one noise standard deviation.
MARGIN = 1.25
#: What a handheld's time allows (assumed; docs/fieldid.md, "Re-measurement"): beyond
#: this many acquisitions the request says so and the lab is the answer.
MAX_ACQUISITIONS = 16

#: The signal-to-noise gate scores pure noise up to this (the worst of 125 noise
#: spectra, tests/fieldid/test_gates.py): below it no band is measurable, and the
#: count cannot be read off the spectrum.
NOISE_CEILING_SNR = 4.2
#: Then the co-added acquisitions are multiplied by this (assumed: halves the noise).
BLIND_FACTOR = 4.0


@dataclass(frozen=True)
class Remeasure:
    """Co-add ``acquisitions_needed`` acquisitions of the sample in all (``acquisitions_now``
    so far); ``limited_by`` names the statistic that sets the count."""

    acquisitions_now: int
    acquisitions_needed: int
    limited_by: str

    @property
    def more(self) -> int:
        """Acquisitions still to make."""
        return max(self.acquisitions_needed - self.acquisitions_now, 0)

    @property
    def within_budget(self) -> bool:
        """Whether the count fits ``MAX_ACQUISITIONS`` (assumed)."""
        return self.acquisitions_needed <= MAX_ACQUISITIONS

    def advice(self) -> str:
        """One clause for the answer's reason."""
        head = (
            f"co-add {self.acquisitions_needed} acquisitions of this sample in all "
            f"({self.more} more; {self.limited_by} is at the noise)"
        )
        if self.within_budget:
            return head
        return f"{head}: more than the {MAX_ACQUISITIONS} a handheld's time allows, so the lab"

    def to_json(self) -> dict[str, object]:
        """JSON form."""
        return {
            "acquisitions_now": self.acquisitions_now,
            "acquisitions_needed": self.acquisitions_needed,
            "more": self.more,
            "limited_by": self.limited_by,
            "within_budget": self.within_budget,
        }


def _z_factor(value: float, needed: float) -> float:
    """Co-add factor for a statistic in noise standard deviations (grows as sqrt(n))."""
    if value >= needed:
        return 1.0
    return (needed / value) ** 2 if value > 0 else math.inf


def _hqi_factor(value: float, needed: float) -> float:
    """Co-add factor for a squared correlation with a shape: signal/noise variance grows
    as n, and HQI = r / (1 + r) for a signal-to-noise variance ratio r."""
    if value >= needed:
        return 1.0
    if value <= 0 or needed >= 1:
        return math.inf
    return (needed / (1 - needed)) / (value / (1 - value))


def _coverage_factor(f: FlaggedEvidence, t: Thresholds) -> float:
    """The factor at which enough missing strong bands stand (each by its matched filter)."""
    if f.coverage >= t.coverage_min:
        return 1.0
    covered = f.coverage
    total_missing = sum(f.missing_heights)
    if not f.missing_need or total_missing <= 0:
        return math.inf
    # the coverage is a share of the strong bands' heights: recover their total
    strong_total = total_missing / max(1.0 - f.coverage, 1e-9)
    for need, height in sorted(zip(f.missing_need, f.missing_heights, strict=True)):
        if math.isinf(need):
            return math.inf
        covered += height / strong_total
        if covered >= t.coverage_min - 1e-9:
            return need
    return math.inf


def flagged_factor(
    f: FlaggedEvidence, t: Thresholds, fit_r2: float, fit_factor: float = math.inf
) -> tuple[float, str]:
    """The co-add factor that would let ``f``'s own tests stand, and the limiting test."""
    c = f.component
    if c.fraction < t.fraction_min or not f.diagnostic:
        return math.inf, "fraction"
    parts = [
        (_z_factor(c.unique_z, t.unique_z_min), "unique signal"),
        (_hqi_factor(c.unique_hqi, t.unique_hqi_min), "unique band shape"),
        (t.benign_gap_min / c.evidence if c.evidence > 0 else math.inf, "benign explanation"),
        (_coverage_factor(f, t), "strong-band coverage"),
    ]
    if c.evidence >= t.benign_gap_min:
        parts[2] = (1.0, "benign explanation")
    if diagnostic_ratio(f, t) < 1.0 - 1e-9:
        parts.append((coadd_factor(f.matched), "diagnostic bands"))
    if fit_r2 < t.confirm_r2_min:
        parts.append((fit_factor, "fit"))
    return max(parts)


def noise_share(analysis: Analysis) -> float:
    """The query's variance the noise carried from the raw counts accounts for (uncapped)."""
    q = analysis.query
    tss = float(((q - q.mean()) ** 2).sum()) if q.size else 0.0
    return q.size * analysis.query_noise**2 / tss if tss > 0 else math.inf


def _fit_factor(analysis: Analysis) -> float:
    """Co-add factor for the noise-corrected fit when its noise credit is capped.

    ``identify.signal_r2`` credits the noise with at most ``MAX_NOISE_SHARE`` of the
    query's variance; past that the fit falls with the noise, not the library, and
    co-adding ``k`` lowers the noise share ``rho`` to ``(rho/k) / (1 - rho + rho/k)``.
    Under the cap the fit is the library's, and co-adding will not raise it (inf).
    """
    rho = noise_share(analysis)
    if rho <= MAX_NOISE_SHARE:
        return math.inf
    if rho >= 1.0:
        return BLIND_FACTOR
    return rho * (1.0 - MAX_NOISE_SHARE) / (MAX_NOISE_SHARE * (1.0 - rho))


def request(analysis: Analysis, result: Identification, t: Thresholds) -> Remeasure | None:
    """The acquisitions ``result`` needs in all, if co-adding more could settle it."""
    from portwatch.fieldid.identify import reported_name, signal_r2

    code = result.reason_code
    factor, why = math.inf, ""
    if code == "low_snr":
        factor, why = _snr_factor(analysis.snr), "signal-to-noise"
    elif code == "possible":
        # by the name reported (a pair the spectrum cannot tell apart: "fentanyl or
        # carfentanil"), not the reference fitted
        named = {c.name for c in result.components}
        fit = signal_r2(analysis)
        refit = _fit_factor(analysis)
        options = [
            flagged_factor(f, t, fit, refit)
            for f in analysis.flagged
            if reported_name(f) in named
        ]
        if options:
            factor, name = min(options)
            why = f"{name} of " + ", ".join(sorted(named))
    elif code == "cannot_exclude":
        factor, why = _exclusion_factor(analysis, t)
    elif code == "identified":
        pairs = [c.analogue for c in result.components if c.analogue is not None]
        options = [(pair_factor(r), r.pair.marker_cm1, r) for r in pairs]
        if options:
            factor, _, r = min(options, key=lambda o: o[:2])
            why = f"{r.pair.marked}'s {r.pair.marker} near {r.pair.marker_cm1:.0f} cm-1"
    if math.isinf(factor) or factor <= 1.0:
        return None
    now = analysis.acquisitions
    needed = max(math.ceil(now * factor * MARGIN), now + 1)
    return Remeasure(now, needed, why)


def pair_factor(r: Resolution) -> float:
    """Co-add factor that lets the marker band settle an analogue pair (inf: it cannot).

    The band's amplitude has a standard error ``sd`` that falls as ``1/sqrt(n)``. Read
    as there (at least ``MATCHED_AMPLITUDE_MIN``), it needs z ``MATCHED_Z_MIN``;
    read as absent, the test must be able to see it (``sd <= 1/MATCHED_Z_MIN``) and its
    upper limit must fall under ``MATCHED_AMPLITUDE_MIN``. A masked band (another
    component's band stands there) is not helped by co-adding; a settled one needs
    nothing.
    """
    if r.resolved:
        return 1.0
    if r.masked_by or r.amplitude_sd <= 0:
        return math.inf
    sd = r.amplitude_sd
    if r.amplitude >= MATCHED_AMPLITUDE_MIN:
        # under z 4 the slid pattern projects more by chance as often as not
        # (``identify.coadd_factor``): only a misaligned band at z 4 or more is hopeless
        if not r.aligned and r.z >= MATCHED_Z_MIN:
            return math.inf
        return _z_factor(r.z, MATCHED_Z_MIN)
    room = MATCHED_AMPLITUDE_MIN - max(r.amplitude, 0.0)
    return max((MATCHED_Z_MIN * sd) ** 2, (ABSENT_Z * sd / room) ** 2, 1.0)


def _snr_factor(value: float) -> float:
    """Co-add factor for the signal-to-noise gate.

    Above the noise ceiling the tallest band's SNR grows with ``sqrt(n)``; at or under
    it the statistic is the noise's own maximum, which does not grow, so the count is
    a fixed step (``BLIND_FACTOR``) and asked again after it.
    """
    if value <= NOISE_CEILING_SNR:
        return BLIND_FACTOR
    return _z_factor(value, MIN_SNR)


def _exclusion_factor(analysis: Analysis, t: Thresholds) -> tuple[float, str]:
    """A drug the noise alone cannot exclude: its noise upper limit under the release limit."""
    limit = t.release_upper_max
    _, worst = largest_upper(analysis, limit)
    noisy = [
        b for b in analysis.forced
        if b.name == worst and b.z < BOUND_MIN_Z and noise_limited(b, limit)
    ]  # fmt: skip
    if not noisy:
        return math.inf, ""
    b = noisy[0]
    return _z_factor(limit, UPPER_BOUND_Z * b.noise_sd), f"the upper limit on {b.name}"


__all__ = ["MARGIN", "MAX_ACQUISITIONS", "Remeasure", "flagged_factor", "pair_factor", "request"]
