"""JSON encoding of twin values, entities, relations, events and whole graphs.

The wire form is plain JSON. Two tagged objects carry the non-JSON values:
``{"$q": [2.5, "min"]}`` for a quantity (the number in the unit the author
wrote) and ``{"$geo": [lat, lon]}`` for a position. Encoding then decoding gives
back equal objects; the property tests check that for random graphs.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson

from twinverse.twin.errors import TwinError
from twinverse.twin.events import (
    Change,
    ChangeKind,
    EntityAdded,
    EntityRemoved,
    Event,
    PropertyRemoved,
    PropertySet,
    RelationAdded,
    RelationRemoved,
)
from twinverse.twin.graph import TwinGraph
from twinverse.twin.ids import EntityId
from twinverse.twin.model import Entity, EntityKind, GeoPoint, Relation, RelationKind, Value
from twinverse.twin.quantity import Quantity, parse_unit


class CodecError(TwinError):
    code = "invalid-encoding"


@lru_cache(maxsize=4096)
def _unit(unit: str) -> tuple[float, tuple[tuple[str, int], ...]]:
    parsed = parse_unit(unit)
    return parsed.factor, parsed.dimension


def encode_value(value: Value) -> Any:
    if isinstance(value, Quantity):
        return {"$q": [value.value, value.unit] if value.unit else [value.magnitude, ""]}
    if isinstance(value, GeoPoint):
        return {"$geo": [value.lat, value.lon]}
    if isinstance(value, dict):
        return {k: encode_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode_value(v) for v in value]
    return value


def decode_value(data: Any) -> Value:
    if isinstance(data, dict):
        if "$q" in data:
            number, unit = data["$q"]
            factor, dim = _unit(unit)
            return Quantity(number * factor, dim, unit)
        if "$geo" in data:
            lat, lon = data["$geo"]
            return GeoPoint(lat, lon)
        return {k: decode_value(v) for k, v in data.items()}
    if isinstance(data, list):
        return [decode_value(v) for v in data]
    return data


def _encode_props(props: dict[str, Value]) -> dict[str, Any]:
    return {k: encode_value(v) for k, v in props.items()}


def _decode_props(data: dict[str, Any]) -> dict[str, Value]:
    return {k: decode_value(v) if isinstance(v, dict | list) else v for k, v in data.items()}


def entity_to_dict(entity: Entity) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": entity.id,
        "kind": entity.kind.value,
        "name": entity.name,
        "properties": _encode_props(entity.properties),
    }
    if entity.stamps:
        out["stamps"] = entity.stamps
    return out


def entity_from_dict(data: dict[str, Any]) -> Entity:
    return Entity(
        id=EntityId(data["id"]),
        kind=EntityKind(data["kind"]),
        name=data["name"],
        properties=_decode_props(data.get("properties", {})),
        stamps=data.get("stamps", {}),
    )


def relation_to_dict(relation: Relation) -> dict[str, Any]:
    out: dict[str, Any] = {
        "source": relation.source,
        "kind": relation.kind.value,
        "target": relation.target,
    }
    if relation.properties:
        out["properties"] = _encode_props(relation.properties)
    return out


def relation_from_dict(data: dict[str, Any]) -> Relation:
    return Relation(
        source=EntityId(data["source"]),
        kind=RelationKind(data["kind"]),
        target=EntityId(data["target"]),
        properties=_decode_props(data.get("properties", {})),
    )


def change_to_dict(change: Change) -> dict[str, Any]:
    if isinstance(change, EntityAdded):
        return {"kind": change.kind.value, "entity": entity_to_dict(change.entity)}
    if isinstance(change, EntityRemoved):
        return {"kind": change.kind.value, "entity_id": change.entity_id}
    if isinstance(change, PropertySet):
        return {
            "kind": change.kind.value,
            "entity_id": change.entity_id,
            "name": change.name,
            "value": encode_value(change.value),
        }
    if isinstance(change, PropertyRemoved):
        return {"kind": change.kind.value, "entity_id": change.entity_id, "name": change.name}
    if isinstance(change, RelationAdded):
        return {"kind": change.kind.value, "relation": relation_to_dict(change.relation)}
    source, kind, target = change.key
    return {
        "kind": change.kind.value,
        "relation": {"source": source, "kind": kind.value, "target": target},
    }


def change_from_dict(data: dict[str, Any]) -> Change:
    try:
        kind = ChangeKind(data["kind"])
        if kind is ChangeKind.ENTITY_ADDED:
            return EntityAdded(entity_from_dict(data["entity"]))
        if kind is ChangeKind.ENTITY_REMOVED:
            return EntityRemoved(EntityId(data["entity_id"]))
        if kind is ChangeKind.PROPERTY_SET:
            return PropertySet(
                EntityId(data["entity_id"]), data["name"], decode_value(data["value"])
            )
        if kind is ChangeKind.PROPERTY_REMOVED:
            return PropertyRemoved(EntityId(data["entity_id"]), data["name"])
        rel = data["relation"]
        if kind is ChangeKind.RELATION_ADDED:
            return RelationAdded(relation_from_dict(rel))
        return RelationRemoved(
            (EntityId(rel["source"]), RelationKind(rel["kind"]), EntityId(rel["target"]))
        )
    except (KeyError, ValueError, TypeError) as err:
        raise CodecError(f"not a valid change: {data!r:.200} ({err})") from err


def event_to_dict(event: Event) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "twin": event.twin,
        "ts": event.ts,
        "actor": event.actor,
        "reason": event.reason,
        "change": change_to_dict(event.change),
    }


def event_from_dict(data: dict[str, Any]) -> Event:
    return Event(
        twin=data["twin"],
        ts=int(data["ts"]),
        actor=data["actor"],
        reason=data.get("reason", ""),
        seq=int(data.get("seq", 0)),
        change=change_from_dict(data["change"]),
    )


def dumps(data: Any) -> bytes:
    return orjson.dumps(data)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def encode_change(change: Change) -> bytes:
    return orjson.dumps(change_to_dict(change))


def decode_change(data: bytes | str) -> Change:
    try:
        return change_from_dict(orjson.loads(data))
    except orjson.JSONDecodeError as err:
        raise CodecError(f"stored change is not JSON: {err}") from err


def encode_graph(graph: TwinGraph) -> bytes:
    """The whole graph as one JSON document (used for snapshots and exports)."""
    return orjson.dumps(
        {
            "entities": [entity_to_dict(e) for e in graph.entities()],
            "relations": [relation_to_dict(r) for r in graph.relations()],
        }
    )


def decode_graph(data: bytes | str) -> TwinGraph:
    doc = orjson.loads(data)
    graph = TwinGraph()
    for item in doc["entities"]:
        graph.apply(EntityAdded(entity_from_dict(item)))
    for item in doc["relations"]:
        graph.apply(RelationAdded(relation_from_dict(item)))
    return graph
