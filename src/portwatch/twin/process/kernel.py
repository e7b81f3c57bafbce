"""The twin's compiled kernel: one day of a port of entry, conveyance by conveyance.

What it simulates, for conveyances sorted by arrival (seconds since the scenario start,
which is local midnight of day 0):

1. **Primary**: one FIFO queue per (mode, lane) station, served by the booths staffed in
   each hour (``booths[station, hour]``). A booth that closes finishes the conveyance it
   serves; a conveyance takes the booth that can start it first (Kiefer-Wolfowitz
   recursion for the multi-server FIFO queue, with hour-by-hour staffing).
2. **Canine sweep**: teams walk the primary queues; a conveyance of a swept mode is
   screened if a team is free before it reaches the booth (teams take conveyances in
   arrival order and skip them when all are busy, so decoys that make dogs alert keep the
   teams busy while loads go by). Loads alert with ``canine_detect[drug, concealment]``,
   decoys with ``canine_decoy``, clean conveyances with ``canine_fa`` (false alarms).
3. **The decision** at the end of primary: ``portwatch.engine.decide.decide_code``, the
   same compiled function the live engine runs, with the live number of conveyances in
   secondary (a heap of their exit times).
4. **Secondary**: a referred conveyance gets a scanner pass if a scanner type covers its
   mode (the unit that can start it first), then waits for a bay exam by officers; a full
   search takes a bay for the full-search time. Bays serve two FIFO queues by priority:
   full searches and alerts first, then discretionary referrals. A
   suspect finding (a load found, a scanner false alarm, an alert) adds a handheld
   analyzer pass.
5. **Inland checkpoint**: a load that crossed undetected is checked with probability
   ``inland_cov`` and found with ``inland_detect[drug, concealment]``.

Every draw is a column of ``U`` (one row per conveyance, see ``U_*``), so the kernel is
a pure function of its inputs and the carried ``PortState``: bit-for-bit reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from portwatch.engine.decide import (
    FULL_SEARCH,
    R_ALERT,
    SECONDARY,
    decide_code,
)
from portwatch.targeting.policy import Policy
from portwatch.twin.process.durations import DistTable, Duration, deterministic, draw, encode
from portwatch.twin.scenario.schema import N_STATIONS, CompiledScenario

(U_PRIMARY, U_DECIDE, U_CANINE, U_CANINE_S, U_SCAN, U_SCAN_S, U_BAY, U_BAY_S, U_ANALYZER_S,
 U_INLAND, U_INLAND_DETECT, U_IDENTIFY) = range(12)
N_UNIFORMS = 12
"""Columns of the per-conveyance uniform draws ``U``."""

DETECTED_NONE, DETECTED_SCANNER, DETECTED_BAY, DETECTED_FULL, DETECTED_INLAND = range(5)
DETECTED_BY: tuple[str, ...] = ("none", "scanner", "secondary exam", "full search", "inland")
HOUR_S = 3600.0


@njit(cache=True, nogil=True, inline="always")
def _heap_push(heap: np.ndarray, n: int, value: float) -> int:
    i = n
    heap[i] = value
    while i > 0:
        parent = (i - 1) >> 1
        if heap[parent] <= heap[i]:
            break
        heap[parent], heap[i] = heap[i], heap[parent]
        i = parent
    return n + 1


@njit(cache=True, nogil=True, inline="always")
def _heap_pop(heap: np.ndarray, n: int) -> int:
    n -= 1
    heap[0] = heap[n]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= n:
            break
        child = left
        if left + 1 < n and heap[left + 1] < heap[left]:
            child = left + 1
        if heap[i] <= heap[child]:
            break
        heap[i], heap[child] = heap[child], heap[i]
        i = child
    return n


@njit(cache=True, nogil=True, inline="always")
def _sift_down(key: np.ndarray, idx: np.ndarray, n: int, i: int) -> None:
    """Restore the min-heap on (key, idx) below ``i``; ties go to the lower index, so
    the choice among equally free servers is deterministic."""
    while True:
        left = 2 * i + 1
        if left >= n:
            return
        child = left
        right = left + 1
        if right < n and (key[right] < key[left]
                          or (key[right] == key[left] and idx[right] < idx[left])):
            child = right
        if key[i] < key[child] or (key[i] == key[child] and idx[i] < idx[child]):
            return
        key[i], key[child] = key[child], key[i]
        idx[i], idx[child] = idx[child], idx[i]
        i = child


@njit(cache=True, nogil=True, inline="always")
def _push(key: np.ndarray, idx: np.ndarray, n: int, k: float, j: int) -> None:
    """Add (k, j) to the min-heap on (key, idx) of size ``n``."""
    pos = n
    key[pos] = k
    idx[pos] = j
    while pos > 0:
        parent = (pos - 1) >> 1
        if key[parent] < key[pos] or (key[parent] == key[pos] and idx[parent] < idx[pos]):
            return
        key[parent], key[pos] = key[pos], key[parent]
        idx[parent], idx[pos] = idx[pos], idx[parent]
        pos = parent


@njit(cache=True, nogil=True, inline="always")
def _hour_index(t: float) -> int:
    """Hours since the scenario start of an instant ``t >= 0``. One function for every
    hour lookup, so a booth's opening and the check of it never disagree at a boundary
    (a correctly rounded division, cheaper than Python's float floor division)."""
    return int(t / HOUR_S)


@njit(cache=True, nogil=True, inline="always")
def _hour_of(t: float) -> int:
    """Hour of day (0-23) of an instant ``t >= 0``."""
    return _hour_index(t) % 24


@njit(cache=True, nogil=True, inline="always")
def _open_at(t: float, k: int, booths_row: np.ndarray) -> float:
    """Earliest instant >= t at which booth k of a station is staffed (inf: never)."""
    h = _hour_index(t)
    if k < booths_row[h % 24]:
        return t
    for step in range(1, 25):
        if k < booths_row[(h + step) % 24]:
            return (h + step) * HOUR_S
    return np.inf


@njit(cache=True, nogil=True)
def simulate_day(
    arrive_at, mode, lane, enrolled, custody, risk, drug, conc, decoy, U,  # conveyances
    booths, max_booths, station_key, station_idx, primary_dist,  # primary
    canine_key, canine_idx, canine_modes, canine_detect, canine_fa, canine_decoy, canine_dist,
    scanner_type, scanner_free, scanner_modes, scanner_detect, scanner_fa, scanner_dist,
    bay_free, capacity, bay_detect, full_detect, secondary_dist, full_dist,
    analyzer_dist, analyzer_identify, analyzer_fa,
    inland_modes, inland_cov, inland_detect,
    referral_by_hour, risk_threshold, broken_full, clean_express, hold,
    sec_heap, sec_n,
    dk, dp, dtab, doff, dlen, dvals,
    primary_start_at, primary_end_at, exit_at, out_lane, out_reason, occupancy, screened,
    alert, detected_by, false_alarm, identified, secondary_start_at, busy,
):
    """Simulate one day's conveyances (sorted by ``arrive_at``); returns the new number
    of entries in the secondary heap. Mutates the state arrays and fills the outputs."""
    n = arrive_at.shape[0]
    n_units = scanner_type.shape[0]
    n_types = scanner_dist.shape[0]
    exit_at_owner = np.full(bay_free.shape[0], -1, dtype=np.int64)  # who is in each bay
    canine_busy = 8
    bay_busy = 9 + n_types
    # Two kinds of step, merged in time order: an arrival (primary and the canine sweep,
    # in arrival order) and a decision at the end of a conveyance's primary (decisions
    # and secondary, in order of the end of primary, ties by arrival). A decision due at
    # or before the next arrival is taken first: every later end of primary is at or
    # after that arrival, so the pending ends form a small heap instead of a sort.
    pend_key = np.empty(n)
    pend_idx = np.empty(n, dtype=np.int64)
    n_pend = 0
    # Secondary as events: conveyances ready for a bay (after any scanner pass) wait in
    # two FIFO queues, full searches and alerts ahead of discretionary referrals; a bay
    # that frees up takes the head of the first non-empty queue.
    ready_key = np.empty(n)
    ready_idx = np.empty(n, dtype=np.int64)
    n_ready = 0
    n_bays = bay_free.shape[0]
    bay_key = np.empty(n_bays)
    bay_idx = np.empty(n_bays, dtype=np.int64)
    n_busy = 0
    for b in range(n_bays):  # yesterday's bays free up as events
        _push(bay_key, bay_idx, n_busy, bay_free[b], b)
        n_busy += 1
    idle = np.empty(n_bays, dtype=np.int64)
    n_idle = 0
    queue_hi = np.empty(n, dtype=np.int64)
    queue_lo = np.empty(n, dtype=np.int64)
    hi_head = hi_tail = lo_head = lo_tail = 0
    suspect = np.zeros(n, dtype=np.bool_)
    in_secondary = 0  # today's conveyances referred and not yet out
    i = 0
    while True:
        t_arrival = arrive_at[i] if i < n else np.inf
        t_decision = pend_key[0] if n_pend > 0 else np.inf
        t_ready = ready_key[0] if n_ready > 0 else np.inf
        t_bay = bay_key[0] if n_busy > 0 else np.inf
        if t_bay <= t_ready and t_bay <= t_decision and t_bay <= t_arrival and n_busy > 0:
            # a bay frees up (its conveyance, if any, leaves the port)
            b = bay_idx[0]
            n_busy -= 1
            bay_key[0] = bay_key[n_busy]
            bay_idx[0] = bay_idx[n_busy]
            _sift_down(bay_key, bay_idx, n_busy, 0)
            if exit_at_owner[b] >= 0:
                in_secondary -= 1
                exit_at_owner[b] = -1
            idle[n_idle] = b
            n_idle += 1
        elif t_ready <= t_decision and t_ready <= t_arrival and n_ready > 0:
            c = ready_idx[0]
            n_ready -= 1
            ready_key[0] = ready_key[n_ready]
            ready_idx[0] = ready_idx[n_ready]
            _sift_down(ready_key, ready_idx, n_ready, 0)
            if out_lane[c] == FULL_SEARCH or out_reason[c] == R_ALERT:
                queue_hi[hi_tail] = c
                hi_tail += 1
            else:
                queue_lo[lo_tail] = c
                lo_tail += 1
        elif t_decision <= t_arrival and n_pend > 0:
            c = pend_idx[0]
            n_pend -= 1
            pend_key[0] = pend_key[n_pend]
            pend_idx[0] = pend_idx[n_pend]
            _sift_down(pend_key, pend_idx, n_pend, 0)
            t = primary_end_at[c]
            while sec_n > 0 and sec_heap[0] <= t:
                sec_n = _heap_pop(sec_heap, sec_n)
            m = mode[c]
            occupancy[c] = sec_n + in_secondary
            code, reason = decide_code(
                custody[c], risk[c], enrolled[c], alert[c], m, lane[c], _hour_of(t),
                sec_n + in_secondary, capacity, U[c, U_DECIDE], referral_by_hour,
                risk_threshold, broken_full, clean_express, hold,
            )
            out_lane[c] = code
            out_reason[c] = reason
            detected_by[c] = DETECTED_NONE
            identified[c] = False
            secondary_start_at[c] = np.nan
            exit_at[c] = t
            if code >= SECONDARY:  # SECONDARY or FULL_SEARCH
                in_secondary += 1
                ready = t
                suspect[c] = alert[c]
                if code == SECONDARY:
                    unit = -1
                    ustart = np.inf
                    for k in range(n_units):
                        if scanner_modes[scanner_type[k], m]:
                            st = max(t, scanner_free[k])
                            if st < ustart:
                                ustart = st
                                unit = k
                    if unit >= 0:
                        ty = scanner_type[unit]
                        sdur = draw(scanner_dist[ty], U[c, U_SCAN_S], dk, dp, dtab, doff,
                                    dlen, dvals)
                        scanner_free[unit] = ustart + sdur
                        busy[8 + 1 + ty] += sdur
                        ready = ustart + sdur
                        if drug[c] >= 0 and not decoy[c]:
                            if U[c, U_SCAN] < scanner_detect[ty, drug[c], conc[c]]:
                                detected_by[c] = DETECTED_SCANNER
                        elif not decoy[c] and U[c, U_SCAN] < scanner_fa[ty]:
                            false_alarm[c] = True
                            suspect[c] = True
                _push(ready_key, ready_idx, n_ready, ready, c)
                n_ready += 1
        elif i < n:
            a = arrive_at[i]
            m = mode[i]
            s = m * 2 + lane[i]
            # The booth free first (a heap); a booth closed at that time moves to the hour
            # it reopens, which loses nothing: it cannot start anyone before then.
            nb = max_booths[s]
            hk = station_key[s]
            hi = station_idx[s]
            best = np.inf
            while nb > 0:
                best = max(a, hk[0])
                if best == np.inf or hi[0] < booths[s, _hour_of(best)]:
                    break
                hk[0] = _open_at(best, hi[0], booths[s])
                _sift_down(hk, hi, nb, 0)
            dur = draw(primary_dist[s], U[i, U_PRIMARY], dk, dp, dtab, doff, dlen, dvals)
            primary_start_at[i] = best
            primary_end_at[i] = best + dur
            if nb > 0:
                hk[0] = best + dur
                _sift_down(hk, hi, nb, 0)
            busy[s] += dur
            screened[i] = False
            alert[i] = False
            false_alarm[i] = False
            if canine_modes[m] and canine_key.shape[0] > 0 and canine_key[0] <= best:
                start = max(a, canine_key[0])
                cdur = draw(canine_dist, U[i, U_CANINE_S], dk, dp, dtab, doff, dlen, dvals)
                canine_key[0] = start + cdur
                _sift_down(canine_key, canine_idx, canine_key.shape[0], 0)
                busy[canine_busy] += cdur
                screened[i] = True
                u = U[i, U_CANINE]
                if decoy[i]:
                    alert[i] = u < canine_decoy
                elif drug[i] >= 0:
                    alert[i] = u < canine_detect[drug[i], conc[i]]
                else:
                    alert[i] = u < canine_fa
                    false_alarm[i] = alert[i]
            _push(pend_key, pend_idx, n_pend, primary_end_at[i], i)
            n_pend += 1
            i += 1
        else:
            break
        # an idle bay takes the next conveyance waiting, full searches and alerts first
        while n_idle > 0 and (hi_head < hi_tail or lo_head < lo_tail):
            if hi_head < hi_tail:
                c = queue_hi[hi_head]
                hi_head += 1
            else:
                c = queue_lo[lo_head]
                lo_head += 1
            n_idle -= 1
            b = idle[n_idle]
            bstart = max(bay_free[b], min(t_bay, t_ready, t_decision, t_arrival))
            m = mode[c]
            if out_lane[c] == FULL_SEARCH:
                bdur = draw(full_dist[m], U[c, U_BAY_S], dk, dp, dtab, doff, dlen, dvals)
                table = full_detect
                found_by = DETECTED_FULL
            else:
                bdur = draw(secondary_dist[m], U[c, U_BAY_S], dk, dp, dtab, doff, dlen, dvals)
                table = bay_detect
                found_by = DETECTED_BAY
            is_load = drug[c] >= 0 and not decoy[c]
            if (is_load and detected_by[c] == DETECTED_NONE
                    and U[c, U_BAY] < table[drug[c], conc[c]]):
                detected_by[c] = found_by
            if detected_by[c] != DETECTED_NONE or suspect[c]:
                bdur += draw(analyzer_dist, U[c, U_ANALYZER_S], dk, dp, dtab, doff, dlen,
                             dvals)
                if detected_by[c] != DETECTED_NONE:
                    identified[c] = U[c, U_IDENTIFY] < analyzer_identify[drug[c]]
                elif not decoy[c] and not is_load and U[c, U_IDENTIFY] < analyzer_fa:
                    false_alarm[c] = True
            bay_free[b] = bstart + bdur
            busy[bay_busy] += bdur
            secondary_start_at[c] = bstart
            exit_at[c] = bstart + bdur
            exit_at_owner[b] = c
            _push(bay_key, bay_idx, n_busy, bstart + bdur, b)
            n_busy += 1
    # Everyone referred today is out by now; tomorrow counts them in secondary until
    # they leave, and the inland checkpoint sees the loads that crossed undetected.
    for c in range(n):
        if out_lane[c] >= SECONDARY:
            sec_n = _heap_push(sec_heap, sec_n, exit_at[c])
        if (drug[c] >= 0 and not decoy[c] and detected_by[c] == DETECTED_NONE
                and inland_modes[mode[c]] and U[c, U_INLAND] < inland_cov
                and U[c, U_INLAND_DETECT] < inland_detect[drug[c], conc[c]]):
            detected_by[c] = DETECTED_INLAND
    return sec_n


class PortState:
    """What carries over from one simulated day to the next: when each booth, canine
    team, scanner and bay is next free, and the exit times of those in secondary."""

    def __init__(self, scenario: CompiledScenario) -> None:
        width = max(1, int(scenario.booths.max()))
        # min-heaps of (free at, booth) per station and of (free at, team) for canines
        self.station_key = np.zeros((N_STATIONS, width))
        self.station_idx = np.tile(np.arange(width, dtype=np.int64), (N_STATIONS, 1))
        self.canine_key = np.zeros(scenario.canine_teams)
        self.canine_idx = np.arange(scenario.canine_teams, dtype=np.int64)
        self.scanner_free = np.zeros(scenario.scanner_type.shape[0])
        self.bay_free = np.zeros(scenario.bays)
        self.secondary_exits = np.zeros(0)

    def copy(self) -> PortState:
        other = object.__new__(PortState)
        for name, value in vars(self).items():
            setattr(other, name, value.copy())
        return other


@dataclass(frozen=True, eq=False)
class KernelModel:
    """A scenario and a policy compiled together for ``run_day``."""

    scenario: CompiledScenario
    policy: Policy
    dists: DistTable
    max_booths: np.ndarray
    primary_dist: np.ndarray
    secondary_dist: np.ndarray
    full_dist: np.ndarray
    canine_dist: int
    scanner_dist: np.ndarray
    analyzer_dist: int
    referral_by_hour: np.ndarray


def prepare(scenario: CompiledScenario, policy: Policy) -> KernelModel:
    """Compile ``scenario`` and ``policy`` into the kernel's arrays."""
    placeholder = deterministic(0.0)
    dists: list[Duration] = []

    def add(d: Duration | None) -> int:
        dists.append(d if d is not None else placeholder)
        return len(dists) - 1

    primary = np.array([add(d) for d in scenario.primary_service], dtype=np.int64)
    secondary = np.array([add(d) for d in scenario.secondary_service], dtype=np.int64)
    full = np.array([add(d) for d in scenario.full_search_service], dtype=np.int64)
    canine = add(scenario.canine_service)
    scanners = np.array([add(d) for d in scenario.scanner_service], dtype=np.int64)
    analyzer = add(scenario.analyzer_service)
    return KernelModel(
        scenario=scenario,
        policy=policy,
        dists=encode(dists),
        max_booths=scenario.booths.max(axis=1).astype(np.int64),
        primary_dist=primary,
        secondary_dist=secondary,
        full_dist=full,
        canine_dist=canine,
        scanner_dist=scanners.reshape(-1),
        analyzer_dist=analyzer,
        referral_by_hour=policy.referral_by_hour(),
    )


@dataclass(frozen=True, eq=False)
class DayRun:
    """Per-conveyance outputs of one simulated day (rows as in the input)."""

    primary_start_at: np.ndarray
    primary_end_at: np.ndarray
    exit_at: np.ndarray
    lane_code: np.ndarray  # int64, order of ``portwatch.engine.decide.LANE_CODES``
    reason_code: np.ndarray  # int64, index of ``portwatch.engine.decide.REASONS``
    occupancy: np.ndarray  # int64, conveyances in secondary at the decision
    screened: np.ndarray  # bool: a canine team screened it
    alert: np.ndarray  # bool: the canine alerted
    detected_by: np.ndarray  # int64, index of ``DETECTED_BY``
    false_alarm: np.ndarray  # bool
    identified: np.ndarray  # bool: the handheld analyzer identified the drug
    secondary_start_at: np.ndarray  # NaN if not inspected
    busy_s: np.ndarray  # float64: booths by station, canines, scanners by type, bays

    @property
    def inspected(self) -> np.ndarray:
        return self.lane_code >= SECONDARY


def run_day(
    model: KernelModel,
    arrive_at_s: np.ndarray,
    mode: np.ndarray,
    lane: np.ndarray,
    enrolled: np.ndarray,
    custody: np.ndarray,
    risk: np.ndarray,
    drug: np.ndarray,
    concealment: np.ndarray,
    is_decoy: np.ndarray,
    uniforms: np.ndarray,
    state: PortState,
) -> DayRun:
    """Run the kernel on one day's conveyances, sorted by ``arrive_at_s`` (seconds since
    the scenario start); ``uniforms`` is [n, N_UNIFORMS]. Updates ``state`` in place."""
    n = arrive_at_s.shape[0]
    if n > 1 and np.any(np.diff(arrive_at_s) < 0):
        raise ValueError("run_day: conveyances must be sorted by arrive_at_s")
    if uniforms.shape != (n, N_UNIFORMS):
        raise ValueError(f"run_day: uniforms must have shape ({n}, {N_UNIFORMS})")
    sc = model.scenario
    pol = model.policy
    d = model.dists
    heap = np.empty(state.secondary_exits.shape[0] + n)
    heap[: state.secondary_exits.shape[0]] = np.sort(state.secondary_exits)
    n_types = len(sc.scanner_service)
    busy = np.zeros(9 + n_types + 1)
    out = DayRun(
        primary_start_at=np.empty(n),
        primary_end_at=np.empty(n),
        exit_at=np.empty(n),
        lane_code=np.empty(n, dtype=np.int64),
        reason_code=np.empty(n, dtype=np.int64),
        occupancy=np.empty(n, dtype=np.int64),
        screened=np.empty(n, dtype=np.bool_),
        alert=np.empty(n, dtype=np.bool_),
        detected_by=np.empty(n, dtype=np.int64),
        false_alarm=np.empty(n, dtype=np.bool_),
        identified=np.empty(n, dtype=np.bool_),
        secondary_start_at=np.empty(n),
        busy_s=busy,
    )
    sec_n = simulate_day(
        np.ascontiguousarray(arrive_at_s, dtype=np.float64),
        np.ascontiguousarray(mode, dtype=np.int64),
        np.ascontiguousarray(lane, dtype=np.int64),
        np.ascontiguousarray(enrolled, dtype=np.bool_),
        np.ascontiguousarray(custody, dtype=np.int64),
        np.ascontiguousarray(risk, dtype=np.float64),
        np.ascontiguousarray(drug, dtype=np.int64),
        np.ascontiguousarray(concealment, dtype=np.int64),
        np.ascontiguousarray(is_decoy, dtype=np.bool_),
        np.ascontiguousarray(uniforms),
        sc.booths, model.max_booths, state.station_key, state.station_idx, model.primary_dist,
        state.canine_key, state.canine_idx, sc.canine_modes, sc.canine_detect,
        sc.canine_false_alarm, sc.canine_decoy_alert, model.canine_dist,
        sc.scanner_type, state.scanner_free, sc.scanner_modes, sc.scanner_detect,
        sc.scanner_false_alarm,
        model.scanner_dist,
        state.bay_free, sc.secondary_capacity, sc.bay_detect, sc.full_detect,
        model.secondary_dist, model.full_dist,
        model.analyzer_dist, sc.analyzer_identify, sc.analyzer_false_alarm,
        sc.inland_modes, sc.inland_coverage, sc.inland_detect,
        model.referral_by_hour, pol.risk_threshold_value(), pol.broken_to_full_search,
        pol.clean_enrolled_express, pol.capacity_rule == "hold",
        heap, state.secondary_exits.shape[0],
        d.kind, d.param, d.table, d.offset, d.length, d.values,
        out.primary_start_at, out.primary_end_at, out.exit_at, out.lane_code,
        out.reason_code, out.occupancy, out.screened, out.alert, out.detected_by,
        out.false_alarm, out.identified, out.secondary_start_at, busy,
    )
    state.secondary_exits = heap[:sec_n].copy()
    return out


__all__ = [
    "DETECTED_BY",
    "N_UNIFORMS",
    "DayRun",
    "KernelModel",
    "PortState",
    "prepare",
    "run_day",
    "simulate_day",
]
