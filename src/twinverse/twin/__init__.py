"""The twin graph: identifiers, entities, relations, quantities, events and queries — pure, no I/O."""

from twinverse.twin.events import Change, Event
from twinverse.twin.graph import TwinGraph, diff
from twinverse.twin.ids import EntityId, make_id, parse_id
from twinverse.twin.model import Entity, EntityKind, GeoPoint, Relation, RelationKind
from twinverse.twin.quantity import Quantity, parse_quantity
from twinverse.twin.query import parse_query, query

__all__ = [
    "Change",
    "Entity",
    "EntityId",
    "EntityKind",
    "Event",
    "GeoPoint",
    "Quantity",
    "Relation",
    "RelationKind",
    "TwinGraph",
    "diff",
    "make_id",
    "parse_id",
    "parse_quantity",
    "parse_query",
    "query",
]
