"""Entities and relations of the twin graph: plain, immutable data.

Entities carry a kind, a display name and properties. A property value is
JSON-like data or a :class:`~twinverse.twin.quantity.Quantity`; the graph
records when each property was last set. Relations are typed, directed edges
identified by (source, kind, target), with properties of their own (a BOM
quantity, a lane on a ships-to edge).

Objects here are never mutated: the graph replaces an entity by a new one when a
property changes, so a reference held by a caller never changes under it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeAlias

from twinverse.twin.ids import EntityId
from twinverse.twin.quantity import Quantity

# JSON-like data or a quantity; containers hold the same.
Value: TypeAlias = Any


class EntityKind(StrEnum):
    """What an entity is. The ordering follows the report's 人机料法环 factors."""

    ENTERPRISE = "enterprise"
    SITE = "site"
    AREA = "area"
    LINE = "line"
    MACHINE = "machine"
    BUFFER = "buffer"
    CONVEYOR = "conveyor"
    MATERIAL = "material"
    PRODUCT = "product"
    PERSON = "person"
    SUPPLIER = "supplier"
    WAREHOUSE = "warehouse"
    CUSTOMER = "customer"
    LANE = "lane"


class RelationKind(StrEnum):
    """Typed, directed relations. The docstring of each says how to read ``source -> target``."""

    CONTAINS = "contains"  # site contains area, line contains machine …
    FEEDS = "feeds"  # machine feeds buffer, buffer feeds machine, line feeds line
    SUPPLIES = "supplies"  # supplier supplies material
    CONSUMES = "consumes"  # product consumes material / component product (its BOM)
    PRODUCES = "produces"  # site or line produces product
    PROCESSED_ON = "processed-on"  # product is processed on machine (a routing step)
    OPERATES = "operates"  # person operates machine
    WORKS_AT = "works-at"  # person works at site
    DEMANDS = "demands"  # customer demands product
    SHIPS_TO = "ships-to"  # origin ships to destination (over a lane)
    ORIGIN = "origin"  # lane starts at node
    DESTINATION = "destination"  # lane ends at node
    LOCATED_AT = "located-at"  # entity is located at site


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """A WGS84 position in degrees."""

    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Entity:
    """A thing, person, organisation unit or place in the twin."""

    id: EntityId
    kind: EntityKind
    name: str
    properties: dict[str, Value] = field(default_factory=dict)
    # When each property was last set (ns since the epoch, UTC).
    stamps: dict[str, int] = field(default_factory=dict)

    def get(self, name: str, default: Value = None) -> Value:
        return self.properties.get(name, default)

    def quantity(self, name: str) -> Quantity | None:
        value = self.properties.get(name)
        return value if isinstance(value, Quantity) else None


RelationKey: TypeAlias = tuple[EntityId, RelationKind, EntityId]


@dataclass(frozen=True, slots=True)
class Relation:
    """A directed, typed edge; at most one per (source, kind, target)."""

    source: EntityId
    kind: RelationKind
    target: EntityId
    properties: dict[str, Value] = field(default_factory=dict)

    @property
    def key(self) -> RelationKey:
        return (self.source, self.kind, self.target)
