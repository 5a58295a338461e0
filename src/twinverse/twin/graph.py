"""The twin graph: entities, relations and the indices that make queries fast.

A :class:`TwinGraph` is built by applying changes (see :mod:`twinverse.twin.events`);
nothing else mutates it. Containment (``contains`` relations) forms a forest
rooted at the enterprise; every other relation is a free directed edge.

``apply`` raises GraphConflictError when a change does not fit (adding an id
twice, removing an entity that still has relations or children, a relation to a
missing entity) and leaves the graph unchanged in that case.

:meth:`TwinGraph.from_parts` builds a whole graph at once (a scenario, a
snapshot): the same graph, and the same error, as adding each entity and then
each relation with ``apply``, with the batch checked as a whole instead of
change by change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeAlias

from twinverse.twin.errors import EntityNotFoundError, GraphConflictError
from twinverse.twin.events import (
    Change,
    EntityAdded,
    EntityRemoved,
    PropertyRemoved,
    PropertySet,
    RelationAdded,
    RelationRemoved,
)
from twinverse.twin.ids import EntityId
from twinverse.twin.model import Entity, EntityKind, Relation, RelationKey, RelationKind, Value

# An entity's relations one way (out of it, or into it), in the order they were
# added; an entity without any that way has no entry. Most entities have one
# relation into them (from their container), so a single relation is kept as
# it is and only a second one makes a dict by key: a dict per entity would cost
# ~25 MB at 100k entities, and copying it on every commit.
_Edges: TypeAlias = Relation | dict[RelationKey, Relation]


def _each(edges: _Edges | None) -> Iterable[Relation]:
    if edges is None:
        return ()
    if isinstance(edges, Relation):
        return (edges,)
    return edges.values()


def _with(edges: _Edges | None, key: RelationKey, relation: Relation) -> _Edges:
    if edges is None:
        return relation
    if isinstance(edges, Relation):
        return {edges.key: edges, key: relation}
    edges[key] = relation
    return edges


def _without(edges: _Edges, key: RelationKey) -> _Edges | None:
    """``edges`` less the relation ``key``, which it holds; None when none is left."""
    if isinstance(edges, Relation):
        return None
    del edges[key]
    return edges or None


class TwinGraph:
    """An in-memory twin graph of one enterprise (or several; ids never collide)."""

    __slots__ = ("_by_kind", "_entities", "_in", "_out", "_parent", "_relations")

    def __init__(self) -> None:
        self._entities: dict[EntityId, Entity] = {}
        self._relations: dict[RelationKey, Relation] = {}
        self._out: dict[EntityId, _Edges] = {}
        self._in: dict[EntityId, _Edges] = {}
        self._by_kind: dict[EntityKind, dict[EntityId, None]] = {k: {} for k in EntityKind}
        self._parent: dict[EntityId, EntityId] = {}

    @classmethod
    def from_parts(cls, entities: Sequence[Entity], relations: Sequence[Relation]) -> TwinGraph:
        """The graph that adding ``entities``, then ``relations``, one by one with ``apply`` gives.

        The batch is checked as a whole (unique ids and keys, both ends present,
        one container each, no containment cycle) and the indices are built in
        one pass. Raises the GraphConflictError that ``apply`` would raise for
        the first entity or relation that does not fit; no graph is returned then.
        """
        graph = cls()
        if not graph._fill(entities, relations):
            # Something does not fit: add one by one, which raises the error
            # ``apply`` gives for the first misfit, in order.
            graph = cls()
            for entity in entities:
                graph._add_entity(entity)
            for relation in relations:
                graph._add_relation(relation)
        return graph

    def _fill(self, entities: Sequence[Entity], relations: Sequence[Relation]) -> bool:
        """Fill this empty graph from a batch that fits as a whole; False (graph unusable) if not."""
        by_id = {entity.id: entity for entity in entities}
        if len(by_id) != len(entities) or any("name" in e.properties for e in entities):
            return False
        by_kind = self._by_kind
        for entity in entities:
            by_kind[entity.kind][entity.id] = None
        by_key: dict[RelationKey, Relation] = {}
        out: dict[EntityId, _Edges] = {}
        into: dict[EntityId, _Edges] = {}
        parent: dict[EntityId, EntityId] = {}
        contains = RelationKind.CONTAINS
        contained = 0
        # The loop only indexes; the checks below look at the whole batch (a key
        # stated twice or a second container shows as a count that falls short),
        # which takes a fraction of the lookups of checking relation by relation.
        for relation in relations:
            source, kind, target = relation.source, relation.kind, relation.target
            key = (source, kind, target)
            by_key[key] = relation
            if kind == contains:
                parent[target] = source
                contained += 1
            # _with, inlined: this loop runs once per relation of a whole twin.
            edges = out.get(source)
            if edges is None:
                out[source] = relation
            elif type(edges) is dict:
                edges[key] = relation
            else:
                out[source] = _with(edges, key, relation)
            edges = into.get(target)
            if edges is None:
                into[target] = relation
            elif type(edges) is dict:
                edges[key] = relation
            else:
                into[target] = _with(edges, key, relation)
        if (
            len(by_key) != len(relations)
            or len(parent) != contained
            or not out.keys() <= by_id.keys()
            or not into.keys() <= by_id.keys()
            or _has_cycle(parent)
        ):
            return False
        self._entities = by_id
        self._relations = by_key
        self._out = out
        self._in = into
        self._parent = parent
        return True

    # ----------------------------------------------------------------- reading
    def __len__(self) -> int:
        return len(self._entities)

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self._entities

    def get(self, entity_id: str) -> Entity | None:
        return self._entities.get(EntityId(entity_id))

    def entity(self, entity_id: str) -> Entity:
        """The entity with ``entity_id``; raises EntityNotFoundError."""
        found = self._entities.get(EntityId(entity_id))
        if found is None:
            raise EntityNotFoundError(entity_id)
        return found

    def entities(self, kind: EntityKind | None = None) -> Iterator[Entity]:
        if kind is None:
            yield from self._entities.values()
        else:
            entities = self._entities
            for entity_id in self._by_kind[kind]:
                yield entities[entity_id]

    def count(self, kind: EntityKind) -> int:
        return len(self._by_kind[kind])

    def relations(self) -> Iterator[Relation]:
        yield from self._relations.values()

    @property
    def relation_count(self) -> int:
        return len(self._relations)

    def outgoing(self, entity_id: str, kind: RelationKind | None = None) -> list[Relation]:
        rels = _each(self._out.get(EntityId(entity_id)))
        return [r for r in rels if kind is None or r.kind == kind]

    def incoming(self, entity_id: str, kind: RelationKind | None = None) -> list[Relation]:
        rels = _each(self._in.get(EntityId(entity_id)))
        return [r for r in rels if kind is None or r.kind == kind]

    def parent(self, entity_id: str) -> Entity | None:
        parent_id = self._parent.get(EntityId(entity_id))
        return self._entities[parent_id] if parent_id is not None else None

    def children(self, entity_id: str) -> list[Entity]:
        return [self._entities[r.target] for r in self.outgoing(entity_id, RelationKind.CONTAINS)]

    def ancestors(self, entity_id: str) -> Iterator[Entity]:
        """Containers of the entity, nearest first."""
        current = self._parent.get(EntityId(entity_id))
        while current is not None:
            yield self._entities[current]
            current = self._parent.get(current)

    def descendants(self, entity_id: str) -> Iterator[Entity]:
        """Everything contained in the entity, depth first."""
        stack = [EntityId(entity_id)]
        while stack:
            current = stack.pop()
            for rel in _each(self._out.get(current)):
                if rel.kind == RelationKind.CONTAINS:
                    yield self._entities[rel.target]
                    stack.append(rel.target)

    def is_within(self, entity_id: str, container_id: str) -> bool:
        """True when ``container_id`` is the entity itself or one of its ancestors."""
        current: EntityId | None = EntityId(entity_id)
        while current is not None:
            if current == container_id:
                return True
            current = self._parent.get(current)
        return False

    # ---------------------------------------------------------------- changing
    def apply(self, change: Change, ts: int = 0) -> None:
        """Apply one change; ``ts`` stamps property sets. Raises GraphConflictError."""
        if isinstance(change, PropertySet):
            self._set_property(change, ts)
        elif isinstance(change, EntityAdded):
            self._add_entity(change.entity)
        elif isinstance(change, RelationAdded):
            self._add_relation(change.relation)
        elif isinstance(change, RelationRemoved):
            self._remove_relation(change.key)
        elif isinstance(change, PropertyRemoved):
            entity = self._require(change.entity_id)
            if change.name not in entity.properties:
                raise GraphConflictError(
                    f"cannot remove property {change.name!r} of {entity.id!r}: it is not set"
                )
            props = dict(entity.properties)
            del props[change.name]
            stamps = dict(entity.stamps)
            stamps.pop(change.name, None)
            self._entities[entity.id] = _with_properties(entity, props, stamps)
        elif isinstance(change, EntityRemoved):
            self._remove_entity(change.entity_id)
        else:  # pragma: no cover - the Change union is closed
            raise TypeError(f"unknown change {change!r}")

    def apply_all(self, changes: Iterable[Change], ts: int = 0) -> None:
        for change in changes:
            self.apply(change, ts)

    def _require(self, entity_id: EntityId) -> Entity:
        entity = self._entities.get(entity_id)
        if entity is None:
            raise GraphConflictError(f"no entity {entity_id!r} in the graph")
        return entity

    def _add_entity(self, entity: Entity) -> None:
        if entity.id in self._entities:
            raise GraphConflictError(f"entity {entity.id!r} exists already")
        if "name" in entity.properties:
            raise GraphConflictError(
                f"entity {entity.id!r}: 'name' is the entity's name, not a property"
            )
        self._entities[entity.id] = entity
        self._by_kind[entity.kind][entity.id] = None

    def _set_property(self, change: PropertySet, ts: int) -> None:
        entity = self._require(change.entity_id)
        if change.name == "name":
            updated = dataclasses.replace(entity, name=str(change.value))
        else:
            updated = _with_properties(
                entity,
                {**entity.properties, change.name: change.value},
                {**entity.stamps, change.name: ts},
            )
        self._entities[entity.id] = updated

    def _add_relation(self, relation: Relation) -> None:
        key = relation.key
        if key in self._relations:
            raise GraphConflictError(
                f"relation {relation.source!r} -{relation.kind}-> {relation.target!r} exists already"
            )
        self._require(relation.source)
        self._require(relation.target)
        if relation.kind == RelationKind.CONTAINS:
            existing = self._parent.get(relation.target)
            if existing is not None:
                raise GraphConflictError(
                    f"{relation.target!r} is already contained in {existing!r}"
                )
            if self.is_within(relation.source, relation.target):
                raise GraphConflictError(
                    f"{relation.source!r} contains {relation.target!r} would make a cycle"
                )
            self._parent[relation.target] = relation.source
        self._relations[key] = relation
        self._out[relation.source] = _with(self._out.get(relation.source), key, relation)
        self._in[relation.target] = _with(self._in.get(relation.target), key, relation)

    def _remove_relation(self, key: RelationKey) -> None:
        relation = self._relations.pop(key, None)
        if relation is None:
            raise GraphConflictError(f"no relation {key[0]!r} -{key[1]}-> {key[2]!r}")
        for index, end in ((self._out, relation.source), (self._in, relation.target)):
            rest = _without(index[end], key)
            if rest is None:
                del index[end]
            else:
                index[end] = rest
        if relation.kind == RelationKind.CONTAINS:
            del self._parent[relation.target]

    def _remove_entity(self, entity_id: EntityId) -> None:
        entity = self._require(entity_id)
        if entity_id in self._out or entity_id in self._in:
            raise GraphConflictError(
                f"cannot remove {entity_id!r}: it still has relations (remove them first)"
            )
        del self._entities[entity_id]
        del self._by_kind[entity.kind][entity_id]
        self._out.pop(entity_id, None)
        self._in.pop(entity_id, None)

    # ------------------------------------------------------------------ copies
    def copy(self) -> TwinGraph:
        """A graph that shares the (immutable) entities and relations but not the indices."""
        other = TwinGraph()
        other._entities = dict(self._entities)
        other._relations = dict(self._relations)
        other._out = {k: v if isinstance(v, Relation) else dict(v) for k, v in self._out.items()}
        other._in = {k: v if isinstance(v, Relation) else dict(v) for k, v in self._in.items()}
        other._by_kind = {k: dict(v) for k, v in self._by_kind.items()}
        other._parent = dict(self._parent)
        return other

    def removal_changes(self, entity_id: str) -> list[Change]:
        """The changes that remove an entity with everything it contains and all their relations."""
        root = self._require(EntityId(entity_id))
        doomed = [root, *self.descendants(root.id)]
        changes: list[Change] = []
        seen: set[RelationKey] = set()
        for entity in reversed(doomed):
            for rel in [
                *_each(self._in.get(entity.id)),
                *_each(self._out.get(entity.id)),
            ]:
                if rel.key not in seen:
                    seen.add(rel.key)
                    changes.append(RelationRemoved(rel.key))
        changes.extend(EntityRemoved(e.id) for e in reversed(doomed))
        return changes


def _with_properties(
    entity: Entity, properties: dict[str, Value], stamps: dict[str, int]
) -> Entity:
    # The constructor, not dataclasses.replace, which costs 2.5 times as much per
    # property set replayed or committed. It names every field of Entity (a test
    # pins the fields, so a new one is not silently dropped here).
    return Entity(entity.id, entity.kind, entity.name, properties, stamps)


def _has_cycle(parent: dict[EntityId, EntityId]) -> bool:
    """True when following parents from some entity leads back to it (itself included)."""
    # Each entity has one parent, so a walk up ends at a root, at an entity an
    # earlier walk passed (which led to a root), or at one of its own: a cycle.
    # Every entity on a cycle contains another, so walks start at containers only.
    walk_of: dict[EntityId, int] = {}
    for walk, start in enumerate(set(parent.values())):
        current: EntityId | None = start
        while current is not None and current not in walk_of:
            walk_of[current] = walk
            current = parent.get(current)
        if current is not None and walk_of[current] == walk:
            return True
    return False


def diff(
    old: TwinGraph,
    new: TwinGraph,
    *,
    owns: Callable[[EntityKind, str], bool] | None = None,
) -> list[Change]:
    """The changes that turn ``old`` into ``new``, in an order ``apply`` accepts.

    Used to re-import an edited scenario as a minimal set of events. With
    ``owns``, a property missing from ``new`` is removed only where
    ``owns(kind, name)`` says the source of ``new`` is in charge of it; others
    (written while the twin ran: live state, scores, forecasts) stay.
    """
    changes: list[Change] = []
    replaced = {e.id for e in old.entities() if (n := new.get(e.id)) is None or n.kind != e.kind}
    for rel in old.relations():
        counterpart = new._relations.get(rel.key)
        if (
            counterpart is None
            or counterpart.properties != rel.properties
            or rel.source in replaced
            or rel.target in replaced
        ):
            changes.append(RelationRemoved(rel.key))
    changes.extend(EntityRemoved(entity_id) for entity_id in replaced)
    for entity in new.entities():
        before = old.get(entity.id)
        if before is None or before.kind != entity.kind:
            changes.append(EntityAdded(entity))
            continue
        if before.name != entity.name:
            changes.append(PropertySet(entity.id, "name", entity.name))
        for name, value in entity.properties.items():
            if name not in before.properties or before.properties[name] != value:
                changes.append(PropertySet(entity.id, name, value))
        for name in before.properties:
            if name not in entity.properties and (owns is None or owns(entity.kind, name)):
                changes.append(PropertyRemoved(entity.id, name))
    for rel in new.relations():
        counterpart = old._relations.get(rel.key)
        if (
            counterpart is None
            or counterpart.properties != rel.properties
            or rel.source in replaced
            or rel.target in replaced
        ):
            changes.append(RelationAdded(rel))
    return changes
