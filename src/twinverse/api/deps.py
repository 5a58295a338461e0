"""Request dependencies: the workspace and the authenticated principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from twinverse.identity import AuthenticationError, Principal
from twinverse.twin.instant import parse_instant
from twinverse.workspace import Workspace

_bearer = HTTPBearer(auto_error=False, description="a token from POST /auth/login or an API token")


def workspace(request: Request) -> Workspace:
    ws: Workspace = request.app.state.workspace
    return ws


def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationError(
            "this endpoint needs 'Authorization: Bearer <token>'; log in at POST /auth/login"
        )
    found: Principal = workspace(request).accounts.authenticate(credentials.credentials)
    return found


def as_of(value: str | None) -> int | None:
    return parse_instant(value) if value else None


WorkspaceDep = Annotated[Workspace, Depends(workspace)]
PrincipalDep = Annotated[Principal, Depends(principal)]
