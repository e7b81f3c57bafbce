"""The twin's kernel against the same reduced port written in SimPy, and the full model.

The reduced port: Poisson arrivals, one lane of 10 booths with exponential primary
service (mean 60 s, 90% utilisation), 5% referred at random to 3 secondary bays
(exponential, mean 600 s). Both implementations consume the same arrivals, service times
and referral draws and must produce the same waits; the benchmark times each on one
core and reports conveyances per second. Then the full port model (every stage of the
kernel, with traffic generation and metrics) on the shipped scenarios.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np

from benchmarks.report import machine_line, write_section

BOOTHS = 10
BAYS = 3
PRIMARY_MEAN_S = 60.0
SECONDARY_MEAN_S = 600.0
REFERRAL = 0.05
UTILISATION = 0.9
ROUNDS = 3


@dataclass(frozen=True)
class ReducedInputs:
    """Arrivals and per-conveyance draws shared by both implementations."""

    arrive_at_s: np.ndarray
    uniforms: np.ndarray
    primary_s: np.ndarray
    referred: np.ndarray
    secondary_s: np.ndarray


def reduced_inputs(n: int, seed: int) -> ReducedInputs:
    """``n`` conveyances of the reduced port, drawn from ``seed``."""
    from portwatch.twin.process.durations import draw_many, encode
    from portwatch.twin.process.kernel import N_UNIFORMS, U_BAY_S, U_DECIDE, U_PRIMARY
    from portwatch.twin.validation import poisson_arrivals

    sc = reduced_scenario()
    rng = np.random.default_rng(seed)
    rate = UTILISATION * BOOTHS / PRIMARY_MEAN_S
    at = poisson_arrivals(rate, n, rng)
    u = rng.random((n, N_UNIFORMS))
    dists = encode([sc.primary_service[2], sc.secondary_service[1]])
    return ReducedInputs(
        arrive_at_s=at,
        uniforms=u,
        primary_s=draw_many(dists, 0, u[:, U_PRIMARY]),
        referred=u[:, U_DECIDE] < REFERRAL,
        secondary_s=draw_many(dists, 1, u[:, U_BAY_S]),
    )


def reduced_scenario():  # type: ignore[no-untyped-def]
    from portwatch.twin.validation import reduced_port

    return reduced_port(
        BOOTHS, {"kind": "exponential", "mean_s": PRIMARY_MEAN_S}, bays=BAYS,
        secondary_service={"kind": "exponential", "mean_s": SECONDARY_MEAN_S},
    )


def simpy_reduced_port(inputs: ReducedInputs) -> tuple[np.ndarray, np.ndarray]:
    """The reduced port in SimPy: (primary wait, secondary wait; NaN if not referred)."""
    import simpy

    at = inputs.arrive_at_s
    n = at.shape[0]
    primary_wait = np.zeros(n)
    secondary_wait = np.full(n, np.nan)
    env = simpy.Environment()
    booths = simpy.Resource(env, capacity=BOOTHS)
    bays = simpy.Resource(env, capacity=BAYS)

    def conveyance(i: int):  # type: ignore[no-untyped-def]
        arrived = env.now
        with booths.request() as req:
            yield req
            primary_wait[i] = env.now - arrived
            yield env.timeout(inputs.primary_s[i])
        if inputs.referred[i]:
            referred_at = env.now
            with bays.request() as req:
                yield req
                secondary_wait[i] = env.now - referred_at
                yield env.timeout(inputs.secondary_s[i])

    def source():  # type: ignore[no-untyped-def]
        for i in range(n):
            yield env.timeout(at[i] - env.now)
            env.process(conveyance(i))

    env.process(source())
    env.run()
    return primary_wait, secondary_wait


def kernel_reduced_port(inputs: ReducedInputs, plain: bool = True) -> tuple[np.ndarray,
                                                                          np.ndarray]:
    """The reduced port in the kernel: (primary wait, secondary wait; NaN if not referred).
    ``plain=False``: the kernel's event loop (what every shipped port runs) rather than
    its plain path (chosen for a day where primary never sees secondary, as here)."""
    from portwatch.twin.validation import run_reduced_port

    run = run_reduced_port(reduced_scenario(), REFERRAL, inputs.arrive_at_s, inputs.uniforms,
                           plain=plain)
    return run.primary_wait_s, run.secondary_wait_s


def kernel_event_loop(inputs: ReducedInputs) -> tuple[np.ndarray, np.ndarray]:
    """``kernel_reduced_port`` on the kernel's event loop."""
    return kernel_reduced_port(inputs, plain=False)


def _rate(fn, inputs: ReducedInputs, repeats: int) -> tuple[float, tuple]:  # type: ignore[no-untyped-def,type-arg]
    best = np.inf
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn(inputs)
        best = min(best, time.perf_counter() - t0)
    return inputs.arrive_at_s.shape[0] / best, out  # type: ignore[return-value]


def without_drivers(name: str):  # type: ignore[no-untyped-def]
    """Shipped scenario ``name`` without its ``[drivers]`` table (no lane choice, nobody
    leaves the line): what the drivers' mechanics cost."""
    from portwatch.twin.scenario.schema import parse_scenario, scenario_data

    data, where = scenario_data(name)
    data.pop("drivers", None)
    return parse_scenario(data, where)


def full_model_rate(scenario, days: int) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    """(conveyances per second, seconds, conveyances) of ``days`` of ``scenario`` with
    traffic generation, the naive adversary, the kernel and the metrics, one core (the
    best of ``ROUNDS`` runs)."""
    from portwatch.targeting.policy import Policy
    from portwatch.twin.study.replications import run_study

    policy = Policy.uniform(0.03)
    run_study(scenario, policy, "naive", days=1, replications=1, seed=1)  # warm caches
    seconds = np.inf
    for _ in range(ROUNDS):  # the best of a few: one run of a fraction of a second is noisy
        t0 = time.perf_counter()
        result = run_study(scenario, policy, "naive", days=days, replications=1, seed=2)
        seconds = min(seconds, time.perf_counter() - t0)
    n = int(result.conservation[policy.name]["arrived"])
    return n / seconds, seconds, n


def main() -> None:
    from portwatch.twin.scenario.schema import scenario_names

    kernel_inputs = reduced_inputs(1_000_000, seed=11)
    simpy_inputs = reduced_inputs(100_000, seed=12)
    for warm in (kernel_reduced_port, kernel_event_loop):  # compile / load the cache
        warm(reduced_inputs(1000, seed=1))
    load_before = os.getloadavg()[0]
    # Alternate the three, ROUNDS times, and keep each one's best: on a shared machine
    # the load then weighs on all alike.
    kernel_rate = loop_rate = simpy_rate = 0.0
    for _ in range(ROUNDS):
        rate, _ = _rate(kernel_reduced_port, kernel_inputs, repeats=3)
        kernel_rate = max(kernel_rate, rate)
        rate, _ = _rate(kernel_event_loop, kernel_inputs, repeats=3)
        loop_rate = max(loop_rate, rate)
        rate, simpy_out = _rate(simpy_reduced_port, simpy_inputs, repeats=1)
        simpy_rate = max(simpy_rate, rate)
    load_after = os.getloadavg()[0]
    gaps = []
    for fn in (kernel_reduced_port, kernel_event_loop):
        kernel_out = fn(simpy_inputs)
        referred = ~np.isnan(simpy_out[1])
        gaps.append((float(np.max(np.abs(kernel_out[0] - simpy_out[0]))),
                     float(np.max(np.abs(kernel_out[1][referred] - simpy_out[1][referred])))))
    primary_gap = max(g[0] for g in gaps)
    secondary_gap = max(g[1] for g in gaps)
    rows = []
    for name in scenario_names():
        days = 3 if name == "southern-border" else 7
        rate, seconds, n = full_model_rate(name, days)
        bare, _, _ = full_model_rate(without_drivers(name), days)
        rows.append(f"| {name} | {days} | {n:,} | {seconds:.2f} | {rate:,.0f} | {bare:,.0f} |")
        print(f"full model {name}: {n} conveyances in {seconds:.2f} s, {rate:,.0f}/s "
              f"({bare:,.0f}/s without drivers)")
    print(f"kernel {kernel_rate:,.0f}/s (event loop {loop_rate:,.0f}/s), SimPy "
          f"{simpy_rate:,.0f}/s, ratio {kernel_rate / simpy_rate:,.0f}x "
          f"({loop_rate / simpy_rate:,.0f}x), max wait gap {primary_gap:.2e} s, load "
          f"{load_before:.1f} -> {load_after:.1f}")
    md = f"""## Twin kernel (`python -m benchmarks twin_kernel`)

{machine_line()}; load average (1 min) {load_before:.1f} before and {load_after:.1f}
after the reduced-port runs, on a machine shared with other work

The reduced port (Poisson arrivals, 10 booths at 90% utilisation with exponential
service of mean {PRIMARY_MEAN_S:.0f} s, {REFERRAL:.0%} referred to {BAYS} bays with
exponential service of mean {SECONDARY_MEAN_S:.0f} s) run on the same arrivals, service
times and referral draws by the numba kernel and by SimPy, one core each, alternated
{ROUNDS} times (best rate of each kept). The kernel runs a day on its plain path when
primary never sees secondary (no canine team at primary, no lane choice or balking by
queue, a secondary that cannot fill that day, as here): every conveyance's primary and
decision in arrival order, then only the referrals ordered against secondary's events.
The shipped ports (canines, drivers) run the event loop, shown here on the same port:

| implementation | conveyances | conveyances / s |
|---|---:|---:|
| portwatch kernel (plain path) | {kernel_inputs.arrive_at_s.shape[0]:,} | {kernel_rate:,.0f} |
| portwatch kernel (event loop) | {kernel_inputs.arrive_at_s.shape[0]:,} | {loop_rate:,.0f} |
| SimPy 4 | {simpy_inputs.arrive_at_s.shape[0]:,} | {simpy_rate:,.0f} |

Kernel / SimPy: **{kernel_rate / simpy_rate:,.0f}x** (target: at least 100x); the event
loop alone {loop_rate / simpy_rate:,.0f}x. On the same {simpy_inputs.arrive_at_s.shape[0]:,}
conveyances both kernel paths and SimPy agree conveyance by conveyance: the largest
difference in primary wait is {primary_gap:.1e} s and in secondary wait
{secondary_gap:.1e} s (floating-point rounding); the plain path and the event loop give
the same outputs bit for bit (`tests/twin/test_kernel_plain.py`).

The full port model (traffic and load generation, every kernel stage, per-day metrics;
naive adversary, uniform 3% referral), one core, best of {ROUNDS} runs; the last column
runs the same scenario without its `[drivers]` table (no lane choice by visible queue,
nobody leaves the line), so the two rates show what the drivers' mechanics cost:

| scenario | days | conveyances | seconds | conveyances / s | without drivers, / s |
|---|---:|---:|---:|---:|---:|
{chr(10).join(rows)}
"""
    write_section("twin-kernel", md)


if __name__ == "__main__":
    main()
