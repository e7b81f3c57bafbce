"""Legitimate traffic of a day, and the day's full stream of conveyances with the loads.

Legitimate conveyances of each mode arrive as a non-homogeneous Poisson process: a
Poisson number per hour with mean ``daily_volume * hourly_profile[hour]``, uniform within
the hour (drawn as one Poisson stream per hour split among the modes by their rates,
which is the same process). Each carries what targeting reads: enrolled (trusted
traveller / shipper, by
``enrolled_share``; enrolled conveyances use the express lane in the hours it is open), the
custody verdict of enrolled trucks (monitored by ``custody.monitored_share``, a false
``broken`` with ``custody.false_broken_prob``), and the rest of its advance information
(``portwatch.twin.process.advance``): prior crossings, a new carrier, a prior finding and,
for trucks, a manifest commodity, drawn with the clean links of ``[advance]``.

``plan_traffic`` gives an adversary's ``LoadPlan`` the same attributes with the cartel's
links (``advance.cartel_profile``: a share ``mimicry`` dressed as clean traffic), and a
load sealed into a shipment after sealing (``sealed_post``) shows a ``broken`` custody
verdict with ``custody.post_seal_catch_prob``; ``compose_day`` merges the two.

Rail containers arrive by train (``draw_trains``): a Poisson number of trains a day
(``rail.trains_per_day``), each at an instant drawn by the rail mode's hourly profile and
carrying ``1 + Poisson(mean - 1)`` containers, ``mean`` the daily containers over the
daily trains; every container of a train arrives at the train's instant, so the rail
portal sees them back to back. Trains and the rail rows' uniforms (``legit_uniforms``)
come from a stream derived from the caller's generator without drawing from it
(``rail_rng``), so the road traffic of a port and every draw it gets are the same with
or without its trains. A load the
adversary hides in a rail container rides the day's first train at or after its planned
time (``compose_day``).

``risk`` is 0 on every conveyance drawn here: the port's risk model scores the advance
information (``score_traffic``), the scenario hands out no score.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numba import njit

from portwatch.domain.modes import Mode
from portwatch.engine.decide import CUSTODY_BROKEN, CUSTODY_CLEAN, CUSTODY_NONE
from portwatch.targeting.policy import mode_index
from portwatch.twin.process import advance
from portwatch.twin.process.kernel import N_UNIFORMS
from portwatch.twin.process.plan import DAY_S, LoadPlan
from portwatch.twin.scenario.schema import CONCEALMENTS, CompiledScenario

SOURCE_LEGIT, SOURCE_LOAD, SOURCE_DECOY = 0, 1, 2
TRUCK = 0
RAIL = mode_index(Mode.RAIL)
SEALED_POST = CONCEALMENTS.index("sealed_post")


@dataclass(frozen=True, eq=False)
class DayTraffic:
    """One day's conveyances as parallel arrays, sorted by ``arrive_at_s`` (seconds since
    the scenario start). ``drug``/``concealment`` are -1 and ``mass_kg`` 0 on conveyances
    that carry nothing; ``plan_row`` indexes the day's ``LoadPlan`` (-1: legitimate).
    """

    day: int
    arrive_at_s: np.ndarray
    mode: np.ndarray
    lane: np.ndarray
    enrolled: np.ndarray
    custody: np.ndarray
    risk: np.ndarray
    prior_crossings: np.ndarray
    commodity: np.ndarray
    drug: np.ndarray
    concealment: np.ndarray
    mass_kg: np.ndarray
    is_decoy: np.ndarray
    source: np.ndarray
    plan_row: np.ndarray
    new_carrier: np.ndarray
    prior_finding: np.ndarray

    def __len__(self) -> int:
        return int(self.arrive_at_s.shape[0])

    @property
    def is_load(self) -> np.ndarray:
        return self.source == SOURCE_LOAD

    def advance_info(self, scenario: CompiledScenario) -> np.ndarray:
        """What the port knows before arrival, int64 [n, len(advance.FEATURES)]."""
        return advance.features(scenario, self.day, self.arrive_at_s, self.mode,
                                self.enrolled, self.custody, self.commodity,
                                self.prior_crossings, self.new_carrier, self.prior_finding)


_ARRAYS = ("arrive_at_s", "mode", "lane", "enrolled", "custody", "risk", "prior_crossings",
           "commodity", "drug", "concealment", "mass_kg", "is_decoy", "source", "plan_row",
           "new_carrier", "prior_finding")


def express_open(scenario: CompiledScenario, mode: np.ndarray, hour: np.ndarray) -> np.ndarray:
    """True where the express lane of ``mode`` is staffed in ``hour`` (0-23); enrolled
    conveyances use the general lanes when it is closed."""
    return scenario.booths[mode * 2 + 1, hour] > 0


@njit(cache=True, nogil=True)
def _legit_attributes(hour, u, share, enrolled_share, booths, monitored_share, false_broken,
                      commodity_cdf, mode, enrolled, lane, custody, commodity):
    """Mode, enrolment, lane, custody verdict and commodity of each legitimate arrival
    from its row of uniforms (columns 0-3 and 6; 4 and 5 draw the history, see
    ``draw_legit``)."""
    n_modes = share.shape[0]
    for i in range(hour.shape[0]):
        h = hour[i]
        m = 0
        while m < n_modes - 1 and u[i, 0] >= share[m, h]:
            m += 1
        mode[i] = m
        e = u[i, 1] < enrolled_share[m]
        enrolled[i] = e
        lane[i] = 1 if e and booths[m * 2 + 1, h] > 0 else 0
        if e and m == TRUCK and u[i, 2] < monitored_share:
            custody[i] = CUSTODY_BROKEN if u[i, 3] < false_broken else CUSTODY_CLEAN
        else:
            custody[i] = CUSTODY_NONE
        c = -1
        if m == TRUCK and commodity_cdf.shape[0] > 0:
            c = 0
            while c < commodity_cdf.shape[0] - 1 and u[i, 6] >= commodity_cdf[c]:
                c += 1
        commodity[i] = c


def draw_legit(scenario: CompiledScenario, day: int, rng: np.random.Generator) -> DayTraffic:
    """The legitimate conveyances of ``day``, sorted by arrival."""
    sc = scenario
    rate = sc.daily_volume[:, None] * sc.hourly_profile  # [mode, hour], per hour
    rate[RAIL] = 0.0  # rail containers come by train (``draw_trains``)
    per_hour = rng.poisson(rate.sum(axis=0))  # Poisson splitting: modes drawn below
    n = int(per_hour.sum())
    hour = np.repeat(np.arange(24), per_hour)
    # Sorted uniform instants in each hour from exponential spacings (the k-th of n
    # sorted uniforms is the k-th partial sum of n + 1 exponentials over their total),
    # so the day comes out in arrival order without a sort.
    spacing = rng.exponential(size=n + 24)
    slot = np.repeat(np.arange(24), per_hour + 1)
    ends = np.cumsum(per_hour + 1)
    cum = np.cumsum(spacing)
    before = np.concatenate([[0.0], cum[ends[:-1] - 1]])
    within = cum - before[slot]
    keep = np.ones(n + 24, dtype=bool)
    keep[ends - 1] = False
    total = within[ends - 1]
    frac = within[keep] / total[hour]
    at = day * DAY_S + (hour + frac) * 3600.0
    # Each arrival's mode in proportion to the modes' rates in its hour, then its
    # attributes, in one compiled pass over one block of uniforms.
    share = np.cumsum(rate / np.maximum(rate.sum(axis=0), 1e-300), axis=0)  # [mode, hour]
    u = rng.random((n, 7), dtype=np.float32)
    mode = np.empty(n, dtype=np.int64)
    enrolled = np.empty(n, dtype=np.bool_)
    lane = np.empty(n, dtype=np.int64)
    custody = np.empty(n, dtype=np.int64)
    commodity = np.empty(n, dtype=np.int64)
    cust = sc.spec.custody
    a = sc.spec.advance
    commodity_cdf = np.cumsum(sc.commodity_share) if len(sc.commodity_names) else np.zeros(0)
    _legit_attributes(hour, u, share, sc.enrolled_share, sc.booths, cust.monitored_share,
                      cust.false_broken_prob, commodity_cdf,
                      mode, enrolled, lane, custody, commodity)
    prior = advance.crossings_from_uniform(u[:, 4], a.crossings_mean_clean)
    new_carrier, prior_finding = advance.flags_from_uniform(
        u[:, 5], a.new_carrier_clean, a.prior_finding_clean)
    none = np.full(n, -1, dtype=np.int64)
    road = DayTraffic(
        day=day, arrive_at_s=at, mode=mode, lane=lane, enrolled=enrolled, custody=custody,
        risk=np.zeros(n), prior_crossings=prior, commodity=commodity, drug=none,
        concealment=none.copy(), mass_kg=np.zeros(n), is_decoy=np.zeros(n, dtype=bool),
        source=np.zeros(n, dtype=np.int64), plan_row=none.copy(), new_carrier=new_carrier,
        prior_finding=prior_finding,
    )
    if sc.trains_per_day <= 0:
        return road
    return _merge(road, draw_trains(sc, day, rail_rng(rng, day, 0)))


RAIL_STREAM = 0x7261696C  # "rail": the spawn key of the rail streams


def rail_rng(rng: np.random.Generator, day: int, purpose: int) -> np.random.Generator:
    """A generator for the rail rows of ``day`` (``purpose`` 0: trains, 1: uniforms),
    derived from ``rng``'s seed sequence without drawing from ``rng``; ``rng`` itself when
    it has no seed sequence to derive from."""
    seq = getattr(rng.bit_generator, "seed_seq", None)
    if not isinstance(seq, np.random.SeedSequence):
        return rng
    key = (*seq.spawn_key, RAIL_STREAM, purpose, day & 0xFFFFFFFF)
    return np.random.default_rng(np.random.SeedSequence(seq.entropy, spawn_key=key))


def legit_uniforms(traffic: DayTraffic, rng: np.random.Generator,
                   dtype: type = np.float64) -> np.ndarray:
    """The per-row draws ``[n, N_UNIFORMS]`` of a day's legitimate traffic: road rows from
    ``rng`` in order (as many as there are road rows, so a port's road draws do not depend
    on its trains), rail rows from ``rail_rng``."""
    n = len(traffic)
    rail = traffic.mode == RAIL
    n_rail = int(rail.sum())
    if n_rail == 0:
        return rng.random((n, N_UNIFORMS), dtype=dtype)
    u: np.ndarray = np.empty((n, N_UNIFORMS), dtype=dtype)
    u[~rail] = rng.random((n - n_rail, N_UNIFORMS), dtype=dtype)
    u[rail] = rail_rng(rng, traffic.day, 1).random((n_rail, N_UNIFORMS), dtype=dtype)
    return u


def draw_trains(scenario: CompiledScenario, day: int, rng: np.random.Generator) -> DayTraffic:
    """The rail containers of ``day``, train by train, sorted by arrival (see the module
    docstring); their advance information is drawn with the clean links of
    ``[advance]``."""
    sc = scenario
    n_trains = int(rng.poisson(sc.trains_per_day))
    hour = rng.choice(24, size=n_trains, p=sc.hourly_profile[RAIL])
    train_at = np.sort(day * DAY_S + (hour + rng.random(n_trains)) * 3600.0)
    per_train = sc.daily_volume[RAIL] / sc.trains_per_day
    size = 1 + rng.poisson(per_train - 1.0, size=n_trains)
    at = np.repeat(train_at, size)
    n = at.shape[0]
    u = rng.random((n, 2), dtype=np.float32)
    a = sc.spec.advance
    new_carrier, prior_finding = advance.flags_from_uniform(
        u[:, 1], a.new_carrier_clean, a.prior_finding_clean)
    none = np.full(n, -1, dtype=np.int64)
    return DayTraffic(
        day=day, arrive_at_s=at, mode=np.full(n, RAIL, dtype=np.int64),
        lane=np.zeros(n, dtype=np.int64), enrolled=np.zeros(n, dtype=bool),
        custody=np.full(n, CUSTODY_NONE, dtype=np.int64), risk=np.zeros(n),
        prior_crossings=advance.crossings_from_uniform(u[:, 0], a.crossings_mean_clean),
        commodity=none, drug=none.copy(), concealment=none.copy(), mass_kg=np.zeros(n),
        is_decoy=np.zeros(n, dtype=bool), source=np.zeros(n, dtype=np.int64),
        plan_row=none.copy(), new_carrier=new_carrier, prior_finding=prior_finding,
    )


def _merge(a: DayTraffic, b: DayTraffic) -> DayTraffic:
    """Two sorted days of traffic as one, by arrival (``a`` first at equal instants: the
    order a stable sort would give, without sorting)."""
    rows = np.searchsorted(a.arrive_at_s, b.arrive_at_s, side="right") + np.arange(len(b))
    in_b = np.zeros(len(a) + len(b), dtype=bool)
    in_b[rows] = True
    merged = {}
    for name in _ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        out = np.empty(len(a) + len(b), dtype=np.result_type(x, y))
        out[~in_b] = x
        out[rows] = y
        merged[name] = out
    return DayTraffic(day=a.day, **merged)


def ride_trains(legit: DayTraffic, planned: DayTraffic) -> DayTraffic:
    """``planned`` with each rail row moved onto the day's first legitimate train at or
    after its planned instant (the last train of the day when none is later; unchanged
    on a day without trains): a container crosses in a train, not on its own."""
    rail = planned.mode == RAIL
    if not rail.any():
        return planned
    trains = np.unique(legit.arrive_at_s[legit.mode == RAIL])
    if trains.shape[0] == 0:
        return planned
    at = planned.arrive_at_s.copy()
    k = np.minimum(np.searchsorted(trains, at[rail], side="left"), trains.shape[0] - 1)
    at[rail] = trains[k]
    return replace(planned, arrive_at_s=at)


def plan_traffic(
    scenario: CompiledScenario, day: int, plan: LoadPlan, rng: np.random.Generator
) -> DayTraffic:
    """The conveyances of an adversary's ``plan`` with the attributes targeting reads."""
    sc = scenario
    n = len(plan)
    enrolled = plan.enrolled
    custody = np.full(n, CUSTODY_NONE, dtype=np.int64)
    monitored = enrolled & (plan.mode == TRUCK)
    catch_prob = sc.spec.custody.post_seal_catch_prob
    caught = (plan.concealment == SEALED_POST) & (rng.random(n) < catch_prob)
    custody[monitored] = np.where(caught[monitored], CUSTODY_BROKEN, CUSTODY_CLEAN)
    prior, new_carrier, prior_finding, commodity = advance.cartel_profile(sc, plan.mode, rng)
    hour = (plan.arrive_at_s // 3600).astype(np.int64).clip(0, 23)
    lane = np.where(express_open(sc, plan.mode, hour), plan.lane, 0)
    return DayTraffic(
        day=day, arrive_at_s=day * DAY_S + plan.arrive_at_s, mode=plan.mode, lane=lane,
        enrolled=enrolled, custody=custody, risk=np.zeros(n),
        prior_crossings=prior, commodity=commodity,
        drug=np.where(plan.is_decoy, -1, plan.drug), concealment=np.where(
            plan.is_decoy, -1, plan.concealment),
        mass_kg=np.where(plan.is_decoy, 0.0, plan.mass_kg), is_decoy=plan.is_decoy,
        source=np.where(plan.is_decoy, SOURCE_DECOY, SOURCE_LOAD).astype(np.int64),
        plan_row=np.arange(n, dtype=np.int64), new_carrier=new_carrier,
        prior_finding=prior_finding,
    )


def compose_day(
    legit: DayTraffic, planned: DayTraffic, u_legit: np.ndarray, u_plan: np.ndarray
) -> tuple[DayTraffic, np.ndarray]:
    """Merge legitimate and planned conveyances by arrival, with their uniform draws.

    Legitimate rows keep their draws whatever the plan holds, so two policies compared
    on one seed see the same legitimate traffic with the same service times.
    """
    if u_legit.shape != (len(legit), N_UNIFORMS) or u_plan.shape != (len(planned), N_UNIFORMS):
        raise ValueError("compose_day: one row of uniforms per conveyance")
    if len(legit) > 1 and np.any(np.diff(legit.arrive_at_s) < 0):
        raise ValueError("compose_day: legitimate traffic must be sorted by arrival")
    planned = ride_trains(legit, planned)
    # The plan is small and legitimate traffic sorted: insert the planned rows after any
    # legitimate arrival at the same instant (the order a stable sort would give).
    order = np.argsort(planned.arrive_at_s, kind="stable")
    at = planned.arrive_at_s[order]
    k = at.shape[0]
    total = len(legit) + k
    rows = np.searchsorted(legit.arrive_at_s, at, side="right") + np.arange(k)
    is_plan = np.zeros(total, dtype=bool)
    is_plan[rows] = True
    merged = {}
    for name in _ARRAYS:
        a, b = getattr(legit, name), getattr(planned, name)
        out = np.empty(total, dtype=np.result_type(a, b))
        out[~is_plan] = a
        out[rows] = b[order]
        merged[name] = out
    u = np.empty((total, N_UNIFORMS), dtype=np.result_type(u_legit, u_plan))
    u[~is_plan] = u_legit
    u[rows] = u_plan[order]
    return DayTraffic(day=legit.day, **merged), u


def score_traffic(scenario: CompiledScenario, traffic: DayTraffic,
                  lookup: advance.RiskLookup | None) -> DayTraffic:
    """``traffic`` with each conveyance's risk scored by ``lookup`` from its advance
    information (0 everywhere without a model: a policy that reads no risk)."""
    if lookup is None:
        return traffic
    t = traffic
    cell = advance.flat_index(scenario, t.day, t.arrive_at_s, t.mode, t.enrolled, t.custody,
                              t.commodity, t.prior_crossings, t.new_carrier, t.prior_finding)
    return replace(traffic, risk=lookup.table[cell])


__all__ = ["DayTraffic", "compose_day", "draw_legit", "draw_trains", "express_open",
           "legit_uniforms", "plan_traffic", "rail_rng", "ride_trains", "score_traffic"]
