"""Advance information about each crossing, its link to smuggling, and exact class laws.

What the port knows before a conveyance reaches the booth, one row per crossing
(``FEATURES``, all small integers):

- ``mode`` and ``hour`` of arrival (the hour a load arrives is the adversary's choice);
- ``enrolled``: a trusted traveller / shipper (a load travels enrolled when hidden in a
  sealed trusted shipment: a compromised shipper);
- ``custody``: the chain-of-custody verdict (``portwatch.engine.decide.CUSTODY_VALUES``);
- ``commodity``: the truck's manifest commodity + 1 (0: no manifest, not a truck);
- ``crossings``: the plate / driver's crossings in the last 90 days, in the buckets 0,
  1-4, 5-19, 20+ (``CROSSING_EDGES``);
- ``new_carrier``: the carrier (or owner) has been on file under a year;
- ``prior_finding``: the plate, driver or carrier had a finding before.

Mode, hour, enrolment and custody follow from the traffic and the adversary's plan. The
last four are drawn here with the link strengths of the scenario's ``[advance]`` table:
clean traffic with the ``*_clean`` rates, cartel conveyances (loads and decoys) with the
``*_load`` rates, except a share ``mimicry`` of them, dressed as low-risk profiles, drawn
with the clean rates. Prior crossings are geometric with the stated mean; the two flags
are Bernoulli; the manifest is categorical (``load_commodities``, else clean trucks' mix).

``class_pmfs`` writes down, independently of the generator, the exact probability of
every cell of the feature grid for a clean crossing and for a load sent by the naive
adversary; ``bayes_auc`` turns them into the best AUC any risk model can reach on that
traffic (the Bayes-optimal score is the likelihood ratio), the bound a learned model is
checked against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from portwatch.targeting.policy import N_MODES
from portwatch.twin.scenario.schema import CONCEALMENTS, CompiledScenario

FEATURES: tuple[str, ...] = ("mode", "hour", "enrolled", "custody", "commodity", "crossings",
                             "new_carrier", "prior_finding")
CROSSING_EDGES = np.array([1, 5, 20], dtype=np.int64)
"""Lower edges of the crossing-count buckets after the first: 0 | 1-4 | 5-19 | 20+."""
N_CROSSING_BUCKETS = len(CROSSING_EDGES) + 1
N_CUSTODY = 4  # CUSTODY_NONE, CLEAN, REVIEW, BROKEN
TRUCK = 0
_TRAP, _COMMINGLED, _PRE, _POST = (CONCEALMENTS.index(c) for c in
                                   ("trap", "commingled", "sealed_pre", "sealed_post"))


def grid_shape(scenario: CompiledScenario) -> tuple[int, ...]:
    """Number of values of each of ``FEATURES`` in ``scenario``."""
    return (N_MODES, 24, 2, N_CUSTODY, len(scenario.commodity_names) + 1, N_CROSSING_BUCKETS,
            2, 2)


def grid_rows(shape: tuple[int, ...]) -> np.ndarray:
    """Every cell of the feature grid as a row, int64 [cells, features], in flat order."""
    return np.indices(shape).reshape(len(shape), -1).T.copy()


def crossing_bucket(prior_crossings: np.ndarray) -> np.ndarray:
    """Bucket (0-3) of each count of prior crossings."""
    return np.searchsorted(CROSSING_EDGES, prior_crossings, side="right")


def _q(mean: float | np.ndarray) -> np.ndarray:
    m = np.asarray(mean, dtype=np.float64)
    return m / (1.0 + m)


def crossings_from_uniform(u: np.ndarray, mean: float | np.ndarray) -> np.ndarray:
    """Geometric counts on {0, 1, ...} with ``mean`` by inverse CDF: P(K >= k) = q^k."""
    q = _q(mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.floor(np.log1p(-np.asarray(u, dtype=np.float64)) / np.log(q))
    return np.where(q > 0, np.minimum(k, 1_000_000), 0).astype(np.int64)


def crossing_pmf(mean: float) -> np.ndarray:
    """Probability of each crossing bucket for a geometric count with ``mean``."""
    q = float(_q(mean))
    tail = np.concatenate([[1.0], q ** CROSSING_EDGES.astype(np.float64), [0.0]])
    return tail[:-1] - tail[1:]


def flags_from_uniform(u: np.ndarray, p_new: np.ndarray | float, p_find: np.ndarray | float,
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Two independent Bernoulli flags (new carrier, prior finding) from one uniform: the
    first splits [0, 1) at ``p_new``, and the position within the part it fell in is
    again uniform, which decides the second."""
    u = np.asarray(u, dtype=np.float64)
    p_new = np.asarray(p_new, dtype=np.float64)
    new = u < p_new
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(new, u / p_new, (u - p_new) / (1.0 - p_new))
    return new, v < p_find


def cartel_profile(scenario: CompiledScenario, mode: np.ndarray, rng: np.random.Generator,
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(prior crossings, new carrier, prior finding, commodity) of cartel conveyances of
    ``mode``: the ``*_load`` links, or the clean ones for the dressed share ``mimicry``."""
    a = scenario.spec.advance
    n = mode.shape[0]
    u = rng.random((n, 4))
    dressed = u[:, 0] < a.mimicry
    crossings = crossings_from_uniform(
        u[:, 1], np.where(dressed, a.crossings_mean_clean, a.crossings_mean_load))
    new, finding = flags_from_uniform(
        u[:, 2], np.where(dressed, a.new_carrier_clean, a.new_carrier_load),
        np.where(dressed, a.prior_finding_clean, a.prior_finding_load))
    commodity = np.full(n, -1, dtype=np.int64)
    if len(scenario.commodity_names):
        trucks = mode == TRUCK
        clean_cdf = np.cumsum(scenario.commodity_share)
        load_cdf = np.cumsum(load_commodity_share(scenario))
        k = len(clean_cdf) - 1
        pick_clean = np.minimum(np.searchsorted(clean_cdf, u[:, 3], side="right"), k)
        pick_load = np.minimum(np.searchsorted(load_cdf, u[:, 3], side="right"), k)
        commodity[trucks] = np.where(dressed, pick_clean, pick_load)[trucks]
    return crossings, new, finding, commodity


def load_commodity_share(scenario: CompiledScenario) -> np.ndarray:
    """Manifest shares of cartel trucks, in ``commodity_names`` order."""
    shares = scenario.spec.advance.load_commodities
    if not shares:
        return scenario.commodity_share
    arr = np.array([shares.get(c, 0.0) for c in scenario.commodity_names], dtype=np.float64)
    return arr / arr.sum()


def features(scenario: CompiledScenario, day: int, arrive_at_s: np.ndarray, mode: np.ndarray,
             enrolled: np.ndarray, custody: np.ndarray, commodity: np.ndarray,
             prior_crossings: np.ndarray, new_carrier: np.ndarray, prior_finding: np.ndarray,
             ) -> np.ndarray:
    """The advance information of each crossing, int64 [n, len(FEATURES)]."""
    hour = ((arrive_at_s - day * 86_400.0) // 3600.0).astype(np.int64).clip(0, 23)
    return np.column_stack([
        mode, hour, enrolled, custody, np.asarray(commodity) + 1,
        crossing_bucket(prior_crossings), new_carrier, prior_finding,
    ]).astype(np.int64)


def flat_index(scenario: CompiledScenario, day: int, arrive_at_s: np.ndarray,
               mode: np.ndarray, enrolled: np.ndarray, custody: np.ndarray,
               commodity: np.ndarray, prior_crossings: np.ndarray, new_carrier: np.ndarray,
               prior_finding: np.ndarray) -> np.ndarray:
    """Each crossing's cell in the flat feature grid (the row ``features`` gives, raveled
    in C order), computed without building the rows: the kernel's per-day scoring path."""
    shape = grid_shape(scenario)
    hour = ((arrive_at_s - day * 86_400.0) // 3600.0).astype(np.int64)
    np.clip(hour, 0, 23, out=hour)
    key = np.asarray(mode, dtype=np.int64) * shape[1] + hour
    for values, size in ((enrolled, shape[2]), (custody, shape[3]),
                         (np.asarray(commodity) + 1, shape[4]),
                         (crossing_bucket(prior_crossings), shape[5]),
                         (new_carrier, shape[6]), (prior_finding, shape[7])):
        key *= size
        key += np.asarray(values, dtype=np.int64)
    return key


@dataclass(frozen=True, eq=False)
class RiskLookup:
    """A risk model's calibrated score for every cell of the feature grid (learned
    state): scoring a crossing is one array lookup, so the kernel stays fast."""

    shape: tuple[int, ...]
    table: np.ndarray  # float64 [prod(shape)]
    label: str = ""

    def __post_init__(self) -> None:
        if self.table.shape != (int(np.prod(self.shape)),):
            raise ValueError(f"RiskLookup: table has {self.table.shape} values, grid "
                             f"{self.shape} has {int(np.prod(self.shape))} cells")

    def score(self, rows: np.ndarray) -> np.ndarray:
        """Score of each row of advance information (int [n, len(FEATURES)])."""
        if rows.shape[0] == 0:
            return np.zeros(0)
        return self.table[np.ravel_multi_index(tuple(rows.T), self.shape)]


# ---- exact class laws (written from the parameters, not from the generator) -----------
def _profile(scenario: CompiledScenario, who: str) -> np.ndarray:
    """P(commodity, crossings, new carrier, prior finding | mode), [mode, k, b, n, f]."""
    a = scenario.spec.advance
    shape = grid_shape(scenario)
    k = shape[4]
    comm = np.zeros((N_MODES, k))
    comm[:, 0] = 1.0
    if k > 1:
        comm[TRUCK] = 0.0
        comm[TRUCK, 1:] = (scenario.commodity_share if who == "clean"
                           else load_commodity_share(scenario))
    cross = crossing_pmf(a.crossings_mean_clean if who == "clean" else a.crossings_mean_load)
    p_new = a.new_carrier_clean if who == "clean" else a.new_carrier_load
    p_find = a.prior_finding_clean if who == "clean" else a.prior_finding_load
    new = np.array([1.0 - p_new, p_new])
    find = np.array([1.0 - p_find, p_find])
    return (comm[:, :, None, None, None] * cross[None, None, :, None, None]
            * new[None, None, None, :, None] * find[None, None, None, None, :])


def _cartel_profile(scenario: CompiledScenario, mimicry: float) -> np.ndarray:
    return (1.0 - mimicry) * _profile(scenario, "load") + mimicry * _profile(scenario, "clean")


def _assemble(mode_hour: np.ndarray, enrolled_custody: np.ndarray, profile: np.ndarray,
              ) -> np.ndarray:
    """Joint over the grid from P(mode, hour), P(enrolled, custody | mode) and
    P(profile | mode)."""
    joint = (mode_hour[:, :, None, None, None, None, None, None]
             * enrolled_custody[:, None, :, :, None, None, None, None]
             * profile[:, None, None, None, :, :, :, :])
    return joint.reshape(-1)


def class_pmfs(scenario: CompiledScenario, mimicry: float | None = None,
               ) -> tuple[np.ndarray, np.ndarray]:
    """(P(cell | no contraband), P(cell | load)) over the flat feature grid, for the
    scenario's traffic and the naive adversary (loads and decoys spread like traffic,
    modes and concealments by the scenario's shares). Crossings without contraband are
    legitimate traffic and decoys, in proportion to their daily numbers."""
    sc = scenario
    mimicry = sc.spec.advance.mimicry if mimicry is None else mimicry
    # legitimate traffic
    rate = sc.daily_volume[:, None] * sc.hourly_profile
    volume = float(rate.sum())
    legit_mh = rate / volume
    cust = sc.spec.custody
    legit_ec = np.zeros((N_MODES, 2, N_CUSTODY))
    legit_ec[:, 0, 0] = 1.0 - sc.enrolled_share
    legit_ec[:, 1, 0] = sc.enrolled_share
    mon, fb = cust.monitored_share, cust.false_broken_prob
    legit_ec[TRUCK, 1] = sc.enrolled_share[TRUCK] * np.array(
        [1.0 - mon, mon * (1.0 - fb), 0.0, mon * fb])
    legit = _assemble(legit_mh, legit_ec, _profile(sc, "clean"))
    # the naive adversary's loads: mode by the load shares, hour by the mode's traffic
    cartel_mh = sc.load_mode_share[:, None] * sc.hourly_profile
    conc = sc.concealment_share
    load_ec = np.zeros((N_MODES, 2, N_CUSTODY))
    load_ec[:, 0, 0] = 1.0  # only trucks carry sealed shipments; the rest use a trap
    catch = cust.post_seal_catch_prob
    load_ec[TRUCK] = 0.0
    load_ec[TRUCK, 0, 0] = conc[_TRAP] + conc[_COMMINGLED]
    load_ec[TRUCK, 1, 1] = conc[_PRE] + conc[_POST] * (1.0 - catch)
    load_ec[TRUCK, 1, 3] = conc[_POST] * catch
    profile = _cartel_profile(sc, mimicry)
    load = _assemble(cartel_mh, load_ec, profile)
    decoy_ec = np.zeros((N_MODES, 2, N_CUSTODY))
    decoy_ec[:, 0, 0] = 1.0
    decoy = _assemble(cartel_mh, decoy_ec, profile)
    d = sc.decoys_per_day
    clean = (volume * legit + d * decoy) / (volume + d)
    return clean, load


def bayes_auc(p_clean: np.ndarray, p_load: np.ndarray) -> float:
    """The AUC of the likelihood-ratio score (the best any score can reach) when a clean
    crossing falls in cell i with ``p_clean[i]`` and a load with ``p_load[i]``; ties
    count one half."""
    keep = (p_clean > 0) | (p_load > 0)
    p0, p1 = p_clean[keep], p_load[keep]
    with np.errstate(divide="ignore"):
        ratio = np.where(p0 > 0, p1 / np.where(p0 > 0, p0, 1.0), np.inf)
    # group equal ratios (relative rounding: products of the same factors in any order)
    key = np.where(np.isinf(ratio), np.inf, np.round(np.log(np.where(ratio > 0, ratio, 1e-300)),
                                                     10))
    uniq, inv = np.unique(key, return_inverse=True)
    g0 = np.bincount(inv, weights=p0, minlength=len(uniq))
    g1 = np.bincount(inv, weights=p1, minlength=len(uniq))
    below = np.cumsum(g0) - g0
    return float(np.sum(g1 * (below + 0.5 * g0)) / (g0.sum() * g1.sum()))


def bayes_lift(p_clean: np.ndarray, p_load: np.ndarray, rate: float, base_rate: float,
               ) -> float:
    """The lift at referral ``rate`` of the likelihood-ratio score (the best any score
    can reach): refer the cells of highest ratio until ``rate`` of all crossings (a
    share ``base_rate`` of them loads) is referred, the cell at the cut in proportion;
    the lift is the share of loads referred over ``rate``."""
    mix = (1.0 - base_rate) * p_clean + base_rate * p_load
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(p_clean > 0, p_load / np.where(p_clean > 0, p_clean, 1.0), np.inf)
    order = np.argsort(-ratio, kind="stable")
    m, p1 = mix[order], p_load[order]
    before = np.cumsum(m) - m
    take = np.clip((rate - before) / np.where(m > 0, m, 1.0), 0.0, 1.0)
    return float((take * p1).sum() / rate)


def posterior(scenario: CompiledScenario, rows: np.ndarray, mimicry: float | None = None,
              ) -> np.ndarray:
    """The exact P(load | advance information) of each row under ``class_pmfs`` (the
    oracle score, from the generator's own parameters)."""
    p0, p1 = class_pmfs(scenario, mimicry)
    sc = scenario
    n0 = float((sc.daily_volume * 1.0).sum() + sc.decoys_per_day)
    n1 = float(sc.loads_per_day)
    idx = np.ravel_multi_index(tuple(rows.T), grid_shape(sc))
    a, b = n1 * p1[idx], n0 * p0[idx]
    return np.where(a + b > 0, a / np.maximum(a + b, 1e-300), 0.0)


__all__ = [
    "CROSSING_EDGES",
    "FEATURES",
    "RiskLookup",
    "bayes_auc",
    "bayes_lift",
    "cartel_profile",
    "class_pmfs",
    "crossing_bucket",
    "crossing_pmf",
    "crossings_from_uniform",
    "features",
    "flags_from_uniform",
    "flat_index",
    "grid_rows",
    "grid_shape",
    "load_commodity_share",
    "posterior",
]
