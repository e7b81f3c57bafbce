"""Route corridors and geofences.

A route is a polyline of (lat, lon) vertices joined by geodesics. ``Corridor``
densifies it to short segments so that each distance is computed on the tangent plane
at the mean latitude of the point and its segment, which stays within centimetres of
the geodesic answer (see ``tests/custody/test_geodesy.py``). A k-d tree of segment
midpoints narrows the search; the pruning bound keeps the answer exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial import cKDTree

from portwatch.custody.geodesy import GEOD, Array, distance_m, ecef_m, local_xy_m, radii_m
from portwatch.domain.errors import InputError

_K_NEAREST = 8


@dataclass(frozen=True, slots=True)
class Zone:
    """A geofence: an origin, a crossing, a destination or an authorised stop.

    Either a circle (``lat``, ``lon``, ``radius_m``) or a polygon (``polygon``, its
    vertices as (lat, lon), for a yard or a set of lanes; ``lat``/``lon`` are then its
    vertices' mean and ``radius_m`` the farthest vertex from it, a bounding circle).
    ``max_dwell_s`` bounds how long a conveyance may stand still inside it.
    """

    name: str
    lat: float
    lon: float
    radius_m: float
    max_dwell_s: float = 0.0
    polygon: tuple[tuple[float, float], ...] = ()

    def contains(self, lat: ArrayLike, lon: ArrayLike) -> np.ndarray:
        """True where a point lies within the zone (on a polygon's edge counts in)."""
        if not self.polygon:
            return np.asarray(distance_m(lat, lon, self.lat, self.lon) <= self.radius_m)
        # the polygon on the tangent plane at its mean vertex: flat to well under a
        # metre at yard sizes (a few km)
        px, py = local_xy_m(lat, lon, self.lat, self.lon)
        px, py = np.atleast_1d(px), np.atleast_1d(py)
        vlat = np.array([v[0] for v in self.polygon])
        vlon = np.array([v[1] for v in self.polygon])
        vx, vy = local_xy_m(vlat, vlon, self.lat, self.lon)
        inside = np.zeros(px.shape, dtype=bool)
        on_edge = np.zeros(px.shape, dtype=bool)
        for i in range(len(vx)):
            x1, y1, x2, y2 = vx[i - 1], vy[i - 1], vx[i], vy[i]
            crosses = (y1 > py) != (y2 > py)
            with np.errstate(divide="ignore", invalid="ignore"):
                x_at = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
            inside ^= crosses & (px < x_at)
            # within 1 cm of an edge: inside, so a fix on the boundary is not ambiguous
            ex, ey = x2 - x1, y2 - y1
            ee = ex * ex + ey * ey
            t = np.clip(((px - x1) * ex + (py - y1) * ey) / ee if ee > 0 else 0.0, 0.0, 1.0)
            on_edge |= np.hypot(px - (x1 + t * ex), py - (y1 + t * ey)) <= 0.01
        return inside | on_edge


class Corridor:
    """The set of points within ``width_m`` of a route line (on either side)."""

    def __init__(
        self,
        line: Sequence[tuple[float, float]],
        width_m: float,
        max_segment_m: float = 250.0,
    ) -> None:
        if len(line) < 2:
            raise InputError(f"route.line: needs at least 2 points, got {len(line)}")
        if not width_m > 0:
            raise InputError(f"route.corridor_width_m: must be > 0, got {width_m}")
        lats, lons = [float(line[0][0])], [float(line[0][1])]
        for (lat1, lon1), (lat2, lon2) in zip(line[:-1], line[1:], strict=True):
            _, _, span = GEOD.inv(lon1, lat1, lon2, lat2)
            extra = int(np.ceil(span / max_segment_m)) - 1
            if extra > 0:
                for lon_i, lat_i in GEOD.npts(lon1, lat1, lon2, lat2, extra):
                    lats.append(lat_i)
                    lons.append(lon_i)
            if span > 0:
                lats.append(float(lat2))
                lons.append(float(lon2))
        self.width_m = float(width_m)
        self.lat = np.asarray(lats)
        self.lon = np.asarray(lons)
        if len(self.lat) < 2:
            raise InputError("route.line: all points coincide")
        _, _, seg = GEOD.inv(self.lon[:-1], self.lat[:-1], self.lon[1:], self.lat[1:])
        self.segment_m = np.asarray(seg)
        self.along_start_m = np.concatenate([[0.0], np.cumsum(self.segment_m)[:-1]])
        self.length_m = float(np.sum(self.segment_m))
        self._max_half_m = float(np.max(self.segment_m)) / 2.0
        mid_lat = 0.5 * (self.lat[:-1] + self.lat[1:])
        mid_lon = 0.5 * (self.lon[:-1] + self.lon[1:])
        self._tree = cKDTree(ecef_m(mid_lat, mid_lon))
        self._k = min(_K_NEAREST, len(self.segment_m))
        self.exact_range_m = max(5_000.0, 10 * self.width_m)

    def _to_segments(
        self, lat: Array, lon: Array, seg: np.ndarray
    ) -> tuple[Array, Array]:
        """Distance and along-route position of each point to each of its segments."""
        a_lat, a_lon = self.lat[seg], self.lon[seg]
        b_lat, b_lon = self.lat[seg + 1], self.lon[seg + 1]
        p_lat, p_lon = lat[:, None], lon[:, None]
        # the plane sits at the mean latitude of the point and its segment, with the
        # ellipsoid's radii of curvature there: its scale error is second order in their
        # separation (centimetres at a few kilometres), see tests/custody/test_geodesy.py
        lat0 = 0.5 * (p_lat + 0.5 * (a_lat + b_lat))
        m_rad, n_rad = radii_m(lat0)
        kx = np.radians(1.0) * n_rad * np.cos(np.radians(lat0))
        ky = np.radians(1.0) * m_rad
        py = (p_lat - lat0) * ky
        ax = ((a_lon - p_lon + 180.0) % 360.0 - 180.0) * kx  # across the antimeridian too
        bx = ((b_lon - p_lon + 180.0) % 360.0 - 180.0) * kx
        ay, by = (a_lat - lat0) * ky, (b_lat - lat0) * ky
        vx, vy = bx - ax, by - ay
        vv = vx * vx + vy * vy
        num = -ax * vx + (py - ay) * vy
        t = np.clip(np.where(vv > 0, num / np.where(vv > 0, vv, 1), 0), 0, 1)
        dist = np.hypot(ax + t * vx, ay + t * vy - py)
        along = self.along_start_m[seg] + t * self.segment_m[seg]
        return dist, along

    def locate(self, lat: ArrayLike, lon: ArrayLike) -> tuple[Array, Array]:
        """Distance from the route line (m) and along-route position (m) of each point."""
        lat_a = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        lon_a = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        if lat_a.size == 0:
            return np.empty(0), np.empty(0)
        pts = ecef_m(lat_a, lon_a)
        mid_dist, idx = self._tree.query(pts, k=self._k)
        idx = np.asarray(idx).reshape(len(lat_a), -1)
        mid_dist = np.asarray(mid_dist).reshape(len(lat_a), -1)
        dist, along = self._to_segments(lat_a, lon_a, idx)
        best = np.argmin(dist, axis=1)
        rows = np.arange(len(lat_a))
        d_best, a_best = dist[rows, best], along[rows, best]
        # a segment not among the k nearest midpoints can only be closer if its
        # midpoint lies within d_best + half the longest segment; beyond the exact
        # range a point is far outside any corridor and a near-best answer is enough
        unsure = np.nonzero(
            (mid_dist[:, -1] <= d_best + self._max_half_m + 1.0) & (d_best < self.exact_range_m)
        )[0]
        if len(self.segment_m) > self._k:
            for i in unsure:
                cand = np.asarray(
                    self._tree.query_ball_point(pts[i], d_best[i] + self._max_half_m + 1.0)
                )
                if cand.size:
                    d_c, a_c = self._to_segments(lat_a[i : i + 1], lon_a[i : i + 1], cand[None])
                    j = int(np.argmin(d_c[0]))
                    if d_c[0, j] < d_best[i]:
                        d_best[i], a_best[i] = d_c[0, j], a_c[0, j]
        return d_best, a_best

    def leg_max_offset_m(
        self, lat1: float, lon1: float, lat2: float, lon2: float, step_m: float = 50.0
    ) -> float:
        """The largest distance from the route of any point on the straight leg between
        two fixes, sampled every ``step_m``."""
        span = float(distance_m(lat1, lon1, lat2, lon2))
        n = max(2, int(np.ceil(span / step_m)) + 1)
        lons_lats = GEOD.npts(lon1, lat1, lon2, lat2, n - 2) if n > 2 else []
        lats = np.array([lat1, *[p[1] for p in lons_lats], lat2])
        lons = np.array([lon1, *[p[0] for p in lons_lats], lon2])
        dist, _ = self.locate(lats, lons)
        return float(np.max(dist))


__all__ = ["Corridor", "Zone"]
