"""``POST /v1/arrivals``: a conveyance at the port, answered with its lane."""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from portwatch.domain.modes import Mode
from portwatch.service.decisions import Arrival, decide
from portwatch.service.deps import Officer, StateDep, port_of
from portwatch.service.text import ID, PORT_CODE, PRINTABLE

router = APIRouter(prefix="/v1", tags=["arrivals"])


class Advance(BaseModel):
    """What is known before the booth: a risk score and an alarm at primary."""

    model_config = ConfigDict(extra="forbid")
    risk: float = Field(default=0.0, ge=0.0, le=1.0)
    alert: bool = False
    """A canine or detector alarm at primary."""


class ArrivalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Mode
    plate: str = Field(min_length=1, max_length=32, pattern=PRINTABLE)
    driver_card: str | None = Field(default=None, max_length=64, pattern=PRINTABLE)
    shipment_id: str | None = Field(default=None, pattern=ID)
    port_code: str = Field(pattern=PORT_CODE)
    lane: Literal["general", "express"] = "general"
    """The primary lane it came through."""
    advance: Advance | None = None


class DecisionOut(BaseModel):
    """The public form of ``portwatch.service.decisions.Made``."""

    decision_id: str
    decided_at: str
    lane: str
    referral: bool
    reason: str
    policy_version: int
    custody: str
    enrolled: bool


@router.post("/arrivals", response_model=DecisionOut)
def arrive(body: ArrivalIn, state: StateDep, who: Officer) -> DecisionOut:
    """Decide the arrival's lane with the active policy; the decision is stored first."""
    port_of(who, body.port_code)
    adv = body.advance or Advance()
    made = decide(state, Arrival(body.mode.value, body.plate, body.driver_card,
                                 body.shipment_id, body.port_code, body.lane, adv.risk,
                                 adv.alert), who.who)
    return DecisionOut(**{**asdict(made),
                          "decided_at": made.decided_at.isoformat().replace("+00:00", "Z")})
