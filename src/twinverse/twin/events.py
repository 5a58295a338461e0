"""Every change to the twin is an event.

An :class:`Event` is an envelope — which twin, when, who, why, and its position
(``seq``) in the log once stored — around one :class:`Change`. Applying the
changes of a log in order rebuilds the graph; applying only those up to a time
rebuilds the graph as it was then.

Lifecycle: an event is *proposed* with ``seq == 0`` and the time it should
carry; the store *appends* it, assigns ``seq`` (strictly increasing) and keeps
timestamps non-decreasing per twin, so ``as of T`` is a prefix of the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

from twinverse.twin.ids import EntityId
from twinverse.twin.model import Entity, Relation, RelationKey, Value


class ChangeKind(StrEnum):
    ENTITY_ADDED = "entity-added"
    ENTITY_REMOVED = "entity-removed"
    PROPERTY_SET = "property-set"
    PROPERTY_REMOVED = "property-removed"
    RELATION_ADDED = "relation-added"
    RELATION_REMOVED = "relation-removed"


@dataclass(frozen=True, slots=True)
class EntityAdded:
    entity: Entity
    kind: ChangeKind = ChangeKind.ENTITY_ADDED

    @property
    def subject(self) -> EntityId:
        return self.entity.id


@dataclass(frozen=True, slots=True)
class EntityRemoved:
    entity_id: EntityId
    kind: ChangeKind = ChangeKind.ENTITY_REMOVED

    @property
    def subject(self) -> EntityId:
        return self.entity_id


@dataclass(frozen=True, slots=True)
class PropertySet:
    entity_id: EntityId
    name: str
    value: Value
    kind: ChangeKind = ChangeKind.PROPERTY_SET

    @property
    def subject(self) -> EntityId:
        return self.entity_id


@dataclass(frozen=True, slots=True)
class PropertyRemoved:
    entity_id: EntityId
    name: str
    kind: ChangeKind = ChangeKind.PROPERTY_REMOVED

    @property
    def subject(self) -> EntityId:
        return self.entity_id


@dataclass(frozen=True, slots=True)
class RelationAdded:
    relation: Relation
    kind: ChangeKind = ChangeKind.RELATION_ADDED

    @property
    def subject(self) -> EntityId:
        return self.relation.source


@dataclass(frozen=True, slots=True)
class RelationRemoved:
    key: RelationKey
    kind: ChangeKind = ChangeKind.RELATION_REMOVED

    @property
    def subject(self) -> EntityId:
        return self.key[0]


Change: TypeAlias = (
    EntityAdded | EntityRemoved | PropertySet | PropertyRemoved | RelationAdded | RelationRemoved
)


@dataclass(frozen=True, slots=True)
class Event:
    """One change to one twin, with who, when (ns since epoch, UTC) and why."""

    twin: str
    ts: int
    actor: str
    change: Change
    reason: str = ""
    seq: int = 0

    @property
    def subject(self) -> EntityId:
        return self.change.subject

    def touches(self, entity_id: str) -> bool:
        """True when the event concerns ``entity_id`` (as subject or relation target)."""
        if self.change.subject == entity_id:
            return True
        change = self.change
        if isinstance(change, RelationAdded):
            return change.relation.target == entity_id
        if isinstance(change, RelationRemoved):
            return change.key[2] == entity_id
        return False
