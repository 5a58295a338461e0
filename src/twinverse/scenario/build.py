"""From a validated scenario to the changes that create its twin graph.

Containment follows the file: enterprise → sites → areas → lines → machines,
buffers and conveyors; materials, products, people, suppliers, warehouses,
customers and lanes sit directly under the enterprise. Identifiers are the
containment path below the enterprise's prefix (see :mod:`twinverse.twin.ids`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from enum import Enum
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Final

from pydantic import BaseModel

from twinverse.scenario.checks import great_circle_km
from twinverse.scenario.schema import GeoLocation, Line, Scenario, TransportMode
from twinverse.twin.bulk import paused_gc
from twinverse.twin.distribution import Distribution
from twinverse.twin.events import Change, EntityAdded, RelationAdded
from twinverse.twin.graph import TwinGraph
from twinverse.twin.ids import EntityId
from twinverse.twin.model import Entity, EntityKind, GeoPoint, Relation, RelationKind
from twinverse.twin.quantity import Quantity

# How much longer than the great circle a route of each mode usually is
# (sea routes follow shipping lanes, roads and rails the terrain).
CIRCUITY: Final = MappingProxyType(
    {
        TransportMode.SEA: 1.35,
        TransportMode.AIR: 1.05,
        TransportMode.RAIL: 1.25,
        TransportMode.ROAD: 1.2,
    }
)

_NESTED = frozenset({"areas", "lines", "machines", "buffers", "conveyors", "id", "name"})


@lru_cache(maxsize=65_536)
def _distribution_value(dist: Distribution) -> dict[str, Any]:
    # Equal distributions share one property value; twin values are never changed in place
    # (the graph replaces an entity's properties, it does not edit them).
    return dist.to_value()


def _same(obj: Any) -> Any:
    return obj


def _sequence(obj: Any) -> Any:
    return [to_value(v) for v in obj]


def _mapping(obj: Any) -> Any:
    return {str(k): to_value(v) for k, v in obj.items()}


def _converter(kind: type) -> Callable[[Any], Any]:
    """How values of one Python type become twin property values (looked up once per type)."""
    if kind in (Quantity, GeoPoint, str, int, float, bool, type(None)):
        return _same
    if issubclass(kind, Distribution):
        return _distribution_value
    if issubclass(kind, GeoLocation):
        return lambda obj: GeoPoint(obj.lat, obj.lon)
    if issubclass(kind, Enum):
        return lambda obj: obj.value
    if issubclass(kind, dt.date):
        return lambda obj: obj.isoformat()
    if issubclass(kind, BaseModel):
        return lambda obj: _properties(obj, frozenset())
    if issubclass(kind, list | tuple):
        return _sequence
    if issubclass(kind, dict):
        return _mapping
    raise TypeError(f"cannot store {kind.__name__} in the twin")


_CONVERTERS: dict[type, Callable[[Any], Any]] = {}


def to_value(obj: Any) -> Any:
    """A scenario value as a twin property value (quantities and positions kept typed)."""
    kind = type(obj)
    convert = _CONVERTERS.get(kind)
    if convert is None:
        convert = _CONVERTERS[kind] = _converter(kind)
    return convert(obj)


@lru_cache(maxsize=256)
def _field_names(cls: type[BaseModel], skip: frozenset[str]) -> tuple[str, ...]:
    return tuple(name for name in cls.model_fields if name not in skip)


def _properties(model: BaseModel, skip: frozenset[str] = _NESTED) -> dict[str, Any]:
    out = {}
    converters = _CONVERTERS
    for name in _field_names(type(model), skip):
        value = getattr(model, name)
        if value is None or (type(value) is list and not value):
            continue
        convert = converters.get(type(value))
        out[name] = convert(value) if convert is not None else to_value(value)
    return out


class _Builder:
    def __init__(self, scenario: Scenario) -> None:
        self.s = scenario
        self.prefix = scenario.enterprise.prefix
        self.entities: list[Entity] = []
        self.relations: list[Relation] = []
        self._related: set[tuple[str, RelationKind, str]] = set()
        self.id_of: dict[str, EntityId] = {}

    def add(
        self,
        kind: EntityKind,
        path: tuple[str, ...],
        model: BaseModel,
        name: str | None,
        parent: EntityId | None,
        skip: frozenset[str] = _NESTED,
    ) -> EntityId:
        # The schema has checked the prefix and every local id already.
        entity_id = EntityId("/".join((self.prefix, *path)))
        local = path[-1] if path else self.s.enterprise.id
        self.id_of[local] = entity_id
        self.entities.append(Entity(entity_id, kind, name or local, _properties(model, skip)))
        if parent is not None:
            self.relate(parent, RelationKind.CONTAINS, entity_id)
        return entity_id

    def relate(self, source: str, kind: RelationKind, target: str, **props: Any) -> None:
        src = self.id_of.get(source, EntityId(source))
        tgt = self.id_of.get(target, EntityId(target))
        # Flow can be stated twice (a conveyor into a buffer that is also 'between' it);
        # the relation exists once.
        if (src, kind, tgt) in self._related:
            return
        self._related.add((src, kind, tgt))
        self.relations.append(
            Relation(src, kind, tgt, {k: to_value(v) for k, v in props.items() if v is not None})
        )

    def build(self) -> None:
        s = self.s
        root = self.add(
            EntityKind.ENTERPRISE,
            (),
            s.enterprise,
            s.enterprise.name,
            None,
            frozenset({"id", "name"}),
        )
        for site in s.sites:
            site_id = self.add(EntityKind.SITE, (site.id,), site, site.name, root)
            for line in site.lines:
                self.line(line, (site.id,), site_id)
            for area in site.areas:
                area_id = self.add(EntityKind.AREA, (site.id, area.id), area, area.name, site_id)
                for line in area.lines:
                    self.line(line, (site.id, area.id), area_id)
        top = (
            (EntityKind.MATERIAL, s.materials),
            (EntityKind.PRODUCT, s.products),
            (EntityKind.PERSON, s.people),
            (EntityKind.SUPPLIER, s.suppliers),
            (EntityKind.WAREHOUSE, s.warehouses),
            (EntityKind.CUSTOMER, s.customers),
            (EntityKind.LANE, s.lanes),
        )
        for kind, items in top:
            for item in items:
                self.add(
                    kind,
                    (item.id,),
                    item,
                    getattr(item, "name", None),
                    root,
                    frozenset({"id", "name", "bom", "routing", "materials", "demand"}),
                )
        self.top_level_relations()

    def line(self, line: Line, path: tuple[str, ...], parent: EntityId) -> None:
        line_path = (*path, line.id)
        line_id = self.add(
            EntityKind.LINE, line_path, line, line.name, parent, _NESTED | {"products", "feeds"}
        )
        for m in line.machines:
            self.add(EntityKind.MACHINE, (*line_path, m.id), m, m.name, line_id)
        for b in line.buffers:
            self.add(
                EntityKind.BUFFER, (*line_path, b.id), b, b.name, line_id, _NESTED | {"between"}
            )
        for c in line.conveyors:
            self.add(
                EntityKind.CONVEYOR,
                (*line_path, c.id),
                c,
                c.name,
                line_id,
                _NESTED | {"source", "target"},
            )

    def top_level_relations(self) -> None:
        s = self.s
        machines_at: dict[str, list[tuple[str, set[str]]]] = {}
        for site in s.sites:
            lines = [*site.lines, *(ln for a in site.areas for ln in a.lines)]
            machines_at[site.id] = [(m.id, set(m.skills)) for ln in lines for m in ln.machines]
            for line in lines:
                for target in line.feeds:
                    self.relate(line.id, RelationKind.FEEDS, target)
                for product in line.products:
                    self.relate(line.id, RelationKind.PRODUCES, product)
                for b in line.buffers:
                    if b.between:
                        self.relate(b.between[0], RelationKind.FEEDS, b.id)
                        self.relate(b.id, RelationKind.FEEDS, b.between[1])
                for c in line.conveyors:
                    self.relate(c.source, RelationKind.FEEDS, c.id)
                    self.relate(c.id, RelationKind.FEEDS, c.target)
        routed: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for p in s.products:
            for item in p.bom:
                self.relate(p.id, RelationKind.CONSUMES, item.item, quantity=item.quantity)
            for step, op in enumerate(p.routing):
                entry = {"op": op.op, "step": step, "time": to_value(op.time)}
                if op.setup is not None:
                    entry["setup"] = op.setup
                for machine in op.machines:
                    routed.setdefault((p.id, machine), []).append(entry)
        for (product, machine), operations in routed.items():
            self.relate(product, RelationKind.PROCESSED_ON, machine, operations=operations)
        for person in s.people:
            self.relate(person.id, RelationKind.WORKS_AT, person.site)
            skills = {sk.skill for sk in person.skills}
            for machine, needed in machines_at.get(person.site, []):
                if needed and needed <= skills:
                    self.relate(person.id, RelationKind.OPERATES, machine)
        for sup in s.suppliers:
            for sm in sup.materials:
                self.relate(
                    sup.id,
                    RelationKind.SUPPLIES,
                    sm.material,
                    capacity=sm.capacity,
                    lead_time=sm.lead_time,
                    price=sm.price,
                )
        for wh in s.warehouses:
            if wh.site:
                self.relate(wh.id, RelationKind.LOCATED_AT, wh.site)
        for cust in s.customers:
            for d in cust.demand:
                self.relate(cust.id, RelationKind.DEMANDS, d.product, rate=d.rate, cv=d.cv)
        self.lanes()

    def lanes(self) -> None:
        places: dict[str, GeoLocation] = {s.id: s.location for s in self.s.sites}
        for group in (self.s.suppliers, self.s.warehouses, self.s.customers):
            places.update({x.id: x.location for x in group})
        ships: dict[tuple[str, str], list[str]] = {}
        for lane, entity in zip(self.s.lanes, self._entities_of(EntityKind.LANE), strict=True):
            self.relate(lane.id, RelationKind.ORIGIN, lane.source)
            self.relate(lane.id, RelationKind.DESTINATION, lane.target)
            ships.setdefault((lane.source, lane.target), []).append(lane.id)
            if lane.distance is None:
                a, b = places[lane.source], places[lane.target]
                km = great_circle_km(a.lat, a.lon, b.lat, b.lon) * CIRCUITY[lane.mode]
                entity.properties["distance"] = Quantity.of(round(km), "km")
                entity.properties["distance_basis"] = (
                    f"great circle × {CIRCUITY[lane.mode]} ({lane.mode})"
                )
        for (source, target), lanes in ships.items():
            self.relate(source, RelationKind.SHIPS_TO, target, lanes=lanes)

    def _entities_of(self, kind: EntityKind) -> Iterator[Entity]:
        return (e for e in self.entities if e.kind is kind)


def scenario_changes(scenario: Scenario) -> list[Change]:
    """The changes that create the scenario's twin from nothing: entities, then relations."""
    builder = _Builder(scenario)
    with paused_gc():
        builder.build()
        return [
            *(EntityAdded(e) for e in builder.entities),
            *(RelationAdded(r) for r in builder.relations),
        ]


def build_graph(scenario: Scenario) -> TwinGraph:
    graph = TwinGraph()
    with paused_gc():
        graph.apply_all(scenario_changes(scenario))
    return graph
