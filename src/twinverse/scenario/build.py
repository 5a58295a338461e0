"""From a validated scenario to the changes that create its twin graph.

Containment follows the file: enterprise → sites → areas → lines → machines,
buffers and conveyors; materials, products, people, suppliers, warehouses,
customers and lanes sit directly under the enterprise. Identifiers are the
containment path below the enterprise's prefix (see :mod:`twinverse.twin.ids`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from enum import Enum
from types import MappingProxyType
from typing import Any, Final

from pydantic import BaseModel

from twinverse.scenario import schema
from twinverse.scenario.checks import great_circle_km
from twinverse.scenario.schema import GeoLocation, Line, Scenario, TransportMode
from twinverse.twin.bulk import mark_long_lived, paused_gc
from twinverse.twin.distribution import DistKind, Distribution
from twinverse.twin.events import Change, EntityAdded, RelationAdded
from twinverse.twin.graph import TwinGraph
from twinverse.twin.ids import EntityId
from twinverse.twin.model import Entity, EntityKind, GeoPoint, Relation, RelationKey, RelationKind
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

# The schema model behind each entity kind: its fields are the properties a
# scenario file is in charge of (plus what the build derives, e.g. a lane's distance).
_MODEL_OF_KIND: Final[Mapping[EntityKind, type[BaseModel]]] = MappingProxyType(
    {
        EntityKind.ENTERPRISE: schema.Enterprise,
        EntityKind.SITE: schema.Site,
        EntityKind.AREA: schema.Area,
        EntityKind.LINE: schema.Line,
        EntityKind.MACHINE: schema.Machine,
        EntityKind.BUFFER: schema.Buffer,
        EntityKind.CONVEYOR: schema.Conveyor,
        EntityKind.MATERIAL: schema.Material,
        EntityKind.PRODUCT: schema.Product,
        EntityKind.PERSON: schema.Person,
        EntityKind.SUPPLIER: schema.Supplier,
        EntityKind.WAREHOUSE: schema.Warehouse,
        EntityKind.CUSTOMER: schema.Customer,
        EntityKind.LANE: schema.Lane,
    }
)
_DERIVED: Final = MappingProxyType({EntityKind.LANE: frozenset({"distance", "distance_basis"})})


def file_owns(kind: EntityKind, name: str) -> bool:
    """Whether a scenario file is in charge of property ``name`` of a ``kind`` entity.

    A re-import removes such a property when the file no longer states it; the
    others — written while the twin runs (a machine's state, a supplier's score,
    sold capacity, a forecast) — are not the file's to remove.
    """
    model = _MODEL_OF_KIND.get(kind)
    if model is None:
        return True
    return name in model.model_fields or name in _DERIVED.get(kind, frozenset())


# Shared by every entity without stamps and relation without properties: twin
# values are never changed in place (the graph replaces them), and a 100k-entity
# scenario would otherwise hold ~20 MB of empty dicts.
_EMPTY: Final[dict[str, Any]] = {}


# Values of these types are stored as they are; most scenario fields hold one.
_KEPT: Final = frozenset({Quantity, GeoPoint, str, float, int, bool})


class _Values:
    """Scenario values as twin property values (quantities and positions kept typed).

    One instance serves one build and shares repeated values between the
    entities it converts: a large scenario repeats the same position, power
    table or distribution thousands of times, and twin values are never changed
    in place (the graph replaces them), so one stored value serves them all.
    Repeats are found by identity first: the validated models share one
    Quantity per repeated text and one Distribution per repeated mapping, and
    the scenario keeps every model alive while the build runs, so ids stay valid.
    """

    def __init__(self) -> None:
        self._models: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._distributions: dict[int, dict[str, Any]] = {}
        self._equal_distributions: dict[Distribution, dict[str, Any]] = {}

    def of(self, obj: Any) -> Any:
        return _converter_of(type(obj))(self, obj)

    def properties(self, model: BaseModel, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The model's fields, but those in ``skip`` and those unset, as property values."""
        out = {}
        converters = _CONVERTERS
        # A validated model's __dict__ holds exactly its fields, in declaration order.
        for name, value in model.__dict__.items():
            if value is None or name in skip:
                continue
            kind = type(value)
            if kind in _KEPT:
                out[name] = value
            elif kind is not list or value:
                convert = converters.get(kind) or _converter_of(kind)
                out[name] = convert(self, value)
        return out

    def model(self, model: BaseModel) -> dict[str, Any]:
        """A nested model (a position, power by state) as a mapping, shared by the same values."""
        key = (type(model), *map(id, model.__dict__.values()))
        value = self._models.get(key)
        if value is None:
            value = self._models[key] = self.properties(model)
        return value

    def distribution(self, dist: Distribution) -> dict[str, Any]:
        # A constant is a new Distribution around a shared quantity; other kinds are shared whole.
        key = id(dist.params[0][1]) if dist.kind is DistKind.CONSTANT else id(dist)
        value = self._distributions.get(key)
        if value is None:
            value = self._equal_distributions.get(dist)
            if value is None:
                value = self._equal_distributions[dist] = dist.to_value()
            self._distributions[key] = value
        return value


# Plain functions of (values, obj), not bound methods or closures over a
# _Values: the table outlives every build and holds no reference to one.
_Converter = Callable[[_Values, Any], Any]


def _same(values: _Values, obj: Any) -> Any:
    return obj


def _converter(kind: type) -> _Converter:
    """How values of one Python type become property values (looked up once per type)."""
    if kind in _KEPT or kind is type(None):
        return _same
    if issubclass(kind, Distribution):
        return _Values.distribution
    if issubclass(kind, GeoLocation):
        return lambda _, obj: GeoPoint(obj.lat, obj.lon)
    if issubclass(kind, Enum):
        return lambda _, obj: obj.value
    if issubclass(kind, dt.date):
        return lambda _, obj: obj.isoformat()
    if issubclass(kind, BaseModel):
        return _Values.model
    if issubclass(kind, list | tuple):
        return lambda values, obj: [values.of(v) for v in obj]
    if issubclass(kind, dict):
        return lambda values, obj: {str(k): values.of(v) for k, v in obj.items()}
    raise TypeError(f"cannot store {kind.__name__} in the twin")


_CONVERTERS: dict[type, _Converter] = {}


def _converter_of(kind: type) -> _Converter:
    convert = _CONVERTERS.get(kind)
    if convert is None:
        convert = _CONVERTERS[kind] = _converter(kind)
    return convert


class _Builder:
    def __init__(self, scenario: Scenario) -> None:
        self.s = scenario
        self.prefix = scenario.enterprise.prefix
        self.entities: list[Entity] = []
        # In the order first stated; flow can be stated twice (a conveyor into a
        # buffer that is also 'between' it), the relation exists once.
        self.relations: dict[RelationKey, Relation] = {}
        self.id_of: dict[str, EntityId] = {}
        self.values = _Values()

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
        properties = self.values.properties(model, skip)
        self.entities.append(Entity(entity_id, kind, name or local, properties, _EMPTY))
        if parent is not None:
            self.relate(parent, RelationKind.CONTAINS, entity_id)
        return entity_id

    def relate(self, source: str, kind: RelationKind, target: str, **props: Any) -> None:
        src = self.id_of.get(source) or EntityId(source)
        tgt = self.id_of.get(target) or EntityId(target)
        key = (src, kind, tgt)
        if key not in self.relations:
            values = _EMPTY
            if props:
                values = {k: self.values.of(v) for k, v in props.items() if v is not None} or _EMPTY
            self.relations[key] = Relation(src, kind, tgt, values)

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
        staffed = {person.site for person in s.people}
        for site in s.sites:
            lines = [*site.lines, *(ln for a in site.areas for ln in a.lines)]
            if site.id in staffed:  # only people are matched to machines by skill
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
                entry = {"op": op.op, "step": step, "time": self.values.of(op.time)}
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


def _parts(scenario: Scenario) -> tuple[list[Entity], list[Relation]]:
    """The scenario's entities and relations, in the order they are added to its twin."""
    builder = _Builder(scenario)
    builder.build()
    return builder.entities, list(builder.relations.values())


def scenario_changes(scenario: Scenario) -> list[Change]:
    """The changes that create the scenario's twin from nothing: entities, then relations."""
    with paused_gc():
        entities, relations = _parts(scenario)
        return [*map(EntityAdded, entities), *map(RelationAdded, relations)]


def build_graph(scenario: Scenario) -> TwinGraph:
    """The scenario's twin: the graph ``scenario_changes`` creates, checked and built in one pass.

    Raises GraphConflictError as applying those changes would (a scenario that
    passed validation always builds).
    """
    with paused_gc():
        graph = TwinGraph.from_parts(*_parts(scenario))
        mark_long_lived()  # a scenario's twin is kept (and scanning it would take ~0.2 s)
    return graph
