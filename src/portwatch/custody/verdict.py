"""The custody verdict at the border: clean (express lane), review (standard lane) or
broken (full search), with the evidence that decided it."""

from __future__ import annotations

from collections.abc import Iterable

from portwatch.custody.registry import Shipment
from portwatch.domain.custody import (
    VERDICT_LANE,
    Alert,
    AlertKind,
    CustodyState,
    CustodyVerdict,
    Severity,
    Verdict,
)

_UNAUTHENTICATED = frozenset(
    {AlertKind.MALFORMED, AlertKind.UNKNOWN_SEAL, AlertKind.BAD_SIGNATURE,
     AlertKind.REVOKED_KEY})


def _order(a: Alert) -> tuple[str, int, str]:
    return (a.at.isoformat() if a.at else "", a.seq if a.seq is not None else -1, a.alert_id)


def decide(
    shipment: Shipment,
    state: CustodyState,
    alerts: Iterable[Alert],
    concerns: Iterable[str] = (),
) -> CustodyVerdict:
    """The verdict of a shipment from its custody state and every alert raised on it.

    ``broken`` on any major or critical alert (tamper, diversion, long stop, forgery,
    replay, clone); ``review`` on minor alerts only, on a party that is not enrolled in
    good standing, on a container that was never armed, or on any of ``concerns``
    (no fresh position near the crossing, a revoked key, a store that fails its audit);
    ``clean`` otherwise.
    """
    evidence = tuple(sorted(alerts, key=_order))
    concerns = list(concerns)
    reasons: list[str] = []
    serious = [a for a in evidence if a.severity in (Severity.MAJOR, Severity.CRITICAL)]
    minor = [a for a in evidence if a.severity is Severity.MINOR]
    if any(a.kind in _UNAUTHENTICATED and a.severity is Severity.MINOR for a in evidence):
        reasons.append("unauthenticated lines (forged or corrupted) name this shipment: "
                       "evidence against the channel, not the container")
    if serious:
        kinds = sorted({a.kind.value for a in serious})
        reasons.append(f"{len(serious)} serious alert(s): {', '.join(kinds)}")
        reasons.extend(concerns)
        verdict = Verdict.BROKEN
    else:
        if minor:
            kinds = sorted({a.kind.value for a in minor})
            reasons.append(f"{len(minor)} minor alert(s): {', '.join(kinds)}")
        problems = shipment.eligibility_problems()
        reasons.extend(problems)
        if state is CustodyState.REGISTERED:
            reasons.append("container never armed: no custody record")
        reasons.extend(concerns)
        verdict = Verdict.REVIEW if reasons else Verdict.CLEAN
    if any(a.after_border for a in evidence):
        reasons.append("alerts after the border: inland response")
    return CustodyVerdict(
        shipment_id=shipment.shipment_id,
        verdict=verdict,
        lane=VERDICT_LANE[verdict],
        state=state,
        alerts=evidence,
        reasons=tuple(reasons),
    )


__all__ = ["decide"]
