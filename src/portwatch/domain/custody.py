"""Value types of the chain of custody that other packages may read.

Instants are timezone-aware UTC ``datetime`` values named ``*_at``; durations are
seconds named ``*_s``; distances are metres named ``*_m``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from portwatch.domain.modes import Lane


class SealEventKind(StrEnum):
    """What a seal message reports."""

    ARMED = "armed"
    POSITION = "position"
    HEARTBEAT = "heartbeat"
    OPENED = "opened"
    TAMPER = "tamper"
    BATTERY = "battery"
    DISARMED = "disarmed"


class PartyRole(StrEnum):
    """The four parties the trusted-shipper program (FAST) requires to be enrolled."""

    MANUFACTURER = "manufacturer"
    CARRIER = "carrier"
    IMPORTER = "importer"
    DRIVER = "driver"


class Standing(StrEnum):
    """A party's standing in the trusted-shipper program."""

    GOOD = "good"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class CustodyState(StrEnum):
    """Where a shipment is in its life, as the monitor sees it."""

    REGISTERED = "registered"
    SEALED = "sealed"
    IN_TRANSIT = "in_transit"
    AT_BORDER = "at_border"
    CROSSED = "crossed"
    DELIVERED = "delivered"


class Severity(StrEnum):
    """How much an alert weighs in the verdict: ``minor`` costs the express lane,
    ``major`` and ``critical`` send the conveyance to a full search."""

    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


class AlertKind(StrEnum):
    """Every alert the custody monitor and the message verifier raise."""

    # raised by the monitor from accepted messages
    SEAL_OPENED = "seal_opened"
    TAMPER = "tamper"
    OFF_CORRIDOR = "off_corridor"
    UNAUTHORISED_STOP = "unauthorised_stop"
    SIGNAL_GAP = "signal_gap"
    # derived when a verdict is read: no position since the last one, up to that time
    SIGNAL_LOST = "signal_lost"
    LOW_BATTERY = "low_battery"
    IMPOSSIBLE_MOVEMENT = "impossible_movement"
    SEQ_GAP = "seq_gap"
    GNSS_DEGRADED = "gnss_degraded"
    ARMED_OUTSIDE_ORIGIN = "armed_outside_origin"
    DISARMED_OUTSIDE_DESTINATION = "disarmed_outside_destination"
    # raised by the verifier when it rejects a message
    UNKNOWN_SEAL = "unknown_seal"
    BAD_SIGNATURE = "bad_signature"
    EQUIVOCATION = "equivocation"
    REPLAY = "replay"
    FUTURE_TIMESTAMP = "future_timestamp"
    CLONE = "clone"
    MALFORMED = "malformed"
    REVOKED_KEY = "revoked_key"


SECURITY_KINDS: frozenset[AlertKind] = frozenset(
    {
        AlertKind.UNKNOWN_SEAL,
        AlertKind.BAD_SIGNATURE,
        AlertKind.EQUIVOCATION,
        AlertKind.REPLAY,
        AlertKind.FUTURE_TIMESTAMP,
        AlertKind.CLONE,
        AlertKind.MALFORMED,
        AlertKind.REVOKED_KEY,
    }
)


class Verdict(StrEnum):
    """The custody verdict at the border."""

    CLEAN = "clean"
    REVIEW = "review"
    BROKEN = "broken"


VERDICT_LANE: dict[Verdict, Lane] = {
    Verdict.CLEAN: Lane.EXPRESS,
    Verdict.REVIEW: Lane.FREE,
    Verdict.BROKEN: Lane.FULL_SEARCH,
}


@dataclass(frozen=True, slots=True)
class Party:
    """A party to a shipment and its standing in the trusted-shipper program."""

    party_id: str
    role: PartyRole
    name: str
    enrolled: bool
    standing: Standing
    card_id: str | None = None

    @property
    def eligible(self) -> bool:
        """Enrolled and in good standing."""
        return self.enrolled and self.standing is Standing.GOOD


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert, with its evidence: when, where, and the message that raised it.

    ``shipment_id`` is ``None`` for a rejection that names no known shipment;
    ``after_border`` is true when it was raised once the shipment had crossed,
    for an inland response.
    """

    alert_id: str
    kind: AlertKind
    severity: Severity
    at: datetime | None
    shipment_id: str | None
    seal_id: str | None = None
    seq: int | None = None
    lat: float | None = None
    lon: float | None = None
    detail: str = ""
    after_border: bool = False

    def to_json(self) -> dict[str, object]:
        """A plain JSON-ready mapping."""
        return {
            "alert_id": self.alert_id,
            "kind": self.kind.value,
            "severity": self.severity.value,
            "at": None if self.at is None else self.at.isoformat().replace("+00:00", "Z"),
            "shipment_id": self.shipment_id,
            "seal_id": self.seal_id,
            "seq": self.seq,
            "lat": self.lat,
            "lon": self.lon,
            "detail": self.detail,
            "after_border": self.after_border,
        }


@dataclass(frozen=True, slots=True)
class CustodyVerdict:
    """The verdict for one shipment with the evidence that decided it."""

    shipment_id: str
    verdict: Verdict
    lane: Lane
    state: CustodyState
    alerts: tuple[Alert, ...] = ()
    reasons: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, object]:
        """A plain JSON-ready mapping."""
        return {
            "shipment_id": self.shipment_id,
            "verdict": self.verdict.value,
            "lane": self.lane.value,
            "state": self.state.value,
            "reasons": list(self.reasons),
            "alerts": [a.to_json() for a in self.alerts],
        }


__all__ = [
    "SECURITY_KINDS",
    "VERDICT_LANE",
    "Alert",
    "AlertKind",
    "CustodyState",
    "CustodyVerdict",
    "Party",
    "PartyRole",
    "SealEventKind",
    "Severity",
    "Standing",
    "Verdict",
]
