"""The per-shipment custody monitor: a state machine that turns accepted seal
messages, in sequence order, into alerts.

The monitor is a pure function of the ordered messages it has been fed: feeding the
same messages in one call or in several gives the same alerts, which is what makes the
verdict independent of arrival order (late messages trigger a rebuild, see
``custody.ingest``). Alert ids are derived from the shipment, the kind and the message
that raised it, so a rebuild reproduces them.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from portwatch.custody.envelope import SealMessage
from portwatch.custody.geodesy import ecef_m
from portwatch.custody.registry import RoutePlan
from portwatch.custody.thresholds import Thresholds
from portwatch.domain.custody import Alert, AlertKind, CustodyState, SealEventKind, Severity

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ARMED, _POSITION, _HEARTBEAT = SealEventKind.ARMED, SealEventKind.POSITION, SealEventKind.HEARTBEAT
_OPENED, _TAMPER, _DISARMED = SealEventKind.OPENED, SealEventKind.TAMPER, SealEventKind.DISARMED
_DELIVERED = CustodyState.DELIVERED


def _at(at_ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=at_ms)


def alert_id(shipment_id: str | None, kind: AlertKind, key: str) -> str:
    """A stable id for the alert of ``kind`` raised on ``shipment_id`` by ``key``."""
    text = f"{shipment_id}|{kind.value}|{key}"
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass(frozen=True, slots=True)
class FixGeometry:
    """Where a run of messages' fixes lie: distance from the route (m), position along
    it (m), membership of each authorised zone (origin, crossing, destination, stops),
    and Earth-centred coordinates (m) for short distances between fixes."""

    off_m: np.ndarray
    along_m: np.ndarray
    in_zone: np.ndarray
    ecef_m: np.ndarray

    def take(self, start: int, stop: int) -> FixGeometry:
        """The geometry of fixes ``start`` to ``stop`` (exclusive)."""
        return FixGeometry(self.off_m[start:stop], self.along_m[start:stop],
                           self.in_zone[start:stop], self.ecef_m[start:stop])


def fix_geometry(plan: RoutePlan, messages: list[SealMessage]) -> FixGeometry:
    """The geometry of every message of ``messages`` that carries a fix, in order."""
    lat = np.fromiter((m.lat_e7 for m in messages if m.lat_e7 is not None), np.float64) / 1e7
    lon = np.fromiter((m.lon_e7 for m in messages if m.lat_e7 is not None), np.float64) / 1e7
    off, along = plan.corridor.locate(lat, lon)
    xyz = ecef_m(lat, lon).reshape(-1, 3)
    return FixGeometry(off, along, plan.in_zones(lat, lon, xyz), xyz)


def _chord_m(a: list[float], b: list[float]) -> float:
    # the straight line through the Earth is within a millimetre of the geodesic
    # below 10 km, which is all the stop and speed rules compare
    return math.sqrt((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 + (a[2] - b[2]) ** 2)


@dataclass(slots=True)
class _Fix:
    seq: int
    at_ms: int
    lat: float
    lon: float
    acc_m: float
    off_m: float
    along_m: float
    xyz: list[float]
    before: tuple[_Fix, ...] = ()  # the imprecise fixes received just before this one
    zones: list[bool] = field(default_factory=list)  # inside each authorised zone


_OUTSIDE = -1  # time at a stop that no authorised zone allows


@dataclass(slots=True)
class _Stop:
    anchor: _Fix
    first_at_ms: int
    last_at_ms: int
    alerted: bool = False
    pending: list[tuple[_Fix, list[bool]]] = field(default_factory=list)
    members: list[_Fix] = field(default_factory=list)
    # milliseconds between consecutive members, by the zone both ends lie in
    # (``_OUTSIDE`` when they share none): each stop is judged on its own positions
    spent_ms: dict[int, int] = field(default_factory=dict)


@dataclass
class ShipmentMonitor:
    """Custody state and alerts of one shipment; ``feed`` messages in sequence order."""

    shipment_id: str
    plan: RoutePlan
    thresholds: Thresholds
    state: CustodyState = CustodyState.REGISTERED
    last_seq: int = -1
    armed_seq: int | None = None
    armed_at_ms: int | None = None
    messages_seen: int = 0
    progress_m: float = 0.0
    alerts: dict[str, Alert] = field(default_factory=dict)
    crossed_at_ms: int | None = None
    """Device time of the first fix past the crossing."""
    crossing_fix_at_ms: int | None = None
    """Device time of the latest usable fix inside the crossing zone."""
    closed_seq: int | None = None
    """The disarming's seq: the shipment is closed after it."""
    closed_at_ms: int | None = None
    _prev: _Fix | None = None
    _prev_any_fix: _Fix | None = None
    _run: list[_Fix] = field(default_factory=list)
    _run_alerted: bool = False
    _stop: _Stop | None = None
    _last: _Fix | None = None
    _imprecise: list[_Fix] = field(default_factory=list)
    _battery_alerted: bool = False
    _usable_at: tuple[int, int] = (0, 0)  # (at_ms, seq) of the last usable fix or arming
    _unusable_since: int = 0  # messages without a usable fix since then

    # ------------------------------------------------------------------ alerts
    def _raise(
        self,
        kind: AlertKind,
        severity: Severity,
        msg: SealMessage | _Fix,
        detail: str,
        lat: float | None = None,
        lon: float | None = None,
    ) -> None:
        seq = msg.seq
        if lat is None and isinstance(msg, _Fix) or lat is None and isinstance(msg, SealMessage):
            lat, lon = msg.lat, msg.lon
        a = Alert(
            alert_id=alert_id(self.shipment_id, kind, str(seq)),
            kind=kind,
            severity=severity,
            at=_at(msg.at_ms),
            shipment_id=self.shipment_id,
            seal_id=None,
            seq=seq,
            lat=lat,
            lon=lon,
            detail=detail,
            after_border=self.state in (CustodyState.CROSSED, CustodyState.DELIVERED),
        )
        self.alerts.setdefault(a.alert_id, a)

    # ------------------------------------------------------------------ feeding
    def feed(self, messages: list[SealMessage], geo: FixGeometry | None = None) -> None:
        """Process messages with increasing ``seq``, all above ``last_seq``.

        ``geo`` is ``fix_geometry(plan, messages)`` when the caller computed it for many
        shipments at once (one vectorised call per route instead of one per shipment).
        """
        if not messages:
            return
        plan, th = self.plan, self.thresholds
        if geo is None:
            geo = fix_geometry(plan, messages)
        # plain lists: indexing them is much cheaper than numpy scalars in this loop
        off, along = geo.off_m.tolist(), geo.along_m.tolist()
        in_zone, xyz = geo.in_zone.tolist(), geo.ecef_m.tolist()
        i = -1
        low_battery = th.low_battery_pct
        last_seq = self.last_seq
        for m in messages:
            if m.seq <= last_seq:
                raise ValueError(f"monitor fed seq {m.seq} after {last_seq}")
            if m.seq > last_seq + 1 and self.armed_seq is not None and self.state is not _DELIVERED:
                self._seq_gap(last_seq, m)
            last_seq = self.last_seq = m.seq
            has_fix = m.lat_e7 is not None
            if has_fix:
                i += 1
            if self.state is _DELIVERED:
                self._after_close(m)
                continue
            if self.armed_seq is None:
                if m.kind is _ARMED:
                    self._arm(m, i if has_fix else None, in_zone)
                continue
            self._degraded(m, has_fix and (m.accuracy_m or 0) <= th.usable_fix_accuracy_m)
            fix = None
            zones = in_zone[i] if has_fix else None
            if has_fix:
                fix = _Fix(m.seq, m.at_ms, m.lat_e7 / 1e7, m.lon_e7 / 1e7,  # type: ignore[operator]
                           float(m.accuracy_m or 0), off[i], along[i], xyz[i],
                           zones=zones)  # type: ignore[arg-type]
                self._last = fix
                if zones[1] and fix.acc_m <= th.usable_fix_accuracy_m:  # type: ignore[index]
                    self.crossing_fix_at_ms = m.at_ms
                self._advance_state(fix, zones[0], zones[1])  # type: ignore[index]
            if (m.battery_pct is not None and m.battery_pct < low_battery
                    and not self._battery_alerted):
                self._battery_alerted = True
                self._raise(AlertKind.LOW_BATTERY, Severity.MINOR, m,
                            f"battery {m.battery_pct}% < {low_battery:g}%")
            kind = m.kind
            if kind is not _POSITION and kind is not _HEARTBEAT:
                dest = has_fix and zones[2]  # type: ignore[index]
                if kind is _OPENED and not dest:
                    self._raise(AlertKind.SEAL_OPENED, Severity.CRITICAL, m,
                                "seal opened outside the destination")
                elif kind is _TAMPER:
                    self._raise(AlertKind.TAMPER, Severity.CRITICAL, m, "seal housing tampered")
                elif kind is _DISARMED:
                    if not dest or (fix is not None and fix.acc_m > th.usable_fix_accuracy_m):
                        where = ("no position" if fix is None
                                 else f"{fix.off_m:.0f} m off the route")
                        self._raise(AlertKind.DISARMED_OUTSIDE_DESTINATION, Severity.CRITICAL,
                                    m, f"disarmed outside {plan.destination.name} ({where})")
                    self.state = CustodyState.DELIVERED
                    self.closed_seq, self.closed_at_ms = m.seq, m.at_ms
                    continue
            if fix is not None:
                self._on_fix(fix, zones)  # type: ignore[arg-type]
        self.messages_seen += len(messages)

    def after_close(self, m: SealMessage) -> str | None:
        """Why ``m`` has no place in this closed shipment, or ``None``: after the
        disarming only the opening at the dock within ``close_grace_s`` belongs."""
        if self.closed_seq is None or self.closed_at_ms is None or m.seq < self.closed_seq:
            return None
        grace_ms = self.thresholds.close_grace_s * 1000
        if m.kind is _OPENED and m.at_ms <= self.closed_at_ms + grace_ms:
            return None
        return (f"shipment {self.shipment_id} closed at seq {self.closed_seq}: "
                f"seq {m.seq} ({m.kind.value}) signed after it")

    def _after_close(self, m: SealMessage) -> None:
        reason = self.after_close(m)
        if reason is not None:
            self._raise(AlertKind.REPLAY, Severity.CRITICAL, m, reason)

    def _degraded(self, m: SealMessage, usable: bool) -> None:
        """GNSS degraded: the seal keeps reporting but without a usable fix (jamming
        leaves cell-tower positions km wide, or none). Minor beyond ``degraded_s``;
        beyond ``long_gap_s`` major, because so long could hide an unauthorised stop
        anywhere within the uncertainty, on the route or off it."""
        th = self.thresholds
        since_ms, since_seq = self._usable_at
        span_s = (m.at_ms - since_ms) / 1000.0
        if span_s > th.degraded_s and self._unusable_since > 0:
            major = span_s > th.long_gap_s
            sev = Severity.MAJOR if major else Severity.MINOR
            a = Alert(
                alert_id=alert_id(self.shipment_id, AlertKind.GNSS_DEGRADED,
                                  f"{since_seq}:{sev.value}"),
                kind=AlertKind.GNSS_DEGRADED, severity=sev, at=_at(since_ms),
                shipment_id=self.shipment_id, seq=since_seq,
                lat=None if self._last is None else self._last.lat,
                lon=None if self._last is None else self._last.lon,
                detail=f"no usable fix for over {(th.long_gap_s if major else th.degraded_s):.0f}"
                       f" s while the seal kept reporting (GNSS degraded or jammed)",
                after_border=self.state in (CustodyState.CROSSED, CustodyState.DELIVERED),
            )
            self.alerts.setdefault(a.alert_id, a)
        if usable:
            self._usable_at, self._unusable_since = (m.at_ms, m.seq), 0
        else:
            self._unusable_since += 1

    def _seq_gap(self, last_seq: int, m: SealMessage) -> None:
        """Messages between the arming and now that never arrived: whatever they said
        (an ``opened`` event, a stop), the trip cannot be judged better than if they had
        been delivered, so an open gap is major; the late message that fills it
        retracts the alert (the monitor is rebuilt from every stored message)."""
        lo, hi = last_seq + 1, m.seq - 1
        missing = f"seq {lo}" if lo == hi else f"seq {lo}-{hi}"
        a = Alert(
            alert_id=alert_id(self.shipment_id, AlertKind.SEQ_GAP, str(lo)),
            kind=AlertKind.SEQ_GAP,
            severity=Severity.MAJOR,
            at=_at(m.at_ms),
            shipment_id=self.shipment_id,
            seq=m.seq,
            detail=f"{missing} missing ({hi - lo + 1} message(s) not received)",
            after_border=self.state in (CustodyState.CROSSED, CustodyState.DELIVERED),
        )
        self.alerts.setdefault(a.alert_id, a)

    def silence_alert(self, as_of: datetime) -> Alert | None:
        """The ``signal_lost`` alert of an armed, undelivered shipment whose seal has sent
        no position (of any accuracy) for longer than the signal-gap threshold up to
        ``as_of`` (UTC); ``None`` otherwise (see ``silence_alert``)."""
        return silence_alert(self.shipment_id, self.thresholds, self.state, self.armed_seq,
                             self.armed_at_ms, self.last_position, as_of)

    @property
    def last_position(self) -> tuple[int, int, float, float] | None:
        """(seq, at_ms, lat, lon) of the last position of any accuracy, if any."""
        last = self._last
        return None if last is None else (last.seq, last.at_ms, last.lat, last.lon)

    def silent_s(self, as_of: datetime) -> float | None:
        """Seconds from the last position (or the arming) to ``as_of``, for an armed,
        undelivered shipment; ``None`` otherwise."""
        if self.armed_at_ms is None or self.state is _DELIVERED:
            return None
        return (as_of - _at(self._silent_since_ms())).total_seconds()

    def _silent_since_ms(self) -> int:
        armed_at_ms = self.armed_at_ms or 0
        return armed_at_ms if self._last is None else max(self._last.at_ms, armed_at_ms)

    @property
    def last_fix(self) -> tuple[int, float, float, float] | None:
        """(at_ms, lat, lon, accuracy_m) of the latest fix after arming."""
        f = self._last
        return None if f is None else (f.at_ms, f.lat, f.lon, f.acc_m)

    def _arm(self, m: SealMessage, i: int | None, in_zone: list[list[bool]]) -> None:
        self.armed_seq, self.armed_at_ms = m.seq, m.at_ms
        self._usable_at = (m.at_ms, m.seq)
        self.state = CustodyState.SEALED
        if i is None:
            self._raise(AlertKind.ARMED_OUTSIDE_ORIGIN, Severity.MAJOR, m,
                        "armed without a position fix")
        elif not in_zone[i][0]:
            self._raise(AlertKind.ARMED_OUTSIDE_ORIGIN, Severity.MAJOR, m,
                        f"armed outside {self.plan.origin.name}")
        if i is not None:
            self._last = _Fix(m.seq, m.at_ms, m.lat or 0.0, m.lon or 0.0,
                              float(m.accuracy_m or 0), 0.0, 0.0, [0.0, 0.0, 0.0])

    def _advance_state(self, fix: _Fix, in_origin: bool, in_crossing: bool) -> None:
        plan = self.plan
        self.progress_m = max(self.progress_m, fix.along_m)
        if self.state is CustodyState.SEALED and not in_origin:
            self.state = CustodyState.IN_TRANSIT
        if self.state in (CustodyState.SEALED, CustodyState.IN_TRANSIT) and in_crossing:
            self.state = CustodyState.AT_BORDER
        beyond = fix.along_m > plan.crossing_along_m
        if self.state is CustodyState.AT_BORDER and beyond and not in_crossing:
            self.state, self.crossed_at_ms = CustodyState.CROSSED, fix.at_ms
        if (
            self.state is CustodyState.IN_TRANSIT
            and fix.along_m > plan.crossing_along_m + plan.crossing.radius_m
            and fix.off_m <= plan.corridor_width_m
        ):
            self.state, self.crossed_at_ms = CustodyState.CROSSED, fix.at_ms

    def _on_fix(self, fix: _Fix, in_zone: list[bool]) -> None:
        th, plan = self.thresholds, self.plan
        usable = fix.acc_m <= th.usable_fix_accuracy_m
        # never switched off near a zone: a yard or a queue beside the route is no reason
        # to stand far from it
        surely_out = fix.off_m - fix.acc_m > plan.corridor_width_m
        prev_any = self._prev_any_fix
        if prev_any is not None:
            dt_s = (fix.at_ms - prev_any.at_ms) / 1000.0
            d = _chord_m(prev_any.xyz, fix.xyz)
            excess = d - prev_any.acc_m - fix.acc_m
            if excess > 0 and (dt_s <= 0 or excess / dt_s > th.max_speed_mps):
                speed = "instantly" if dt_s <= 0 else f"at {excess / dt_s * 3.6:.0f} km/h"
                self._raise(AlertKind.IMPOSSIBLE_MOVEMENT, Severity.CRITICAL, fix,
                            f"moved {d:.0f} m in {dt_s:.0f} s ({speed} beyond accuracy)")
            if dt_s > th.gap_s:
                self._gap(prev_any, fix, dt_s)
        self._prev_any_fix = fix
        # excursions off the corridor, with hysteresis
        if surely_out:
            self._run.append(fix)
            span_s = (fix.at_ms - self._run[0].at_ms) / 1000.0
            if (not self._run_alerted and len(self._run) >= th.off_corridor_min_fixes
                    and span_s >= th.off_corridor_min_s):
                self._run_alerted = True
                far = max(self._run, key=lambda f: f.off_m)
                self._raise(AlertKind.OFF_CORRIDOR, Severity.MAJOR, self._run[0],
                            f"{len(self._run)} fixes over {span_s:.0f} s outside the corridor, "
                            f"up to {far.off_m:.0f} m from the route", far.lat, far.lon)
        elif usable and self._run:
            self._run, self._run_alerted = [], False
        if not usable:
            self._imprecise_fix(fix)
            return
        if self._imprecise:
            fix.before, self._imprecise = tuple(self._imprecise), []
        prev = self._prev
        if prev is not None:
            self._check_leg(prev, fix)
        self._prev = fix
        self._track_stop(fix, in_zone)

    def _gap(self, prev: _Fix, fix: _Fix, dt_s: float) -> None:
        th, plan = self.thresholds, self.plan
        consistent = (
            fix.off_m <= plan.corridor_width_m + fix.acc_m
            and abs(fix.along_m - prev.along_m) / dt_s <= th.max_route_speed_mps
        )
        minor = consistent and dt_s <= th.long_gap_s
        self._raise(AlertKind.SIGNAL_GAP, Severity.MINOR if minor else Severity.MAJOR, fix,
                    f"no position for {dt_s:.0f} s (limit {th.gap_s:.0f} s)"
                    + ("" if consistent else ", position after the gap inconsistent"),
                    prev.lat, prev.lon)

    def _check_leg(self, prev: _Fix, fix: _Fix) -> None:
        th, plan = self.thresholds, self.plan
        dt_s = (fix.at_ms - prev.at_ms) / 1000.0
        if dt_s > 0 and abs(fix.along_m - prev.along_m) / dt_s > th.max_route_speed_mps:
            # progress along the route faster than a truck drives: the leg cut across;
            # did it leave the corridor between two fixes that are both inside?
            offset = plan.corridor.leg_max_offset_m(prev.lat, prev.lon, fix.lat, fix.lon)
            if offset > plan.corridor_width_m:
                self._raise(AlertKind.OFF_CORRIDOR, Severity.MAJOR, fix,
                            f"leg from seq {prev.seq} leaves the corridor by "
                            f"{offset - plan.corridor_width_m:.0f} m", prev.lat, prev.lon)

    def _track_stop(self, fix: _Fix, in_zone: list[bool]) -> None:
        th = self.thresholds
        stop = self._stop
        if stop is None:
            self._start_stop(fix, in_zone)
            return
        d = _chord_m(stop.anchor.xyz, fix.xyz)
        if d <= th.stop_radius_m:
            stop.last_at_ms = max(stop.last_at_ms, fix.at_ms)
            self._add_member(stop, fix)
            stop.pending.clear()
            self._check_dwell(stop)
            return
        stop.pending.append((fix, in_zone))
        if len(stop.pending) >= th.stop_exit_fixes:
            # the conveyance has left the anchor: the fixes beyond the radius start a new
            # stop, which keeps the old stop's last fixes that lie within its radius (the
            # old anchor may have been the last moving fix, at the edge of the radius)
            pending, carried, self._stop = stop.pending, stop.members, None
            self._start_stop(pending[0][0], pending[0][1], carried)
            for p_fix, p_zone in pending[1:]:
                self._track_stop(p_fix, p_zone)

    def _imprecise_fix(self, fix: _Fix) -> None:
        """A cell-tower fix cannot start or end a stop, but one that agrees with the
        current stop extends it: a stop is not shortened because its last fix was
        imprecise (the time it covers counts as outside any zone)."""
        stop, th = self._stop, self.thresholds
        consistent = stop is not None and not stop.pending and (
            _chord_m(stop.anchor.xyz, fix.xyz) <= th.stop_radius_m + fix.acc_m
        )
        if stop is not None and consistent:
            stop.last_at_ms = fix.at_ms
            self._check_dwell(stop)
        self._imprecise.append(fix)

    def _start_stop(
        self, fix: _Fix, in_zone: list[bool], carried: list[_Fix] | None = None
    ) -> None:
        radius = self.thresholds.stop_radius_m
        # the old stop's last fixes, as far back as they run unbroken within the new
        # radius: time spent elsewhere in between is no part of this stop
        members: list[_Fix] = []
        for m in reversed(carried or []):
            if _chord_m(m.xyz, fix.xyz) > radius:
                break
            members.insert(0, m)
        first = members[0] if members else fix
        first_at = first.at_ms
        # imprecise fixes just before, that agree with this one, start the stop
        for before in reversed(first.before):
            if _chord_m(before.xyz, fix.xyz) > radius + before.acc_m:
                break
            first_at = before.at_ms
        stop = _Stop(anchor=fix, first_at_ms=first_at, last_at_ms=fix.at_ms)
        for m in [*members, fix]:
            self._add_member(stop, m)
        self._stop = stop

    def _zone_key(self, a: _Fix, b: _Fix) -> int:
        """The authorised zone both fixes lie in (the most generous one), else
        ``_OUTSIDE``."""
        if True not in a.zones or True not in b.zones:  # the common case, on the road
            return _OUTSIDE
        best, best_dwell = _OUTSIDE, -1.0
        zones = self.plan.authorised_zones
        for j, (in_a, in_b) in enumerate(zip(a.zones, b.zones, strict=True)):
            if in_a and in_b and zones[j].max_dwell_s > best_dwell:
                best, best_dwell = j, zones[j].max_dwell_s
        return best

    def _add_member(self, stop: _Stop, fix: _Fix) -> None:
        if stop.members:
            prev = stop.members[-1]
            key = self._zone_key(prev, fix)
            stop.spent_ms[key] = stop.spent_ms.get(key, 0) + fix.at_ms - prev.at_ms
        stop.members.append(fix)

    def _check_dwell(self, stop: _Stop) -> None:
        if stop.alerted:
            return
        th, zones = self.thresholds, self.plan.authorised_zones
        spent = dict(stop.spent_ms)
        first, last = stop.members[0], stop.members[-1]
        # time covered only by imprecise fixes, before the first member or after the
        # last, counts as outside: it is time without a usable fix
        spent[_OUTSIDE] = (spent.get(_OUTSIDE, 0) + (first.at_ms - stop.first_at_ms)
                           + (stop.last_at_ms - last.at_ms))
        # each fix stands for one reporting period: the stop began up to a period
        # before its first fix and lasted up to a period after its last one
        key = self._zone_key(first, last)
        spent[key] = spent.get(key, 0) + int(th.reporting_period_s * 1000)
        for j, ms in sorted(spent.items()):
            limit = th.unplanned_stop_max_s if j == _OUTSIDE else zones[j].max_dwell_s
            if ms / 1000.0 > limit:
                stop.alerted = True
                where = "outside any authorised stop" if j == _OUTSIDE else f"at {zones[j].name}"
                total_s = sum(spent.values()) / 1000.0
                self._raise(AlertKind.UNAUTHORISED_STOP, Severity.MAJOR, stop.anchor,
                            f"stopped {ms / 1000:.0f} s {where} (limit {limit:.0f} s; "
                            f"{total_s:.0f} s in all)")
                return



def silence_alert(
    shipment_id: str,
    thresholds: Thresholds,
    state: CustodyState,
    armed_seq: int | None,
    armed_at_ms: int | None,
    last: tuple[int, int, float, float] | None,
    as_of: datetime,
) -> Alert | None:
    """The ``signal_lost`` alert of an armed, undelivered shipment whose seal has sent
    no position (of any accuracy) for longer than the signal-gap threshold up to
    ``as_of`` (UTC), from its last position ``last`` = (seq, at_ms, lat, lon); ``None``
    otherwise.

    It is derived, never stored: a late burst of stored reports can fill the silence,
    and the same trace gives a different answer at a different ``as_of``. Minor up to
    ``long_gap_s``, major beyond, as a gap that later closes; its ``at`` is the last
    position's device time (or the arming's, when no position followed it).
    """
    if armed_at_ms is None or state is _DELIVERED:
        return None
    since_ms = armed_at_ms if last is None else max(last[1], armed_at_ms)
    silent_s = (as_of - _at(since_ms)).total_seconds()
    th = thresholds
    if silent_s <= th.gap_s:
        return None
    seq = armed_seq if last is None else last[0]
    major = silent_s > th.long_gap_s
    return Alert(
        alert_id=alert_id(shipment_id, AlertKind.SIGNAL_LOST, str(seq)),
        kind=AlertKind.SIGNAL_LOST,
        severity=Severity.MAJOR if major else Severity.MINOR,
        at=_at(since_ms),
        shipment_id=shipment_id,
        seq=seq,
        lat=None if last is None else last[2],
        lon=None if last is None else last[3],
        detail=(f"no position for {silent_s:.0f} s as of "
                f"{as_of.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z (limit {th.gap_s:.0f} s"
                + (f", major beyond {th.long_gap_s:.0f} s)" if major else ")")),
        after_border=state is CustodyState.CROSSED,
    )


__all__ = ["ShipmentMonitor", "alert_id", "silence_alert"]
