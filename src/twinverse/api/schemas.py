"""Wire types of the API, kept apart from the twin's domain types.

Values use the twin's JSON codec: a quantity is ``{"$q": [2.5, "min"]}``, a
position ``{"$geo": [lat, lon]}``; everything else is plain JSON.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from twinverse.store import TwinInfo
from twinverse.twin.codec import change_to_dict, encode_value
from twinverse.twin.events import Event
from twinverse.twin.graph import TwinGraph
from twinverse.twin.instant import format_instant
from twinverse.twin.model import Entity, EntityKind, Relation


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str
    errors: list[dict[str, Any]] | None = None


class LoginRequest(BaseModel):
    principal: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=1024)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: str
    principal: str


class TwinOut(BaseModel):
    prefix: str
    name: str
    tenant: str
    created_at: str
    entities: int | None = None
    counts: dict[str, int] | None = None

    @classmethod
    def of(cls, info: TwinInfo, graph: TwinGraph | None = None) -> TwinOut:
        counts = None
        if graph is not None:
            counts = {k.value: graph.count(k) for k in EntityKind if graph.count(k)}
        return cls(
            prefix=info.prefix,
            name=info.name,
            tenant=info.tenant,
            created_at=format_instant(info.created_ts),
            entities=len(graph) if graph is not None else None,
            counts=counts,
        )


class EntityOut(BaseModel):
    id: str
    kind: str
    name: str
    properties: dict[str, Any]
    updated: dict[str, str] = Field(
        default_factory=dict, description="when each property was last set"
    )

    @classmethod
    def of(cls, entity: Entity) -> EntityOut:
        return cls(
            id=entity.id,
            kind=entity.kind.value,
            name=entity.name,
            properties={k: encode_value(v) for k, v in entity.properties.items()},
            updated={k: format_instant(v) for k, v in entity.stamps.items() if v},
        )


class RelationOut(BaseModel):
    source: str
    kind: str
    target: str
    properties: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(cls, relation: Relation) -> RelationOut:
        return cls(
            source=relation.source,
            kind=relation.kind.value,
            target=relation.target,
            properties={k: encode_value(v) for k, v in relation.properties.items()},
        )


class QueryOut(BaseModel):
    twin: str
    query: str
    as_of: str | None
    total: int
    items: list[EntityOut]


class ResolveOut(BaseModel):
    id: str
    twin: str
    as_of: str | None
    entity: EntityOut
    outgoing: list[RelationOut]
    incoming: list[RelationOut]


class EventOut(BaseModel):
    seq: int
    twin: str
    time: str
    actor: str
    reason: str
    subject: str
    change: dict[str, Any]

    @classmethod
    def of(cls, event: Event) -> EventOut:
        return cls(
            seq=event.seq,
            twin=event.twin,
            time=format_instant(event.ts),
            actor=event.actor,
            reason=event.reason,
            subject=event.subject,
            change=change_to_dict(event.change),
        )


class EventsPage(BaseModel):
    items: list[EventOut]
    next_after: int | None = Field(description="pass as ?after= for the next page; null at the end")


class ChangesIn(BaseModel):
    """Changes in the twin codec's form, e.g. ``{"kind": "property-set", "entity_id": …, "name": …, "value": …}``."""

    changes: list[dict[str, Any]] = Field(min_length=1, max_length=10_000)
    reason: str = Field(default="", max_length=2_000)


class HealthOut(BaseModel):
    status: str
    version: str
    twins: int
