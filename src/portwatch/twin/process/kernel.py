"""The twin's compiled kernel: one day of a port of entry, conveyance by conveyance.

An event loop over a small state (named tuples of arrays, see ``Conveyances``, ``PortArrays``,
``Rules``, ``Pools``, ``Outputs`` and ``Work``), with one compiled function per phase:

1. **arrival** (``_arrive``): a conveyance joins the FIFO queue of its (mode, lane)
   station; if a booth is open and free it starts at once.
2. **primary** (``_start_primary``): the booth free first takes the head of the queue
   (hour-by-hour staffing: a booth finishes the conveyance it serves when it closes).
   Canine teams sweep the queues: a conveyance of a swept mode is screened if a team is
   free by the time it reaches the booth, with the full check (``canine.service``) or,
   where ``canine.sweep_s`` is set, a short pass, an alert then keeping the team for the
   follow-up check, away from the queue. Loads alert with ``canine_detect[drug,
   concealment]``, trace-tainted decoys with ``canine_decoy``, clean traffic with
   ``canine_fa``.
3. **referral** (``_decide``): ``portwatch.engine.decide.decide_code``, the same compiled
   function the live engine runs, with the live number in secondary. When secondary
   (bays + parking slots) is full, a referral under the ``wave`` rule is released; under
   ``hold`` (and always for an alert or a broken seal) the conveyance stays in its primary
   booth, blocking it, until a parking space frees: primary backs up.
4. **triage** (``_enter_secondary``): a discretionary referral is triaged first by the
   step its mode has: an NII scan (a scanner type covers the mode), else a canine check
   by a team of the same pool that sweeps primary, else none. No anomaly: released
   (scan-only clearance). An anomaly (or no triage) goes to a bay exam; an alert at
   primary or a broken seal goes straight to a bay (exam / full search).
5. **secondary** (``_start_exam``): bays serve two FIFO queues, guided exams (after an
   anomaly or alert) and full searches first, then unguided exams. A guided exam finds
   the load with ``guided_detect``, an unguided one with ``bay_detect``, a full search
   with ``full_detect``. A suspect finding adds a handheld analyzer pass.
6. **release** (``_leave_secondary``): a conveyance leaving secondary frees a parking
   space for the first blocked conveyance; at the end of the day, the loads that crossed
   undetected meet the inland checkpoint with probability ``inland_cov``.

Rail (the modes of ``portal_modes`` and ``yard_modes``): the rail station is the portal,
which images every container as its train passes (``_portal_image``: an anomaly refers it
as an alert does), and a referred container is examined at the rail yard by teams of its
own (``_yard_exam``), outside secondary's capacity and its bays.

A day where primary never sees secondary (no canine team at primary, no drivers'
choices, a secondary that cannot fill) runs on the plain path (``plain_day``) instead:
phases 1-3 for every conveyance in arrival order, then phases 4-6 for the referrals
only, with the event loop's results bit for bit.

Every draw is a column of ``U`` (one row per conveyance, see ``U_*``), so the kernel is
a pure function of its inputs and the carried ``PortState``: bit-for-bit reproducible.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from portwatch.engine.decide import (
    ALERT_CHECK_CODES,
    ALERT_SCAN_HANDHELD,
    FULL_SEARCH,
    R_ALERT,
    SECONDARY,
    TRIAGE_CANINE,
    TRIAGE_NONE,
    TRIAGE_SCAN,
    TRIAGE_STEPS,
    admits,
    alert_capacity,
    decide_code,
    first_check,
    risk_tier,
    selected_anyway,
)
from portwatch.targeting.policy import Policy
from portwatch.twin.process.durations import DistTable, Duration, deterministic, draw, encode
from portwatch.twin.scenario.schema import N_STATIONS, CompiledScenario

(U_PRIMARY, U_DECIDE, U_CANINE, U_CANINE_S, U_TRIAGE, U_TRIAGE_S, U_BAY, U_BAY_S,
 U_ANALYZER_S, U_INLAND, U_INLAND_DETECT, U_IDENTIFY) = range(12)
N_UNIFORMS = 12
"""Columns of the per-conveyance uniform draws ``U`` (the triage step, scan or canine,
uses ``U_TRIAGE`` and ``U_TRIAGE_S``)."""

DETECTED_NONE, DETECTED_SCANNER, DETECTED_BAY, DETECTED_FULL, DETECTED_INLAND = range(5)
DETECTED_BY: tuple[str, ...] = ("none", "scanner", "secondary exam", "full search", "inland")
HANDHELD_TRACE_ASSUMED = 0.3
"""Chance that a handheld reads the drug traces of a tainted decoy where the dog
alerted: ``assumed`` (range 0.1-0.6; no public figure). The scenario's
``handheld.decoy_anomaly_prob`` (default this value) is what the kernel reads."""
HOUR_S = 3600.0
INF = np.inf
# ``busy`` (``DayRun.busy_s``) layout: booths by station, the canine teams, the scanners
# by type, the rail yard's exam teams, the bays (last).
BUSY_CANINE = N_STATIONS
BUSY_SCANNERS = N_STATIONS + 1

# The kernel passes its state as named tuples of arrays. Numba would count references to
# every array of a tuple at each call (thousands of atomic operations per conveyance, a
# 30-fold slowdown); the kernel allocates nothing and its caller holds every array for
# the whole run, so its functions are compiled without reference counting (``_nrt``).
# A compiled call still passes every array of those tuples as separate arguments, so
# whatever runs per conveyance or per referral is inlined (``_INLINE``); ``_enter_secondary``
# stays a call, since inlining it at each of its call sites multiplies compile time.
_PHASE: dict[str, Any] = {"cache": True, "nogil": True, "_nrt": False, "error_model": "numpy"}
_INLINE: dict[str, Any] = {"cache": True, "nogil": True, "_nrt": False, "inline": "always",
                           "error_model": "numpy"}

# indices of the kernel's integer counters (``Work.k``)
(K_NEXT, K_PEND, K_READY, K_BUSY, K_IDLE, K_HI_HEAD, K_HI_TAIL, K_LO_HEAD, K_LO_TAIL,
 K_IN_SEC, K_SEC_N, K_BH_HEAD, K_BH_TAIL, K_BL_HEAD, K_BL_TAIL, K_QUEUED) = range(16)
N_COUNTERS = 16

Conveyances = namedtuple("Conveyances", "arrive_at mode lane enrolled custody risk drug conc "
                         "decoy u")
PortArrays = namedtuple(
    "PortArrays",
    "booths max_booths primary_dist canine_modes canine_detect canine_fa canine_decoy "
    "canine_dist scanner_type scanner_modes scanner_detect scanner_fa scanner_dist triage scanned "
    "capacity bay_detect guided_detect full_detect secondary_dist full_dist analyzer_dist "
    "analyzer_identify analyzer_fa handheld_trace inland_modes inland_cov inland_detect "
    "dk dp dtab doff dlen dvals canine_sweep_s primary_mean_s choose_lane balk_s divert_share "
    "portal_modes portal_detect portal_fa yard_modes "
    "canine_followup handheld_dist handheld_detect handheld_fa")
Rules = namedtuple("Rules", "referral tier_edges risk_threshold broken_full clean_express hold "
                   "alert_check alert_capacity alert_covered_bay")
Pools = namedtuple("Pools", "station_key station_idx canine_key canine_idx scanner_free "
                   "bay_free sec_heap yard_free")
Outputs = namedtuple(
    "Outputs",
    "primary_start_at primary_end_at exit_at lane_code reason_code occupancy screened alert "
    "detected_by false_alarm identified secondary_start_at triage scan_type held_s busy "
    "lane_used balked")
Work = namedtuple(
    "Work",
    "k pend_key pend_idx ready_key ready_idx bay_key bay_idx idle queue_hi queue_lo "
    "blocked_hi blocked_lo q_next q_head q_tail booth_of release guided suspect bay_owner "
    "q_len log_at log_row log_occupied start_at start_known")


# ---- heaps ------------------------------------------------------------------------------
@njit(**_INLINE)
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


@njit(**_INLINE)
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


@njit(**_INLINE)
def _less(key: np.ndarray, idx: np.ndarray, a: int, b: int) -> bool:
    """Heap order on (key, idx): ties go to the lower index, so the choice among equally
    free servers is deterministic."""
    return key[a] < key[b] or (key[a] == key[b] and idx[a] < idx[b])


@njit(**_INLINE)
def _sift_down(key: np.ndarray, idx: np.ndarray, n: int, i: int) -> None:
    while True:
        left = 2 * i + 1
        if left >= n:
            return
        child = left
        if left + 1 < n and _less(key, idx, left + 1, left):
            child = left + 1
        if _less(key, idx, i, child):
            return
        key[i], key[child] = key[child], key[i]
        idx[i], idx[child] = idx[child], idx[i]
        i = child


@njit(**_INLINE)
def _sift_up(key: np.ndarray, idx: np.ndarray, i: int) -> None:
    while i > 0:
        parent = (i - 1) >> 1
        if _less(key, idx, parent, i):
            return
        key[parent], key[i] = key[i], key[parent]
        idx[parent], idx[i] = idx[i], idx[parent]
        i = parent


@njit(**_INLINE)
def _push(key: np.ndarray, idx: np.ndarray, n: int, k: float, j: int) -> None:
    key[n] = k
    idx[n] = j
    _sift_up(key, idx, n)


@njit(**_INLINE)
def _pop(key: np.ndarray, idx: np.ndarray, n: int) -> int:
    """Remove the top of a heap of size ``n``; returns its index."""
    top = idx[0]
    key[0] = key[n - 1]
    idx[0] = idx[n - 1]
    _sift_down(key, idx, n - 1, 0)
    return top


@njit(**_INLINE)
def _rekey(key: np.ndarray, idx: np.ndarray, n: int, j: int, k: float) -> None:
    """Give entry ``j`` of a heap of size ``n`` the key ``k`` (a linear search: only a
    booth that blocks or unblocks, a rare event, is rekeyed)."""
    for p in range(n):
        if idx[p] == j:
            old = key[p]
            key[p] = k
            if k > old:
                _sift_down(key, idx, n, p)
            else:
                _sift_up(key, idx, p)
            return


# ---- time -------------------------------------------------------------------------------
@njit(**_INLINE)
def _hour_index(t: float) -> int:
    """Hours since the scenario start of an instant ``t >= 0``: one function for every
    hour lookup, so a booth's opening and the check of it never disagree at a boundary."""
    return int(t / HOUR_S)


@njit(**_INLINE)
def _hour_of(t: float) -> int:
    return _hour_index(t) % 24


@njit(**_INLINE)
def _open_at(t: float, k: int, booths_row: np.ndarray) -> float:
    """Earliest instant >= t at which booth k of a station is staffed (inf: never)."""
    h = _hour_index(t)
    if k < booths_row[h % 24]:
        return t
    for step in range(1, 25):
        if k < booths_row[(h + step) % 24]:
            return (h + step) * HOUR_S
    return INF


@njit(**_INLINE)
def _draw(port, j, u):
    return draw(j, u, port.dk, port.dp, port.dtab, port.doff, port.dlen, port.dvals)


# ---- phase 1 and 2: arrival and primary ---------------------------------------------------
@njit(**_INLINE)
def _booth_free_at(port, pools, s, t):
    """When the first booth of station ``s`` can start someone at or after ``t`` (moving
    booths closed then to the hour they reopen, which loses nothing)."""
    nb = port.max_booths[s]
    if nb == 0:
        return INF
    hk = pools.station_key[s]
    hi = pools.station_idx[s]
    while True:
        best = max(t, hk[0])
        if best == INF or hi[0] < port.booths[s, _hour_of(best)]:
            return best
        hk[0] = _open_at(best, hi[0], port.booths[s])
        _sift_down(hk, hi, nb, 0)


@njit(**_INLINE)
def _canine_sweep(cv, port, pools, out, c):
    """The first free team sniffs ``c`` in the queue: a pass of ``canine_sweep_s`` where
    it is set (> 0), and an alert keeps the team for the follow-up check (a
    ``canine_dist`` draw) while the handler takes the vehicle to secondary, away from the
    queue, unless decoy triage sends the vehicle to a quick check instead
    (``canine_followup``); otherwise the full check (a ``canine_dist`` draw) whatever the
    outcome."""
    ck = pools.canine_key
    start = max(cv.arrive_at[c], ck[0])
    u = cv.u[c, U_CANINE]
    if cv.decoy[c]:
        alert = u < port.canine_decoy
    elif cv.drug[c] >= 0:
        alert = u < port.canine_detect[cv.drug[c], cv.conc[c]]
    else:
        alert = u < port.canine_fa
        out.false_alarm[c] = alert
    if port.canine_sweep_s > 0:
        cdur = port.canine_sweep_s
        if alert and port.canine_followup[cv.mode[c]]:
            cdur += _draw(port, port.canine_dist, cv.u[c, U_CANINE_S])
    else:  # no pass time given: every screened vehicle gets the full check
        cdur = _draw(port, port.canine_dist, cv.u[c, U_CANINE_S])
    ck[0] = start + cdur
    _sift_down(ck, pools.canine_idx, ck.shape[0], 0)
    out.busy[BUSY_CANINE] += cdur
    out.screened[c] = True
    out.alert[c] = alert


@njit(**_INLINE)
def _portal_image(cv, port, out, c):
    """The rail portal images container ``c`` as its train passes: an anomaly (a load
    with ``portal_detect[drug, concealment]``, any other container with ``portal_fa``)
    refers it to the rail yard as an alert would. The draw is ``U_CANINE``'s: no dog
    sweeps a train."""
    u = cv.u[c, U_CANINE]
    if cv.drug[c] >= 0 and not cv.decoy[c]:
        anomaly = u < port.portal_detect[cv.drug[c], cv.conc[c]]
    else:
        anomaly = u < port.portal_fa
        out.false_alarm[c] = anomaly
    out.alert[c] = anomaly


@njit(**_INLINE)
def _start_primary(cv, port, pools, out, w, c, t):
    """Conveyance ``c`` starts primary at ``t`` at the station's first free booth."""
    m = cv.mode[c]
    s = m * 2 + out.lane_used[c]
    nb = port.max_booths[s]
    dur = _draw(port, port.primary_dist[s], cv.u[c, U_PRIMARY])
    out.primary_start_at[c] = t
    out.primary_end_at[c] = t + dur
    w.booth_of[c] = pools.station_idx[s, 0]
    pools.station_key[s, 0] = t + dur
    _station_changed(w, s)
    _sift_down(pools.station_key[s], pools.station_idx[s], nb, 0)
    out.busy[s] += dur
    ck = pools.canine_key
    if port.canine_modes[m] and ck.shape[0] > 0 and ck[0] <= t:
        _canine_sweep(cv, port, pools, out, c)
    if port.portal_modes[m]:
        _portal_image(cv, port, out, c)
    _push(w.pend_key, w.pend_idx, w.k[K_PEND], t + dur, c)
    w.k[K_PEND] += 1


@njit(**_INLINE)
def _visible_wait(port, w, s, t):
    """The wait a traveller arriving at ``t`` expects at station ``s``: the queue ahead
    times the mean service over the booths open now (inf: none open)."""
    open_now = port.booths[s, _hour_of(t)]
    if open_now <= 0:
        return INF
    return w.q_len[s] * port.primary_mean_s[s] / open_now


@njit(**_INLINE)
def _choose_lane(cv, port, w, c, a):
    """The station ``c`` joins: an enrolled traveller of a lane-choosing mode takes the
    lane with the shorter visible wait (express on a tie); smugglers keep their plan."""
    m = cv.mode[c]
    s = m * 2 + cv.lane[c]
    if not port.choose_lane[m] or not cv.enrolled[c] or cv.drug[c] >= 0 or cv.decoy[c]:
        return s
    general = m * 2
    if port.booths[general + 1, _hour_of(a)] <= 0:
        return general
    if _visible_wait(port, w, general, a) < _visible_wait(port, w, general + 1, a):
        return general
    return general + 1


@njit(**_INLINE)
def _balk(cv, port, out, c, a):
    """``c`` leaves the line on arrival: diverted to another port (2) or gives up (1)."""
    out.balked[c] = 2 if cv.u[c, U_INLAND] < port.divert_share else 1
    out.primary_start_at[c] = a
    out.primary_end_at[c] = a
    out.exit_at[c] = a
    out.lane_code[c] = 0
    out.reason_code[c] = 0
    out.occupancy[c] = 0
    out.detected_by[c] = DETECTED_NONE
    out.secondary_start_at[c] = np.nan
    out.triage[c] = -1
    out.scan_type[c] = -1


@njit(**_INLINE)
def _arrive(cv, port, pools, out, w, c):
    """Conveyance ``c`` arrives: it picks its lane, and starts at once, joins the lane's
    queue, or (its visible wait past the mode's limit) leaves."""
    a = cv.arrive_at[c]
    m = cv.mode[c]
    s = _choose_lane(cv, port, w, c, a)
    out.lane_used[c] = s - m * 2
    if (w.q_len[s] > 0 and port.balk_s[m] < INF and cv.drug[c] < 0 and not cv.decoy[c]
            and _visible_wait(port, w, s, a) > port.balk_s[m]):
        _balk(cv, port, out, c, a)
        return
    if w.q_head[s] < 0 and _booth_free_at(port, pools, s, a) <= a:
        _start_primary(cv, port, pools, out, w, c, a)
        return
    w.q_next[c] = -1
    w.q_len[s] += 1
    w.k[K_QUEUED] += 1
    if w.q_head[s] < 0:
        w.q_head[s] = c
        _station_changed(w, s)
    else:
        w.q_next[w.q_tail[s]] = c
    w.q_tail[s] = c


@njit(**_INLINE)
def _next_start(cv, port, pools, w):
    """(instant, station) of the next queued conveyance to reach a booth."""
    best = INF
    station = -1
    for s in range(w.q_head.shape[0]):
        c = w.q_head[s]
        if c >= 0:
            # a station's next start holds until its booths or the head of its queue
            # change (``_station_changed``)
            if not w.start_known[s]:
                w.start_at[s] = _booth_free_at(port, pools, s, cv.arrive_at[c])
                w.start_known[s] = True
            t = w.start_at[s]
            if t < best:
                best = t
                station = s
    return best, station


@njit(**_INLINE)
def _station_changed(w, s):
    """Station ``s``'s booths or the head of its queue changed: its next start is to be
    found again."""
    w.start_known[s] = False


# ---- phase 3: referral ----------------------------------------------------------------------
@njit(**_INLINE)
def _decide(cv, port, rules, pools, out, w, c, t):
    """The decision at the end of ``c``'s primary; a referral enters secondary, or holds
    its booth when secondary is full."""
    occupied = w.k[K_SEC_N] + w.k[K_IN_SEC]
    if port.yard_modes[cv.mode[c]]:  # the rail yard holds every container referred to it
        occupied = 0
    out.occupancy[c] = occupied
    if _decide_code(cv, port, rules, out, c, t, occupied) >= SECONDARY:
        _refer(cv, port, rules, pools, out, w, c, t, occupied)


@njit(**_INLINE)
def _decide_code(cv, port, rules, out, c, t, occupied):
    """``decide_code`` for ``c`` at ``t`` with ``occupied`` in secondary: writes the lane,
    the reason and the exit (the end of primary); returns the lane code."""
    tier = risk_tier(rules.tier_edges, cv.risk[c])
    code, reason = decide_code(
        cv.custody[c], cv.risk[c], cv.enrolled[c], out.alert[c], cv.mode[c],
        out.lane_used[c], _hour_of(t),
        occupied, port.capacity, cv.u[c, U_DECIDE], rules.referral[tier],
        rules.risk_threshold, rules.broken_full, rules.clean_express, rules.hold,
    )
    out.lane_code[c] = code
    out.reason_code[c] = reason
    out.exit_at[c] = t
    return code


@njit(**_INLINE)
def _refer(cv, port, rules, pools, out, w, c, t, occupied):
    """Referral ``c`` enters secondary at ``t``, or holds its booth while it is full."""
    m = cv.mode[c]
    alert = out.lane_code[c] == FULL_SEARCH or out.reason_code[c] == R_ALERT
    # alerts may fill only part of secondary (the policy's capacity reserve), so that
    # trace-tainted decoys cannot shut the randomized schedule out
    if admits(alert, occupied, port.capacity, rules.alert_capacity):
        _enter_secondary(cv, port, rules, pools, out, w, c, t)
        return
    # secondary is full: the conveyance waits in its booth, which stays blocked
    s = m * 2 + out.lane_used[c]
    _rekey(pools.station_key[s], pools.station_idx[s], port.max_booths[s], w.booth_of[c], INF)
    _station_changed(w, s)
    if alert:
        w.blocked_hi[w.k[K_BH_TAIL]] = c
        w.k[K_BH_TAIL] += 1
    else:
        w.blocked_lo[w.k[K_BL_TAIL]] = c
        w.k[K_BL_TAIL] += 1


# ---- phase 4: triage -----------------------------------------------------------------------
@njit(**_INLINE)
def _scan(cv, port, pools, out, c, t):
    """NII scan of ``c`` from ``t`` on the unit that can start it first: (done at, anomaly)."""
    m = cv.mode[c]
    unit = -1
    start = INF
    for k in range(port.scanner_type.shape[0]):
        if port.scanner_modes[port.scanner_type[k], m]:
            st = max(t, pools.scanner_free[k])
            if st < start:
                start = st
                unit = k
    ty = port.scanner_type[unit]
    dur = _draw(port, port.scanner_dist[ty], cv.u[c, U_TRIAGE_S])
    pools.scanner_free[unit] = start + dur
    out.busy[BUSY_SCANNERS + ty] += dur
    out.scan_type[c] = ty
    u = cv.u[c, U_TRIAGE]
    if cv.drug[c] >= 0 and not cv.decoy[c]:
        return start + dur, u < port.scanner_detect[ty, cv.drug[c], cv.conc[c]]
    anomaly = not cv.decoy[c] and u < port.scanner_fa[ty]
    out.false_alarm[c] = out.false_alarm[c] or anomaly
    return start + dur, anomaly


@njit(**_INLINE)
def _sniff(cv, port, pools, out, c, t):
    """Canine check of ``c`` in secondary by the first free team: (done at, alert)."""
    ck = pools.canine_key
    start = max(t, ck[0])
    dur = _draw(port, port.canine_dist, cv.u[c, U_TRIAGE_S])
    ck[0] = start + dur
    _sift_down(ck, pools.canine_idx, ck.shape[0], 0)
    out.busy[BUSY_CANINE] += dur
    u = cv.u[c, U_TRIAGE]
    if cv.decoy[c]:
        return start + dur, u < port.canine_decoy
    if cv.drug[c] >= 0:
        return start + dur, u < port.canine_detect[cv.drug[c], cv.conc[c]]
    anomaly = u < port.canine_fa
    out.false_alarm[c] = out.false_alarm[c] or anomaly
    return start + dur, anomaly


@njit(**_INLINE)
def _handheld(cv, port, out, c, t):
    """Handheld check of an alerted conveyance where the dog alerted: (done at, anomaly).
    The scenario's ``handheld`` check (density meter, fiberscope, handheld imager): a
    load reads with ``handheld_detect[drug, concealment]``, a trace-tainted decoy with
    ``handheld_trace``, clean traffic with ``handheld_fa``. Officers at the vehicle do
    it: no bay, scanner or team is held."""
    dur = _draw(port, port.handheld_dist, cv.u[c, U_TRIAGE_S])
    return t + dur, _handheld_reads(cv, port, out, c, cv.u[c, U_TRIAGE])


@njit(**_INLINE)
def _handheld_reads(cv, port, out, c, u):
    """Does the handheld check of ``c`` read an anomaly, for the uniform draw ``u``?"""
    if cv.decoy[c]:
        return u < port.handheld_trace
    if cv.drug[c] >= 0:
        return u < port.handheld_detect[cv.drug[c], cv.conc[c]]
    anomaly = u < port.handheld_fa
    out.false_alarm[c] = out.false_alarm[c] or anomaly
    return anomaly


@njit(**_INLINE)
def _handheld_after_scan(cv, port, out, c, t):
    """The handheld check of an alerted conveyance whose scan was clean (decoy triage
    ``nii_scan_handheld``): (done at, anomaly). Its outcome reads ``U_TRIAGE`` given the
    clean scan (uniform again above the scan's chance of an anomaly, so the two checks
    are independent); its duration reads ``U_INLAND``, which only a load that crosses
    undetected uses, for the inland checkpoint's coverage."""
    u = cv.u[c, U_TRIAGE]
    ty = out.scan_type[c]
    if cv.decoy[c]:
        p = 0.0  # a scan sees no load in a decoy
    elif cv.drug[c] >= 0:
        p = port.scanner_detect[ty, cv.drug[c], cv.conc[c]]
    else:
        p = port.scanner_fa[ty]
    v = (u - p) / (1.0 - p) if p < 1.0 else 0.0
    dur = _draw(port, port.handheld_dist, cv.u[c, U_INLAND])
    return t + dur, _handheld_reads(cv, port, out, c, v)


@njit(**_INLINE)
def _selected(cv, rules, out, c):
    """Would the policy have referred ``c`` without its alert (its risk score, or the
    random draw of its cell, read as ``decide_code`` reads them at primary's end)?"""
    tier = risk_tier(rules.tier_edges, cv.risk[c])
    return selected_anyway(cv.risk[c], cv.u[c, U_DECIDE], rules.risk_threshold,
                           rules.referral[tier][cv.mode[c], out.lane_used[c],
                                                _hour_of(out.primary_end_at[c])])


@njit(**_PHASE)
def _enter_secondary(cv, port, rules, pools, out, w, c, t):
    """``c`` enters secondary at ``t``: triage, then an exam or release (a ready event).

    A discretionary referral is triaged by its mode's step; an alert at primary goes to
    a bay, or first to the check the policy names (``alert_first_check``); a full
    search goes to a bay. A rail container goes to the rail yard instead."""
    if port.yard_modes[cv.mode[c]]:
        _yard_exam(cv, port, pools, out, c, t)
        return
    w.k[K_IN_SEC] += 1
    w.suspect[c] = out.alert[c]
    w.release[c] = False
    w.guided[c] = True
    ready = t
    step = first_check(out.lane_code[c], out.reason_code[c], port.triage[cv.mode[c]],
                       rules.alert_check)
    if step >= 0 and out.reason_code[c] == R_ALERT and rules.alert_covered_bay and _selected(
            cv, rules, out, c):
        step = -1  # the plan had selected it anyway: the alert guides its bay exam
    if step >= 0:
        out.triage[c] = step
        if step == TRIAGE_NONE:
            w.guided[c] = False
        else:
            if step == TRIAGE_SCAN:
                ready, anomaly = _scan(cv, port, pools, out, c, t)
                if (not anomaly and out.reason_code[c] == R_ALERT
                        and rules.alert_check == ALERT_SCAN_HANDHELD):
                    ready, anomaly = _handheld_after_scan(cv, port, out, c, ready)
            elif step == TRIAGE_CANINE:
                ready, anomaly = _sniff(cv, port, pools, out, c, t)
            else:
                ready, anomaly = _handheld(cv, port, out, c, t)
            w.release[c] = not anomaly
            w.suspect[c] = anomaly
    _push(w.ready_key, w.ready_idx, w.k[K_READY], ready, c)
    w.k[K_READY] += 1


@njit(**_INLINE)
def _exam(cv, port, out, c, guided, scanned):
    """The duration of ``c``'s exam, or of its full search (the lane says which), in a
    bay or the rail yard; a load found sets ``detected_by`` (a guided exam, with
    ``guided_detect``, after a triage anomaly or an alert: found by the scanner where
    ``scanned``)."""
    m = cv.mode[c]
    d = cv.drug[c]
    is_load = d >= 0 and not cv.decoy[c]
    u = cv.u[c, U_BAY]
    if out.lane_code[c] == FULL_SEARCH:
        dur = _draw(port, port.full_dist[m], cv.u[c, U_BAY_S])
        if is_load and u < port.full_detect[d, cv.conc[c]]:
            out.detected_by[c] = DETECTED_FULL
    else:
        dur = _draw(port, port.secondary_dist[m], cv.u[c, U_BAY_S])
        table = port.guided_detect if guided else port.bay_detect
        if is_load and u < table[d, cv.conc[c]]:
            out.detected_by[c] = DETECTED_SCANNER if scanned else DETECTED_BAY
    return dur


@njit(**_INLINE)
def _yard_exam(cv, port, pools, out, c, t):
    """Container ``c``'s exam in the rail yard from ``t``, by the yard team free first (in
    order of referral: one FIFO queue). Guided by the portal image after an anomaly, a
    full search after a broken seal; its outcome is set at once, since nothing in the
    port waits on it."""
    yard = pools.yard_free
    unit = 0
    for k in range(1, yard.shape[0]):
        if yard[k] < yard[unit]:
            unit = k
    start = max(t, yard[unit])
    dur = _exam(cv, port, out, c, out.alert[c], out.alert[c])
    if out.detected_by[c] != DETECTED_NONE:
        dur += _draw(port, port.analyzer_dist, cv.u[c, U_ANALYZER_S])
        out.identified[c] = cv.u[c, U_IDENTIFY] < port.analyzer_identify[cv.drug[c]]
    yard[unit] = start + dur
    out.busy[out.busy.shape[0] - 2] += dur
    out.secondary_start_at[c] = start
    out.exit_at[c] = start + dur


# ---- phase 5: secondary ---------------------------------------------------------------------
@njit(**_INLINE)
def _start_exam(cv, port, out, w, c, b, t):
    """Bay ``b`` starts ``c``'s exam (or full search) at ``t``; returns its end."""
    d = cv.drug[c]
    is_load = d >= 0 and not cv.decoy[c]
    dur = _exam(cv, port, out, c, w.guided[c], out.triage[c] == TRIAGE_SCAN)
    if out.detected_by[c] != DETECTED_NONE or w.suspect[c]:
        dur += _draw(port, port.analyzer_dist, cv.u[c, U_ANALYZER_S])
        if out.detected_by[c] != DETECTED_NONE:
            out.identified[c] = cv.u[c, U_IDENTIFY] < port.analyzer_identify[d]
        elif not cv.decoy[c] and not is_load and cv.u[c, U_IDENTIFY] < port.analyzer_fa:
            out.false_alarm[c] = True
    out.secondary_start_at[c] = t
    out.exit_at[c] = t + dur
    w.bay_owner[b] = c
    out.busy[out.busy.shape[0] - 1] += dur
    return t + dur


@njit(**_INLINE)
def _dispatch_bays(cv, port, pools, out, w, now):
    """Idle bays take the conveyances waiting, guided exams and full searches first."""
    k = w.k
    while k[K_IDLE] > 0 and (k[K_HI_HEAD] < k[K_HI_TAIL] or k[K_LO_HEAD] < k[K_LO_TAIL]):
        if k[K_HI_HEAD] < k[K_HI_TAIL]:
            c = w.queue_hi[k[K_HI_HEAD]]
            k[K_HI_HEAD] += 1
        else:
            c = w.queue_lo[k[K_LO_HEAD]]
            k[K_LO_HEAD] += 1
        k[K_IDLE] -= 1
        b = w.idle[k[K_IDLE]]
        end = _start_exam(cv, port, out, w, c, b, max(pools.bay_free[b], now))
        pools.bay_free[b] = end
        _push(w.bay_key, w.bay_idx, k[K_BUSY], end, b)
        k[K_BUSY] += 1


# ---- phase 6: release ------------------------------------------------------------------------
@njit(**_INLINE)
def _unblock(cv, port, rules, pools, out, w, t):
    """Blocked conveyances (alerts and full searches first) take free parking spaces."""
    k = w.k
    while k[K_SEC_N] + k[K_IN_SEC] < port.capacity:
        if k[K_BH_HEAD] < k[K_BH_TAIL] and admits(True, k[K_SEC_N] + k[K_IN_SEC],
                                                  port.capacity, rules.alert_capacity):
            c = w.blocked_hi[k[K_BH_HEAD]]
            k[K_BH_HEAD] += 1
        elif k[K_BL_HEAD] < k[K_BL_TAIL]:
            c = w.blocked_lo[k[K_BL_HEAD]]
            k[K_BL_HEAD] += 1
        else:
            return
        s = cv.mode[c] * 2 + out.lane_used[c]
        _rekey(pools.station_key[s], pools.station_idx[s], port.max_booths[s], w.booth_of[c], t)
        _station_changed(w, s)
        out.held_s[c] = t - out.primary_end_at[c]
        _enter_secondary(cv, port, rules, pools, out, w, c, t)


@njit(**_INLINE)
def _leave_secondary(cv, port, rules, pools, out, w, t):
    w.k[K_IN_SEC] -= 1
    _unblock(cv, port, rules, pools, out, w, t)


@njit(**_PHASE)
def _inland(cv, port, out):
    """Loads that crossed undetected meet the inland checkpoint."""
    if not port.inland_cov > 0.0:
        return
    for c in range(cv.arrive_at.shape[0]):
        d = cv.drug[c]
        if (d >= 0 and not cv.decoy[c] and out.detected_by[c] == DETECTED_NONE
                and port.inland_modes[cv.mode[c]] and cv.u[c, U_INLAND] < port.inland_cov
                and cv.u[c, U_INLAND_DETECT] < port.inland_detect[d, cv.conc[c]]):
            out.detected_by[c] = DETECTED_INLAND


@njit(**_INLINE)
def _ready(cv, port, rules, pools, out, w, now):
    """The first conveyance ready after triage leaves (cleared) or queues for a bay."""
    k = w.k
    c = _pop(w.ready_key, w.ready_idx, k[K_READY])
    k[K_READY] -= 1
    if w.release[c]:  # cleared by triage
        out.exit_at[c] = now
        _leave_secondary(cv, port, rules, pools, out, w, now)
    elif w.guided[c] or out.lane_code[c] == FULL_SEARCH:
        w.queue_hi[k[K_HI_TAIL]] = c
        k[K_HI_TAIL] += 1
    else:
        w.queue_lo[k[K_LO_TAIL]] = c
        k[K_LO_TAIL] += 1


@njit(**_INLINE)
def _close_day(cv, port, out, pools, w):
    """Tomorrow counts today's referrals in secondary until they leave; the loads that
    crossed meet the inland checkpoint. Returns the entries of ``pools.sec_heap``."""
    k = w.k
    for c in range(cv.arrive_at.shape[0]):
        if out.lane_code[c] >= SECONDARY and not port.yard_modes[cv.mode[c]]:
            k[K_SEC_N] = _heap_push(pools.sec_heap, k[K_SEC_N], out.exit_at[c])
    _inland(cv, port, out)
    return k[K_SEC_N]


@njit(**_INLINE)
def _bays_free_up(pools, w):
    """Yesterday's bays free up as events (the first events of a day's secondary)."""
    k = w.k
    for b in range(pools.bay_free.shape[0]):
        _push(w.bay_key, w.bay_idx, k[K_BUSY], pools.bay_free[b], b)
        k[K_BUSY] += 1
        w.bay_owner[b] = -1


@njit(**_INLINE)
def _secondary_times(pools, w):
    """(next carried exit, next bay freeing up, next conveyance ready after triage)."""
    k = w.k
    t_old = pools.sec_heap[0] if k[K_SEC_N] > 0 else INF
    t_bay = w.bay_key[0] if k[K_BUSY] > 0 else INF
    t_ready = w.ready_key[0] if k[K_READY] > 0 else INF
    return t_old, t_bay, t_ready


@njit(**_INLINE)
def _secondary_event(cv, port, rules, pools, out, w, now, t_old, t_bay):
    """Secondary's event at ``now`` (one of its three is due): a carried exit first, then
    a bay freeing up, then a conveyance ready after triage. Both loops call it, so they
    order secondary's events alike."""
    k = w.k
    if t_old == now:
        k[K_SEC_N] = _heap_pop(pools.sec_heap, k[K_SEC_N])
        _unblock(cv, port, rules, pools, out, w, now)
    elif t_bay == now:
        b = _pop(w.bay_key, w.bay_idx, k[K_BUSY])
        k[K_BUSY] -= 1
        w.idle[k[K_IDLE]] = b
        k[K_IDLE] += 1
        if w.bay_owner[b] >= 0:
            w.bay_owner[b] = -1
            _leave_secondary(cv, port, rules, pools, out, w, now)
    else:
        _ready(cv, port, rules, pools, out, w, now)


# ---- the loop -------------------------------------------------------------------------------
@njit(**_PHASE)
def simulate_day(cv, port, rules, pools, out, w):
    """Simulate one day's conveyances (sorted by ``arrive_at``) until every one has left;
    returns the number of entries of ``pools.sec_heap`` (exits carried to tomorrow).

    Events at one instant go in this order: a carried exit, a bay freeing up, a
    conveyance ready after triage, a decision at the end of primary, a queued conveyance
    reaching a booth, an arrival.
    """
    n = cv.arrive_at.shape[0]
    k = w.k
    _bays_free_up(pools, w)
    while True:
        t_old, t_bay, t_ready = _secondary_times(pools, w)
        t_dec = w.pend_key[0] if k[K_PEND] > 0 else INF
        t_start, s = INF, -1
        if k[K_QUEUED] > 0:  # someone waits for a booth
            t_start, s = _next_start(cv, port, pools, w)
        t_arr = cv.arrive_at[k[K_NEXT]] if k[K_NEXT] < n else INF
        t_sec = min(t_old, t_bay, t_ready)
        now = min(t_sec, t_dec, t_start, t_arr)
        if now == INF:
            break
        if t_sec == now:
            _secondary_event(cv, port, rules, pools, out, w, now, t_old, t_bay)
        elif t_dec == now:
            c = _pop(w.pend_key, w.pend_idx, k[K_PEND])
            k[K_PEND] -= 1
            _decide(cv, port, rules, pools, out, w, c, now)
        elif t_start == now:
            c = w.q_head[s]
            w.q_head[s] = w.q_next[c]
            w.q_len[s] -= 1
            k[K_QUEUED] -= 1
            _start_primary(cv, port, pools, out, w, c, now)
        else:
            _arrive(cv, port, pools, out, w, k[K_NEXT])
            k[K_NEXT] += 1
        _dispatch_bays(cv, port, pools, out, w, now)
    return _close_day(cv, port, out, pools, w)


# ---- the plain path -------------------------------------------------------------------------
# A day where primary cannot see secondary or another station (no canine team at primary,
# no lane choice or balking by queue, a secondary that cannot fill, so no booth is ever
# blocked) is the same simulation in two passes with less bookkeeping per event: every
# conveyance's primary in arrival order (each station is a FIFO multi-server queue, so a
# conveyance starts at its station's first free booth from its arrival on), then the
# decisions in (end of primary, row) order merged with secondary's events. ``run_day``
# chooses it outside the loop; ``test_kernel_plain`` checks it against ``simulate_day``.
@njit(**_PHASE)
def _primary_plain(cv, port, rules, pools, out, w):
    """Primary and the decision of every conveyance in arrival order (on a plain day the
    decision does not depend on how many are in secondary, which cannot fill); each
    referral is appended to its station's list (``w.q_head``, ``w.q_next``). False
    (nothing to trust) if a service ends when it starts or never starts, whose order
    against the decisions of that instant only the event loop keeps."""
    for c in range(cv.arrive_at.shape[0]):
        lane = cv.lane[c]
        s = cv.mode[c] * 2 + lane
        out.lane_used[c] = lane
        t = _booth_free_at(port, pools, s, cv.arrive_at[c])
        dur = _draw(port, port.primary_dist[s], cv.u[c, U_PRIMARY])
        end = t + dur
        if not end > t or end == INF:
            return False
        out.primary_start_at[c] = t
        out.primary_end_at[c] = end
        pools.station_key[s, 0] = end
        _sift_down(pools.station_key[s], pools.station_idx[s], port.max_booths[s], 0)
        out.busy[s] += dur
        if port.portal_modes[cv.mode[c]]:
            _portal_image(cv, port, out, c)
        if _decide_code(cv, port, rules, out, c, end, 0) >= SECONDARY:
            w.q_next[c] = -1
            if w.q_head[s] < 0:
                w.q_head[s] = c
            else:
                w.q_next[w.q_tail[s]] = c
            w.q_tail[s] = c
    return True


@njit(**_INLINE)
def _await_referral(key, idx, head, tail, c, end):
    """Insert ``c`` (primary ending at ``end``) in the sorted run ``head..tail-1`` of
    referrals awaiting secondary, in (end, row) order; returns the new tail. The run
    holds only referrals in a booth, so it is short and new ends come last."""
    p = tail
    while p > head and (key[p - 1] > end or (key[p - 1] == end and idx[p - 1] > c)):
        key[p] = key[p - 1]
        idx[p] = idx[p - 1]
        p -= 1
    key[p] = end
    idx[p] = c
    return tail + 1


@njit(**_INLINE)
def _fill_awaiting(out, w, head, tail):
    """Make the run of referrals awaiting secondary hold every one that starts by its
    first end, so that its head is the next referral to enter; returns the tail."""
    while True:
        empty = head == tail
        if empty:  # none in a booth: the next to start ends first among those to come
            by = INF
            for s in range(w.q_head.shape[0]):
                c = w.q_head[s]
                if c >= 0 and out.primary_start_at[c] < by:
                    by = out.primary_start_at[c]
            if by == INF:
                return tail
        else:
            by = w.pend_key[head]
        for s in range(w.q_head.shape[0]):
            c = w.q_head[s]
            while c >= 0 and out.primary_start_at[c] <= by:
                tail = _await_referral(w.pend_key, w.pend_idx, head, tail, c,
                                       out.primary_end_at[c])
                c = w.q_next[c]
            w.q_head[s] = c
        if not empty:
            return tail
        # the run's first end may come after others start: fill it up to that end


@njit(**_PHASE)
def _secondary_plain(cv, port, rules, pools, out, w):
    """Secondary on a plain day: the referrals (in order of end of primary, then row)
    merged with secondary's events as ``simulate_day`` orders them. Logs how many are
    in secondary after each event, keyed by (instant, the row of the last referral
    decided at that instant or -1); returns the log's length."""
    k = w.k
    _bays_free_up(pools, w)
    head = 0
    tail = _fill_awaiting(out, w, 0, 0)
    logged = 0
    last_t, last_c = -INF, -1
    while True:
        t_old, t_bay, t_ready = _secondary_times(pools, w)
        t_sec = min(t_old, t_bay, t_ready)
        t_dec = w.pend_key[head] if head < tail else INF
        now = min(t_sec, t_dec)
        if now == INF:
            return logged
        if t_sec == now:
            _secondary_event(cv, port, rules, pools, out, w, now, t_old, t_bay)
        else:
            c = w.pend_idx[head]
            head += 1
            occupied = 0 if port.yard_modes[cv.mode[c]] else k[K_SEC_N] + k[K_IN_SEC]
            out.occupancy[c] = occupied
            _refer(cv, port, rules, pools, out, w, c, now, occupied)
            last_t, last_c = now, c
            tail = _fill_awaiting(out, w, head, tail)
        _dispatch_bays(cv, port, pools, out, w, now)
        w.log_at[logged] = now
        w.log_row[logged] = last_c if last_t == now else -1
        w.log_occupied[logged] = k[K_SEC_N] + k[K_IN_SEC]
        logged += 1


@njit(**_PHASE)
def _occupancy_plain(cv, port, out, w, heap, logged, carried):
    """Each conveyance not referred saw, at its decision, those in secondary after the
    last logged event at or before it (the event loop's order: an instant's secondary
    events first, then its decisions by row). Ends come nearly in arrival order, so one
    cursor walks the log. A referral's exit goes to tomorrow's ``heap`` (as in
    ``_close_day``); returns its entries."""
    p = -1
    sec_n = w.k[K_SEC_N]
    for c in range(cv.arrive_at.shape[0]):
        yard = port.yard_modes[cv.mode[c]]  # the rail yard is not secondary
        if out.lane_code[c] >= SECONDARY:
            if not yard:
                sec_n = _heap_push(heap, sec_n, out.exit_at[c])
            continue
        if yard:
            out.occupancy[c] = 0
            continue
        t = out.primary_end_at[c]
        while p + 1 < logged and (w.log_at[p + 1] < t or (
                w.log_at[p + 1] == t and w.log_row[p + 1] < c)):
            p += 1
        while p >= 0 and (w.log_at[p] > t or (w.log_at[p] == t and w.log_row[p] > c)):
            p -= 1
        out.occupancy[c] = w.log_occupied[p] if p >= 0 else carried
    return sec_n


@njit(**_PHASE)
def plain_day(cv, port, rules, pools, out, w):
    """The day on the plain path: primary and the decisions in arrival order, then
    secondary, then what each saw in secondary at its decision; the same results as
    ``simulate_day``. Returns the entries of ``pools.sec_heap``, or -1 when the day must
    go to the event loop (then the state and outputs are spoilt)."""
    carried = w.k[K_SEC_N]
    if not _primary_plain(cv, port, rules, pools, out, w):
        return -1
    logged = _secondary_plain(cv, port, rules, pools, out, w)
    sec_n = _occupancy_plain(cv, port, out, w, pools.sec_heap, logged, carried)
    _inland(cv, port, out)
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
        self.yard_free = np.zeros(scenario.rail_yard_teams)  # rail yard exam teams

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
    port: tuple  # a PortArrays
    rules: tuple  # a Rules
    plain_below: int = 0  # the plain path may run a day of fewer conveyances (and carried)


def _triage_steps(sc: CompiledScenario) -> np.ndarray:
    """The triage step of each mode: a scan where a scanner covers it, else a canine
    check where teams sweep it, else none."""
    out = np.zeros(sc.mode_present.shape[0], dtype=np.int64)
    for m in range(out.shape[0]):
        scanned = any(sc.scanner_modes[t, m] and (sc.scanner_type == t).any()
                      for t in range(sc.scanner_modes.shape[0]))
        if scanned:
            out[m] = TRIAGE_SCAN
        elif sc.canine_teams > 0 and sc.canine_modes[m]:
            out[m] = TRIAGE_CANINE
    return out


def prepare(scenario: CompiledScenario, policy: Policy) -> KernelModel:
    """Compile ``scenario`` and ``policy`` into the kernel's arrays."""
    placeholder = deterministic(0.0)
    dists: list[Duration] = []

    def add(d: Duration | None) -> int:
        dists.append(d if d is not None else placeholder)
        return len(dists) - 1

    sc = scenario
    primary = np.array([add(d) for d in sc.primary_service], dtype=np.int64)
    secondary = np.array([add(d) for d in sc.secondary_service], dtype=np.int64)
    full = np.array([add(d) for d in sc.full_search_service], dtype=np.int64)
    canine = add(sc.canine_service)
    scanners = np.array([add(d) for d in sc.scanner_service], dtype=np.int64).reshape(-1)
    analyzer = add(sc.analyzer_service)
    handheld = add(sc.handheld_service)
    dt = encode(dists)
    if max(sc.bay_detect.shape) > 127:  # the kernel reads drug and concealment as int8
        raise ValueError("prepare: at most 127 drugs and concealments")
    triage = _triage_steps(sc)
    port = PortArrays(
        sc.booths, sc.booths.max(axis=1).astype(np.int64), primary, sc.canine_modes,
        sc.canine_detect, float(sc.canine_false_alarm), float(sc.canine_decoy_alert), canine,
        sc.scanner_type, sc.scanner_modes, sc.scanner_detect, sc.scanner_false_alarm,
        scanners, triage, triage == TRIAGE_SCAN, int(sc.secondary_capacity), sc.bay_detect,
        sc.guided_detect, sc.full_detect, secondary, full, analyzer, sc.analyzer_identify,
        float(sc.analyzer_false_alarm), float(sc.handheld_decoy), sc.inland_modes,
        float(sc.inland_coverage),
        sc.inland_detect, dt.kind, dt.param, dt.table, dt.offset, dt.length, dt.values,
        float(sc.spec.canine.sweep_s or 0.0),
        np.array([d.mean_s if d is not None else 0.0 for d in sc.primary_service]),
        sc.choose_lane, sc.balk_wait_s, float(sc.divert_share),
        sc.portal_modes, sc.portal_detect, float(sc.portal_false_alarm), sc.yard_modes,
        _canine_followup(policy, triage), handheld,
        sc.handheld_detect, float(sc.handheld_false_alarm),
    )
    referral = np.ascontiguousarray(np.moveaxis(policy.referral_by_hour_tier(), 3, 0))
    rules = Rules(referral, np.asarray(policy.risk_tier_edges, dtype=np.float64),
                  policy.risk_threshold_value(), policy.broken_to_full_search,
                  policy.clean_enrolled_express, policy.capacity_rule == "hold",
                  ALERT_CHECK_CODES.index(policy.alert_first_check),
                  alert_capacity(policy.capacity_reserve, int(sc.secondary_capacity)),
                  policy.alert_covered_to_bay)
    # primary never sees secondary without canines at primary and drivers' choices; then
    # a day fewer than secondary can hold cannot block a booth
    plain = bool(not sc.choose_lane.any() and np.isinf(sc.balk_wait_s).all()
                 and (sc.canine_teams == 0 or not sc.canine_modes.any()))
    below = min(port.capacity, rules.alert_capacity) if plain else 0
    return KernelModel(scenario=sc, policy=policy, dists=dt, port=port, rules=rules,
                       plain_below=below)


def _canine_followup(policy: Policy, triage: np.ndarray) -> np.ndarray:
    """Per mode: does a team that alerts during its pass stay for the follow-up check?
    Yes where the alert goes straight to a bay exam; with decoy triage (the policy's
    ``alert_first_check`` a quick check that the mode has) the alerted vehicle goes to
    that check and the team returns to the queue, so a decoy costs it only the pass."""
    code = ALERT_CHECK_CODES.index(policy.alert_first_check)
    return np.array([first_check(SECONDARY, R_ALERT, int(t), code) < 0 for t in triage])


@dataclass(frozen=True, eq=False)
class DayRun:
    """Per-conveyance outputs of one simulated day (rows as in the input)."""

    primary_start_at: np.ndarray
    primary_end_at: np.ndarray
    exit_at: np.ndarray
    lane_code: np.ndarray  # int8, order of ``portwatch.engine.decide.LANE_CODES``
    reason_code: np.ndarray  # int8, index of ``portwatch.engine.decide.REASONS``
    occupancy: np.ndarray  # int32, conveyances in secondary at the decision
    screened: np.ndarray  # bool: a canine team screened it at primary
    alert: np.ndarray  # bool: the canine alerted at primary
    detected_by: np.ndarray  # int8, index of ``DETECTED_BY``
    false_alarm: np.ndarray  # bool
    identified: np.ndarray  # bool: the handheld analyzer identified the drug
    secondary_start_at: np.ndarray  # NaN if no bay exam (not referred, or cleared by triage)
    triage: np.ndarray  # int8, index of ``TRIAGE_STEPS`` (-1: not triaged)
    scan_type: np.ndarray  # int8, the scanner type that scanned it (-1: none)
    held_s: np.ndarray  # float64: time a referral held its booth waiting for parking
    busy_s: np.ndarray  # float64: booths by station, canines, scanners by type, bays
    lane_used: np.ndarray  # int8: the lane joined (0 general, 1 express), after any choice
    balked: np.ndarray  # int8: 0 stayed, 1 left the line and gave up, 2 diverted elsewhere

    @property
    def inspected(self) -> np.ndarray:
        return self.lane_code >= SECONDARY

    @property
    def examined(self) -> np.ndarray:
        """Referred and given a bay exam or full search (not cleared by triage)."""
        return ~np.isnan(self.secondary_start_at)


def _outputs(n: int, n_busy: int) -> Any:  # an Outputs
    # small codes in small integers, and the flags and ``held_s`` left at their zero
    # (the kernel writes them only when set): every byte written is a fresh page the
    # operating system must clear, which was half the run time of a million conveyances.
    # What a decision leaves as it is (no detection, no bay exam, no triage, no scan) is
    # filled here in bulk rather than conveyance by conveyance.
    i32, i8, b = np.int32, np.int8, np.bool_
    return Outputs(
        np.empty(n), np.empty(n), np.empty(n), np.empty(n, dtype=i8), np.empty(n, dtype=i8),
        np.empty(n, dtype=i32), np.zeros(n, dtype=b), np.zeros(n, dtype=b),
        np.full(n, DETECTED_NONE, dtype=i8), np.zeros(n, dtype=b), np.zeros(n, dtype=b),
        np.full(n, np.nan), np.full(n, -1, dtype=i8), np.full(n, -1, dtype=i8), np.zeros(n),
        np.zeros(n_busy), np.empty(n, dtype=i8), np.zeros(n, dtype=i8),
    )


@njit(cache=True, nogil=True)
def _is_sorted(a: np.ndarray) -> bool:
    for i in range(1, a.shape[0]):  # noqa: SIM110 (a loop numba compiles)
        if a[i] < a[i - 1]:
            return False
    return True


def _work(n: int, n_bays: int, carried: int = 0) -> Any:  # a Work
    i64, i32 = np.int64, np.int32
    # the plain path's log: an entry per secondary event, at most a carried exit each,
    # a bay freeing up per bay and per exam, a ready and a decision per referral
    n_log = carried + 2 * n_bays + 3 * n + 1
    return Work(
        np.zeros(N_COUNTERS, dtype=i64), np.empty(n), np.empty(n, dtype=i64), np.empty(n),
        np.empty(n, dtype=i64), np.empty(n_bays), np.empty(n_bays, dtype=i64),
        np.empty(n_bays, dtype=i64), np.empty(n, dtype=i64), np.empty(n, dtype=i64),
        np.empty(n, dtype=i64), np.empty(n, dtype=i64), np.empty(n, dtype=i32),
        np.full(N_STATIONS, -1, dtype=i64), np.full(N_STATIONS, -1, dtype=i64),
        np.empty(n, dtype=i32), np.zeros(n, dtype=np.bool_), np.zeros(n, dtype=np.bool_),
        np.zeros(n, dtype=np.bool_), np.full(n_bays, -1, dtype=i64),
        np.zeros(N_STATIONS, dtype=i64), np.empty(n_log), np.empty(n_log, dtype=i32),
        np.empty(n_log, dtype=i32), np.empty(N_STATIONS),
        np.zeros(N_STATIONS, dtype=np.bool_),
    )


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
    plain: bool = True,
) -> DayRun:
    """Run the kernel on one day's conveyances, sorted by ``arrive_at_s`` (seconds since
    the scenario start); ``uniforms`` is [n, N_UNIFORMS]. Updates ``state`` in place.

    ``plain=False`` runs the event loop even on a day the plain path could run (the
    results are the same)."""
    n = arrive_at_s.shape[0]
    if not _is_sorted(np.asarray(arrive_at_s, dtype=np.float64)):
        raise ValueError("run_day: conveyances must be sorted by arrive_at_s")
    if uniforms.shape != (n, N_UNIFORMS):
        raise ValueError(f"run_day: uniforms must have shape ({n}, {N_UNIFORMS})")
    sc = model.scenario
    carried = state.secondary_exits.shape[0]
    heap = np.empty(carried + n)
    heap[:carried] = np.sort(state.secondary_exits)
    # the codes (mode, lane, custody, drug, concealment) are small: int8, read in a
    # quarter of the memory of int64
    f64, i8, b = np.float64, np.int8, np.bool_
    cv = Conveyances(
        np.ascontiguousarray(arrive_at_s, dtype=f64), np.ascontiguousarray(mode, dtype=i8),
        np.ascontiguousarray(lane, dtype=i8), np.ascontiguousarray(enrolled, dtype=b),
        np.ascontiguousarray(custody, dtype=i8), np.ascontiguousarray(risk, dtype=f64),
        np.ascontiguousarray(drug, dtype=i8), np.ascontiguousarray(concealment, dtype=i8),
        np.ascontiguousarray(is_decoy, dtype=b), np.ascontiguousarray(uniforms),
    )
    out = _outputs(n, BUSY_SCANNERS + len(sc.scanner_service) + 2)
    busy = out.busy
    pools = Pools(state.station_key, state.station_idx, state.canine_key, state.canine_idx,
                  state.scanner_free, state.bay_free, heap, state.yard_free)
    w = _work(n, sc.bays, carried)
    w.k[K_SEC_N] = carried
    # the plain path needs a secondary that cannot fill today, and hands the day back to
    # the event loop (booths as they were) on a service that ends as it starts
    if plain and carried + n < model.plain_below:
        saved = state.copy()
        sec_n = plain_day(cv, model.port, model.rules, pools, out, w)
        if sec_n < 0:
            for name, value in vars(saved).items():
                getattr(state, name)[...] = value
            heap[:carried] = np.sort(state.secondary_exits)
            out, w = _outputs(n, busy.shape[0]), _work(n, sc.bays, carried)
            w.k[K_SEC_N] = carried
            pools = Pools(state.station_key, state.station_idx, state.canine_key,
                          state.canine_idx, state.scanner_free, state.bay_free, heap,
                          state.yard_free)
            plain = False
    else:
        plain = False
    if not plain:
        sec_n = simulate_day(cv, model.port, model.rules, pools, out, w)
    state.secondary_exits = heap[:sec_n].copy()
    fields = out._asdict()
    fields["busy_s"] = fields.pop("busy")
    return DayRun(**fields)


__all__ = [
    "DETECTED_BY",
    "N_UNIFORMS",
    "TRIAGE_STEPS",
    "DayRun",
    "KernelModel",
    "PortState",
    "plain_day",
    "prepare",
    "run_day",
    "simulate_day",
]
