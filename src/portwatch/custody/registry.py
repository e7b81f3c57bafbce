"""Enrollment values: parties, seal devices, route plans and shipments.

``shipment.json`` (what ``portwatch custody register`` takes) is validated here with
pydantic, at the edge, and turned into frozen values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from portwatch.custody.corridor import Corridor, Zone
from portwatch.custody.geodesy import distance_m, ecef_m
from portwatch.custody.keys import load_public_key
from portwatch.custody.thresholds import pydantic_message
from portwatch.domain.custody import Party, PartyRole, Standing
from portwatch.domain.errors import InputError
from portwatch.domain.fields import PortCode

_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"


@dataclass(frozen=True)
class RoutePlan:
    """A planned route: the line, its corridor, and the geofences along it."""

    name: str
    line: tuple[tuple[float, float], ...]
    corridor_width_m: float
    origin: Zone
    crossing: Zone
    destination: Zone
    stops: tuple[Zone, ...] = ()
    source: str = ""
    port_code: str | None = None
    """The CBP code of the port of entry at the crossing (``2506``: Otay Mesa), when
    the document gives it: the port whose officers see the shipment's alerts."""

    @cached_property
    def corridor(self) -> Corridor:
        """The corridor geometry (built once per plan)."""
        return Corridor(self.line, self.corridor_width_m)

    @cached_property
    def crossing_along_m(self) -> float:
        """Where the border crossing lies along the route (m from the start)."""
        _, along = self.corridor.locate([self.crossing.lat], [self.crossing.lon])
        return float(along[0])

    @cached_property
    def zone_ecef_m(self) -> tuple[np.ndarray, np.ndarray]:
        """Earth-centred coordinates (m) of the authorised zones' centres, and radii."""
        zones = self.authorised_zones
        centres = ecef_m([z.lat for z in zones], [z.lon for z in zones]).reshape(-1, 3)
        return centres, np.array([z.radius_m for z in zones])

    def in_zones(self, lat: np.ndarray, lon: np.ndarray, xyz: np.ndarray) -> np.ndarray:
        """(n, zones) membership of points in each authorised zone."""
        centres, radii = self.zone_ecef_m
        # chord and geodesic differ by under a millimetre at geofence sizes (< 10 km)
        gap = xyz[:, None, :] - centres[None, :, :]
        inside = np.einsum("nzk,nzk->nz", gap, gap) <= radii[None, :] ** 2
        for j, z in enumerate(self.authorised_zones):
            if z.polygon and len(lat):
                inside[:, j] = inside[:, j] & z.contains(lat, lon)
        return inside

    @property
    def authorised_zones(self) -> tuple[Zone, ...]:
        """Every place a stop is allowed, with its maximum dwell."""
        return (self.origin, self.crossing, self.destination, *self.stops)


@dataclass(frozen=True)
class SealDevice:
    """An electronic seal and its Ed25519 public key (base64, raw 32 bytes)."""

    seal_id: str
    public_key: str


@dataclass(frozen=True)
class Shipment:
    """A shipment: its container, its seal, its parties and its route plan."""

    shipment_id: str
    container_id: str
    seal: SealDevice
    parties: tuple[Party, ...]
    route: RoutePlan
    document: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def eligibility_problems(self) -> list[str]:
        """Why the shipment cannot take the express lane; empty when it can."""
        problems = []
        for role in PartyRole:
            of_role = [p for p in self.parties if p.role is role]
            if not of_role:
                problems.append(f"no {role.value} named")
            for p in of_role:
                if not p.enrolled:
                    problems.append(f"{role.value} {p.party_id} not enrolled")
                elif p.standing is not Standing.GOOD:
                    problems.append(f"{role.value} {p.party_id} in {p.standing.value} standing")
        return problems


def iso6346_check_digit(owner_serial: str) -> int:
    """The ISO 6346 check digit of the first 10 characters of a container number."""
    values: dict[str, int] = {}
    v = 10
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if v % 11 == 0:  # the standard skips multiples of 11
            v += 1
        values[letter] = v
        v += 1
    total = sum(
        (values[c] if c.isalpha() else int(c)) * (2**i) for i, c in enumerate(owner_serial)
    )
    return total % 11 % 10


class _ZoneIn(BaseModel):
    """A circle (lat, lon, radius_m) or a polygon (at least 3 [lat, lon] vertices)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    name: str = Field(min_length=1)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    radius_m: float | None = Field(default=None, gt=0)
    polygon: list[tuple[float, float]] | None = Field(default=None, min_length=3)
    max_dwell_s: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _circle_or_polygon(self) -> _ZoneIn:
        circle = (self.lat, self.lon, self.radius_m)
        if self.polygon is None and any(v is None for v in circle):
            raise ValueError("a zone needs lat, lon and radius_m (a circle) or a polygon")
        if self.polygon is not None:
            if any(v is not None for v in circle):
                raise ValueError("a zone is a circle or a polygon, not both")
            for i, (lat, lon) in enumerate(self.polygon):
                if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                    raise ValueError(f"polygon point {i} ({lat}, {lon}) is not a (lat, lon)")
        return self


class _RouteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    source: str = ""
    corridor_width_m: float = Field(gt=0)
    line: list[tuple[float, float]] = Field(min_length=2)
    origin: _ZoneIn
    crossing: _ZoneIn
    destination: _ZoneIn
    stops: list[_ZoneIn] = Field(default_factory=list)
    port_code: PortCode | None = None

    @field_validator("line")
    @classmethod
    def _in_range(cls, line: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for i, (lat, lon) in enumerate(line):
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError(f"point {i} ({lat}, {lon}) is not a (lat, lon) in degrees")
        return line


class _PartyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    party_id: str = Field(pattern=_ID_PATTERN)
    role: PartyRole
    name: str = Field(min_length=1)
    enrolled: bool
    standing: Standing = Standing.GOOD
    card_id: str | None = None


class _SealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seal_id: str = Field(pattern=_ID_PATTERN)
    public_key: str


class _ShipmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    shipment_id: str = Field(pattern=_ID_PATTERN)
    container_id: str = Field(pattern=r"^[A-Z]{3}[UJZ][0-9]{7}$")
    seal: _SealIn
    parties: list[_PartyIn] = Field(min_length=1)
    route: _RouteIn

    @field_validator("container_id")
    @classmethod
    def _check_digit(cls, value: str) -> str:
        if iso6346_check_digit(value[:10]) != int(value[10]):
            raise ValueError(f"ISO 6346 check digit of {value} should be "
                             f"{iso6346_check_digit(value[:10])}")
        return value


def _zone(z: _ZoneIn) -> Zone:
    if z.polygon is None:
        return Zone(z.name, float(z.lat or 0.0), float(z.lon or 0.0), float(z.radius_m or 0.0),
                    z.max_dwell_s)
    vertices = tuple((float(a), float(b)) for a, b in z.polygon)
    lat = float(np.mean([v[0] for v in vertices]))
    lon = float(np.mean([v[1] for v in vertices]))
    radius = float(np.max(distance_m([v[0] for v in vertices], [v[1] for v in vertices],
                                     lat, lon)))
    if radius <= 0:
        raise InputError(f"zone {z.name}: polygon has no area")
    return Zone(z.name, lat, lon, radius, z.max_dwell_s, vertices)


def route_from_mapping(data: dict[str, Any], source: str) -> RoutePlan:
    """A route plan from its JSON mapping; ``source`` names the file in errors."""
    try:
        r = _RouteIn.model_validate(data)
    except ValidationError as exc:
        raise InputError(pydantic_message(exc, source)) from exc
    return _route(r)


def _route(r: _RouteIn) -> RoutePlan:
    return RoutePlan(
        name=r.name,
        line=tuple((float(a), float(b)) for a, b in r.line),
        corridor_width_m=r.corridor_width_m,
        origin=_zone(r.origin),
        crossing=_zone(r.crossing),
        destination=_zone(r.destination),
        stops=tuple(_zone(s) for s in r.stops),
        source=r.source,
        port_code=r.port_code,
    )


def shipment_from_mapping(data: dict[str, Any], source: str = "shipment.json") -> Shipment:
    """A shipment from its JSON mapping; errors name ``source`` and the field."""
    try:
        s = _ShipmentIn.model_validate(data)
    except ValidationError as exc:
        raise InputError(pydantic_message(exc, source)) from exc
    load_public_key(s.seal.public_key, f"{source}: seal.public_key")
    parties = tuple(
        Party(p.party_id, p.role, p.name, p.enrolled, p.standing, p.card_id) for p in s.parties
    )
    drivers = [p for p in parties if p.role is PartyRole.DRIVER and not p.card_id]
    if drivers:
        raise InputError(f"{source}: parties: driver {drivers[0].party_id} needs a card_id")
    return Shipment(
        shipment_id=s.shipment_id,
        container_id=s.container_id,
        seal=SealDevice(s.seal.seal_id, s.seal.public_key),
        parties=parties,
        route=_route(s.route),
        document=s.model_dump(mode="json"),
    )


def load_shipment(path: Path) -> Shipment:
    """Read and validate a ``shipment.json``."""
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    except ValueError as exc:
        raise InputError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: must hold a JSON object")
    return shipment_from_mapping(data, path.name)


__all__ = [
    "RoutePlan",
    "SealDevice",
    "Shipment",
    "iso6346_check_digit",
    "load_shipment",
    "route_from_mapping",
    "shipment_from_mapping",
]
