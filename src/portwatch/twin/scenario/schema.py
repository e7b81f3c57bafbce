"""Scenario files: the schema of a port (TOML), its loader, and its compiled array form.

A scenario TOML describes one port (or a set of ports simulated as one): its modes with
daily volume, 24-hour arrival profile, lanes (general / express) with booths staffed per
hour and primary service times; secondary resources (bays and officers, canine teams,
scanners, handheld analyzers, an optional inland checkpoint) with their service times and
detection / false-alarm probabilities by drug and concealment; the contraband model; and
the value of time used for delay cost. Every table accepts a ``source`` string naming
where its numbers come from.

``load_scenario(name_or_path)`` reads ``scenarios/NAME.toml`` of this package or a path,
validates it, and returns a frozen ``CompiledScenario`` of numpy arrays for the kernel.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from portwatch.domain.errors import ConfigError, InputError, NotFoundError
from portwatch.domain.modes import Mode
from portwatch.targeting.policy import LANE_ORDER, MODE_ORDER, N_LANES, N_MODES
from portwatch.twin.process.durations import (
    Duration,
    deterministic,
    empirical,
    erlang,
    exponential,
    gamma,
    lognormal,
)

CONCEALMENTS: tuple[str, ...] = ("trap", "commingled", "sealed_pre", "sealed_post")
"""How a load is hidden: a vehicle trap (hidden compartment), commingled in cargo, inside a
sealed trusted shipment before sealing (custody stays clean), or after sealing (the
custody monitor may see the seal broken)."""
N_CONCEALMENTS = len(CONCEALMENTS)
N_STATIONS = N_MODES * N_LANES
WILDCARD = "*"
MAX_DAILY_VOLUME = 10_000_000.0
"""Largest daily volume a scenario may state (the whole southern border is about 170,000
conveyances a day): beyond it a value is a typo, and memory would run out."""
MAX_UNITS = 100_000
"""Largest count of booths, teams, scanners, bays or analyzers of one kind."""
GUIDED_DETECTION_ASSUMED = 0.95
"""Chance that a bay exam guided by a scan image or a dog's alert finds the load:
``assumed`` (range 0.8-0.99): officers search where the anomaly is."""
CANINE_SWEEP_S_ASSUMED = 30.0
"""Seconds a canine team spends on one queued vehicle as it works the pre-primary lanes
when a scenario sets ``canine.sweep_s``: ``assumed`` (range 60-330 s). No public figure
for the pass; for scale, a team checks 400-500 packages in about 30 minutes and examines
a vehicle in 5-6 minutes (CBP Today, June/July 2003), the latter being the follow-up
check after an alert. The shipped port files set 180 s (``build.CANINE_SWEEP_S``). Unset
(test-port), every vehicle a team screens gets the full check and an alert costs the
team nothing more."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ServiceSpec(_Model):
    """A service-time distribution in a scenario file."""

    kind: Literal["exponential", "deterministic", "lognormal", "gamma", "erlang", "empirical"]
    mean_s: float | None = Field(default=None, gt=0)
    cv: float | None = Field(default=None, gt=0)
    k: int | None = Field(default=None, ge=1)
    values_s: list[float] | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _params(self) -> ServiceSpec:
        needs: dict[str, tuple[str, ...]] = {
            "exponential": ("mean_s",),
            "deterministic": ("mean_s",),
            "lognormal": ("mean_s", "cv"),
            "gamma": ("mean_s", "cv"),
            "erlang": ("mean_s", "k"),
            "empirical": ("values_s",),
        }
        for name in needs[self.kind]:
            if getattr(self, name) is None:
                raise ValueError(f"{self.kind} needs {name}")
        return self

    def build(self) -> Duration:
        """The distribution object this spec describes."""
        m = float(self.mean_s or 0.0)
        if self.kind == "exponential":
            return exponential(m)
        if self.kind == "deterministic":
            return deterministic(m)
        if self.kind == "lognormal":
            return lognormal(m, float(self.cv or 0.0))
        if self.kind == "gamma":
            return gamma(m, float(self.cv or 0.0))
        if self.kind == "erlang":
            return erlang(int(self.k or 1), m)
        return empirical(tuple(self.values_s or ()))


DetectionTable = dict[str, dict[str, float]]
"""``{drug or "*": {concealment or "*": probability}}``; the most specific entry wins."""


def _check_table(table: DetectionTable) -> DetectionTable:
    for drug, row in table.items():
        for conc, p in row.items():
            if conc != WILDCARD and conc not in CONCEALMENTS:
                raise ValueError(f"{drug}.{conc}: unknown concealment, use one of {CONCEALMENTS}")
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{drug}.{conc}: must be in [0, 1], got {p}")
    return table


class LaneSpec(_Model):
    """One primary lane of a mode: booths staffed per hour and the primary service time."""

    booths_by_hour: list[int] = Field(min_length=24, max_length=24)
    service: ServiceSpec
    source: str | None = None

    @field_validator("booths_by_hour")
    @classmethod
    def _non_negative(cls, v: list[int]) -> list[int]:
        for h, n in enumerate(v):
            if not 0 <= n <= MAX_UNITS:
                raise ValueError(f"hour {h}: must be in [0, {MAX_UNITS}], got {n}")
        return v


class ModeSpec(_Model):
    """One mode of crossing at the port."""

    daily_volume: float = Field(gt=0, le=MAX_DAILY_VOLUME)
    hourly_profile: list[float] = Field(min_length=24, max_length=24)
    enrolled_share: float = Field(default=0.0, ge=0, le=1)
    general: LaneSpec
    express: LaneSpec | None = None
    secondary_service: ServiceSpec
    full_search_service: ServiceSpec
    source: str | None = None

    @field_validator("hourly_profile")
    @classmethod
    def _profile(cls, v: list[float]) -> list[float]:
        if any(x < 0 for x in v):
            raise ValueError(f"weights must be >= 0, got {min(v)}")
        if sum(v) <= 0:
            raise ValueError("weights must not all be 0")
        return v

    @model_validator(mode="after")
    def _booths(self) -> ModeSpec:
        if sum(self.general.booths_by_hour) == 0:
            raise ValueError("general.booths_by_hour: at least one booth must be open")
        return self


class CanineSpec(_Model):
    """Canine teams sweeping the primary queues (a team screens one vehicle at a time).

    With ``sweep_s`` set, a screened vehicle gets a pass of that many seconds and an alert
    keeps the team for the follow-up check (``service``); unset, every screened vehicle
    gets the full check (``service``). ``service`` is also the check of a referral that a
    dog triages in secondary."""

    teams: int = Field(ge=0, le=MAX_UNITS)
    service: ServiceSpec
    modes: list[Mode]
    detection: DetectionTable
    false_alarm_prob: float = Field(ge=0, le=1)
    decoy_alert_prob: float = Field(ge=0, le=1)
    source: str | None = None
    sweep_s: float | None = Field(default=None, gt=0, le=3600)

    _t = field_validator("detection")(_check_table)


class ScannerSpec(_Model):
    """A pool of non-intrusive inspection scanners (X-ray / gamma) of one type."""

    name: str
    count: int = Field(ge=0, le=MAX_UNITS)
    service: ServiceSpec
    modes: list[Mode]
    detection: DetectionTable
    false_alarm_prob: float = Field(ge=0, le=1)
    source: str | None = None

    _t = field_validator("detection")(_check_table)


class SecondarySpec(_Model):
    """Secondary inspection: bays with their officers, the parking spaces of the referred
    waiting for a bay (``queue_slots``), an exam without triage (``detection``), an exam
    guided by a triage anomaly or an alert (``guided_detection``), and the full search."""

    bays: int = Field(ge=1, le=MAX_UNITS)
    queue_slots: int = Field(ge=0)
    detection: DetectionTable
    guided_detection: DetectionTable = Field(
        default_factory=lambda: {WILDCARD: {WILDCARD: GUIDED_DETECTION_ASSUMED}})
    full_search_detection: DetectionTable
    source: str | None = None

    _t = field_validator("detection", "guided_detection", "full_search_detection")(_check_table)


class AnalyzerSpec(_Model):
    """Handheld analyzers used in secondary to identify a suspect substance."""

    count: int = Field(ge=0, le=MAX_UNITS)
    service: ServiceSpec
    identify_prob: dict[str, Annotated[float, Field(ge=0, le=1)]]
    false_alarm_prob: float = Field(ge=0, le=1)
    source: str | None = None


HANDHELD_SOURCE = (
    "a handheld triage check of an alerted vehicle (density meter such as the Buster, "
    "fiberscope, handheld backscatter imager such as the Viken HBI-120 CBP bought in 2020, "
    "KRGV 2020-05-20): a density-meter check of a vehicle 'in no more than 5 minutes' "
    "(vendor reseller page, universeoptics.com); detection and false-alarm rates: no "
    "public figure: assumed (docs/targeting.md gives how the plan moves with them)")
"""Where the default handheld triage check comes from."""


class HandheldCheckSpec(_Model):
    """The handheld check an alert may go to first under decoy triage (a policy's
    ``alert_first_check = "handheld"``): officers at the vehicle with a density meter, a
    fiberscope or a handheld imager, no bay and no scanner. An anomaly sends the vehicle
    to a guided bay exam; a clean check releases it. The defaults are ``assumed``: a
    5-minute check (range 3-10 min) that finds a vehicle trap with 0.8 (range 0.6-0.95),
    a load commingled in cargo with 0.5 (0.3-0.7) and one inside a sealed container with
    0.3 (0.1-0.5), whatever the drug (the tools see density, not the substance); 5% of
    clean vehicles give an anomaly (range 1-10%); a trace-tainted decoy with 0.3 (range
    0.1-0.6: a trace reading without a load)."""

    service: ServiceSpec = ServiceSpec(kind="gamma", mean_s=300.0, cv=0.4,
                                       source=HANDHELD_SOURCE)
    detection: DetectionTable = Field(default_factory=lambda: {WILDCARD: {
        WILDCARD: 0.8, "commingled": 0.5, "sealed_pre": 0.3, "sealed_post": 0.3}})
    false_alarm_prob: float = Field(default=0.05, ge=0, le=1)
    decoy_anomaly_prob: float = Field(default=0.3, ge=0, le=1)
    source: str | None = HANDHELD_SOURCE

    _t = field_validator("detection")(_check_table)


class InlandSpec(_Model):
    """An inland checkpoint past the port: a share of crossed vehicles is checked."""

    modes: list[Mode]
    coverage: float = Field(ge=0, le=1)
    detection: DetectionTable
    source: str | None = None

    _t = field_validator("detection")(_check_table)


class DrugSpec(_Model):
    """One drug: load mass (lognormal), street value and harm weight per kg."""

    share: float = Field(ge=0)
    mass_kg_mean: float = Field(gt=0)
    mass_kg_cv: float = Field(default=0.5, gt=0)
    value_usd_per_kg: float = Field(ge=0)
    harm_per_kg: float = Field(ge=0)
    source: str | None = None


class EconomicsSpec(_Model):
    """The cartel as a business (every default ``assumed``: no public figure; ranges in
    ``docs/twin-model.md``).

    A load earns its drugs' value when it crosses (``value_usd_per_kg`` of the drug table)
    and costs, crossed or seized, a driver, a vehicle and the drug at its source price
    (``source_price_share`` of that value). A decoy costs a driver, a vehicle (burned once
    a dog has alerted on it) and the trace drug that taints it. Loads per day follow the
    expected profit of a load: ``(profit(p) / profit(reference_seizure_prob)) **
    elasticity`` times the scenario's rate, none when a load no longer pays. A business
    that plans its crossings keeps its loads a small share of the traffic they hide in:
    at most ``max_cell_share`` of a cell's legitimate conveyances an hour, so its own
    vehicles neither stand out nor congest the lane they count on."""

    elasticity: float = Field(default=1.0, ge=0, le=10)
    reference_seizure_prob: float = Field(default=0.1, ge=0, lt=1)
    driver_fee_usd: float = Field(default=2000.0, ge=0)
    vehicle_usd: float = Field(default=10000.0, ge=0)
    trace_drug_usd: float = Field(default=500.0, ge=0)
    source_price_share: float = Field(default=0.1, ge=0, le=1)
    source: str | None = None
    # the most loads an adversary that plans by cell sends into one (mode, lane, hour)
    # cell, as a share of that cell's legitimate conveyances an hour (``assumed``)
    max_cell_share: float = Field(default=0.05, gt=0, le=1)


class ContrabandSpec(_Model):
    """What the cartel tries to move through the port each day."""

    drugs: dict[str, DrugSpec] = Field(min_length=1)
    loads_per_day: float = Field(ge=0, le=MAX_DAILY_VOLUME)
    decoys_per_day: float = Field(default=0.0, ge=0, le=MAX_DAILY_VOLUME)
    mode_share: dict[Mode, float]
    concealment_share: dict[str, float]
    source: str | None = None
    economics: EconomicsSpec = Field(default_factory=EconomicsSpec)

    @field_validator("concealment_share")
    @classmethod
    def _conc(cls, v: dict[str, float]) -> dict[str, float]:
        for k, p in v.items():
            if k not in CONCEALMENTS:
                raise ValueError(f"{k}: unknown concealment, use one of {CONCEALMENTS}")
            if p < 0:
                raise ValueError(f"{k}: must be >= 0, got {p}")
        if sum(v.values()) <= 0:
            raise ValueError("shares must not all be 0")
        return v


class CustodySpec(_Model):
    """How the chain-of-custody monitor behaves on enrolled trucks."""

    monitored_share: float = Field(default=1.0, ge=0, le=1)
    post_seal_catch_prob: float = Field(default=0.9, ge=0, le=1)
    false_broken_prob: float = Field(default=0.001, ge=0, le=1)
    source: str | None = None


def _check_shares(v: dict[str, float]) -> dict[str, float]:
    """Shares by name: none negative and, if any are given, not all zero."""
    for k, p in v.items():
        if p < 0:
            raise ValueError(f"{k}: must be >= 0, got {p}")
    if v and sum(v.values()) <= 0:
        raise ValueError("shares must not all be 0")
    return v


class AdvanceSpec(_Model):
    """Advance information about each crossing and its link to smuggling (see
    ``portwatch.twin.process.advance``). Every link is ``assumed``: no public source gives
    these rates for land-border conveyances; ``portwatch sensitivity`` varies them."""

    crossings_mean_clean: float = Field(default=20.0, ge=0, le=10_000)
    """Mean prior crossings of a clean conveyance's plate / driver in the last 90 days
    (geometric)."""
    crossings_mean_load: float = Field(default=6.0, ge=0, le=10_000)
    """The same for a cartel conveyance (load or decoy) not dressed as a clean one."""
    new_carrier_clean: float = Field(default=0.05, ge=0, le=1)
    """Share of clean conveyances whose carrier / owner is new (under a year on file)."""
    new_carrier_load: float = Field(default=0.2, ge=0, le=1)
    prior_finding_clean: float = Field(default=0.01, ge=0, le=1)
    """Share of clean conveyances whose plate, driver or carrier had a prior finding."""
    prior_finding_load: float = Field(default=0.05, ge=0, le=1)
    load_commodities: dict[str, float] = Field(default_factory=dict)
    """Manifest commodities of cartel trucks (empty: as clean trucks')."""
    mimicry: float = Field(default=0.2, ge=0, le=1)
    """Share of cartel conveyances dressed as low-risk profiles: their history, carrier,
    findings and manifest are drawn as clean traffic's."""
    training_days: int = Field(default=112, ge=3, le=3660)
    """Days of labelled history the port's risk model is trained on."""
    source: str | None = None

    @field_validator("load_commodities")
    @classmethod
    def _load_shares(cls, v: dict[str, float]) -> dict[str, float]:
        return _check_shares(v)


class CostSpec(_Model):
    """Value of an hour of delay per conveyance, USD."""

    truck_hour_usd: float = Field(ge=0)
    car_hour_usd: float = Field(ge=0)
    pedestrian_hour_usd: float = Field(ge=0)
    bus_hour_usd: float = Field(ge=0)
    source: str | None = None
    rail_container_hour_usd: float = Field(default=0.0, ge=0)


RAIL_PORTAL_FALSE_ALARM_ASSUMED = 0.02
"""Share of clean rail containers whose portal image an officer finds anomalous:
``assumed`` (range 0.005-0.05; no public figure)."""


class RailSpec(_Model):
    """Trains and their inspection, at a port where ``modes.rail`` crosses.

    The unit of the rail mode is the container (or railcar) BTS counts, loaded or empty.
    Trains arrive ``trains_per_day`` (Poisson, hours by ``modes.rail.hourly_profile``),
    each with its containers (``modes.rail.daily_volume / trains_per_day`` on average), all
    at the train's arrival instant. The rail NII portal is the mode's primary station
    (``modes.rail.general``: one booth per portal, a container's ``service`` time the
    train's passage at line speed) and images every container: an anomaly (a load with
    ``portal_detection``, a clean container with ``portal_false_alarm_prob``) refers the
    container to the rail yard. Yard exams (``modes.rail.secondary_service``; full search
    ``modes.rail.full_search_service``) are made by ``yard_teams`` teams of their own, in
    order of referral, with the secondary's detection tables (guided after an image
    anomaly); the yard holds every referred container (set-out tracks), so rail never
    fills the port's secondary."""

    trains_per_day: float = Field(gt=0, le=MAX_DAILY_VOLUME)
    loaded_share: float = Field(ge=0, le=1)
    """Share of the containers that are loaded (BTS Rail Containers Full over Full + Empty);
    reported, not used by the inspection."""
    portal_detection: DetectionTable
    portal_false_alarm_prob: float = Field(default=RAIL_PORTAL_FALSE_ALARM_ASSUMED, ge=0, le=1)
    yard_teams: int = Field(ge=1, le=MAX_UNITS)
    source: str | None = None

    _t = field_validator("portal_detection")(_check_table)


BALK_WAIT_MIN_ASSUMED = {Mode.CAR: 180.0, Mode.PEDESTRIAN: 150.0}
"""Visible wait (min) beyond which a driver or pedestrian leaves the line: ``assumed``
(range 60-300; no public figure for the southern border)."""
DIVERT_SHARE_ASSUMED = 0.5
"""Share of those who leave the line who cross at another port instead of giving up the
trip: ``assumed`` (range 0-1)."""


class DriversSpec(_Model):
    """How travellers react to the queues they see on arrival. An enrolled traveller of a
    mode in ``choose_lane`` joins the shorter (in expected wait) of the general and the
    express lanes; anyone (but a smuggler) whose visible wait passes ``balk_wait_min`` of
    the mode leaves: ``divert_share`` of them to another port, the rest give up the trip.
    The visible wait is the queue ahead times the lane's mean service over its open booths."""

    choose_lane: list[Mode] = Field(default_factory=list)
    balk_wait_min: dict[Mode, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)
    divert_share: float = Field(default=DIVERT_SHARE_ASSUMED, ge=0, le=1)
    source: str | None = None


class ScenarioSpec(_Model):
    """A whole scenario file."""

    name: str
    description: str = ""
    source: str | None = None
    modes: dict[Mode, ModeSpec] = Field(min_length=1)
    canine: CanineSpec
    scanners: list[ScannerSpec] = Field(default_factory=list)
    secondary: SecondarySpec
    analyzer: AnalyzerSpec
    inland: InlandSpec | None = None
    contraband: ContrabandSpec
    custody: CustodySpec = CustodySpec()
    cost: CostSpec
    commodities: dict[str, float] = Field(default_factory=dict)
    """Shares of the manifest commodities of trucks (empty: not modelled)."""
    advance: AdvanceSpec = AdvanceSpec()
    drivers: DriversSpec | None = None
    """Lane choice and balking (none: travellers keep their lane and never leave)."""
    rail: RailSpec | None = None
    """Trains, the rail portal and the rail yard (required where ``modes.rail`` is)."""
    handheld: HandheldCheckSpec = HandheldCheckSpec()
    """The handheld triage check of an alerted vehicle (defaults ``assumed``)."""

    @field_validator("commodities")
    @classmethod
    def _shares(cls, v: dict[str, float]) -> dict[str, float]:
        return _check_shares(v)

    @model_validator(mode="after")
    def _load_commodities_known(self) -> ScenarioSpec:
        for k in self.advance.load_commodities:
            if k not in self.commodities:
                raise ValueError(f"advance.load_commodities.{k}: not a commodity of "
                                 f"[commodities] ({', '.join(self.commodities) or 'none'})")
        return self

    @model_validator(mode="after")
    def _drugs_known(self) -> ScenarioSpec:
        drugs = set(self.contraband.drugs)
        tables: list[tuple[str, DetectionTable]] = [
            ("canine.detection", self.canine.detection),
            ("secondary.detection", self.secondary.detection),
            ("secondary.guided_detection", self.secondary.guided_detection),
            ("secondary.full_search_detection", self.secondary.full_search_detection),
        ]
        tables += [(f"scanners.{s.name}.detection", s.detection) for s in self.scanners]
        if self.rail is not None:
            tables.append(("rail.portal_detection", self.rail.portal_detection))
        if self.inland is not None:
            tables.append(("inland.detection", self.inland.detection))
        for where, table in tables:
            for drug in table:
                if drug != WILDCARD and drug not in drugs:
                    raise ValueError(f"{where}.{drug}: unknown drug, known: {sorted(drugs)}")
        for drug in self.analyzer.identify_prob:
            if drug not in drugs:
                raise ValueError(f"analyzer.identify_prob.{drug}: unknown drug")
        for mode in self.contraband.mode_share:
            if mode not in self.modes:
                raise ValueError(f"contraband.mode_share.{mode}: mode not in modes")
        if self.drivers is not None:
            for mode in [*self.drivers.choose_lane, *self.drivers.balk_wait_min]:
                if mode not in self.modes:
                    raise ValueError(f"drivers: {mode}: mode not in modes")
        return self

    @model_validator(mode="after")
    def _rail(self) -> ScenarioSpec:
        rail = self.modes.get(Mode.RAIL)
        if rail is None:
            if self.rail is not None:
                raise ValueError("rail: given, but modes.rail is not")
            return self
        if self.rail is None:
            raise ValueError("rail: required where modes.rail is (trains, portal, yard)")
        if rail.express is not None:
            raise ValueError("modes.rail.express: trains have no express lane")
        if rail.enrolled_share != 0:
            raise ValueError(f"modes.rail.enrolled_share: must be 0 (no trusted-shipper lane "
                             f"for trains), got {rail.enrolled_share}")
        if rail.daily_volume < self.rail.trains_per_day:
            raise ValueError(f"rail.trains_per_day: more trains ({self.rail.trains_per_day}) "
                             f"than containers ({rail.daily_volume}) a day")
        where = [("canine.modes", self.canine.modes)]
        where += [(f"scanners.{s.name}.modes", s.modes) for s in self.scanners]
        if self.drivers is not None:
            where += [("drivers.choose_lane", self.drivers.choose_lane),
                      ("drivers.balk_wait_min", list(self.drivers.balk_wait_min))]
        for name, modes in where:
            if Mode.RAIL in modes:
                raise ValueError(f"{name}: rail is inspected by the rail portal and yard "
                                 "([rail]), not here")
        return self


@dataclass(frozen=True, eq=False)
class CompiledScenario:
    """A validated scenario as arrays for the kernel (modes in ``MODE_ORDER``,
    stations ``mode * 2 + lane``, concealments in ``CONCEALMENTS``)."""

    name: str
    spec: ScenarioSpec
    mode_present: np.ndarray  # bool [mode]
    daily_volume: np.ndarray  # float64 [mode], conveyances per day
    hourly_profile: np.ndarray  # float64 [mode, 24], each row sums to 1
    enrolled_share: np.ndarray  # float64 [mode]
    has_express: np.ndarray  # bool [mode]
    booths: np.ndarray  # int64 [station, 24]
    primary_service: tuple[Duration | None, ...]  # [station]
    secondary_service: tuple[Duration | None, ...]  # [mode]
    full_search_service: tuple[Duration | None, ...]  # [mode]
    canine_teams: int
    canine_service: Duration
    canine_modes: np.ndarray  # bool [mode]
    canine_detect: np.ndarray  # float64 [drug, concealment]
    canine_false_alarm: float
    canine_decoy_alert: float
    scanner_names: tuple[str, ...]
    scanner_type: np.ndarray  # int64 [unit]: index of each scanner unit's type
    scanner_service: tuple[Duration, ...]  # [type]
    scanner_modes: np.ndarray  # bool [type, mode]
    scanner_detect: np.ndarray  # float64 [type, drug, concealment]
    scanner_false_alarm: np.ndarray  # float64 [type]
    bays: int
    queue_slots: int
    bay_detect: np.ndarray  # float64 [drug, concealment]
    guided_detect: np.ndarray  # float64 [drug, concealment]
    full_detect: np.ndarray  # float64 [drug, concealment]
    analyzer_service: Duration
    analyzer_identify: np.ndarray  # float64 [drug]
    analyzer_false_alarm: float
    inland_modes: np.ndarray  # bool [mode]
    inland_coverage: float
    inland_detect: np.ndarray  # float64 [drug, concealment]
    drugs: tuple[str, ...]
    drug_share: np.ndarray  # float64 [drug], sums to 1
    drug_mass_kg_mean: np.ndarray
    drug_mass_kg_cv: np.ndarray
    drug_value_usd_per_kg: np.ndarray
    drug_harm_per_kg: np.ndarray
    loads_per_day: float
    decoys_per_day: float
    load_mode_share: np.ndarray  # float64 [mode], sums to 1
    concealment_share: np.ndarray  # float64 [concealment], sums to 1
    hour_value_usd: np.ndarray  # float64 [mode]
    commodity_names: tuple[str, ...]
    commodity_share: np.ndarray  # float64 [commodity], sums to 1 (empty: not modelled)
    choose_lane: np.ndarray  # bool [mode]: the enrolled pick the shorter lane
    balk_wait_s: np.ndarray  # float64 [mode]: visible wait that makes one leave (inf: never)
    divert_share: float  # of those who leave, the share that cross at another port
    portal_modes: np.ndarray  # bool [mode]: every conveyance imaged at primary (rail)
    portal_detect: np.ndarray  # float64 [drug, concealment]: the portal image's anomaly
    portal_false_alarm: float
    yard_modes: np.ndarray  # bool [mode]: referrals examined in the rail yard
    rail_yard_teams: int
    trains_per_day: float  # 0: no rail
    handheld_service: Duration  # the handheld triage check of an alerted vehicle
    handheld_detect: np.ndarray  # float64 [drug, concealment]
    handheld_false_alarm: float
    handheld_decoy: float  # a trace-tainted decoy's anomaly

    @property
    def secondary_capacity(self) -> int:
        """Conveyances secondary holds at once (bays in use + waiting slots)."""
        return self.bays + self.queue_slots


def _table(table: DetectionTable, drugs: tuple[str, ...]) -> np.ndarray:
    out = np.zeros((len(drugs), N_CONCEALMENTS))
    for i, drug in enumerate(drugs):
        for j, conc in enumerate(CONCEALMENTS):
            for d in (drug, WILDCARD):
                row = table.get(d)
                if row is not None and (conc in row or WILDCARD in row):
                    out[i, j] = row.get(conc, row.get(WILDCARD, 0.0))
                    break
    return out


def _modes_mask(modes: list[Mode]) -> np.ndarray:
    return np.array([m in modes for m in MODE_ORDER])


def _mode_fields(spec: ScenarioSpec) -> dict[str, Any]:
    """The per-mode arrays of a compiled scenario: volumes, profiles, booths, services."""
    volume = np.zeros(N_MODES)
    profile = np.zeros((N_MODES, 24))
    enrolled = np.zeros(N_MODES)
    has_express = np.zeros(N_MODES, dtype=bool)
    booths = np.zeros((N_STATIONS, 24), dtype=np.int64)
    primary: list[Duration | None] = [None] * N_STATIONS
    secondary: list[Duration | None] = [None] * N_MODES
    full: list[Duration | None] = [None] * N_MODES
    values = {
        Mode.TRUCK: spec.cost.truck_hour_usd,
        Mode.CAR: spec.cost.car_hour_usd,
        Mode.PEDESTRIAN: spec.cost.pedestrian_hour_usd,
        Mode.BUS: spec.cost.bus_hour_usd,
        Mode.RAIL: spec.cost.rail_container_hour_usd,
    }
    for m, mode in enumerate(MODE_ORDER):
        ms = spec.modes.get(mode)
        if ms is None:
            continue
        volume[m] = ms.daily_volume
        profile[m] = np.asarray(ms.hourly_profile) / sum(ms.hourly_profile)
        enrolled[m] = ms.enrolled_share
        booths[m * N_LANES] = ms.general.booths_by_hour
        primary[m * N_LANES] = ms.general.service.build()
        if ms.express is not None and sum(ms.express.booths_by_hour) > 0:
            has_express[m] = True
            booths[m * N_LANES + 1] = ms.express.booths_by_hour
            primary[m * N_LANES + 1] = ms.express.service.build()
        secondary[m] = ms.secondary_service.build()
        full[m] = ms.full_search_service.build()
    return {
        "mode_present": np.array([m in spec.modes for m in MODE_ORDER]),
        "daily_volume": volume,
        "hourly_profile": profile,
        "enrolled_share": enrolled,
        "has_express": has_express,
        "booths": booths,
        "primary_service": tuple(primary),
        "secondary_service": tuple(secondary),
        "full_search_service": tuple(full),
        "hour_value_usd": np.array([values[mode] for mode in MODE_ORDER], dtype=np.float64),
    }


def _scanner_fields(spec: ScenarioSpec, drugs: tuple[str, ...]) -> dict[str, Any]:
    """The NII scanners' arrays: one entry per scanner unit, tables per type."""
    scanners = spec.scanners
    return {
        "scanner_names": tuple(s.name for s in scanners),
        "scanner_type": np.repeat(np.arange(len(scanners)),
                                  [s.count for s in scanners]).astype(np.int64),
        "scanner_service": tuple(s.service.build() for s in scanners),
        "scanner_modes": np.array([_modes_mask(s.modes) for s in scanners]).reshape(
            len(scanners), N_MODES),
        "scanner_detect": np.array([_table(s.detection, drugs) for s in scanners]).reshape(
            len(scanners), len(drugs), N_CONCEALMENTS),
        "scanner_false_alarm": np.array([s.false_alarm_prob for s in scanners],
                                        dtype=np.float64),
    }


def compile_scenario(spec: ScenarioSpec) -> CompiledScenario:
    """Turn a validated scenario into the arrays the kernel reads."""
    drugs = tuple(spec.contraband.drugs)
    dspec = [spec.contraband.drugs[d] for d in drugs]
    share = np.array([d.share for d in dspec])
    if share.sum() <= 0:
        raise ConfigError(f"{spec.name}: contraband.drugs: shares must not all be 0")
    mode_share = np.array([spec.contraband.mode_share.get(m, 0.0) for m in MODE_ORDER])
    if spec.contraband.loads_per_day > 0 and mode_share.sum() <= 0:
        raise ConfigError(f"{spec.name}: contraband.mode_share: shares must not all be 0")
    conc_share = np.array([spec.contraband.concealment_share.get(c, 0.0) for c in CONCEALMENTS])
    inland = spec.inland
    return CompiledScenario(
        name=spec.name,
        spec=spec,
        **_mode_fields(spec),
        canine_teams=spec.canine.teams,
        canine_service=spec.canine.service.build(),
        canine_modes=_modes_mask(spec.canine.modes),
        canine_detect=_table(spec.canine.detection, drugs),
        canine_false_alarm=spec.canine.false_alarm_prob,
        canine_decoy_alert=spec.canine.decoy_alert_prob,
        **_scanner_fields(spec, drugs),
        bays=spec.secondary.bays,
        queue_slots=spec.secondary.queue_slots,
        bay_detect=_table(spec.secondary.detection, drugs),
        guided_detect=_table(spec.secondary.guided_detection, drugs),
        full_detect=_table(spec.secondary.full_search_detection, drugs),
        analyzer_service=spec.analyzer.service.build(),
        analyzer_identify=np.array([spec.analyzer.identify_prob.get(d, 0.0) for d in drugs]),
        analyzer_false_alarm=spec.analyzer.false_alarm_prob,
        inland_modes=_modes_mask(inland.modes) if inland else np.zeros(N_MODES, dtype=bool),
        inland_coverage=inland.coverage if inland else 0.0,
        inland_detect=_table(inland.detection, drugs) if inland else np.zeros(
            (len(drugs), N_CONCEALMENTS)
        ),
        drugs=drugs,
        drug_share=share / share.sum(),
        drug_mass_kg_mean=np.array([d.mass_kg_mean for d in dspec]),
        drug_mass_kg_cv=np.array([d.mass_kg_cv for d in dspec]),
        drug_value_usd_per_kg=np.array([d.value_usd_per_kg for d in dspec]),
        drug_harm_per_kg=np.array([d.harm_per_kg for d in dspec]),
        loads_per_day=spec.contraband.loads_per_day,
        decoys_per_day=spec.contraband.decoys_per_day,
        load_mode_share=mode_share / mode_share.sum() if mode_share.sum() > 0 else mode_share,
        concealment_share=conc_share / conc_share.sum(),
        commodity_names=tuple(spec.commodities),
        commodity_share=np.array(list(spec.commodities.values()), dtype=np.float64)
        / (sum(spec.commodities.values()) or 1.0),
        **_driver_fields(spec),
        **_rail_fields(spec, drugs),
        handheld_service=spec.handheld.service.build(),
        handheld_detect=_table(spec.handheld.detection, drugs),
        handheld_false_alarm=spec.handheld.false_alarm_prob,
        handheld_decoy=spec.handheld.decoy_anomaly_prob,
    )


def _rail_fields(spec: ScenarioSpec, drugs: tuple[str, ...]) -> dict[str, Any]:
    """The rail portal and yard as arrays by mode (no ``[rail]`` table: no rail)."""
    rail = spec.rail
    present = _modes_mask([Mode.RAIL] if rail is not None else [])
    return {
        "portal_modes": present,
        "portal_detect": (_table(rail.portal_detection, drugs) if rail is not None
                          else np.zeros((len(drugs), N_CONCEALMENTS))),
        "portal_false_alarm": rail.portal_false_alarm_prob if rail is not None else 0.0,
        "yard_modes": present.copy(),
        "rail_yard_teams": rail.yard_teams if rail is not None else 0,
        "trains_per_day": rail.trains_per_day if rail is not None else 0.0,
    }


def _driver_fields(spec: ScenarioSpec) -> dict[str, Any]:
    """Lane choice and balking as arrays by mode (no ``drivers`` table: neither)."""
    drivers = spec.drivers
    if drivers is None:
        return {"choose_lane": np.zeros(N_MODES, dtype=bool),
                "balk_wait_s": np.full(N_MODES, np.inf), "divert_share": 0.0}
    return {
        "choose_lane": _modes_mask(drivers.choose_lane),
        "balk_wait_s": np.array([60.0 * drivers.balk_wait_min.get(m, np.inf)
                                 for m in MODE_ORDER]),
        "divert_share": drivers.divert_share,
    }


def _num(x: Any) -> Any:
    return int(x) if isinstance(x, float) and x.is_integer() else x


def _describe(err: dict[str, Any]) -> str:
    loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-after"))
    ctx = err.get("ctx") or {}
    kind = err["type"]
    got = err.get("input")
    if kind == "greater_than":
        msg = f"must be > {_num(ctx['gt'])}, got {got}"
    elif kind == "greater_than_equal":
        msg = f"must be >= {_num(ctx['ge'])}, got {got}"
    elif kind == "less_than":
        msg = f"must be < {_num(ctx['lt'])}, got {got}"
    elif kind == "less_than_equal":
        msg = f"must be <= {_num(ctx['le'])}, got {got}"
    elif kind == "missing":
        msg = "required"
    elif kind == "extra_forbidden":
        msg = "unknown field"
    elif kind in ("too_short", "too_long"):
        msg = f"must hold {ctx.get('min_length', ctx.get('max_length'))} values, " \
              f"got {ctx.get('actual_length')}"
    elif kind == "finite_number":
        msg = f"must be a finite number, got {got}"
    elif kind == "value_error":
        msg = str(ctx.get("error", err["msg"]))
    else:
        msg = err["msg"][0].lower() + err["msg"][1:]
    return f"{loc}: {msg}" if loc else msg


def parse_scenario(data: dict[str, Any], where: str) -> CompiledScenario:
    """Validate a scenario's parsed TOML (``where`` names it in errors) and compile it."""
    try:
        spec = ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_describe(dict(exc.errors()[0]))}") from None
    try:
        return compile_scenario(spec)
    except InputError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def scenario_names() -> list[str]:
    """Names of the scenarios shipped with portwatch."""
    folder = resources.files("portwatch.twin.scenario") / "shipped"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def scenario_path(name_or_path: str | Path) -> Path:
    """The file a scenario name (``otay-mesa``) or path (``my.toml``) refers to."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if path.is_dir():
            raise NotFoundError(f"{name_or_path}: is a folder, not a scenario file")
        if not path.is_file():
            raise NotFoundError(f"{name_or_path}: no such scenario file")
        return path
    shipped = resources.files("portwatch.twin.scenario") / "shipped" / f"{name_or_path}.toml"
    if not shipped.is_file():
        known = ", ".join(scenario_names())
        raise NotFoundError(f"scenario {name_or_path!r}: not found (shipped: {known})")
    return Path(str(shipped))


def scenario_data(name_or_path: str | Path) -> tuple[dict[str, Any], str]:
    """The parsed TOML of a scenario and the file name errors cite."""
    path = scenario_path(name_or_path)
    try:
        return tomllib.loads(path.read_text()), path.name
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: not valid TOML: {exc}") from None


def load_scenario(name_or_path: str | Path, overrides: Sequence[str] = ()) -> CompiledScenario:
    """Read, validate and compile a scenario by shipped name or by path, with any
    ``PATH=VALUE`` ``overrides`` applied first (``portwatch.twin.scenario.overrides``).

    Errors are one line naming the file and field, e.g.
    ``otay-mesa.toml: modes.truck.daily_volume: must be > 0, got -3``.
    """
    from portwatch.twin.scenario.overrides import apply_overrides

    data, where = scenario_data(name_or_path)
    if overrides:
        data = apply_overrides(data, overrides)
        where = f"{where} (with --set)"
    return parse_scenario(data, where)


__all__ = [
    "CONCEALMENTS",
    "LANE_ORDER",
    "MODE_ORDER",
    "N_CONCEALMENTS",
    "N_STATIONS",
    "CompiledScenario",
    "DriversSpec",
    "RailSpec",
    "ScenarioSpec",
    "ServiceSpec",
    "compile_scenario",
    "load_scenario",
    "parse_scenario",
    "scenario_data",
    "scenario_names",
    "scenario_path",
]
