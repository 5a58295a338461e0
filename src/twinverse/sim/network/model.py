"""The supply network as the simulator sees it, compiled from a scenario.

A scenario names sites, lines, products with bills of materials, suppliers,
warehouses, customers and lanes. The simulator works on **stock points** — one
item held at one place — connected by **edges** (a lane carrying an item from
one point to another), with production rows (BOM and line capacities) at the
points where an item is made, supply rows where a supplier ships, and demand
rows where customers order. ``docs/simulation-network.md`` is the exact
contract; :meth:`NetworkModel.to_dict` is its wire form, read by the SimPy
reference model too.

Compiling decides, and reports as :attr:`NetworkModel.notes`, what the
scenario leaves open: which lane is the primary source of a point (the first
listed), the default inventory levels (cover of the lead time plus a safety
cover of mean demand), and line capacities derived from routings, machine
availability and shift calendars.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from twinverse.errors import TwinverseError
from twinverse.scenario.build import CIRCUITY
from twinverse.scenario.checks import great_circle_km
from twinverse.scenario.schema import Line, PolicyKind, Scenario, Site, SiteRole
from twinverse.sim.dist import Dist
from twinverse.twin.quantity import COUNT, MASS, Quantity, parse_unit

DAY = 86_400.0
HOUR = 3_600.0
# Conversion cost of energy, when a scenario gives none; EU industrial average 2024, EUR/kWh.
DEFAULT_ENERGY_PRICE = 0.15


class PointKind(StrEnum):
    MADE = "made"
    BOUGHT = "bought"
    SUPPLY = "supply"


class EdgeRole(StrEnum):
    PRIMARY = "primary"
    ALTERNATE = "alternate"


class ModelError(TwinverseError):
    code = "network-model"


@dataclass(frozen=True, slots=True)
class Policy:
    kind: PolicyKind
    S: float
    s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "s-S" if self.kind is PolicyKind.MIN_MAX else self.kind.value
        }
        out["S"] = self.S
        if self.s is not None:
            out["s"] = self.s
        return out


@dataclass(slots=True)
class Point:
    id: str
    node: str
    item: str
    kind: PointKind
    initial: float = 0.0
    mean_demand: float = 0.0
    lead_days: float = 0.0
    policy: Policy | None = None
    unit_value: float = 0.0
    holding_per_day: float = 0.0


@dataclass(slots=True)
class Production:
    point: int
    bom: list[tuple[int, float]]
    lines: list[tuple[int, float]]
    unit_cost: float = 0.0
    co2e_per_unit: float = 0.0
    kwh_per_unit: float = 0.0


@dataclass(slots=True)
class Supply:
    point: int
    capacity: float
    lead_time: Dist


@dataclass(slots=True)
class Edge:
    id: str
    source: int
    target: int
    lane: str
    lead_time: Dist
    share: float
    cost_per_unit: float
    co2e_per_unit: float
    role: EdgeRole
    mode: str = ""


@dataclass(slots=True)
class Demand:
    id: str
    customer: str
    item: str
    lane: str
    point: int
    mean: float
    cv: float
    price: float
    lead_time: Dist
    cost_per_unit: float
    co2e_per_unit: float


@dataclass(slots=True)
class LineRef:
    """A capacity constraint: one machine group of a line (the machines an operation may use)."""

    id: str
    site: str
    line: str
    skills: frozenset[str] = frozenset()
    seconds_per_day: float = DAY  # machine time the group has per calendar day


@dataclass(slots=True)
class NetworkModel:
    """Stock points, production, supply, edges and demand: what one simulation day works on."""

    horizon: int
    unmet: str
    points: list[Point] = field(default_factory=list)
    production: list[Production] = field(default_factory=list)
    supply: list[Supply] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    demand: list[Demand] = field(default_factory=list)
    lines: list[LineRef] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    node_country: dict[str, str] = field(default_factory=dict)
    node_kind: dict[str, str] = field(default_factory=dict)
    node_location: dict[str, tuple[float, float]] = field(default_factory=dict)
    currency: str = "EUR"
    # verified supplier scores (0–100) from the twin; empty when not started from it
    supplier_score: dict[str, float] = field(default_factory=dict)

    def point_index(self, node: str, item: str) -> int | None:
        for i, p in enumerate(self.points):
            if p.node == node and p.item == item:
                return i
        return None

    def warm_days(self, edge: Edge) -> int:
        """Days of the target's demand in transit on ``edge`` at the start (primary edges only)."""
        if edge.role is not EdgeRole.PRIMARY:
            return 0
        return max(0, min(round(self.points[edge.target].lead_days - 1), self.horizon))

    def to_dict(self) -> dict[str, Any]:
        """The wire form of ``docs/simulation-network.md``."""
        return {
            "horizon": self.horizon,
            "unmet": self.unmet,
            "points": [
                {
                    "id": p.id,
                    "node": p.node,
                    "item": p.item,
                    "kind": p.kind.value,
                    "initial": p.initial,
                    "policy": p.policy.to_dict() if p.policy else None,
                    "unit_value": p.unit_value,
                    "holding_per_day": p.holding_per_day,
                    "mean_demand": p.mean_demand,
                }
                for p in self.points
            ],
            "production": [
                {
                    "point": r.point,
                    "bom": [list(b) for b in r.bom],
                    "lines": [list(c) for c in r.lines],
                    "unit_cost": r.unit_cost,
                    "co2e_per_unit": r.co2e_per_unit,
                }
                for r in self.production
            ],
            "lines": [{"id": line.id, "site": line.site} for line in self.lines],
            "supply": [
                {"point": s.point, "capacity": s.capacity, "lead_time": s.lead_time.to_dict()}
                for s in self.supply
            ],
            "edges": [
                {
                    "id": e.id,
                    "source": e.source,
                    "target": e.target,
                    "lane": e.lane,
                    "lead_time": e.lead_time.to_dict(),
                    "share": e.share,
                    "cost_per_unit": e.cost_per_unit,
                    "co2e_per_unit": e.co2e_per_unit,
                    "role": e.role.value,
                    "warm_days": self.warm_days(e),
                }
                for e in self.edges
            ],
            "demand": [
                {
                    "id": d.id,
                    "point": d.point,
                    "mean": d.mean,
                    "cv": d.cv,
                    "price": d.price,
                    "lead_time": d.lead_time.to_dict(),
                    "cost_per_unit": d.cost_per_unit,
                    "co2e_per_unit": d.co2e_per_unit,
                }
                for d in self.demand
            ],
        }


# ---------------------------------------------------------------- capacity


def work_seconds_per_day(site: Site) -> float:
    """Mean working seconds per calendar day from the site's shifts, breaks excluded."""
    if site.calendar is None or not site.calendar.shifts:
        return DAY
    total = 0.0
    for shift in site.calendar.shifts:
        start = _clock(shift.start)
        end = _clock(shift.end)
        length = (end - start) % DAY or DAY
        length -= sum(b.duration.magnitude for b in shift.breaks)
        total += max(length, 0.0) * len(shift.days)
    return min(total / 7, DAY)


def _clock(text: str) -> float:
    hours, minutes = text.split(":")
    return int(hours) * HOUR + int(minutes) * 60


def resource_seconds(line: Line, product: Any) -> tuple[dict[str, float], float]:
    """Machine seconds one good part of ``product`` takes on each machine group of ``line``, and busy kWh.

    A machine group is the machines of the line an operation may use (its time
    is shared among them); times are divided by availability MTBF/(MTBF+MTTR)
    and by the share of good parts. A line the product's routing does not touch
    paces by its machines' cycle times.
    """
    machines = {m.id: m for m in line.machines}
    seconds: dict[str, float] = {}
    kwh = 0.0
    for op in product.routing if product is not None else ():
        here = [machines[m] for m in op.machines if m in machines]
        if not here:
            continue
        avail = sum(_availability(m) for m in here) / len(here)
        scrap = sum((m.scrap_rate.magnitude if m.scrap_rate else 0.0) for m in here) / len(here)
        key = "+".join(sorted(m.id for m in here))
        seconds[key] = seconds.get(key, 0.0) + op.time.mean / len(here) / max(
            avail * (1 - scrap), 1e-9
        )
        kw = sum(m.power.busy.magnitude if m.power else 0.0 for m in here) / len(here) / 1000
        kwh += kw * op.time.mean / HOUR
    if not seconds:
        for m in machines.values():
            scrap = m.scrap_rate.magnitude if m.scrap_rate else 0.0
            seconds[m.id] = m.cycle_time.mean / max(_availability(m) * (1 - scrap), 1e-9)
            kwh += (m.power.busy.magnitude / 1000 if m.power else 0.0) * m.cycle_time.mean / HOUR
    return seconds, kwh


def _availability(machine: Any) -> float:
    if machine.mtbf is None or machine.mttr is None:
        return 1.0
    return machine.mtbf.mean / (machine.mtbf.mean + machine.mttr.mean)


# ----------------------------------------------------------------- compile


class _Compiler:
    def __init__(self, scenario: Scenario) -> None:
        self.s = scenario
        sim = scenario.simulation
        self.m = NetworkModel(
            horizon=max(1, round(sim.horizon.magnitude / DAY)),
            unmet=sim.unmet.value,
            currency=scenario.enterprise.currency,
        )
        self.index: dict[tuple[str, str], int] = {}
        self.products = {p.id: p for p in scenario.products}
        self.materials = {m.id: m for m in scenario.materials}
        self.sites = {s.id: s for s in scenario.sites}
        self.places: dict[str, Any] = {}
        for group, kind in (
            (scenario.sites, "site"),
            (scenario.suppliers, "supplier"),
            (scenario.warehouses, "warehouse"),
            (scenario.customers, "customer"),
        ):
            for x in group:
                self.places[x.id] = x
                self.m.node_kind[x.id] = kind
                self.m.node_country[x.id] = x.country
                self.m.node_location[x.id] = (x.location.lat, x.location.lon)
        self.lanes_into: dict[str, list[Any]] = {}
        for lane in scenario.lanes:
            self.lanes_into.setdefault(lane.target, []).append(lane)
        self.makes: dict[str, dict[str, list[Line]]] = {}  # site → product → lines
        self.resource_index: dict[str, int] = {}

    # ------------------------------------------------------------- helpers
    def point(self, node: str, item: str, kind: PointKind) -> int:
        key = (node, item)
        if key in self.index:
            return self.index[key]
        self.index[key] = len(self.m.points)
        self.m.points.append(Point(f"{node}:{item}", node, item, kind))
        return self.index[key]

    def unit_mass(self, item: str) -> float:
        """Kilograms in one counting unit of ``item`` (flows of mass materials count kilograms)."""
        if item in self.products:
            mass = self.products[item].mass
            return mass.magnitude if mass else 0.0
        mat = self.materials.get(item)
        if mat is None:
            return 0.0
        dim = parse_unit(mat.unit).dimension
        return 1.0 if dim == MASS else 0.0

    def unit_value(self, item: str) -> float:
        if item in self.products and self.products[item].price is not None:
            return _per_unit(self.products[item].price)
        if item in self.materials and self.materials[item].cost is not None:
            return _per_unit(self.materials[item].cost)  # type: ignore[arg-type]
        return 0.0

    def lane_distance_m(self, lane: Any) -> float:
        if lane.distance is not None:
            return float(lane.distance.magnitude)
        a, b = self.places[lane.source].location, self.places[lane.target].location
        return great_circle_km(a.lat, a.lon, b.lat, b.lon) * 1000 * CIRCUITY[lane.mode]

    def lane_cost(self, lane: Any, item: str) -> tuple[float, float]:
        """Transport cost and kg CO2e per unit of ``item`` on ``lane``."""
        tkm = self.unit_mass(item) * self.lane_distance_m(lane)
        cost = 0.0
        if lane.cost is not None:
            dims = dict(lane.cost.dimension)
            cost = lane.cost.magnitude * (tkm if dims.get("m") == -1 else 1.0)
        co2e = lane.emission_factor.magnitude * tkm if lane.emission_factor is not None else 0.0
        return cost, co2e

    # --------------------------------------------------------------- steps
    def compile(self) -> NetworkModel:
        self.collect_lines()
        self.made_points()
        self.demand_points()
        self.resolve_bought()
        self.default_policies()
        return self.m

    def collect_lines(self) -> None:
        for site in self.s.sites:
            lines = [*site.lines, *(line for area in site.areas for line in area.lines)]
            for line in lines:
                for product in line.products:
                    self.makes.setdefault(site.id, {}).setdefault(product, []).append(line)

    def resource(self, site: Site, line: Line, group: str) -> int:
        key = f"{site.id}/{line.id}/{group}"
        if key not in self.resource_index:
            names = set(group.split("+"))
            skills = frozenset(s for m in line.machines if m.id in names for s in m.skills)
            self.resource_index[key] = len(self.m.lines)
            seconds = len(names) * work_seconds_per_day(site)
            self.m.lines.append(LineRef(key, site.id, line.id, skills, seconds))
        return self.resource_index[key]

    def made_points(self) -> None:
        energy_price = DEFAULT_ENERGY_PRICE
        for site_id, products in self.makes.items():
            site = self.sites[site_id]
            seconds = work_seconds_per_day(site)
            grid = site.grid_factor.magnitude * 3.6e6 if site.grid_factor else 0.0  # kg/kWh
            for product_id, line_ids in products.items():
                p = self.point(site_id, product_id, PointKind.MADE)
                lines, kwh = [], 0.0
                for line in line_ids:
                    per_group, energy = resource_seconds(line, self.products.get(product_id))
                    for group, secs in per_group.items():
                        lines.append((self.resource(site, line, group), seconds / secs))
                    kwh += energy
                self.m.production.append(
                    Production(p, [], lines, kwh * energy_price, kwh * grid, kwh_per_unit=kwh)
                )
        # BOMs after all made points exist, so a component made on site is used from its own stock.
        for row in self.m.production:
            point = self.m.points[row.point]
            product = self.products.get(point.item)
            for item in product.bom if product else ():
                qty = _per_unit(item.quantity)
                if (point.node, item.item) in self.index:
                    src = self.index[(point.node, item.item)]
                else:
                    src = self.point(point.node, item.item, PointKind.BOUGHT)
                row.bom.append((src, qty))

    def demand_points(self) -> None:
        for cust in self.s.customers:
            for d in cust.demand:
                lane, src = self.serving(cust.id, d.product)
                if lane is None:
                    self.m.notes.append(
                        f"no lane brings {d.product} to customer {cust.id}; its demand is left out"
                    )
                    continue
                cost, co2e = self.lane_cost(lane, d.product)
                price = self.products[d.product].price
                self.m.demand.append(
                    Demand(
                        f"{cust.id}:{d.product}",
                        cust.id,
                        d.product,
                        lane.id,
                        src,
                        d.rate.magnitude * DAY,
                        d.cv,
                        _per_unit(price) if price else 0.0,
                        Dist.from_twin(lane.lead_time, DAY),
                        cost,
                        co2e,
                    )
                )

    def serving(self, customer: str, product: str) -> tuple[Any, int]:
        """The first lane into ``customer`` whose source makes ``product`` or is a warehouse."""
        lanes = [
            lane
            for lane in self.lanes_into.get(customer, [])
            if not lane.items or product in lane.items
        ]
        for lane in lanes:
            if product in self.makes.get(lane.source, {}):
                return lane, self.index[(lane.source, product)]
        for lane in lanes:
            if self.m.node_kind.get(lane.source) == "warehouse" and self.sources_of(
                lane.source, product
            ):
                return lane, self.point(lane.source, product, PointKind.BOUGHT)
        return None, -1

    def sources_of(self, node: str, item: str) -> list[tuple[Any, int]]:
        """Lanes into ``node`` from a place that can ship ``item``, with the source point."""
        out: list[tuple[Any, int]] = []
        for lane in self.lanes_into.get(node, []):
            if lane.items and item not in lane.items:
                continue
            if item in self.makes.get(lane.source, {}):
                out.append((lane, self.index[(lane.source, item)]))
                continue
            sup = next((x for x in self.s.suppliers if x.id == lane.source), None)
            if sup is None:
                continue
            offer = next((sm for sm in sup.materials if sm.material == item), None)
            if offer is None:
                continue
            key = (sup.id, item)
            if key not in self.index:
                sp = self.point(sup.id, item, PointKind.SUPPLY)
                cap = offer.capacity.magnitude * DAY if offer.capacity is not None else math.inf
                lead = (
                    Dist.from_twin(offer.lead_time, DAY)
                    if offer.lead_time is not None
                    else Dist.constant(0.0)
                )
                self.m.supply.append(Supply(sp, cap, lead))
                value = _per_unit(offer.price) if offer.price else self.unit_value(item)
                self.m.points[sp].unit_value = value
            out.append((lane, self.index[key]))
        return out

    def resolve_bought(self) -> None:
        done: set[int] = set()
        unreachable: set[int] = set()
        while True:
            todo = [
                i
                for i, p in enumerate(self.m.points)
                if p.kind is PointKind.BOUGHT and i not in done
            ]
            if not todo:
                break
            for i in todo:
                done.add(i)
                point = self.m.points[i]
                sources = self.sources_of(point.node, point.item)
                if not sources:
                    self.m.notes.append(
                        f"no lane brings {point.item} to {point.node}; it is left out of the "
                        f"bills of materials there (assumed always available)"
                    )
                    unreachable.add(i)
                    continue
                for n, (lane, src) in enumerate(sources):
                    cost, co2e = self.lane_cost(lane, point.item)
                    self.m.edges.append(
                        Edge(
                            f"{lane.id}:{point.item}",
                            src,
                            i,
                            lane.id,
                            Dist.from_twin(lane.lead_time, DAY),
                            1.0 if n == 0 else 0.0,
                            cost,
                            co2e,
                            EdgeRole.PRIMARY if n == 0 else EdgeRole.ALTERNATE,
                            lane.mode.value,
                        )
                    )
        if unreachable:
            self.drop_points(unreachable)
        for p in self.m.points:
            if not p.unit_value:
                p.unit_value = self.unit_value(p.item)
            p.holding_per_day = p.unit_value * self.s.simulation.holding_rate / 365

    def drop_points(self, gone: set[int]) -> None:
        """Remove points (and BOM lines using them); later indices shift down."""
        new_index = {}
        kept = []
        for i, p in enumerate(self.m.points):
            if i not in gone:
                new_index[i] = len(kept)
                kept.append(p)
        self.m.points = kept
        self.index = {(p.node, p.item): i for i, p in enumerate(kept)}
        for row in self.m.production:
            row.point = new_index[row.point]
            row.bom = [(new_index[b], q) for b, q in row.bom if b in new_index]
        for sup in self.m.supply:
            sup.point = new_index[sup.point]
        for e in self.m.edges:
            e.source, e.target = new_index[e.source], new_index[e.target]
        for d in self.m.demand:
            d.point = new_index[d.point]

    def mean_demand(self) -> np.ndarray:
        """Mean daily demand at every point: customers, plus what downstream points draw."""
        n = len(self.m.points)
        direct = np.zeros(n)
        for d in self.m.demand:
            direct[d.point] += d.mean
        pull = np.zeros((n, n))  # pull[u, d]: units of u drawn per unit demanded at d
        for e in self.m.edges:
            if e.role is EdgeRole.PRIMARY:
                pull[e.source, e.target] += 1.0
        for row in self.m.production:
            for src, qty in row.bom:
                pull[src, row.point] += qty
        try:
            return np.linalg.solve(np.eye(n) - pull, direct)
        except np.linalg.LinAlgError as err:
            raise ModelError("the supply network has a cycle of stock points") from err

    def default_policies(self) -> None:
        demand = self.mean_demand()
        cover = self.s.simulation.cover.magnitude / DAY
        lead = np.ones(len(self.m.points))
        for e in self.m.edges:
            if e.role is EdgeRole.PRIMARY:
                src = self.m.points[e.source]
                extra = 0.0
                if src.kind is PointKind.SUPPLY:
                    sup = next(s for s in self.m.supply if s.point == e.source)
                    extra = sup.lead_time.mean
                lead[e.target] = e.lead_time.mean + extra + 1
        given = {(p.at, p.item): p for p in self.s.simulation.inventory}
        for i, p in enumerate(self.m.points):
            p.mean_demand = float(demand[i])
            if p.kind is PointKind.SUPPLY:
                continue
            spec = given.pop((p.node, p.item), None)
            point_cover = (
                cover if spec is None or spec.cover is None else spec.cover.magnitude / DAY
            )
            S = float(demand[i] * (lead[i] + point_cover))
            kind = PolicyKind.BASE_STOCK
            s_level: float | None = None
            if spec is not None:
                kind = spec.policy
                if spec.S is not None:
                    S = _amount(spec.S)
                if kind is not PolicyKind.BASE_STOCK:
                    s_level = _amount(spec.s) if spec.s is not None else float(demand[i] * lead[i])
            p.policy = Policy(kind, S, s_level)
            # Start in steady state: safety stock on hand, the lead time's demand in transit.
            p.lead_days = float(lead[i])
            p.initial = (
                _amount(spec.initial)
                if spec is not None and spec.initial is not None
                else float(demand[i] * (1 + point_cover))
            )
        for at, item in given:
            self.m.notes.append(
                f"inventory policy for {item} at {at} is not used: nothing holds {item} there"
            )


def _per_unit(q: Quantity) -> float:
    """A per-unit figure (price per pcs, per kg …) or a plain amount, in base units."""
    return float(q.magnitude)


def _amount(q: Quantity) -> float:
    if q.dimension not in (COUNT, MASS, ()):
        raise ModelError(f"expected a count or mass such as '1200 pcs' or '40 t', got {q}")
    return float(q.magnitude)


def compile_network(scenario: Scenario) -> NetworkModel:
    """Compile ``scenario`` into the network the simulator runs; raises ModelError."""
    if not any(s.role is SiteRole.FACTORY for s in scenario.sites):
        raise ModelError("the scenario has no factory site to simulate")
    model = _Compiler(scenario).compile()
    if not model.demand:
        raise ModelError("no customer demand reaches any stock point; nothing to simulate")
    return model
