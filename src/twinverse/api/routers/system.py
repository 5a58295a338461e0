"""Health and login: the only endpoints that need no token."""

from __future__ import annotations

from fastapi import APIRouter

from twinverse import __version__
from twinverse.api.deps import WorkspaceDep
from twinverse.api.schemas import HealthOut, LoginRequest, TokenOut
from twinverse.twin.instant import format_instant

router = APIRouter()


@router.get("/health", tags=["system"])
def health(ws: WorkspaceDep) -> HealthOut:
    return HealthOut(status="ok", version=__version__, twins=len(ws.twins()))


@router.post("/auth/login", tags=["auth"])
def login(body: LoginRequest, ws: WorkspaceDep) -> TokenOut:
    issued = ws.accounts.login(body.principal, body.password)
    return TokenOut(
        access_token=issued.token,
        expires_at=format_instant(issued.expires_ts),
        principal=issued.principal,
    )
