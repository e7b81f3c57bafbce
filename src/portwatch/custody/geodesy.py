"""Distances on the WGS 84 ellipsoid, fast and vectorised, for short spans.

Within a few kilometres the ellipsoid is flat to well under a metre when it is
projected on the tangent plane at the mean latitude of the points involved, with the
meridional (M) and prime-vertical (N) radii of curvature of that latitude. Longer
spans are handed to pyproj's geodesic (Karney's algorithm).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import Geod

# WGS 84 defining constants (NGA.STND.0036, 2014)
WGS84_A_M = 6_378_137.0
WGS84_F = 1 / 298.257223563
_E2 = WGS84_F * (2 - WGS84_F)
GEOD = Geod(ellps="WGS84")
_LONG_SPAN_M = 20_000.0

Array = NDArray[np.float64]


def radii_m(lat_deg: ArrayLike) -> tuple[Array, Array]:
    """Meridional and prime-vertical radii of curvature (m) at a latitude (deg)."""
    s = np.sin(np.radians(np.asarray(lat_deg, dtype=np.float64)))
    w2 = 1.0 - _E2 * s * s
    n = WGS84_A_M / np.sqrt(w2)
    m = n * (1.0 - _E2) / w2
    return m, n


def local_xy_m(
    lat_deg: ArrayLike, lon_deg: ArrayLike, lat0_deg: ArrayLike, lon0_deg: ArrayLike
) -> tuple[Array, Array]:
    """East and north offsets (m) of points from an origin, on the origin's tangent plane."""
    lat0 = np.asarray(lat0_deg, dtype=np.float64)
    m, n = radii_m(lat0)
    dlat = np.radians(np.asarray(lat_deg, dtype=np.float64) - lat0)
    dlon = np.radians(np.asarray(lon_deg, dtype=np.float64) - np.asarray(lon0_deg))
    dlon = (dlon + np.pi) % (2 * np.pi) - np.pi
    return dlon * n * np.cos(np.radians(lat0)), dlat * m


def distance_m(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> Array:
    """Geodesic distance (m) between point pairs; exact to millimetres below 20 km."""
    lat1a, lon1a = np.asarray(lat1, np.float64), np.asarray(lon1, np.float64)
    lat2a, lon2a = np.asarray(lat2, np.float64), np.asarray(lon2, np.float64)
    lat_mid = 0.5 * (lat1a + lat2a)
    lon_mid = lon1a + 0.5 * (((lon2a - lon1a) + 180.0) % 360.0 - 180.0)
    x1, y1 = local_xy_m(lat1a, lon1a, lat_mid, lon_mid)
    x2, y2 = local_xy_m(lat2a, lon2a, lat_mid, lon_mid)
    d = np.hypot(x2 - x1, y2 - y1)
    far = d > _LONG_SPAN_M
    if np.any(far):
        b = np.broadcast_arrays(lat1a, lon1a, lat2a, lon2a)
        d = np.array(d, dtype=np.float64, copy=True)
        _, _, d_far = GEOD.inv(b[1][far], b[0][far], b[3][far], b[2][far])
        d[far] = d_far
    return d


def distance_scalar_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """``distance_m`` for one pair of points, without numpy's per-call overhead."""
    lat0 = 0.5 * (lat1 + lat2)
    s = math.sin(math.radians(lat0))
    w2 = 1.0 - _E2 * s * s
    n = WGS84_A_M / math.sqrt(w2)
    m = n * (1.0 - _E2) / w2
    dlon = (lon2 - lon1 + 180.0) % 360.0 - 180.0
    dx = math.radians(dlon) * n * math.cos(math.radians(lat0))
    dy = math.radians(lat2 - lat1) * m
    d = math.hypot(dx, dy)
    if d > _LONG_SPAN_M:
        return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])
    return d


def ecef_m(lat_deg: ArrayLike, lon_deg: ArrayLike) -> Array:
    """Earth-centred Cartesian coordinates (m) of points on the ellipsoid, shape (n, 3)."""
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    _, n = radii_m(np.degrees(lat))
    cl = np.cos(lat)
    return np.stack(
        [n * cl * np.cos(lon), n * cl * np.sin(lon), n * (1 - _E2) * np.sin(lat)], axis=-1
    )


__all__ = [
    "GEOD",
    "WGS84_A_M",
    "WGS84_F",
    "distance_m",
    "distance_scalar_m",
    "ecef_m",
    "local_xy_m",
    "radii_m",
]
