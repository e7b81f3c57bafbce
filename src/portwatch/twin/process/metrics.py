"""What a simulated day measured, and how days add up into one summary.

``day_metrics`` reduces one day's conveyances and kernel outputs to counts, sums and
wait histograms (no per-conveyance arrays), so a year at southern-border volume sums in
constant memory; ``combine`` adds days; ``summarise`` turns a sum into the figures a
study reports. Definitions:

- *crossed*: left the port and was not seized there; *share uninspected*: crossed
  without a secondary exam or full search (waved-through referrals included); *share
  unverified*: crossed neither inspected nor with a ``clean`` custody verdict.
- *wait*: primary wait, from arrival to the start of primary service, per mode and lane
  (mean and max exact; median and p95 from a histogram with 1% wide log bins).
- *delay cost*: time in the port (arrival to exit, including inspection) times the
  scenario's value of an hour for the mode.
- *queue length*: conveyances waiting for primary, sampled every 5 minutes, hourly means.
- *utilisation*: busy time over staffed time (booths by station, canine teams,
  scanners by type, secondary bays).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numba import njit

from portwatch.engine.decide import R_WAVED, REASONS
from portwatch.targeting.policy import LANE_ORDER, MODE_ORDER, N_LANES, N_MODES
from portwatch.twin.process.kernel import (
    BUSY_CANINE,
    BUSY_SCANNERS,
    DETECTED_INLAND,
    DETECTED_NONE,
    DayRun,
)
from portwatch.twin.process.traffic import DayTraffic
from portwatch.twin.scenario.schema import N_STATIONS, CompiledScenario

DAY_S = 86_400.0
# Bin 0 holds the waits of zero (a free booth), then [1e-6, 1) s, then 1% wide log bins.
WAIT_EDGES_S = np.concatenate([[0.0, 1e-6], np.geomspace(1.0, 2 * DAY_S, 1201)])
N_WAIT_BINS = WAIT_EDGES_S.shape[0]  # the last bin holds waits beyond two days
QUEUE_STEP_S = 300.0
CUSTODY_CLEAN = 1


@dataclass(frozen=True, eq=False)
class DayMetrics:
    """Sums over one day (or, after ``combine``, several). Arrays by mode follow
    ``MODE_ORDER``; by station, ``mode * 2 + lane``; drug tables are [drug, (count, kg,
    value_usd, harm)]."""

    days: int
    arrived: np.ndarray
    crossed: np.ndarray
    in_port_at_end: np.ndarray
    seized_at_port: np.ndarray
    inspected: np.ndarray
    crossed_uninspected: np.ndarray
    crossed_unverified: np.ndarray
    loads_attempted: np.ndarray
    loads_interdicted: np.ndarray
    loads_interdicted_inland: np.ndarray
    decoys: np.ndarray  # sent, screened by a canine, alerted, inspected
    false_alarms: np.ndarray  # [mode]
    reasons: np.ndarray  # [reason]
    wait_sum_s: np.ndarray  # [station]
    wait_max_s: np.ndarray
    wait_count: np.ndarray
    wait_hist: np.ndarray  # [station, N_WAIT_BINS]
    secondary_wait_sum_s: np.ndarray  # [mode]: referral to the start of the bay exam
    secondary_count: np.ndarray  # [mode]: examined in a bay (not cleared by triage)
    booths_held: np.ndarray  # [mode]: referrals that held their booth, secondary full
    booth_held_sum_s: np.ndarray  # [mode]
    cleared_by_triage: np.ndarray  # [mode]: referred, cleared by a scan or canine check
    time_in_port_sum_s: np.ndarray  # [mode]
    delay_cost_usd: np.ndarray  # [mode]
    queue_by_hour: np.ndarray  # [mode, 24], summed over days
    busy_s: np.ndarray
    staffed_s: np.ndarray
    enrolled_arrived: np.ndarray  # [mode]: arrivals eligible for the express lane
    balked: np.ndarray  # [mode]: left the line on arrival and gave up the trip
    diverted: np.ndarray  # [mode]: left the line on arrival for another port


def staffed_seconds(sc: CompiledScenario) -> np.ndarray:
    """Seconds of capacity per day, laid out like ``DayRun.busy_s``."""
    n_types = len(sc.scanner_service)
    out = np.zeros(BUSY_SCANNERS + n_types + 2)
    out[:N_STATIONS] = sc.booths.sum(axis=1) * 3600.0
    out[BUSY_CANINE] = sc.canine_teams * DAY_S
    for ty in range(n_types):
        out[BUSY_SCANNERS + ty] = float((sc.scanner_type == ty).sum()) * DAY_S
    out[-2] = sc.rail_yard_teams * DAY_S
    out[-1] = sc.bays * DAY_S
    return out


# One compiled pass over the day's arrays; the wait and queue counts are helpers that
# numba inlines.
@njit(cache=True, nogil=True)
def _reduce_day(
    mode, lane, custody, drug, mass_kg, is_load, is_decoy, arrive_at,
    start_at, end_at, exit_at, lane_code, reason_code, screened, alert, detected_by,
    false_alarm, secondary_start_at, held_s, day_start, edges, value_per_kg, harm_per_kg,
    by_mode, drugs, decoys, reasons, wait_sum, wait_max, wait_count, hist, queue_steps,
    balked,
):
    """Every sum of a day in one pass. ``by_mode`` rows: arrived, crossed, in port at the
    end, seized at the port, inspected, crossed uninspected, crossed unverified, false
    alarms, secondary wait sum (examined only), time in port sum, examined in a bay,
    booths held by a referral, held time sum, cleared by triage. ``drugs`` [table, drug, quantity]:
    attempted / interdicted / interdicted inland x count, kg, value, harm."""
    day_end = day_start + 86_400.0
    for i in range(mode.shape[0]):
        if balked[i] > 0:  # left the line on arrival: counted apart
            continue
        m = mode[i]
        s = m * 2 + lane[i]
        det = detected_by[i]
        seized = det != DETECTED_NONE and det != DETECTED_INLAND
        left = exit_at[i] < day_end
        crossed = left and not seized
        inspected = lane_code[i] >= 2
        by_mode[0, m] += 1.0
        if crossed:
            by_mode[1, m] += 1.0
            if not inspected:
                by_mode[5, m] += 1.0
                if custody[i] != CUSTODY_CLEAN:
                    by_mode[6, m] += 1.0
        if not left:
            by_mode[2, m] += 1.0
        if seized:
            by_mode[3, m] += 1.0
        if inspected:
            by_mode[4, m] += 1.0
            if secondary_start_at[i] == secondary_start_at[i]:  # not NaN: examined
                by_mode[8, m] += secondary_start_at[i] - end_at[i]
                by_mode[10, m] += 1.0
            else:
                by_mode[13, m] += 1.0
        if held_s[i] > 0.0:
            by_mode[11, m] += 1.0
            by_mode[12, m] += held_s[i]
        if false_alarm[i]:
            by_mode[7, m] += 1.0
        by_mode[9, m] += exit_at[i] - arrive_at[i]
        reasons[reason_code[i]] += 1.0
        if is_decoy[i]:
            decoys[0] += 1.0
            if screened[i]:
                decoys[1] += 1.0
            if alert[i]:
                decoys[2] += 1.0
            if inspected:
                decoys[3] += 1.0
        if is_load[i]:
            d = drug[i]
            kg = mass_kg[i]
            for table in range(3):
                if table == 1 and det == DETECTED_NONE:
                    break
                if table == 2 and det != DETECTED_INLAND:
                    break
                drugs[table, d, 0] += 1.0
                drugs[table, d, 1] += kg
                drugs[table, d, 2] += kg * value_per_kg[d]
                drugs[table, d, 3] += kg * harm_per_kg[d]
        _count_wait(start_at[i] - arrive_at[i], s, edges, wait_sum, wait_max, wait_count, hist)
        _count_queue(m, arrive_at[i] - day_start, start_at[i] - day_start, queue_steps)


@njit(cache=True, nogil=True, inline="always")
def _count_wait(w, s, edges, wait_sum, wait_max, wait_count, hist):
    """Add one primary wait ``w`` (s) to station ``s``'s sums and histogram."""
    wait_sum[s] += w
    wait_count[s] += 1.0
    if w > wait_max[s]:
        wait_max[s] = w
    b = np.searchsorted(edges, w, side="right") - 1
    if b < 0:
        b = 0
    elif b >= edges.shape[0]:
        b = edges.shape[0] - 1
    hist[s, b] += 1.0


@njit(cache=True, nogil=True, inline="always")
def _count_queue(m, arrive_s, start_s, queue_steps):
    """One conveyance of mode ``m`` joins the queue at ``arrive_s`` and leaves it at
    ``start_s`` (s from the day's start): +1 and -1 in the per-step queue counts."""
    steps = queue_steps.shape[1] - 1
    a = min(int(arrive_s / QUEUE_STEP_S), steps)
    st = min(int(start_s / QUEUE_STEP_S), steps)
    queue_steps[m, a] += 1.0
    queue_steps[m, st] -= 1.0


def day_metrics(sc: CompiledScenario, traffic: DayTraffic, run: DayRun) -> DayMetrics:
    """Reduce one simulated day to its ``DayMetrics``."""
    day_start = traffic.day * DAY_S
    k = len(sc.drugs)
    by_mode = np.zeros((14, N_MODES))
    drugs = np.zeros((3, k, 4))
    decoys = np.zeros(4)
    reasons = np.zeros(len(REASONS))
    wait_sum = np.zeros(N_STATIONS)
    wait_max = np.zeros(N_STATIONS)
    wait_count = np.zeros(N_STATIONS)
    hist = np.zeros((N_STATIONS, N_WAIT_BINS))
    steps = int(DAY_S // QUEUE_STEP_S)
    queue_steps = np.zeros((N_MODES, steps + 1))
    _reduce_day(
        traffic.mode, run.lane_used, traffic.custody, traffic.drug, traffic.mass_kg,
        traffic.is_load, traffic.is_decoy, traffic.arrive_at_s, run.primary_start_at,
        run.primary_end_at, run.exit_at, run.lane_code, run.reason_code, run.screened,
        run.alert, run.detected_by, run.false_alarm, run.secondary_start_at, run.held_s, day_start,
        WAIT_EDGES_S, sc.drug_value_usd_per_kg, sc.drug_harm_per_kg,
        by_mode, drugs, decoys, reasons, wait_sum, wait_max, wait_count, hist, queue_steps,
        run.balked,
    )
    # Waiting for primary at the end of each 5-minute step: arrived minus started so far.
    queue = np.cumsum(queue_steps[:, :steps], axis=1).reshape(N_MODES, 24, -1).mean(axis=2)
    return DayMetrics(
        days=1,
        arrived=by_mode[0],
        crossed=by_mode[1],
        in_port_at_end=by_mode[2],
        seized_at_port=by_mode[3],
        inspected=by_mode[4],
        crossed_uninspected=by_mode[5],
        crossed_unverified=by_mode[6],
        loads_attempted=drugs[0],
        loads_interdicted=drugs[1],
        loads_interdicted_inland=drugs[2],
        decoys=decoys,
        false_alarms=by_mode[7],
        reasons=reasons,
        wait_sum_s=wait_sum,
        wait_max_s=wait_max,
        wait_count=wait_count,
        wait_hist=hist,
        secondary_wait_sum_s=by_mode[8],
        secondary_count=by_mode[10],
        booths_held=by_mode[11],
        booth_held_sum_s=by_mode[12],
        cleared_by_triage=by_mode[13],
        time_in_port_sum_s=by_mode[9],
        delay_cost_usd=by_mode[9] / 3600.0 * sc.hour_value_usd,
        queue_by_hour=queue,
        busy_s=run.busy_s.copy(),
        staffed_s=staffed_seconds(sc),
        enrolled_arrived=np.bincount(traffic.mode[traffic.enrolled & (run.balked == 0)],
                                     minlength=N_MODES).astype(np.float64),
        balked=np.bincount(traffic.mode[run.balked == 1], minlength=N_MODES).astype(np.float64),
        diverted=np.bincount(traffic.mode[run.balked == 2],
                             minlength=N_MODES).astype(np.float64),
    )


def combine(days: list[DayMetrics]) -> DayMetrics:
    """The sum of several days (maxima for ``wait_max_s``)."""
    if not days:
        raise ValueError("combine: no days")
    out = {}
    for f in fields(DayMetrics):
        values = [getattr(d, f.name) for d in days]
        if f.name == "wait_max_s":
            out[f.name] = np.maximum.reduce(values)
        elif f.name == "days":
            out[f.name] = sum(values)
        else:
            out[f.name] = np.sum(values, axis=0)
    return DayMetrics(**out)


def hist_quantile(hist: np.ndarray, q: float) -> float:
    """The ``q``-quantile (s) of waits binned on ``WAIT_EDGES_S`` (linear within a bin)."""
    total = hist.sum()
    if total <= 0:
        return float("nan")
    cum = np.cumsum(hist)
    target = q * total
    b = int(np.searchsorted(cum, target, side="left"))
    if b == 0:
        return 0.0
    lo = WAIT_EDGES_S[b]
    hi = WAIT_EDGES_S[b + 1] if b + 1 < WAIT_EDGES_S.shape[0] else lo
    before = cum[b - 1] if b > 0 else 0.0
    frac = (target - before) / hist[b] if hist[b] > 0 else 0.0
    return float(lo + (hi - lo) * frac)


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 else float("nan")


def _wait_stats(total: DayMetrics, stations: list[int]) -> dict[str, float]:
    hist = total.wait_hist[stations].sum(axis=0)
    count = total.wait_count[stations].sum()
    return {
        "mean": _ratio(total.wait_sum_s[stations].sum(), count),
        "median": hist_quantile(hist, 0.5),
        "p95": hist_quantile(hist, 0.95),
        "max": float(total.wait_max_s[stations].max()) if count > 0 else float("nan"),
        "count": float(count),
    }


def _waits(total: DayMetrics, present: list[int]
           ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Primary waits per mode, and per mode and lane where the lane saw traffic."""
    wait: dict[str, dict[str, float]] = {}
    wait_by_lane: dict[str, dict[str, float]] = {}
    for m in present:
        wait[str(MODE_ORDER[m])] = _wait_stats(total, [m * 2, m * 2 + 1])
        for lane in range(N_LANES):
            if total.wait_count[m * 2 + lane] > 0:
                key = f"{MODE_ORDER[m]}.{LANE_ORDER[lane]}"
                wait_by_lane[key] = _wait_stats(total, [m * 2 + lane])
    return wait, wait_by_lane


def _express(sc: CompiledScenario, total: DayMetrics, present: list[int],
             wait_by_lane: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Per mode with an express lane: the share of arrivals eligible for it and the mean
    primary wait in each lane; ``gain_s`` is what an eligible traveller saves on average
    by holding the enrolment (general minus express mean wait)."""
    out = {}
    for m in present:
        if not sc.has_express[m]:
            continue
        name = str(MODE_ORDER[m])
        general = wait_by_lane.get(f"{name}.general", {}).get("mean", float("nan"))
        express = wait_by_lane.get(f"{name}.express", {}).get("mean", float("nan"))
        out[name] = {
            "eligible_share": _ratio(total.enrolled_arrived[m], total.arrived[m]),
            "general_wait_mean_s": general,
            "express_wait_mean_s": express,
            "gain_s": general - express,
        }
    return out


def _utilisation(sc: CompiledScenario, total: DayMetrics) -> dict[str, float]:
    """Busy over staffed time of every resource that was staffed."""
    names = [f"booths.{MODE_ORDER[s // 2]}.{LANE_ORDER[s % 2]}" for s in range(N_STATIONS)]
    names += ["canine"] + [f"scanner.{n}" for n in sc.scanner_names]
    names += ["rail_yard", "secondary_bays"]
    return {
        name: _ratio(busy, staffed)
        for name, busy, staffed in zip(names, total.busy_s, total.staffed_s, strict=True)
        if staffed > 0
    }


def summarise(sc: CompiledScenario, total: DayMetrics) -> dict[str, object]:
    """The figures of a run (per-day counts are averages over ``total.days``)."""
    d = max(total.days, 1)
    present = [m for m in range(N_MODES) if sc.mode_present[m]]
    wait, wait_by_lane = _waits(total, present)
    by_drug = {
        drug: {
            "attempted": float(total.loads_attempted[k, 0] / d),
            "interdicted": float(total.loads_interdicted[k, 0] / d),
            "attempted_kg": float(total.loads_attempted[k, 1] / d),
            "interdicted_kg": float(total.loads_interdicted[k, 1] / d),
            "interdicted_value_usd": float(total.loads_interdicted[k, 2] / d),
            "interdicted_harm": float(total.loads_interdicted[k, 3] / d),
        }
        for k, drug in enumerate(sc.drugs)
    }
    crossed = total.crossed.sum()
    attempted = total.loads_attempted.sum(axis=0)
    stopped = total.loads_interdicted.sum(axis=0)
    return {
        "days": total.days,
        "arrivals": float(total.arrived.sum() / d),
        "crossings": float(crossed / d),
        "crossings_by_mode": {str(MODE_ORDER[m]): float(total.crossed[m] / d) for m in present},
        "in_port_at_end": float(total.in_port_at_end.sum() / d),
        "inspected": float(total.inspected.sum() / d),
        "loads_attempted": float(attempted[0] / d),
        "loads_interdicted": float(stopped[0] / d),
        "loads_interdicted_inland": float(total.loads_interdicted_inland[:, 0].sum() / d),
        "interdiction_rate": _ratio(stopped[0], attempted[0]),
        "kg_attempted": float(attempted[1] / d),
        "kg_interdicted": float(stopped[1] / d),
        "value_interdicted_usd": float(stopped[2] / d),
        "harm_attempted": float(attempted[3] / d),
        "harm_interdicted": float(stopped[3] / d),
        "by_drug": by_drug,
        "share_uninspected": _ratio(total.crossed_uninspected.sum(), crossed),
        "share_unverified": _ratio(total.crossed_unverified.sum(), crossed),
        "wait_s": wait,
        "wait_s_by_lane": wait_by_lane,
        "express": _express(sc, total, present, wait_by_lane),
        "balked": float(total.balked.sum() / d),
        "diverted": float(total.diverted.sum() / d),
        "balked_by_mode": {str(MODE_ORDER[m]): float(total.balked[m] / d) for m in present},
        "diverted_by_mode": {str(MODE_ORDER[m]): float(total.diverted[m] / d) for m in present},
        "examined": float(total.secondary_count.sum() / d),
        "cleared_by_triage": float(total.cleared_by_triage.sum() / d),
        "booths_held": float(total.booths_held.sum() / d),
        "booth_held_mean_s": _ratio(total.booth_held_sum_s.sum(), total.booths_held.sum()),
        "secondary_wait_s": {
            str(MODE_ORDER[m]): _ratio(total.secondary_wait_sum_s[m], total.secondary_count[m])
            for m in present
        },
        "time_in_port_s": {
            str(MODE_ORDER[m]): _ratio(total.time_in_port_sum_s[m], total.arrived[m])
            for m in present
        },
        "queue_length_by_hour": {
            str(MODE_ORDER[m]): (total.queue_by_hour[m] / d).tolist() for m in present
        },
        "utilisation": _utilisation(sc, total),
        "false_alarms": float(total.false_alarms.sum() / d),
        "decoys_sent": float(total.decoys[0] / d),
        "decoys_screened": float(total.decoys[1] / d),
        "decoys_alerted": float(total.decoys[2] / d),
        "decoys_inspected": float(total.decoys[3] / d),
        "waved_through": float(total.reasons[R_WAVED] / d),
        "decisions": {REASONS[r]: float(total.reasons[r] / d) for r in range(len(REASONS))},
        "delay_cost_usd": float(total.delay_cost_usd.sum() / d),
        "value_of_hour_usd": {
            str(MODE_ORDER[m]): float(sc.hour_value_usd[m]) for m in present
        },
        "value_of_hour_source": sc.spec.cost.source or "",
    }


__all__ = [
    "WAIT_EDGES_S",
    "DayMetrics",
    "combine",
    "day_metrics",
    "hist_quantile",
    "staffed_seconds",
    "summarise",
]
