"""Twins: list, summary, query (with as-of), resolve, events, and changes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from twinverse.api.deps import PrincipalDep, WorkspaceDep, as_of
from twinverse.api.schemas import (
    ChangesIn,
    EntityOut,
    EventOut,
    EventsPage,
    QueryOut,
    RelationOut,
    ResolveOut,
    TwinOut,
)
from twinverse.twin.codec import change_from_dict
from twinverse.twin.instant import format_instant

router = APIRouter()

AsOf = Annotated[
    str | None,
    Query(
        alias="as_of", description="ISO 8601 time, e.g. 2026-11-01T08:00Z: the twin as it was then"
    ),
]


@router.get("/twins", tags=["twins"])
def list_twins(ws: WorkspaceDep, who: PrincipalDep) -> list[TwinOut]:
    return [TwinOut.of(info) for info in ws.twins(who)]


@router.get("/twins/{prefix}", tags=["twins"])
def get_twin(prefix: str, ws: WorkspaceDep, who: PrincipalDep, as_of_: AsOf = None) -> TwinOut:
    info = ws.twin_info(prefix, who)
    graph = ws.graph(prefix, as_of=as_of(as_of_), principal=who)
    return TwinOut.of(info, graph)


@router.get("/twins/{prefix}/entities", tags=["twins"])
def query_entities(
    prefix: str,
    ws: WorkspaceDep,
    who: PrincipalDep,
    q: Annotated[
        str,
        Query(
            description="a query, e.g. machine where power.busy > 10 kW in (site where country = DE)"
        ),
    ] = "*",
    as_of_: Annotated[str | None, Query(alias="as_of")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> QueryOut:
    instant = as_of(as_of_)
    found = ws.query(prefix, q, as_of=instant, principal=who)
    return QueryOut(
        twin=prefix,
        query=q,
        as_of=format_instant(instant) if instant is not None else None,
        total=len(found),
        items=[EntityOut.of(e) for e in found[offset : offset + limit]],
    )


@router.get("/resolve/{entity_id:path}", tags=["identity"])
def resolve(
    entity_id: str,
    ws: WorkspaceDep,
    who: PrincipalDep,
    as_of_: Annotated[str | None, Query(alias="as_of")] = None,
) -> ResolveOut:
    instant = as_of(as_of_)
    found = ws.resolve(entity_id, as_of=instant, principal=who)
    return ResolveOut(
        id=found.entity.id,
        twin=found.twin.prefix,
        as_of=format_instant(instant) if instant is not None else None,
        entity=EntityOut.of(found.entity),
        outgoing=[RelationOut.of(r) for r in found.outgoing],
        incoming=[RelationOut.of(r) for r in found.incoming],
    )


@router.get("/events", tags=["events"])
def events(
    ws: WorkspaceDep,
    who: PrincipalDep,
    twin: Annotated[str, Query(description="the twin's prefix")],
    entity: Annotated[str | None, Query(description="only events about this entity")] = None,
    after: Annotated[int, Query(ge=0, description="the seq of the last event already seen")] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> EventsPage:
    page = ws.events(twin, after_seq=after, limit=limit, entity=entity, principal=who)
    return EventsPage(
        items=[EventOut.of(e) for e in page],
        next_after=page[-1].seq if len(page) == limit else None,
    )


@router.post("/twins/{prefix}/changes", tags=["twins"], status_code=201)
def apply_changes(
    prefix: str, body: ChangesIn, ws: WorkspaceDep, who: PrincipalDep
) -> list[EventOut]:
    changes = [change_from_dict(c) for c in body.changes]
    stored = ws.apply_changes(prefix, changes, principal=who, reason=body.reason)
    return [EventOut.of(e) for e in stored]
