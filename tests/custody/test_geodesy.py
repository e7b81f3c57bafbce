"""Corridor distances against pyproj's geodesic (Karney) on routes up to 1,000 km."""

from __future__ import annotations

import numpy as np
import pytest

from portwatch.custody.corridor import Corridor
from portwatch.custody.geodesy import GEOD, distance_m, distance_scalar_m


def _reference_distance(c: Corridor, lat: float, lon: float, near: int) -> float:
    """Brute force: the closest of points every ~1 m along nearby segments (geodesics)."""
    best = np.inf
    for k in range(max(0, near - 6), min(len(c.segment_m), near + 7)):
        n = int(c.segment_m[k]) + 2
        pts = np.array(GEOD.npts(c.lon[k], c.lat[k], c.lon[k + 1], c.lat[k + 1], n,
                                 initial_idx=0, terminus_idx=0))
        _, _, d = GEOD.inv(np.full(len(pts), lon), np.full(len(pts), lat), pts[:, 0], pts[:, 1])
        best = min(best, float(d.min()))
    return best


def test_distance_to_a_1000_km_route_is_within_1_m_of_the_geodesic():
    rng = np.random.default_rng(11)
    line = [(32.5, -117.0)]
    while GEOD.line_length([p[1] for p in line], [p[0] for p in line]) < 1_000_000:
        lat, lon = line[-1]
        line.append((lat + rng.uniform(0.2, 0.6), lon + rng.uniform(-0.5, 0.5)))
    c = Corridor(line, 200.0)
    assert c.length_m >= 1_000_000
    # route length: the sum of geodesic segments
    total = GEOD.line_length([p[1] for p in line], [p[0] for p in line])
    assert c.length_m == pytest.approx(total, abs=1.0)
    errors = []
    for _ in range(25):
        j = int(rng.integers(len(c.segment_m)))
        az, _, _ = GEOD.inv(c.lon[j], c.lat[j], c.lon[j + 1], c.lat[j + 1])
        f_lon, f_lat, _ = GEOD.fwd(c.lon[j], c.lat[j], az, rng.uniform(0, c.segment_m[j]))
        off = rng.uniform(0, 3_000)
        p_lon, p_lat, _ = GEOD.fwd(f_lon, f_lat, az + rng.choice([-90, 90]), off)
        got, _ = c.locate([p_lat], [p_lon])
        errors.append(abs(got[0] - _reference_distance(c, p_lat, p_lon, j)))
    assert max(errors) < 1.0


def test_point_distances_match_pyproj_up_to_1000_km():
    rng = np.random.default_rng(3)
    lat1, lon1 = rng.uniform(-60, 60, 200), rng.uniform(-180, 180, 200)
    az = rng.uniform(0, 360, 200)
    span = 10 ** rng.uniform(0, 6, 200)
    lon2, lat2, _ = GEOD.fwd(lon1, lat1, az, span)
    got = distance_m(lat1, lon1, lat2, lon2)
    assert np.max(np.abs(got - span)) < 1.0
    assert distance_scalar_m(lat1[0], lon1[0], lat2[0], lon2[0]) == pytest.approx(span[0], abs=1)


def test_along_route_position_grows_along_the_line():
    c = Corridor([(32.5, -116.95), (32.6, -116.95)], 200.0)
    lats = np.linspace(32.5, 32.6, 11)
    _, along = c.locate(lats, np.full(11, -116.95))
    assert np.all(np.diff(along) > 0)
    assert along[-1] == pytest.approx(c.length_m, abs=0.5)


def test_leg_offset_finds_a_shortcut_between_inside_fixes():
    # a U-shaped route: two parallel arms 2 km apart
    c = Corridor([(32.50, -116.95), (32.55, -116.95), (32.55, -116.9287), (32.50, -116.9287)],
                 200.0)
    assert c.leg_max_offset_m(32.52, -116.95, 32.52, -116.9287) > 900
    assert c.leg_max_offset_m(32.51, -116.95, 32.53, -116.95) < 1
