"""Each alert rule of the custody monitor at and around its threshold."""

from __future__ import annotations

import pytest

from portwatch.custody.monitor import ShipmentMonitor
from portwatch.custody.registry import shipment_from_mapping
from portwatch.custody.thresholds import Thresholds
from portwatch.domain.custody import AlertKind, CustodyState, Severity

from .conftest import ROUTE, decode_all, drive, east, north, shipment_doc, straight_trip

TH = Thresholds()
MID = 32.535  # between the yard (32.52) and the crossing zone (from about 32.5455)


def run(shipment, lines, chunk: int | None = None) -> ShipmentMonitor:
    mon = ShipmentMonitor(shipment.shipment_id, shipment.route, TH)
    msgs = sorted(decode_all(lines), key=lambda m: m.seq)
    step = chunk or len(msgs)
    for i in range(0, len(msgs), step):
        mon.feed(msgs[i : i + step])
    return mon


def kinds(mon) -> list[AlertKind]:
    return [a.kind for a in mon.alerts.values()]


def approach(lat_to: float = MID, t0: float = 0.0) -> list[tuple[float, float, float]]:
    """Armed at the origin, then north at 10 m/s until ``lat_to``."""
    pts, lat, t = [(t0, 32.50, -116.95)], 32.50, t0
    while lat < lat_to:
        t += 60
        lat = min(north(lat, 600), lat_to)
        pts.append((t, lat, -116.95))
    return pts


def test_clean_trip_raises_nothing_and_is_delivered(shipment, make_line):
    mon = run(shipment, straight_trip(make_line))
    assert kinds(mon) == []
    assert mon.state is CustodyState.DELIVERED


def test_feeding_in_chunks_equals_feeding_at_once(shipment, make_line):
    pts = approach()
    t = pts[-1][0]
    pts += [(t + 60 * k, MID, east(MID, -116.95, 400)) for k in range(1, 5)]
    lines = drive(make_line, pts)
    whole, chunked = run(shipment, lines), run(shipment, lines, chunk=3)
    assert whole.alerts == chunked.alerts
    assert whole.state is chunked.state


@pytest.mark.parametrize("n_out, offset_m, alert", [
    (2, 400, False),   # two fixes out: below the 3-fix hysteresis
    (3, 400, True),    # three fixes over 120 s: alert
    (3, 205, False),   # within width + accuracy: not surely outside
    (3, 220, True),    # beyond width + accuracy (200 + 8)
])
def test_off_corridor_needs_three_fixes_over_two_minutes(shipment, make_line, n_out, offset_m,
                                                         alert):
    pts = approach()
    t = pts[-1][0]
    pts += [(t + 60 * k, MID, east(MID, -116.95, offset_m)) for k in range(1, n_out + 1)]
    pts += [(t + 60 * (n_out + 1), north(MID, 600), -116.95)]
    mon = run(shipment, drive(make_line, pts))
    assert (AlertKind.OFF_CORRIDOR in kinds(mon)) is alert


def test_cell_tower_fix_does_not_break_an_excursion(shipment, make_line):
    pts = approach()
    t = pts[-1][0]
    lines = drive(make_line, pts)
    seq = len(lines) + 1
    out = east(MID, -116.95, 600)
    lines += [make_line(seq, t + 60, "position", MID, out),
              make_line(seq + 1, t + 120, "position", MID, -116.95, 900.0),  # cell fallback
              make_line(seq + 2, t + 180, "position", MID, out),
              make_line(seq + 3, t + 240, "position", MID, out)]
    assert AlertKind.OFF_CORRIDOR in kinds(run(shipment, lines))


@pytest.mark.parametrize("fixes, alert", [(10, False), (11, True)])
def test_unplanned_stop_limit_is_600_s(shipment, make_line, fixes, alert):
    pts = approach()
    t = pts[-1][0]
    # the stop lasts from its first to its last fix plus one period: fixes * 60 s
    pts += [(t + 60 * k, MID, -116.95) for k in range(1, fixes)]
    pts += [(t + 60 * fixes, north(MID, 600), -116.95)]
    mon = run(shipment, drive(make_line, pts))
    assert (AlertKind.UNAUTHORISED_STOP in kinds(mon)) is alert


def test_one_outlier_does_not_split_a_stop(shipment, make_line):
    pts = approach()
    t = pts[-1][0]
    pts += [(t + 60 * k, MID, -116.95) for k in range(1, 6)]
    pts += [(t + 360, MID, east(MID, -116.95, 150))]  # a multipath jump of 150 m
    pts += [(t + 60 * k, MID, -116.95) for k in range(7, 12)]
    mon = run(shipment, drive(make_line, pts))
    assert AlertKind.UNAUTHORISED_STOP in kinds(mon)


@pytest.mark.parametrize("fixes, alert", [(30, False), (31, True)])
def test_authorised_stop_allows_its_own_dwell(shipment, make_line, fixes, alert):
    pts = approach(32.52)
    t = pts[-1][0]
    pts += [(t + 60 * k, 32.52, -116.95) for k in range(1, fixes)]
    pts += [(t + 60 * fixes, north(32.52, 600), -116.95)]
    mon = run(shipment, drive(make_line, pts))
    assert (AlertKind.UNAUTHORISED_STOP in kinds(mon)) is alert
    if alert:
        assert "at yard" in next(iter(mon.alerts.values())).detail


@pytest.mark.parametrize("gap_s, severity", [
    (120, None),            # two periods: not longer than the threshold
    (180, Severity.MINOR),  # short gap, consistent position after it
    (600, Severity.MINOR),
    (660, Severity.MAJOR),  # long enough to hide an unauthorised stop
])
def test_signal_gap(shipment, make_line, gap_s, severity):
    pts = approach(32.53)
    t, lat = pts[-1][0], pts[-1][1]
    pts += [(t + gap_s, north(lat, 300), -116.95), (t + gap_s + 60, north(lat, 900), -116.95)]
    mon = run(shipment, drive(make_line, pts))
    gaps = [a for a in mon.alerts.values() if a.kind is AlertKind.SIGNAL_GAP]
    assert [a.severity for a in gaps] == ([] if severity is None else [severity])


def test_gap_followed_by_an_inconsistent_position_is_major(shipment, make_line):
    pts = approach(32.51)
    t = pts[-1][0]
    pts += [(t + 240, 32.51, east(32.51, -116.95, 3_000))]
    mon = run(shipment, drive(make_line, pts))
    gaps = [a for a in mon.alerts.values() if a.kind is AlertKind.SIGNAL_GAP]
    assert gaps and gaps[0].severity is Severity.MAJOR


@pytest.mark.parametrize("battery, alert", [(15, False), (14, True)])
def test_low_battery_below_15_percent(shipment, make_line, battery, alert):
    pts = approach(32.51)
    lines = drive(make_line, pts)
    lines.append(make_line(len(lines) + 1, pts[-1][0] + 30, "battery", None, battery=battery))
    mon = run(shipment, lines)
    assert (AlertKind.LOW_BATTERY in kinds(mon)) is alert


@pytest.mark.parametrize("jump_m, alert", [(3_000, False), (4_000, True)])
def test_impossible_movement(shipment, make_line, jump_m, alert):
    # 60 s apart: 200 km/h allows 3,336 m plus both accuracy radii (2 x 8 m)
    pts = approach(32.51)
    t, lat = pts[-1][0], pts[-1][1]
    pts.append((t + 60, north(lat, jump_m), -116.95))
    mon = run(shipment, drive(make_line, pts))
    assert (AlertKind.IMPOSSIBLE_MOVEMENT in kinds(mon)) is alert


def test_arming_outside_the_origin(shipment, make_line):
    mon = run(shipment, drive(make_line, [(0, MID, -116.95), (60, north(MID, 600), -116.95)]))
    assert kinds(mon) == [AlertKind.ARMED_OUTSIDE_ORIGIN]


def test_disarming_outside_the_destination(shipment, make_line):
    mon = run(shipment, drive(make_line, approach(), last_kind="disarmed"))
    assert kinds(mon) == [AlertKind.DISARMED_OUTSIDE_DESTINATION]
    assert mon.alerts[next(iter(mon.alerts))].severity is Severity.CRITICAL


def test_opening_mid_route_is_critical_but_not_at_the_destination(shipment, make_line):
    pts = approach()
    lines = drive(make_line, pts)
    lines.append(make_line(len(lines) + 1, pts[-1][0] + 60, "opened", MID, -116.95))
    assert kinds(run(shipment, lines)) == [AlertKind.SEAL_OPENED]
    trip = straight_trip(make_line)
    # opened at the dock within the hour after the disarming (close_grace_s)
    trip.append(make_line(len(trip) + 1, 1_800, "opened", 32.60, -116.95))
    assert kinds(run(shipment, trip)) == []


def test_tamper_is_critical(shipment, make_line):
    pts = approach()
    lines = drive(make_line, pts)
    lines.append(make_line(len(lines) + 1, pts[-1][0] + 60, "tamper", MID, -116.95))
    mon = run(shipment, lines)
    assert kinds(mon) == [AlertKind.TAMPER]


def test_a_leg_that_cuts_across_the_corridor_is_caught(key, make_line):
    u_route = dict(ROUTE)
    u_route["line"] = [[32.50, -116.95], [32.56, -116.95], [32.56, -116.9287],
                       [32.50, -116.9287]]
    u_route["crossing"] = dict(ROUTE["crossing"], lat=32.56, lon=-116.94)
    u_route["destination"] = dict(ROUTE["destination"], lat=32.50, lon=-116.9287)
    s = shipment_from_mapping(shipment_doc(key, route=u_route))
    # both fixes inside the corridor, on opposite arms, 60 s apart: 11 km of route
    pts = [(0, 32.50, -116.95), (60, 32.505, -116.95), (120, 32.505, -116.9287)]
    mon = run(s, drive(make_line, pts))
    assert AlertKind.OFF_CORRIDOR in kinds(mon)
    assert "leg" in next(a for a in mon.alerts.values()).detail


def test_states_and_alerts_after_the_border(shipment, make_line):
    pts = approach(32.58)
    t = pts[-1][0]
    lines = drive(make_line, pts)
    lines.append(make_line(len(lines) + 1, t + 60, "tamper", 32.58, -116.95))
    mon = run(shipment, lines)
    assert mon.state is CustodyState.CROSSED
    (alert,) = mon.alerts.values()
    assert alert.after_border


def test_imprecise_fixes_at_either_end_do_not_shorten_a_stop(shipment, make_line):
    pts = approach(32.53)  # ends about 550 m short of the stop
    t = pts[-1][0]
    lines = drive(make_line, pts)
    seq = len(lines) + 1
    # stopped from t+60 to t+660: cell-tower fixes open and close the stop; the nine
    # precise fixes alone span only 480 s (+60 s), under the limit
    lines.append(make_line(seq, t + 60, "position", MID, -116.95, 800.0))
    for k in range(2, 11):
        lines.append(make_line(seq + k - 1, t + 60 * k, "position", MID, -116.95))
    lines.append(make_line(seq + 10, t + 660, "position", MID, -116.95, 900.0))
    lines.append(make_line(seq + 11, t + 720, "position", north(MID, 600), -116.95))
    assert AlertKind.UNAUTHORISED_STOP in kinds(run(shipment, lines))
    precise_only = [line for line in lines if '"acc_m":8' in line]
    assert AlertKind.UNAUTHORISED_STOP not in kinds(run(shipment, precise_only))
