"""Builds the shipped scenario files from the BTS volumes and the published calibration figures.

Every number in ``scenarios/{otay-mesa,laredo,san-ysidro,southern-border}.toml`` comes
from here, so it can be traced: volumes from the BTS Border Crossing Entry Data
(``portwatch.twin.scenario.bts``), service times and resources from the figures cited in
``CALIBRATION``, and where no public figure exists the value is a named parameter whose
``source`` says so. Regenerate the files with::

    python -m portwatch.twin.scenario.build --year 2018 --out src/portwatch/twin/scenarios

``port_scenario(port, year)`` gives one port's scenario as the TOML's dict;
``southern_border_scenario(year)`` pools every US-Mexico port of the BTS file (each port's
own volumes listed in the file's header) into one scenario.
"""

from __future__ import annotations

import argparse
import calendar
import math
import re
import sys
from pathlib import Path
from typing import Any

import tomli_w

from portwatch.domain.errors import InputError, NotFoundError
from portwatch.domain.modes import Mode
from portwatch.twin.scenario import bts
from portwatch.twin.scenario.schema import (
    BALK_WAIT_MIN_ASSUMED,
    DIVERT_SHARE_ASSUMED,
    RAIL_PORTAL_FALSE_ALARM_ASSUMED,
)

YEAR = 2018

# ---- published figures used to calibrate (each cited where it is used) -------------------
SRC_CBP_CAR = (
    "car primary 45-60 s per vehicle by CBP's statement; 34 s measured at El Paso "
    "(published field measurement); lognormal, cv a parameter"
)
SRC_READY = (
    "Ready / SENTRI lanes about 20% faster than general lanes (CBP); El Paso Times, "
    "2015-10-29, quotes 20-30 s per vehicle in El Paso Ready lanes"
)
SRC_TRUCK = (
    "standard truck primary 1-2 min (CBP); FAST truck primary about 27 s at the World "
    "Trade Bridge, Laredo (CNBC report on the FAST lanes)"
)
SRC_SEARCH = (
    "officer search of a vehicle at least 20 min against 5-6 min for a canine check "
    "(CBP canine program figures); full physical exam of a truck up to 120 min against "
    "about 8 min for a scanner exam (CBP)"
)
SRC_PARAM = "no public figure: a parameter"
SRC_PROFILE = (
    "no public hourly counts (BTS publishes monthly totals): shape assumed, a parameter; "
    "trucks follow commercial-facility hours with a midday peak, cars and pedestrians "
    "peak with the morning commute and again mid-afternoon"
)
SRC_STAFFING = (
    "CBP's hourly booth staffing is not published: booths per hour sized to the hour's "
    "mean demand at a target utilisation (a parameter) calibrated so that truck primary "
    "waits average 20-30 min with a 95th percentile of 70-85 min, the published range "
    "for large southwest-border commercial crossings"
)
SRC_ENROLLED = {
    Mode.TRUCK: "FAST share: about 15% of trucks at the Bridge of the Americas, El Paso "
    "(MH&L, FAST lanes at the U.S.-Mexico border); applied to ports with FAST lanes",
    Mode.CAR: "SENTRI share: about 30% of San Ysidro traffic used the SENTRI lanes "
    "(CBP release announcing the San Ysidro Ready Lane, 2011); 20% elsewhere, a parameter",
    Mode.PEDESTRIAN: "share of pedestrians in SENTRI / Ready pedestrian lanes: " + SRC_PARAM,
    Mode.BUS: "buses have no express lane",
}

#: Mean primary inspection time per mode and lane (s).
PRIMARY_S: dict[Mode, tuple[float, float | None]] = {
    Mode.TRUCK: (90.0, 27.0),  # 1-2 min standard, 27 s FAST
    Mode.CAR: (52.0, 41.6),  # middle of CBP's 45-60 s; Ready lanes 20% faster
    Mode.PEDESTRIAN: (30.0, 24.0),  # parameter; express 20% faster as for cars
    Mode.BUS: (900.0, None),  # every passenger is processed: parameter
}
#: Per-port overrides of the general-lane mean (s), from published measurements.
PRIMARY_OVERRIDE_S: dict[tuple[str, Mode], float] = {("2402", Mode.CAR): 34.0}  # El Paso
PRIMARY_CV = 0.5  # parameter

#: Secondary (bay) exam and full search, mean seconds and cv per mode.
SECONDARY_S = {Mode.TRUCK: 1800.0, Mode.CAR: 1200.0, Mode.PEDESTRIAN: 600.0, Mode.BUS: 1800.0}
FULL_SEARCH_S = {Mode.TRUCK: 5400.0, Mode.CAR: 2700.0, Mode.PEDESTRIAN: 1200.0, Mode.BUS: 5400.0}

ENROLLED_SHARE = {Mode.TRUCK: 0.15, Mode.CAR: 0.20, Mode.PEDESTRIAN: 0.15, Mode.BUS: 0.0}
ENROLLED_OVERRIDE = {("2504", Mode.CAR): 0.30, ("2506", Mode.CAR): 0.30}  # San Ysidro, Otay Mesa
#: Express lanes exist where a mode's daily volume reaches this many conveyances (parameter).
EXPRESS_MIN_DAILY = {Mode.TRUCK: 1000.0, Mode.CAR: 5000.0, Mode.PEDESTRIAN: 3000.0}

#: Target utilisation of the staffed booths (calibration parameter): in each hour, or over
#: the open hours for the modes in FLAT_STAFFING.
TARGET_UTILISATION = {Mode.TRUCK: 0.82, Mode.CAR: 0.92, Mode.PEDESTRIAN: 0.90, Mode.BUS: 0.80}
FLAT_STAFFING = frozenset({Mode.TRUCK})

#: Truck general-lane staffing by hour of the ports calibrated on the published truck waits,
#: per BTS port code: booths added to (or taken from) the flat demand-sized staffing in
#: each hour 0-23. Found by the seeded search of ``portwatch.twin.scenario.staffing``
#: (``python -m portwatch.twin.scenario.build --calibrate``); other ports stay flat.
TRUCK_STAFFING_SHAPE: dict[str, tuple[int, ...]] = {
    "2506": (0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0),
    "2304": (0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, -1, -1, -1, -1, 1, 1, 0, 0, 0, 0),
}
SRC_BTS_CAR_WAITS = (
    "BTS, U.S. International Travel and Transportation Trends 2006, Table 4.2 (gateways "
    "with the longest average wait times for personal vehicles entering the United States, "
    "from CBP's hourly wait records, 2003 and 2004)"
)
#: Published mean primary waits (min) of a mode's general lanes: (low, high, source) per
#: (BTS port code, mode), the range spanned by the years published.
PUBLISHED_WAIT_MIN: dict[tuple[str, Mode], tuple[float, float, str]] = {
    ("2504", Mode.CAR): (36.1, 42.3, "San Ysidro: 42.3 min in 2003, 36.1 min in 2004; "
                         + SRC_BTS_CAR_WAITS),
    ("2506", Mode.CAR): (24.1, 27.8, "Otay Mesa: 27.8 min in 2003, 24.1 min in 2004; "
                         + SRC_BTS_CAR_WAITS),
    ("2304", Mode.CAR): (12.8, 19.4, "Laredo Bridge I: 12.8 min in 2003, 18.4 in 2004; Bridge "
                         "II: 16.6 and 19.4; " + SRC_BTS_CAR_WAITS),
    ("2504", Mode.PEDESTRIAN): (52.0, 61.0, "San Ysidro pedestrians (standard and Ready "
                                "lanes): average 52 min in 2011 and 61 min in 2016, surveys of "
                                "more than 3,000 pedestrians by the South County Economic "
                                "Development Council (KPBS, 2016-04-22)"),
}
#: Cars at a port without a published figure of its own: the average of every US-Mexico
#: gateway (applying it to each port is ``assumed``).
BORDER_CAR_WAIT_MIN = (14.5, 15.1, "average over all US-Mexico gateways: 14.5 min in 2003, "
                       "15.1 min in 2004; " + SRC_BTS_CAR_WAITS + "; applied to a port "
                       "without a figure of its own: assumed")


def published_wait_min(code: str, mode: Mode) -> tuple[float, float, str] | None:
    """The published mean-wait range a port's general lanes of ``mode`` are calibrated on:
    its own figure, the border-wide car average for cars elsewhere, else None."""
    if (code, mode) in PUBLISHED_WAIT_MIN:
        return PUBLISHED_WAIT_MIN[(code, mode)]
    return BORDER_CAR_WAIT_MIN if mode is Mode.CAR else None


#: The most booths a port staffs in its general car or pedestrian lanes in any hour, per
#: (BTS port code, mode): found by ``python -m portwatch.twin.scenario.staffing --lanes``
#: so that the mean general-lane wait lands nearest the middle of ``published_wait_min``.
#: Below the cap, booths follow the hour's demand; the peak hours queue.
GENERAL_BOOTH_CAP: dict[tuple[str, str], float] = {
    ('2301', 'car'): 8.9,
    ('2302', 'car'): 3.85,
    ('2303', 'car'): 5.32,
    ('2304', 'car'): 9.59,
    ('2305', 'car'): 8.34,
    ('2307', 'car'): 1.12,
    ('2309', 'car'): 3.0,
    ('2310', 'car'): 1.83,
    ('2402', 'car'): 14.98,
    ('2403', 'car'): 1.7,
    ('2404', 'car'): 1.02,
    ('2406', 'car'): 1.02,
    ('2408', 'car'): 1.34,
    ('2502', 'car'): 1.44,
    ('2503', 'car'): 8.48,
    ('2504', 'car'): 22.73,
    ('2504', 'pedestrian'): 11.28,
    ('2505', 'car'): 2.66,
    ('2506', 'car'): 12.36,
    ('2507', 'car'): 6.68,
    ('2601', 'car'): 4.01,
    ('2602', 'car'): 1.02,
    ('2603', 'car'): 1.0,
    ('2604', 'car'): 6.73,
    ('2606', 'car'): 1.0,
    ('2608', 'car'): 6.22,
}
SRC_CAPPED_STAFFING = (
    "CBP's hourly booth staffing is not published: booths per hour sized to the hour's "
    "mean demand at a target utilisation (a parameter), at most {cap:g} an hour (a "
    "fractional cap staffs one booth more in that share of the capped hours), the cap "
    "found by a seeded search (rules policy, naive adversary, 4 days x 4 replications, "
    "seed 0) so that the general lanes' mean primary wait is nearest the published "
    "{lo:g}-{hi:g} min ({src})"
)
FLAT: tuple[int, ...] = (0,) * 24
"""The staffing shape that leaves the flat demand-sized truck staffing as it is."""
#: Commercial primary inspection booths of the calibrated ports in 2018 (general + FAST):
#: no staffing shape may open more.
TRUCK_PRIMARY_BOOTHS: dict[str, tuple[int, str]] = {
    "2506": (10, "Otay Mesa commercial inspection booths: 10, before the expansion to 16 "
             "(Border Report, 2020-05-27; GSA, completed 2022)"),
    "2304": (12, "Laredo port: World Trade Bridge inspection booths 11, before four were "
             "added for a total of 15 (Transport Topics, 2023-02, on the FAST lane project), "
             "plus at least one at the Colombia-Solidarity Bridge, the port's other commercial "
             "crossing (FreightWaves, 2020-11; its booth count is not published)"),
}
SRC_TRUCK_STAFFING = (
    "CBP's hourly booth staffing is not published: the demand-sized flat staffing (mean "
    "open hour at a target utilisation) reshaped by hour ({shape}) by a seeded search "
    "(rules policy, naive adversary, 4 days x 4 replications, seed 0) so that truck primary "
    "waits average 20-30 min with a 95th percentile of 70-85 min, the published range for "
    "large southwest-border commercial crossings; never more booths than the port has: {lanes}"
)

#: 24 relative weights per mode (hour 0 = midnight to 1 am local time); see SRC_PROFILE.
HOURLY_PROFILE: dict[Mode, list[float]] = {
    Mode.TRUCK: [0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 2.0, 4.0, 6.0, 7.0, 7.5, 7.5,
                 7.5, 7.5, 7.0, 6.5, 6.0, 5.0, 4.0, 3.0, 2.0, 1.5, 1.0, 0.0],
    Mode.CAR: [1.2, 0.8, 0.6, 0.6, 1.2, 3.5, 6.0, 7.0, 6.5, 5.5, 5.0, 4.8,
               4.8, 5.0, 5.3, 5.6, 5.8, 5.6, 5.0, 4.2, 3.4, 2.6, 2.0, 1.5],
    Mode.PEDESTRIAN: [0.5, 0.3, 0.2, 0.3, 1.0, 3.5, 7.5, 8.5, 7.5, 6.0, 5.5, 5.5,
                      5.5, 5.5, 5.5, 5.5, 5.3, 5.0, 4.5, 3.5, 2.5, 1.8, 1.2, 0.8],
    Mode.BUS: [0.5, 0.3, 0.3, 0.5, 1.5, 4.0, 6.5, 7.0, 6.5, 5.5, 5.0, 5.0,
               5.0, 5.0, 5.0, 5.5, 6.0, 6.0, 5.5, 4.5, 3.5, 2.5, 1.5, 1.0],
}

#: Drugs: POE seizures in 2021 by mass (kg) and an assumed mean load mass (kg); the share
#: of loads is mass / mean load mass, normalised.
SRC_DRUG_MASS = (
    "port-of-entry seizures in 2021: marijuana 79,000 kg, methamphetamine 67,000 kg, "
    "cocaine 35,000 kg, fentanyl 4,600 kg, heroin 2,100 kg (DHS, Border Security Metrics "
    "Report 2022); these five drugs are 84% of southwest-border seizures; mean load mass "
    "is a parameter, share of loads = seized mass / mean load mass"
)
SRC_VALUE = (
    "street value per kg: order of magnitude of the valuations in CBP seizure releases "
    "(e.g. 1,853 lb of methamphetamine valued at USD 37 million, Pharr, 2020-12); "
    "no official table, a parameter"
)
SRC_HARM = (
    "relative harm per kg: overall harm score of Nutt, King & Phillips, Lancet 2010 "
    "(heroin 55, methamphetamine 33, cocaine 27, cannabis 20) / 100; fentanyl = heroin x 50 "
    "for its potency (about 50 times heroin, DEA)"
)
DRUGS: dict[str, dict[str, float]] = {
    "marijuana": {"seized_kg": 79_000, "mass_kg_mean": 60.0, "value_usd_per_kg": 2_000.0,
                  "harm_per_kg": 0.20},
    "methamphetamine": {"seized_kg": 67_000, "mass_kg_mean": 30.0,
                        "value_usd_per_kg": 44_000.0, "harm_per_kg": 0.33},
    "cocaine": {"seized_kg": 35_000, "mass_kg_mean": 15.0, "value_usd_per_kg": 30_000.0,
                "harm_per_kg": 0.27},
    "heroin": {"seized_kg": 2_100, "mass_kg_mean": 4.0, "value_usd_per_kg": 60_000.0,
               "harm_per_kg": 0.55},
    "fentanyl": {"seized_kg": 4_600, "mass_kg_mean": 3.0, "value_usd_per_kg": 60_000.0,
                 "harm_per_kg": 27.5},
}

#: Smuggling loads per day: one per this many conveyances of the mode (a parameter: the
#: flow that is not seized is unknown by definition; rail containers as trucks).
CONVEYANCES_PER_LOAD = {Mode.TRUCK: 5000.0, Mode.CAR: 5000.0, Mode.PEDESTRIAN: 20000.0,
                        Mode.BUS: 5000.0, Mode.RAIL: 5000.0}

# ---- rail (every figure without a public source is ``assumed``, ranges in the docs) ------
SRC_RAIL_VOLUME = (
    "BTS Border Crossing Entry Data, Rail Containers Full + Rail Containers Empty, annual "
    "inbound count / days of the year; trains: BTS Trains, same; every container of a "
    "train arrives with it, containers per train 1 + Poisson(mean - 1): assumed"
)
SRC_RAIL_PORTAL = (
    "CBP images trains with rail NII portals (gamma-ray VACIS at Brownsville in 2002, "
    "'a similar system' at Laredo, Rocky Mountain News 2002-05-20 citing the Brownsville "
    "Herald; at El Paso in 2003, where the train 'inches' between the arms, El Paso "
    "Times 2003-10-27; "
    "high-energy X-ray rail scanners replacing them from 2021 at Brownsville, Calexico, "
    "Eagle Pass, El Paso (BNSF and Union Pacific) and Nogales, CBP release 2021-05-12): "
    "the train does not stop, one officer reads the images; one portal per rail crossing "
    "(El Paso two); the time per container is the train's passage at line speed, about "
    "8 s for an 18 m railcar at 8 km/h: assumed (range 4-20 s)"
)
SRC_RAIL_YARD = (
    "exam of a referred container at the rail yard (set out from the train, opened, "
    "partly unloaded): no public figure, assumed 2 h mean (range 1-4 h); full search "
    "(devanning) 4 h: assumed; yard teams sized to the image and random referrals at 70% "
    "utilisation: assumed"
)
SRC_RAIL_DETECTION = (
    "chance that a load shows as an anomaly in the portal image, and that a clean "
    "container does (0.02, range 0.005-0.05): no public figure, assumed; before the "
    "portals a dog and a flashlight along the cars took 1-2 hours a train (El Paso Times "
    "2003-10-27)"
)
RAIL_PORTAL_S = 8.0  # assumed, see SRC_RAIL_PORTAL
RAIL_PORTAL_DETECT = 0.55  # assumed: a load shows in the image (range 0.3-0.9)
RAIL_PORTALS = {"2402": 2}  # El Paso: BNSF and Union Pacific crossings; elsewhere one
RAIL_YARD_S = 7200.0  # assumed
RAIL_FULL_SEARCH_S = 14400.0  # assumed
RAIL_RULES_RATE = 0.01  # the ``rules`` policy's random referral of rail containers
RAIL_YARD_UTILISATION = 0.7  # assumed
DECOYS_PER_LOAD = 0.2  # parameter

#: Large-scale NII systems on the southwest border, allocated to ports by vehicle volume.
SW_LEGACY_SCANNERS = 118
SRC_SCANNERS = (
    "about 118 large-scale NII systems at southwest-border ports (CBP, NII fleet "
    "replacement release), allocated to ports by daily trucks + cars: a parameter; older "
    "systems scan about 7 trucks an hour (exam about 8 min) and up to 15 containers an hour"
)
SRC_PORTAL = (
    "newer multi-energy drive-through portals about 80 vehicles an hour (CBP), deployed "
    "from 2020 (GAO-25-107379); one unit assumed at ports with >= 1,000 trucks a day"
)
CANINE_SWEEP_S = 180.0
SRC_SWEEP = (
    "a pass of 180 s per queued vehicle (sweep_s): assumed (range 60-330 s), calibrated as "
    "the shortest pass tried (60, 90, 120, 150, 180, 240 s) at which false alerts at the "
    "rate above, taken per pass, leave the rules policy feasible at Laredo with a margin: "
    "at most 0.5% of referrals waved through on two seeds (150 s: 0.95% on one) "
    "(docs/twin-model.md)"
)
SWEEP_UNSET = {"2504"}
"""Ports left with the full check on every screened vehicle: at San Ysidro (2504) the
informed adversary's prediction falls below its realised interval with a pass set."""
SRC_NO_SWEEP = (
    "no pass time (sweep_s unset, every screened vehicle gets the full check): with a "
    "180 s pass the interdiction model under-predicts the informed adversary here "
    "(docs/twin-model.md)"
)
SRC_CANINE = (
    "canine check 5-6 min per vehicle (CBP); detection: fully trained drug dogs gave 87.7% "
    "correct indications and 5.3% false alerts in controlled searches (Jezierski et al., "
    "Forensic Sci. Int. 237, 2014); lower rates for sealed cargo and fentanyl are parameters"
)
SRC_COST = (
    "truck: ATRI, An Analysis of the Operational Costs of Trucking, 2024 update "
    "(USD 91.27 per truck-hour, 2023); car: USDOT Revised Departmental Guidance on "
    "Valuation of Travel Time (2016), personal local travel USD 14.10 per person-hour x "
    "1.5 occupants; pedestrian: one person-hour; bus: 20 riders x USD 14.10"
)


def _booths(per_day: float, profile: list[float], service_s: float, rho: float,
            flat: bool = False) -> list[int]:
    """Booths staffed per hour: enough for the hour's mean demand at utilisation ``rho``.

    ``flat``: the same number in every hour with traffic, sized to the mean open hour, so
    queues build in the peak and drain after it (how commercial lots run).
    """
    total = sum(profile)
    loads = [per_day * w / total * service_s / 3600.0 for w in profile]
    if flat:
        open_loads = [x for x in loads if x > 0]
        n = math.ceil(sum(open_loads) / len(open_loads) / rho) if open_loads else 0
        return [n if x > 0 else 0 for x in loads]
    return [math.ceil(x / rho) if x > 0 else 0 for x in loads]


def capped_booths(booths: list[int], cap: float) -> list[int]:
    """Demand-sized ``booths`` with at most ``cap`` open in any hour. A fractional cap
    staffs ``floor(cap) + 1`` booths in that fraction of the capped hours, spread evenly
    through the day (error diffusion), so that the cap is a continuous knob."""
    base = math.floor(cap)
    frac = cap - base
    out = []
    carry = 0.0
    for n in booths:
        if n <= base:
            out.append(n)
            continue
        carry += frac
        extra = 1 if carry >= 1.0 - 1e-9 else 0
        carry -= extra
        out.append(min(n, max(1, base + extra)))
    return out


def shaped_booths(flat: list[int], shape: tuple[int, ...]) -> list[int]:
    """Flat staffing ``flat`` reshaped by ``shape``, the booths added in each hour 0-23;
    closed hours stay closed and open ones keep at least one booth."""
    return [max(1, n + d) if n > 0 else 0 for n, d in zip(flat, shape, strict=True)]


def describe_shape(shape: tuple[int, ...]) -> str:
    """A staffing shape in words, e.g. ``+1 booth 06:00-10:00, -1 booth 20:00-22:00``."""
    runs: list[str] = []
    h = 0
    while h < len(shape):
        end = h
        while end < len(shape) and shape[end] == shape[h]:
            end += 1
        if shape[h] != 0:
            runs.append(f"{shape[h]:+d} booth {h:02d}:00-{end:02d}:00")
        h = end
    return ", ".join(runs) if runs else "flat"


def _service(mean_s: float, cv: float, source: str) -> dict[str, Any]:
    return {"kind": "lognormal", "mean_s": round(mean_s, 1), "cv": cv, "source": source}


def _mode_table(code: str, mode: Mode, per_day: float, truck_shape: tuple[int, ...],
                booth_caps: dict[tuple[str, str], float] | None = None) -> dict[str, Any]:
    profile = HOURLY_PROFILE[mode]
    general_s = PRIMARY_OVERRIDE_S.get((code, mode), PRIMARY_S[mode][0])
    express_s = PRIMARY_S[mode][1]
    has_express = express_s is not None and per_day >= EXPRESS_MIN_DAILY.get(mode, math.inf)
    enrolled = ENROLLED_OVERRIDE.get((code, mode), ENROLLED_SHARE[mode]) if has_express else 0.0
    rho = TARGET_UTILISATION[mode]
    general_booths = _booths(per_day * (1 - enrolled), profile, general_s, rho,
                             flat=mode in FLAT_STAFFING)
    staffing_src = SRC_STAFFING
    cap = (booth_caps if booth_caps is not None else GENERAL_BOOTH_CAP).get((code, mode.value))
    published = published_wait_min(code, mode)
    if cap is not None and published is not None and mode is not Mode.TRUCK:
        general_booths = capped_booths(general_booths, cap)
        staffing_src = SRC_CAPPED_STAFFING.format(cap=cap, lo=published[0], hi=published[1],
                                                  src=published[2])
    if mode is Mode.TRUCK:
        general_booths = shaped_booths(general_booths, truck_shape)
        if code in TRUCK_PRIMARY_BOOTHS:
            staffing_src = SRC_TRUCK_STAFFING.format(shape=describe_shape(truck_shape),
                                                     lanes=TRUCK_PRIMARY_BOOTHS[code][1])
    general_src = SRC_TRUCK if mode is Mode.TRUCK else SRC_CBP_CAR if mode is Mode.CAR else (
        f"{mode.value} primary time: {SRC_PARAM}"
    )
    table: dict[str, Any] = {
        "daily_volume": round(per_day, 1),
        "source": f"BTS Border Crossing Entry Data, {bts.MEASURE_OF_MODE[mode]}, annual "
        f"inbound count / days of the year; hourly profile: {SRC_PROFILE}",
        "hourly_profile": profile,
        "enrolled_share": enrolled,
        "general": {
            "booths_by_hour": general_booths,
            "service": _service(general_s, PRIMARY_CV, general_src),
            "source": staffing_src,
        },
        "secondary_service": _service(
            SECONDARY_S[mode], 0.6, f"{mode.value} secondary exam in a bay: {SRC_PARAM}; "
            f"{SRC_SEARCH}"),
        "full_search_service": {"kind": "gamma", "mean_s": FULL_SEARCH_S[mode], "cv": 0.3,
                                "source": f"full search: {SRC_SEARCH}; mean a parameter"},
    }
    if has_express and express_s is not None:
        express_booths = _booths(per_day * enrolled, profile, express_s, rho)
        src = SRC_TRUCK if mode is Mode.TRUCK else SRC_READY
        table["express"] = {
            "booths_by_hour": express_booths,
            "service": _service(express_s, PRIMARY_CV, src),
            "source": f"{SRC_ENROLLED[mode]}; {SRC_STAFFING}",
        }
    if mode is Mode.TRUCK and code in TRUCK_PRIMARY_BOOTHS:
        # a busier month or year cannot open booths the port does not have
        express_most = max(table["express"]["booths_by_hour"]) if "express" in table else 0
        most = max(1, TRUCK_PRIMARY_BOOTHS[code][0] - express_most)
        table["general"]["booths_by_hour"] = [min(n, most) for n in general_booths]
    return table


def _rail_mode_table(code: str, per_day: float) -> dict[str, Any]:
    """The rail mode of a port: containers a day, the portal as its primary station."""
    portals = RAIL_PORTALS.get(code, 1)
    return {
        "daily_volume": round(per_day, 1),
        "source": f"{SRC_RAIL_VOLUME}; hourly profile: trains cross at any hour, flat: "
        "assumed",
        "hourly_profile": [1.0] * 24,
        "enrolled_share": 0.0,
        "general": {
            "booths_by_hour": [portals] * 24,
            "service": {"kind": "gamma", "mean_s": RAIL_PORTAL_S, "cv": 0.25,
                        "source": SRC_RAIL_PORTAL},
            "source": SRC_RAIL_PORTAL,
        },
        "secondary_service": {"kind": "lognormal", "mean_s": RAIL_YARD_S, "cv": 0.5,
                              "source": SRC_RAIL_YARD},
        "full_search_service": {"kind": "gamma", "mean_s": RAIL_FULL_SEARCH_S, "cv": 0.3,
                                "source": SRC_RAIL_YARD},
    }


def _rail_table(containers_per_day: float, trains_per_day: float,
                loaded_per_day: float) -> dict[str, Any]:
    """The ``[rail]`` table: trains, the loaded share, the portal image and the yard."""
    referrals = containers_per_day * (RAIL_PORTAL_FALSE_ALARM_ASSUMED + RAIL_RULES_RATE)
    teams = max(1, math.ceil(referrals * RAIL_YARD_S / 86_400.0 / RAIL_YARD_UTILISATION))
    return {
        "trains_per_day": round(trains_per_day, 3),
        "loaded_share": round(loaded_per_day / containers_per_day, 4),
        "portal_detection": {"*": {"*": RAIL_PORTAL_DETECT}},
        "portal_false_alarm_prob": RAIL_PORTAL_FALSE_ALARM_ASSUMED,
        "yard_teams": teams,
        "source": f"{SRC_RAIL_VOLUME}; {SRC_RAIL_DETECTION}; {SRC_RAIL_YARD}",
    }


def _rail_counts(code: str, year: int, month: int | None) -> tuple[float, float]:
    """(trains, loaded containers) a day at port ``code`` in the year or the month."""
    trains = bts.monthly_measure(code, bts.TRAINS, year)
    loaded = bts.monthly_measure(code, bts.RAIL_LOADED, year)
    if month is None:
        days = bts.days_in_year(year)
        return sum(trains) / days, sum(loaded) / days
    days = calendar.monthrange(year, month)[1]
    return trains[month - 1] / days, loaded[month - 1] / days


def _drug_tables() -> dict[str, Any]:
    out = {}
    for name, d in DRUGS.items():
        out[name] = {
            "share": round(d["seized_kg"] / d["mass_kg_mean"], 1),
            "mass_kg_mean": d["mass_kg_mean"],
            "mass_kg_cv": 0.6,
            "value_usd_per_kg": d["value_usd_per_kg"],
            "harm_per_kg": d["harm_per_kg"],
            "source": f"{SRC_DRUG_MASS}; {SRC_VALUE}; {SRC_HARM}",
        }
    return out


def _resources(volumes: dict[Mode, float], legacy_scanners: int) -> dict[str, Any]:
    """Secondary resources sized by the port's daily volume (every size a parameter)."""
    vehicles = volumes.get(Mode.TRUCK, 0.0) + volumes.get(Mode.CAR, 0.0)
    vehicle_modes = [m.value for m in (Mode.TRUCK, Mode.CAR, Mode.BUS) if volumes.get(m, 0) > 0]
    screened = vehicle_modes or [next((m.value for m in volumes if m is not Mode.RAIL),
                                      Mode.PEDESTRIAN.value)]
    bays = max(2, round(vehicles / 2500))
    scanners: list[dict[str, Any]] = []
    if legacy_scanners > 0 and vehicle_modes:
        scanners.append({
            "name": "legacy-xray",
            "count": legacy_scanners,
            "service": {"kind": "gamma", "mean_s": 480.0, "cv": 0.3, "source": SRC_SCANNERS},
            "modes": vehicle_modes,
            "false_alarm_prob": 0.05,
            "detection": {"*": {"*": 0.75, "trap": 0.65, "sealed_pre": 0.6,
                                "sealed_post": 0.6}},
            "source": f"{SRC_SCANNERS}; detection and false-alarm rates: {SRC_PARAM}",
        })
    if volumes.get(Mode.TRUCK, 0.0) >= 1000:
        scanners.append({
            "name": "drive-through-portal",
            "count": 1,
            "service": {"kind": "gamma", "mean_s": 45.0, "cv": 0.3, "source": SRC_PORTAL},
            "modes": ["truck"],
            "false_alarm_prob": 0.05,
            "detection": {"*": {"*": 0.7, "trap": 0.6, "sealed_pre": 0.55,
                                "sealed_post": 0.55}},
            "source": f"{SRC_PORTAL}; detection and false-alarm rates: {SRC_PARAM}",
        })
    return {
        "canine": {
            "teams": max(1, round(vehicles / 8000)),
            "service": {"kind": "gamma", "mean_s": 330.0, "cv": 0.2, "source": SRC_CANINE},
            "modes": screened,
            "false_alarm_prob": 0.053,
            "decoy_alert_prob": 0.9,
            "sweep_s": CANINE_SWEEP_S,
            "detection": {"*": {"*": 0.877, "commingled": 0.75, "sealed_pre": 0.5,
                                "sealed_post": 0.5},
                          "fentanyl": {"*": 0.6, "sealed_pre": 0.35, "sealed_post": 0.35}},
            "source": f"{SRC_CANINE}; team count scaled by volume: {SRC_PARAM}; decoys "
            f"tainted with traces draw an alert with probability 0.9: {SRC_PARAM}; "
            f"{SRC_SWEEP}",
        },
        "scanners": scanners,
        "secondary": {
            "bays": bays,
            "queue_slots": 2 * bays,
            "detection": {"*": {"*": 0.8, "trap": 0.7, "sealed_pre": 0.5, "sealed_post": 0.6}},
            "full_search_detection": {"*": {"*": 0.97}},
            "source": f"bays scaled by volume (one per 2,500 vehicles a day), detection "
            f"rates: {SRC_PARAM}",
        },
        "analyzer": {
            "count": max(1, bays // 4),
            "service": {"kind": "gamma", "mean_s": 120.0, "cv": 0.3,
                        "source": f"handheld identification time: {SRC_PARAM}"},
            "identify_prob": {"marijuana": 0.9, "methamphetamine": 0.95, "cocaine": 0.95,
                              "heroin": 0.9, "fentanyl": 0.8},
            "false_alarm_prob": 0.01,
            "source": SRC_PARAM,
        },
    }


def _contraband(volumes: dict[Mode, float]) -> dict[str, Any]:
    per_mode = {m: v / CONVEYANCES_PER_LOAD[m] for m, v in volumes.items()}
    loads = sum(per_mode.values())
    return {
        "loads_per_day": round(loads, 3),
        "decoys_per_day": round(loads * DECOYS_PER_LOAD, 3),
        "mode_share": {m.value: round(v / loads, 4) for m, v in per_mode.items()},
        "concealment_share": {"trap": 0.6, "commingled": 0.25, "sealed_pre": 0.1,
                              "sealed_post": 0.05},
        "source": "loads per day: one per 5,000 vehicles or 20,000 pedestrians, decoys 0.2 "
        f"per load, concealment shares: {SRC_PARAM} (the unseized flow is unknown)",
        "drugs": _drug_tables(),
    }


def _common(volumes: dict[Mode, float], legacy_scanners: int) -> dict[str, Any]:
    truck_car = [m.value for m in (Mode.TRUCK, Mode.CAR) if volumes.get(m, 0) > 0]
    data: dict[str, Any] = _resources(volumes, legacy_scanners)
    if truck_car:
        data["inland"] = {
            "modes": truck_car,
            "coverage": 0.02,
            "detection": {"*": {"*": 0.5}},
            "source": f"Border Patrol highway checkpoint past the port: {SRC_PARAM}",
        }
    data["contraband"] = _contraband(volumes)
    chooser = [m.value for m in (Mode.CAR, Mode.PEDESTRIAN) if volumes.get(m, 0) > 0]
    if chooser:
        data["drivers"] = {
            "choose_lane": chooser,
            "balk_wait_min": {m: BALK_WAIT_MIN_ASSUMED[Mode(m)] for m in chooser},
            "divert_share": DIVERT_SHARE_ASSUMED,
            "source": "enrolled travellers join the shorter of the general and express "
            "lanes; the visible wait beyond which one leaves the line (car 180 min, "
            "pedestrian 150 min) and the share of those who cross at another port: no "
            "public figure: assumed (ranges 60-300 min and 0-1)",
        }
    data["cost"] = {"truck_hour_usd": 91.27, "car_hour_usd": 21.15,
                    "pedestrian_hour_usd": 14.10, "bus_hour_usd": 282.0, "source": SRC_COST}
    return data


def _scanner_share(year: int) -> dict[str, int]:
    """Legacy NII units per port code: SW_LEGACY_SCANNERS split by vehicle volume."""
    weights = {}
    for port in bts.ports():
        v = bts.daily_volume(port.code, year)
        weights[port.code] = v[Mode.TRUCK] + v[Mode.CAR]
    total = sum(weights.values())
    return {code: round(SW_LEGACY_SCANNERS * w / total) for code, w in weights.items()}


def port_scenario(port_key: str, year: int = YEAR, month: int | None = None,
                  truck_shape: tuple[int, ...] | None = None,
                  booth_caps: dict[tuple[str, str], float] | None = None) -> dict[str, Any]:
    """One BTS port's scenario (the TOML's content as a dict).

    Daily volumes are the year's mean day, or with ``month`` (1-12) that month's mean day
    (its BTS count over its days: the seasonality of ``bts.monthly_seasonality``).
    ``truck_shape`` reshapes the general truck lanes' staffing (``shaped_booths``); by
    default the port's calibrated shape in ``TRUCK_STAFFING_SHAPE``, else flat.
    ``booth_caps`` replaces ``GENERAL_BOOTH_CAP`` (the car and pedestrian calibration).
    """
    port = bts.find_port(port_key)
    if truck_shape is None:
        truck_shape = TRUCK_STAFFING_SHAPE.get(port.code, FLAT)
    if month is None:
        daily = bts.daily_volume(port.code, year)
        period = f"{year}"
    else:
        if not 1 <= month <= 12:
            raise InputError(f"month: must be within 1-12, got {month}")
        days = calendar.monthrange(year, month)[1]
        daily = {m: bts.monthly_counts(port.code, m, year)[month - 1] / days for m in Mode}
        period = f"{calendar.month_name[month]} {year}"
    # a mode under 0.05 a day rounds to no traffic in the file
    volumes = {m: v for m, v in daily.items() if round(v, 1) > 0}
    trains, loaded = _rail_counts(port.code, year, month)
    if Mode.RAIL in volumes and not 0 < round(trains, 3) <= round(volumes[Mode.RAIL], 1):
        del volumes[Mode.RAIL]  # containers without trains in the file: not simulated
    if not volumes:
        raise InputError(f"port {port.name}: no inbound traffic in the BTS file in {period}")
    data: dict[str, Any] = {
        "name": port.slug if month is None else f"{port.slug}-{year}-{month:02d}",
        "description": f"{port.name}, {port.state} (BTS port code {port.code}): volumes of "
        f"{period}, calibrated service times and resources",
        "source": f"volumes: BTS Border Crossing Entry Data, {period}; other figures as cited "
        "in each table",
        "modes": {m.value: _mode_table(port.code, m, v, truck_shape, booth_caps)
                  if m is not Mode.RAIL else _rail_mode_table(port.code, v)
                  for m, v in volumes.items()},
    }
    data.update(_common(volumes, _scanner_share(year).get(port.code, 0)))
    if Mode.RAIL in volumes:
        data["rail"] = _rail_table(volumes[Mode.RAIL], trains, loaded)
    if port.code in SWEEP_UNSET:
        canine = data["canine"]
        del canine["sweep_s"]
        canine["source"] = canine["source"].replace(SRC_SWEEP, SRC_NO_SWEEP)
    return data


def southern_border_scenario(year: int = YEAR) -> dict[str, Any]:
    """Every US-Mexico port of the BTS file pooled into one scenario.

    Volumes, booths and resources are the sums of the ports' own; profiles and service
    times are the volume-weighted means.
    """
    ports = [port_scenario(p.code, year) for p in bts.ports()]
    data: dict[str, Any] = {
        "name": "southern-border",
        "description": f"every US-Mexico land port of the BTS file ({len(ports)} ports), "
        f"volumes of {year}, pooled into one port: the sum of each port's own volumes, "
        "booths and resources",
        "source": f"volumes: BTS Border Crossing Entry Data, {year} (each port listed in the "
        "header of this file); other figures as cited in each table",
        "modes": {},
    }
    for mode in Mode:
        tables = [p["modes"][mode.value] for p in ports if mode.value in p["modes"]]
        if not tables:
            continue
        total = sum(t["daily_volume"] for t in tables)

        def pooled(lane: str, tables: list[dict[str, Any]] = tables) -> dict[str, Any] | None:
            parts = [t[lane] for t in tables if lane in t]
            if not parts:
                return None
            booths = [sum(p["booths_by_hour"][h] for p in parts) for h in range(24)]
            weight = [t["daily_volume"] for t in tables if lane in t]
            mean_s = sum(p["service"]["mean_s"] * w for p, w in zip(parts, weight, strict=True))
            service = dict(parts[0]["service"], mean_s=round(mean_s / sum(weight), 1))
            return {"booths_by_hour": booths, "service": service, "source": parts[0]["source"]}

        enrolled = sum(t["enrolled_share"] * t["daily_volume"] for t in tables) / total
        mode_table = dict(tables[0], daily_volume=round(total, 1),
                          enrolled_share=round(enrolled, 4), general=pooled("general"))
        express = pooled("express")
        if express is not None:
            mode_table["express"] = express
        data["modes"][mode.value] = mode_table
    volumes = {Mode(m): t["daily_volume"] for m, t in data["modes"].items()}
    data.update(_common(volumes, SW_LEGACY_SCANNERS))
    data["canine"]["teams"] = sum(p["canine"]["teams"] for p in ports)
    data["secondary"]["bays"] = sum(p["secondary"]["bays"] for p in ports)
    data["secondary"]["queue_slots"] = sum(p["secondary"]["queue_slots"] for p in ports)
    data["analyzer"]["count"] = sum(p["analyzer"]["count"] for p in ports)
    rail_ports = [p for p in ports if "rail" in p]
    if rail_ports:
        loaded = sum(p["rail"]["loaded_share"] * p["modes"]["rail"]["daily_volume"]
                     for p in rail_ports)
        data["rail"] = dict(
            rail_ports[0]["rail"],
            trains_per_day=round(sum(p["rail"]["trains_per_day"] for p in rail_ports), 3),
            loaded_share=round(loaded / data["modes"]["rail"]["daily_volume"], 4),
            yard_teams=sum(p["rail"]["yard_teams"] for p in rail_ports))
    portals = sum(s["count"] for p in ports for s in p["scanners"] if s["name"] != "legacy-xray")
    for s in data["scanners"]:
        if s["name"] != "legacy-xray":
            s["count"] = portals
    return data


_NUMBER_ARRAY = re.compile(r"\[\n((?:\s+-?[0-9.e+-]+,\n)+)\]")


def _dumps(data: dict[str, Any]) -> str:
    """TOML text with each array of numbers on one line (tomli_w puts one value a line)."""
    text = tomli_w.dumps(data)
    return _NUMBER_ARRAY.sub(
        lambda m: "[" + ", ".join(v.strip().rstrip(",") for v in m.group(1).splitlines()) + "]",
        text,
    )


def _header(data: dict[str, Any], year: int, per_port: bool) -> str:
    lines = [
        f"# portwatch scenario: {data['description']}",
        "# Generated by `python -m portwatch.twin.scenario.build` from the BTS Border Crossing",
        "# Entry Data (U.S. Bureau of Transportation Statistics, public domain) and the",
        "# published figures cited in each table's `source`; edit the generator, not this file.",
    ]
    if per_port:
        lines.append(f"# Each port's own daily inbound volumes in {year} (BTS count / days):")
        lines.append("#   code  port                     trucks      cars  pedestrians   buses"
                     "  rail containers  trains")
        for port in bts.ports():
            v = bts.daily_volume(port.code, year)
            trains, _ = _rail_counts(port.code, year, None)
            lines.append(
                f"#   {port.code}  {port.name:<22} {v[Mode.TRUCK]:>8.1f} {v[Mode.CAR]:>9.1f} "
                f"{v[Mode.PEDESTRIAN]:>12.1f} {v[Mode.BUS]:>7.1f} {v[Mode.RAIL]:>16.1f} "
                f"{trains:>7.2f}"
            )
    return "\n".join(lines) + "\n\n"


SHIPPED_PORTS = {"otay-mesa": "2506", "laredo": "2304", "san-ysidro": "2504"}


def write_scenarios(out_dir: Path, year: int = YEAR) -> list[Path]:
    """Write the shipped scenario files into ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, code in SHIPPED_PORTS.items():
        data = port_scenario(code, year)
        path = out_dir / f"{name}.toml"
        path.write_text(_header(data, year, False) + _dumps(data))
        written.append(path)
    data = southern_border_scenario(year)
    path = out_dir / "southern-border.toml"
    path.write_text(_header(data, year, True) + _dumps(data))
    written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m portwatch.twin.scenario.build [--year Y] --out DIR``: the shipped files;
    ``... --port PORT [--month M]``: one port's scenario, ``DIR/NAME.toml``;
    the truck staffing search is ``python -m portwatch.twin.scenario.staffing``."""
    parser = argparse.ArgumentParser(prog="python -m portwatch.twin.scenario.build")
    parser.add_argument("--year", type=int, default=YEAR)
    parser.add_argument("--port", help="one BTS port (name, slug or code)")
    parser.add_argument("--month", type=int, help="with --port: that month's volumes")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.out is None:
        parser.error("the following arguments are required: --out")
    try:
        if args.port:
            data = port_scenario(args.port, args.year, args.month)
            args.out.mkdir(parents=True, exist_ok=True)
            path = args.out / f"{data['name']}.toml"
            path.write_text(_header(data, args.year, False) + _dumps(data))
            paths = [path]
        else:
            if args.month is not None:
                raise InputError("--month: needs --port")
            paths = write_scenarios(args.out, args.year)
    except (InputError, NotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
