"""The live twin over HTTP: ``/live`` (docs/live-protocol.md), time series, ingest health, commands."""

from __future__ import annotations

import logging
import threading
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field
from starlette.datastructures import State

from twinverse.api.deps import PrincipalDep, WorkspaceDep
from twinverse.identity import AccessDenied, AuthenticationError, Principal
from twinverse.live.commands import Command, CommandError, Status, Verb
from twinverse.live.feed import (
    CLOSE_TOO_SLOW,
    BadClientMessageError,
    ClientTooSlowError,
    LiveFeed,
    LiveFilter,
)
from twinverse.live.hub import LiveHub
from twinverse.live.runtime import LiveRuntime
from twinverse.store import Aggregate, SeriesKey
from twinverse.twin.instant import InstantError, format_instant, parse_instant
from twinverse.workspace import TwinNotFoundError, Workspace

_log = logging.getLogger(__name__)

router = APIRouter()

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_BAD_REQUEST = 4400

_hub_lock = threading.Lock()


class SeriesOut(BaseModel):
    entity: str
    property: str
    aggregate: str | None = None
    ts: list[str]
    values: list[float]


class LatestOut(BaseModel):
    at: str
    value: float


class CommandIn(BaseModel):
    """A named command (start, stop, reset, ack-alarm, set-speed) or a property and a value."""

    entity: str = Field(min_length=1, max_length=1000)
    command: Verb | None = None
    property: str | None = Field(default=None, max_length=200)
    value: float | None = None
    key: str = Field(min_length=1, max_length=200, description="idempotency key")


def live_hub(state: State, workspace: Workspace) -> LiveHub:
    """The app's hub; made on first use and fed by the workspace's committed events.

    The demo (and tests) may set ``app.state.live_hub`` themselves, already wired.
    """
    with _hub_lock:
        hub: LiveHub | None = getattr(state, "live_hub", None)
        if hub is None:
            hub = LiveHub()
            workspace.add_listener(hub.publish_events)
            state.live_hub = hub
        return hub


def _token(socket: WebSocket) -> str | None:
    token = socket.query_params.get("token")
    if token:
        return token
    header = socket.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


@router.websocket("/live")
async def live(socket: WebSocket) -> None:
    """Snapshot, then deltas of a twin: ``/live?twin=PREFIX[&under=ID][&kinds=a,b][&token=T]``."""
    ws: Workspace = socket.app.state.workspace
    hub = live_hub(socket.app.state, ws)
    await socket.accept()
    twin = socket.query_params.get("twin", "")
    token = _token(socket)
    try:
        if token is None:
            raise AuthenticationError("/live needs ?token=<API token> or a bearer header")
        principal: Principal = ws.accounts.authenticate(token)
        if not twin:
            raise TwinNotFoundError("/live needs ?twin=<prefix>")
        ws.twin_info(twin, principal)
        live_filter = LiveFilter.parse(
            socket.query_params.get("under"), socket.query_params.get("kinds")
        )
    except AuthenticationError as err:
        await socket.close(CLOSE_UNAUTHENTICATED, reason=err.message[:120])
        return
    except (TwinNotFoundError, AccessDenied):
        await socket.close(CLOSE_NOT_FOUND, reason="no such twin")
        return
    except BadClientMessageError as err:
        await socket.close(CLOSE_BAD_REQUEST, reason=err.message[:120])
        return
    feed = LiveFeed(
        hub, twin, lambda: ws.graph(twin), visible=principal.sees, live_filter=live_filter
    )
    try:
        await feed.serve(socket.send_text, socket.receive_text)
    except WebSocketDisconnect:
        return
    except ClientTooSlowError as err:
        _log.info("live client of %s dropped: %s", twin, err)
        await socket.close(CLOSE_TOO_SLOW, reason="client too slow")


# ------------------------------------------------------------- time series
Instant = Annotated[str | None, Query(description="ISO 8601 time, e.g. 2026-11-21T08:00Z")]


def _span(start: str | None, end: str | None) -> tuple[int, int]:
    lo = parse_instant(start) if start else 0
    hi = parse_instant(end) if end else 2**62
    if hi <= lo:
        raise InstantError(f"'end' ({end}) must be after 'start' ({start})")
    return lo, hi


def _readable(ws: Workspace, who: Principal, entity: str) -> None:
    ws.resolve(entity, principal=who)  # raises 404 for what the principal may not see


@router.get("/timeseries/raw", tags=["time series"])
def raw_samples(
    ws: WorkspaceDep,
    who: PrincipalDep,
    entity: Annotated[str, Query(description="an entity id")],
    prop: Annotated[str, Query(alias="property", description="a property, e.g. temperature")],
    start: Instant = None,
    end: Instant = None,
    limit: Annotated[int, Query(ge=1, le=1_000_000)] = 10_000,
) -> SeriesOut:
    """Raw samples of one property of one entity, oldest first (the newest ``limit``)."""
    _readable(ws, who, entity)
    lo, hi = _span(start, end)
    found = ws.store.samples(SeriesKey(entity, prop), lo, hi)
    ts, values = found.ts[-limit:], found.values[-limit:]
    return SeriesOut(
        entity=entity,
        property=prop,
        ts=[format_instant(int(t)) for t in ts],
        values=values.tolist(),
    )


@router.get("/timeseries/downsampled", tags=["time series"])
def downsampled(
    ws: WorkspaceDep,
    who: PrincipalDep,
    entity: Annotated[str, Query(description="an entity id")],
    prop: Annotated[list[str], Query(alias="property", description="one or more properties")],
    window_s: Annotated[float, Query(alias="window", gt=0, description="window length in seconds")],
    agg: Annotated[Aggregate, Query(description="mean, min, max, last or count")] = Aggregate.MEAN,
    start: Instant = None,
    end: Instant = None,
) -> list[SeriesOut]:
    """One row per window that holds samples, per property."""
    _readable(ws, who, entity)
    lo, hi = _span(start, end)
    if end is None:
        hi = ws.clock() + 1
    if start is None:
        lo = max(0, hi - int(window_s * 1e9) * 1000)
    rows = ws.store.downsample(
        [SeriesKey(entity, p) for p in prop], lo, hi, int(window_s * 1e9), agg
    )
    return [
        SeriesOut(
            entity=entity,
            property=w.key.prop,
            aggregate=agg.value,
            ts=[format_instant(int(t)) for t in w.window_start],
            values=w.values.tolist(),
        )
        for w in rows
    ]


@router.get("/timeseries/latest", tags=["time series"])
def latest(
    ws: WorkspaceDep,
    who: PrincipalDep,
    entity: Annotated[str, Query(description="this entity and everything below it in the id tree")],
) -> dict[str, dict[str, LatestOut]]:
    """The newest sample of every property of the entity and of the entities below it."""
    _readable(ws, who, entity)
    keys = [k for k in ws.store.series(entity) if who.sees(k.entity)]
    out: dict[str, dict[str, LatestOut]] = {}
    for key, (t, v) in ws.store.latest(keys).items():
        out.setdefault(key.entity, {})[key.prop] = LatestOut(at=format_instant(t), value=v)
    return out


# ------------------------------------------------------ ingest and commands
def _runtime(ws_state: State) -> LiveRuntime | None:
    runtime: LiveRuntime | None = getattr(ws_state, "live_runtime", None)
    return runtime


@router.get("/health/ingest", tags=["system"])
def ingest_health(request: Request) -> dict[str, Any]:
    """What the ingest received, stored and refused (by cause), and its sources' connections."""
    runtime = _runtime(request.app.state)
    if runtime is None:
        return {"status": "off", "detail": "no ingest runs in this process"}
    report = runtime.report.as_dict()
    up = all(report["sources"].values()) if report["sources"] else False
    return {"status": "ok" if up else "degraded", **report}


@router.post("/twins/{prefix}/commands", tags=["live"])
def send_command(
    prefix: str, body: CommandIn, request: Request, ws: WorkspaceDep, who: PrincipalDep
) -> dict[str, Any]:
    """Write to the plant: authorised (operator role), range-checked, audited before dispatch."""
    ws.twin_info(prefix, who)
    runtime = _runtime(request.app.state)
    if runtime is None or runtime.commander is None:
        raise CommandError("no plant is connected to this server (start it with twinverse demo)")
    if runtime.commander.tag_map.twin != prefix:
        raise CommandError(f"the connected plant feeds twin {runtime.commander.tag_map.twin!r}")
    if body.command is not None:
        command = Command.of(body.entity, body.command, body.value, body.key)
    else:
        if body.property is None or body.value is None:
            raise CommandError("give 'command' (start, stop, …) or 'property' and 'value'")
        command = Command(body.entity, body.property, body.value, body.key)
    outcome = runtime.commander.send(command, who)
    if outcome.status is Status.FAILED:
        raise CommandError(
            f"the plant did not take the command: {outcome.detail}", code="command-failed"
        )
    return outcome.to_dict()
