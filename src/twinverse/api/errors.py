"""Every error leaves the API as application/problem+json with a stable ``code``; never a traceback."""

from __future__ import annotations

import logging
from types import MappingProxyType
from typing import Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from twinverse.api.routers.schedule import ScheduleJobNotFoundError, ScheduleJobStateError
from twinverse.errors import TwinverseError
from twinverse.identity import AccessDenied, AuthenticationError
from twinverse.identity.accounts import AccountError
from twinverse.scenario import ScenarioError
from twinverse.store import ConflictError
from twinverse.trust.errors import EntryNotFoundError, TradeNotFoundError
from twinverse.twin.codec import CodecError
from twinverse.twin.errors import EntityNotFoundError, GraphConflictError, QuerySyntaxError
from twinverse.twin.instant import InstantError
from twinverse.workspace import ScenarioNotKeptError, TwinNotFoundError

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"

# error type -> HTTP status; the first matching row (in order) wins.
STATUS: Final = MappingProxyType(
    {
        AuthenticationError: 401,
        EntityNotFoundError: 404,
        TwinNotFoundError: 404,
        ScenarioNotKeptError: 409,
        QuerySyntaxError: 400,
        InstantError: 400,
        CodecError: 400,
        AccountError: 400,
        ScenarioError: 422,
        GraphConflictError: 409,
        ConflictError: 409,
        TradeNotFoundError: 404,
        EntryNotFoundError: 404,
        ScheduleJobNotFoundError: 404,
        ScheduleJobStateError: 409,
    }
)


def problem(
    status: int,
    title: str,
    detail: str,
    code: str,
    errors: list[dict[str, object]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, object] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(AccessDenied)
    async def _denied(_: Request, err: AccessDenied) -> JSONResponse:
        if err.hidden:
            return problem(404, "Not found", "no such twin or entity", "not-found")
        return problem(403, "Forbidden", err.message, err.code)

    @app.exception_handler(TwinverseError)
    async def _known(_: Request, err: TwinverseError) -> JSONResponse:
        status = next((s for t, s in STATUS.items() if isinstance(err, t)), 400)
        errors = [i.to_dict() for i in err.issues] if isinstance(err, ScenarioError) else None
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return problem(
            status, _TITLES.get(status, "Bad request"), err.message, err.code, errors, headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in err.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"])
        return problem(
            422, "Invalid request", f"{where}: {first['msg']}", "invalid-request", errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, err: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed", 401: "unauthenticated"}.get(
            err.status_code, "http-error"
        )
        return problem(
            err.status_code,
            _TITLES.get(err.status_code, "Error"),
            str(err.detail),
            code,
            headers=getattr(err, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(
            500, "Internal error", "the server failed; the error is in its log", "internal-error"
        )


_TITLES = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Invalid input",
    500: "Internal error",
}
