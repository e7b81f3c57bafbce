"""``/v1/tokens``: issue, list and revoke API tokens (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, ConfigDict, Field, model_validator

from portwatch.service import auth
from portwatch.service.auth import Role
from portwatch.service.deps import Admin, StateDep
from portwatch.service.text import ID, PRINTABLE

router = APIRouter(prefix="/v1/tokens", tags=["tokens"])


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role
    name: str = Field(min_length=1, max_length=auth.MAX_NAME, pattern=PRINTABLE)
    carrier_id: str | None = Field(default=None, pattern=ID)
    port_code: str | None = Field(default=None, pattern=r"^[0-9]{4}$")

    @model_validator(mode="after")
    def _scoped(self) -> TokenCreate:
        # said here with the API's field names; ``auth.create_token`` says it with the
        # command line's options
        if self.role is Role.CARRIER and not self.carrier_id:
            raise ValueError("carrier_id: a carrier token needs the carrier's party id")
        if self.role is Role.OFFICER and not self.port_code:
            raise ValueError("port_code: an officer token needs its port code")
        return self


class TokenPublic(BaseModel):
    token_id: str
    role: str
    name: str
    carrier_id: str | None
    port_code: str | None
    created_at: str | None = None
    revoked_at: str | None = None


class TokenIssued(TokenPublic):
    token: str
    """Shown once; only its hash is stored."""


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TokenIssued)
def create(body: TokenCreate, state: StateDep, who: Admin) -> TokenIssued:
    issued = auth.create_token(state.db, body.role.value, body.name, body.carrier_id,
                               body.port_code, created_by=who.who)
    p = issued.principal
    return TokenIssued(token_id=p.token_id, role=p.role.value, name=p.name,
                       carrier_id=p.carrier_id, port_code=p.port_code, token=issued.token)


@router.get("", response_model=list[TokenPublic])
def list_all(state: StateDep, _who: Admin) -> list[TokenPublic]:
    return [TokenPublic(**t) for t in auth.list_tokens(state.db)]


@router.post("/{token_id}/revoke", status_code=status.HTTP_204_NO_CONTENT)
def revoke(token_id: Annotated[str, Path(pattern=r"^[0-9a-f]{1,16}$")], state: StateDep,
           who: Admin) -> None:
    auth.revoke_token(state.db, token_id, revoked_by=who.who)
    state.tokens.clear()  # this process stops trusting it at once
