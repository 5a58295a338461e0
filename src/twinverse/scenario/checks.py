"""Whole-document checks of a scenario: ids, references, units between fields, BOM cycles.

Pydantic checks each value on its own; these checks need the whole document
(does the machine a routing names exist? is the BOM a tree? is a lane at least
as long as the great circle between its ends?). Each returns every problem it
finds, never only the first.
"""

from __future__ import annotations

import difflib
import math
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass

from twinverse.scenario.errors import Issue, format_path
from twinverse.scenario.schema import (
    DISRUPTION_TARGETS,
    DisruptionKind,
    Line,
    MitigationKind,
    Scenario,
)
from twinverse.twin.errors import UnitError
from twinverse.twin.quantity import (
    COUNT,
    MASS,
    TIME,
    VOLUME,
    Dimension,
    Quantity,
    dimension_name,
    parse_unit,
)

Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Declared:
    kind: str
    loc: Loc


class _Checker:
    def __init__(self, scenario: Scenario) -> None:
        self.s = scenario
        self.issues: list[tuple[Issue, Loc]] = []
        self.ids: dict[str, Declared] = {}
        self._material_units: dict[str, str] | None = None

    def issue(self, code: str, loc: Loc, message: str, hint: str | None = None) -> None:
        self.issues.append((Issue(code, format_path(loc), message, hint), loc))

    # ------------------------------------------------------------------ ids
    def declare(self, kind: str, ident: str, loc: Loc) -> None:
        before = self.ids.get(ident)
        if before is not None:
            self.issue(
                "duplicate-id",
                (*loc, "id"),
                f"id {ident!r} is used twice: here ({kind}) and at {format_path(before.loc)} "
                f"({before.kind})",
                "ids are unique within an enterprise; rename one of them",
            )
            return
        self.ids[ident] = Declared(kind, loc)

    def ref(
        self, loc: Loc, target: str, kinds: tuple[str, ...], scope: set[str] | None = None
    ) -> bool:
        """Check that ``target`` names an entity of one of ``kinds`` (within ``scope`` if given)."""
        found = self.ids.get(target)
        if found is not None and found.kind in kinds and (scope is None or target in scope):
            return True
        want = " or ".join(kinds)
        candidates = [
            i for i, d in self.ids.items() if d.kind in kinds and (scope is None or i in scope)
        ]
        close = difflib.get_close_matches(target, candidates, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}?" if close else None
        if found is not None and found.kind not in kinds:
            self.issue(
                "wrong-reference", loc, f"{target!r} is a {found.kind}, expected a {want}", hint
            )
        elif found is not None:
            self.issue(
                "out-of-scope-reference", loc, f"{want} {target!r} is not in this line", hint
            )
        else:
            self.issue("unknown-reference", loc, f"unknown {want} {target!r}", hint)
        return False

    # ------------------------------------------------------------- walking
    def lines(self) -> Iterator[tuple[Line, Loc]]:
        for si, site in enumerate(self.s.sites):
            for li, line in enumerate(site.lines):
                yield line, ("sites", si, "lines", li)
            for ai, area in enumerate(site.areas):
                for li, line in enumerate(area.lines):
                    yield line, ("sites", si, "areas", ai, "lines", li)

    def collect_ids(self) -> None:
        s = self.s
        self.declare("enterprise", s.enterprise.id, ("enterprise",))
        for si, site in enumerate(s.sites):
            self.declare("site", site.id, ("sites", si))
            for ai, area in enumerate(site.areas):
                self.declare("area", area.id, ("sites", si, "areas", ai))
        for line, loc in self.lines():
            self.declare("line", line.id, loc)
            for mi, m in enumerate(line.machines):
                self.declare("machine", m.id, (*loc, "machines", mi))
            for bi, b in enumerate(line.buffers):
                self.declare("buffer", b.id, (*loc, "buffers", bi))
            for ci, c in enumerate(line.conveyors):
                self.declare("conveyor", c.id, (*loc, "conveyors", ci))
        for name, kind in (
            ("materials", "material"),
            ("products", "product"),
            ("people", "person"),
            ("suppliers", "supplier"),
            ("warehouses", "warehouse"),
            ("customers", "customer"),
            ("lanes", "lane"),
            ("disruptions", "disruption"),
            ("mitigations", "mitigation"),
            ("scenarios", "scenario"),
        ):
            for i, item in enumerate(getattr(s, name)):
                self.declare(kind, item.id, (name, i))

    def unique(self, loc: Loc, values: list[str], what: str, field: str | None = None) -> None:
        """Report a value listed twice (each becomes one relation, so twice is a mistake)."""
        seen: set[str] = set()
        for i, value in enumerate(values):
            if value in seen:
                where: Loc = (*loc, i, field) if field else (*loc, i)
                self.issue(
                    "duplicate-reference",
                    where,
                    f"{what} {value!r} is listed twice",
                    "list it once",
                )
            seen.add(value)

    # -------------------------------------------------------------- checks
    def check(self) -> None:
        s = self.s
        self.collect_ids()
        if s.enterprise.headquarters:
            self.ref(("enterprise", "headquarters"), s.enterprise.headquarters, ("site",))
        for si, site in enumerate(s.sites):
            try:
                zoneinfo.ZoneInfo(site.timezone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                self.issue(
                    "unknown-timezone",
                    ("sites", si, "timezone"),
                    f"unknown time zone {site.timezone!r}",
                    "use an IANA name such as 'Europe/Berlin' or 'Asia/Shanghai'",
                )
            if site.grid_factor is not None:
                self.dimension(
                    ("sites", si, "grid_factor"),
                    site.grid_factor,
                    _ratio(MASS, "kWh"),
                    "'0.58 kgCO2e/kWh'",
                )
            if site.calendar:
                names = [sh.name for sh in site.calendar.shifts]
                for shi, name in enumerate(names):
                    if names.index(name) != shi:
                        self.issue(
                            "duplicate-shift",
                            ("sites", si, "calendar", "shifts", shi, "name"),
                            f"shift {name!r} is declared twice in this calendar",
                        )
        for line, loc in self.lines():
            self.check_line(line, loc)
        self.check_materials()
        self.check_products()
        self.check_people()
        for i, sup in enumerate(s.suppliers):
            self.unique(
                ("suppliers", i, "materials"),
                [m.material for m in sup.materials],
                "material",
                "material",
            )
            for mi, sm in enumerate(sup.materials):
                mloc: Loc = ("suppliers", i, "materials", mi)
                if not self.ref((*mloc, "material"), sm.material, ("material",)):
                    continue
                unit = self.material_dim(sm.material)
                if unit is None:
                    continue
                if sm.capacity:
                    self.dimension((*mloc, "capacity"), sm.capacity, _div(unit, TIME), "'500 t/wk'")
                if sm.price:
                    self.money_per((*mloc, "price"), sm.price, unit, "'650 EUR/t'")
        for i, wh in enumerate(s.warehouses):
            if wh.site:
                self.ref(("warehouses", i, "site"), wh.site, ("site",))
            if wh.capacity is not None and wh.capacity.dimension not in (COUNT, MASS, VOLUME):
                self.issue(
                    "wrong-unit",
                    ("warehouses", i, "capacity"),
                    f"expected a count, mass or volume such as '20000 pcs', '5000 t' or '8000 m^3', "
                    f"got {wh.capacity} which is a {dimension_name(wh.capacity.dimension)}",
                )
        for i, cust in enumerate(s.customers):
            self.unique(
                ("customers", i, "demand"), [d.product for d in cust.demand], "product", "product"
            )
            for di, d in enumerate(cust.demand):
                self.ref(("customers", i, "demand", di, "product"), d.product, ("product",))
        self.check_lanes()
        self.check_simulation()

    def check_simulation(self) -> None:
        """Inventory policies, disruptions, mitigations and named scenarios name real things."""
        items = ("product", "material")
        stock_at = ("site", "warehouse")
        for i, pol in enumerate(self.s.simulation.inventory):
            loc: Loc = ("simulation", "inventory", i)
            self.ref((*loc, "at"), pol.at, stock_at)
            self.ref((*loc, "item"), pol.item, items)
            if pol.policy.value != "base-stock" and pol.s is None and pol.cover is None:
                self.issue(
                    "missing-value",
                    (*loc, "s"),
                    f"a {pol.policy.value} policy needs its reorder point 's'",
                    "give 's' and 'S' as quantities, or 'cover' to have them computed",
                )
        for i, d in enumerate(self.s.disruptions):
            loc = ("disruptions", i)
            kinds = DISRUPTION_TARGETS[d.kind]
            for ti, target in enumerate(d.targets):
                self.ref((*loc, "targets", ti), target, kinds)
            if not d.targets and d.kind is not DisruptionKind.EXPORT_BAN:
                self.issue(
                    "missing-value",
                    (*loc, "targets"),
                    f"a {d.kind.value} needs at least one target ({' or '.join(kinds)})",
                )
            if d.kind is DisruptionKind.EXPORT_BAN and d.country is None:
                self.issue("missing-value", (*loc, "country"), "an export-ban needs 'country'")
            if d.kind is DisruptionKind.KNOW_HOW_LOSS and d.skill is None:
                self.issue(
                    "missing-value", (*loc, "skill"), "a know-how-loss names the 'skill' lost"
                )
            for ii, item in enumerate(d.items):
                self.ref((*loc, "items", ii), item, items)
            if d.after is not None:
                if d.after == d.id:
                    self.issue(
                        "self-reference", (*loc, "after"), "a disruption cannot follow itself"
                    )
                else:
                    self.ref((*loc, "after"), d.after, ("disruption",))
        for i, m in enumerate(self.s.mitigations):
            loc = ("mitigations", i)
            for li, lane in enumerate(m.lanes):
                self.ref((*loc, "lanes", li), lane, ("lane",))
            for ai, at in enumerate(m.at):
                self.ref((*loc, "at", ai), at, stock_at)
            for ii, item in enumerate(m.items):
                self.ref((*loc, "items", ii), item, items)
            if m.kind is MitigationKind.SUPPLIER_SCORE and m.min_score is None:
                self.issue(
                    "missing-field",
                    (*loc, "min_score"),
                    "a supplier-score mitigation needs min_score (0–100)",
                    "e.g. min_score: 70",
                )
        for i, sc in enumerate(self.s.scenarios):
            loc = ("scenarios", i)
            for di, name in enumerate(sc.disruptions):
                self.ref((*loc, "disruptions", di), name, ("disruption",))
            for mi, name in enumerate(sc.mitigations):
                self.ref((*loc, "mitigations", mi), name, ("mitigation",))

    def check_line(self, line: Line, loc: Loc) -> None:
        self.unique((*loc, "products"), line.products, "product")
        self.unique((*loc, "feeds"), line.feeds, "line")
        for pi, product in enumerate(line.products):
            self.ref((*loc, "products", pi), product, ("product",))
        for fi, target in enumerate(line.feeds):
            if self.ref((*loc, "feeds", fi), target, ("line",)) and target == line.id:
                self.issue(
                    "self-reference", (*loc, "feeds", fi), f"line {line.id!r} cannot feed itself"
                )
        stations = (
            {m.id for m in line.machines}
            | {b.id for b in line.buffers}
            | {c.id for c in line.conveyors}
        )
        for bi, buf in enumerate(line.buffers):
            bloc: Loc = (*loc, "buffers", bi)
            if buf.capacity.magnitude < 0 or buf.capacity.magnitude != int(buf.capacity.magnitude):
                self.issue(
                    "out-of-range",
                    (*bloc, "capacity"),
                    f"a buffer holds a whole, non-negative number of parts, got {buf.capacity}",
                )
            if buf.between:
                for k, station in enumerate(buf.between):
                    self.ref(
                        (*bloc, "between", k), station, ("machine", "buffer", "conveyor"), stations
                    )
                if buf.between[0] == buf.between[1]:
                    self.issue(
                        "self-reference",
                        (*bloc, "between"),
                        "a buffer sits between two different stations",
                    )
        for ci, conv in enumerate(line.conveyors):
            cloc: Loc = (*loc, "conveyors", ci)
            self.ref((*cloc, "from"), conv.source, ("machine", "buffer"), stations)
            self.ref((*cloc, "to"), conv.target, ("machine", "buffer"), stations)
            self.positive((*cloc, "length"), conv.length)
            self.positive((*cloc, "speed"), conv.speed)
        families = {p.family or p.id for p in self.s.products}
        for mi, m in enumerate(line.machines):
            mloc: Loc = (*loc, "machines", mi)
            for si, change in enumerate(m.setups):
                for key, family in (("from", change.source), ("to", change.target)):
                    if family not in families:
                        close = difflib.get_close_matches(family, sorted(families), n=1)
                        self.issue(
                            "unknown-reference",
                            (*mloc, "setups", si, key),
                            f"no product family {family!r} (a product without one is its own)",
                            f"did you mean {close[0]!r}?" if close else None,
                        )
            for wi, window in enumerate(m.maintenance):
                self.positive((*mloc, "maintenance", wi, "duration"), window.duration)
            if m.mtbf is not None and m.mtbf.mean <= 0:
                self.issue(
                    "out-of-range", (*mloc, "mtbf"), "mean time between failures must be above zero"
                )
            if (m.mtbf is None) != (m.mttr is None):
                missing = "mttr" if m.mttr is None else "mtbf"
                self.issue(
                    "missing-field",
                    (*mloc, missing),
                    f"a machine with {'mtbf' if missing == 'mttr' else 'mttr'} needs {missing} too",
                    "give both mtbf and mttr, or neither for a machine that never fails",
                )
            if m.scrap_rate is not None and not 0 <= m.scrap_rate.magnitude < 1:
                self.issue(
                    "out-of-range",
                    (*mloc, "scrap_rate"),
                    f"scrap rate must be in [0 %, 100 %), got {m.scrap_rate}",
                )
            if m.cycle_time.mean <= 0:
                self.issue("out-of-range", (*mloc, "cycle_time"), "cycle time must be above zero")
            if m.heading is not None and not m.heading.unit:
                self.issue(
                    "wrong-unit",
                    (*mloc, "heading"),
                    f"a heading needs its unit, got the bare number {m.heading.magnitude:g}",
                    f"write '{m.heading.magnitude:g} deg'",
                )
            if m.footprint is not None:
                self.positive((*mloc, "footprint", "width"), m.footprint.width)
                self.positive((*mloc, "footprint", "depth"), m.footprint.depth)

    def material_dim(self, material: str) -> Dimension | None:
        if self._material_units is None:
            self._material_units = {m.id: m.unit for m in self.s.materials}
        unit = self._material_units.get(material)
        if unit is None:
            return None
        try:
            return parse_unit(unit).dimension
        except UnitError:
            return None

    def check_materials(self) -> None:
        for i, mat in enumerate(self.s.materials):
            loc: Loc = ("materials", i)
            try:
                unit = parse_unit(mat.unit)
            except UnitError as err:
                self.issue(
                    "wrong-unit", (*loc, "unit"), err.message, "e.g. 'kg', 't', 'pcs' or 'm'"
                )
                continue
            if mat.co2e is not None:
                self.dimension(
                    (*loc, "co2e"), mat.co2e, _div(MASS, unit.dimension), f"'1.9 kgCO2e/{mat.unit}'"
                )
            if mat.cost is not None:
                self.money_per((*loc, "cost"), mat.cost, unit.dimension, f"'650 EUR/{mat.unit}'")

    def check_products(self) -> None:
        products = {p.id: p for p in self.s.products}
        for i, prod in enumerate(self.s.products):
            loc: Loc = ("products", i)
            if prod.price is not None:
                self.money_per((*loc, "price"), prod.price, COUNT, "'2400 EUR/pcs'")
            ops: set[str] = set()
            for oi, op in enumerate(prod.routing):
                oloc: Loc = (*loc, "routing", oi)
                if op.op in ops:
                    self.issue(
                        "duplicate-id",
                        (*oloc, "op"),
                        f"operation {op.op!r} appears twice in this routing",
                    )
                ops.add(op.op)
                self.unique((*oloc, "machines"), op.machines, "machine")
                for k, machine in enumerate(op.machines):
                    self.ref((*oloc, "machines", k), machine, ("machine",))
            self.unique((*loc, "bom"), [b.item for b in prod.bom], "BOM item", "item")
            for bi, item in enumerate(prod.bom):
                bloc: Loc = (*loc, "bom", bi)
                if not self.ref((*bloc, "item"), item.item, ("material", "product")):
                    continue
                if item.item in products:
                    want: Dimension | None = COUNT
                    example = "'2 pcs'"
                else:
                    want = self.material_dim(item.item)
                    example = "in the material's unit"
                if want is not None and item.quantity.dimension != want:
                    self.issue(
                        "wrong-unit",
                        (*bloc, "quantity"),
                        f"expected a {dimension_name(want)} ({example}), got {item.quantity} "
                        f"which is a {dimension_name(item.quantity.dimension)}",
                    )
                if item.quantity.magnitude <= 0:
                    self.issue(
                        "out-of-range", (*bloc, "quantity"), "a BOM quantity must be above zero"
                    )
        self.check_bom_cycles()

    def check_bom_cycles(self) -> None:
        edges = {p.id: [b.item for b in p.bom] for p in self.s.products}
        index = {p.id: i for i, p in enumerate(self.s.products)}
        state: dict[str, int] = {}  # 1 = on the path, 2 = done
        reported: set[frozenset[str]] = set()

        def visit(node: str, path: list[str]) -> None:
            state[node] = 1
            path.append(node)
            for nxt in edges.get(node, []):
                if nxt not in edges:
                    continue
                if state.get(nxt) == 1:
                    cycle = [*path[path.index(nxt) :], nxt]
                    key = frozenset(cycle)
                    if key not in reported:
                        reported.add(key)
                        self.issue(
                            "bom-cycle",
                            ("products", index[nxt], "bom"),
                            "the bill of materials contains itself: " + " → ".join(cycle),
                            "a product cannot be a component of itself, directly or through others",
                        )
                elif nxt not in state:
                    visit(nxt, path)
            path.pop()
            state[node] = 2

        for product in edges:
            if product not in state:
                visit(product, [])

    def check_people(self) -> None:
        sites = {s.id: s for s in self.s.sites}
        for i, person in enumerate(self.s.people):
            loc: Loc = ("people", i)
            if not self.ref((*loc, "site"), person.site, ("site",)) or person.shift is None:
                continue
            calendar = sites[person.site].calendar
            shifts = [sh.name for sh in calendar.shifts] if calendar else []
            if person.shift not in shifts:
                close = difflib.get_close_matches(person.shift, shifts, n=1)
                self.issue(
                    "unknown-reference",
                    (*loc, "shift"),
                    f"site {person.site!r} has no shift {person.shift!r}"
                    + (
                        f" (its shifts: {', '.join(shifts)})" if shifts else " (it has no calendar)"
                    ),
                    f"did you mean {close[0]!r}?" if close else None,
                )

    def check_lanes(self) -> None:
        places = {s.id: s.location for s in self.s.sites}
        for group in (self.s.suppliers, self.s.warehouses, self.s.customers):
            places.update({x.id: x.location for x in group})
        nodes = ("site", "supplier", "warehouse", "customer")
        for i, lane in enumerate(self.s.lanes):
            loc: Loc = ("lanes", i)
            ok = self.ref((*loc, "from"), lane.source, nodes)
            ok = self.ref((*loc, "to"), lane.target, nodes) and ok
            if ok and lane.source == lane.target:
                self.issue("self-reference", (*loc, "to"), "a lane connects two different places")
                continue
            if ok and lane.distance is not None:
                a, b = places[lane.source], places[lane.target]
                direct = great_circle_km(a.lat, a.lon, b.lat, b.lon)
                if lane.distance.to("km") < 0.95 * direct:
                    self.issue(
                        "impossible-value",
                        (*loc, "distance"),
                        f"the lane is {lane.distance}, shorter than the great-circle distance "
                        f"{direct:,.0f} km between {lane.source!r} and {lane.target!r}",
                        f"use at least {direct:,.0f} km, or leave distance out to have it computed",
                    )
            for ii, item in enumerate(lane.items):
                self.ref((*loc, "items", ii), item, ("product", "material"))
            if lane.lead_time.mean <= 0:
                self.issue("out-of-range", (*loc, "lead_time"), "lead time must be above zero")
            if lane.cost is not None:
                self.lane_cost((*loc, "cost"), lane.cost)
            if lane.emission_factor is not None:
                self.dimension(
                    (*loc, "emission_factor"),
                    lane.emission_factor,
                    _ratio(MASS, "tkm"),
                    "'0.016 kgCO2e/tkm'",
                )

    # ---------------------------------------------------------------- units
    def dimension(self, loc: Loc, value: Quantity, want: Dimension, example: str) -> None:
        if value.dimension != want:
            self.issue(
                "wrong-unit",
                loc,
                f"expected a {dimension_name(want)} such as {example}, got {value} "
                f"which is a {dimension_name(value.dimension)}",
            )

    def money_per(self, loc: Loc, value: Quantity, per: Dimension, example: str) -> None:
        dims = dict(value.dimension)
        money = [b for b in dims if b.isupper() and len(b) == 3 and dims[b] == 1]
        rest = tuple(sorted((b, -e) for b, e in dims.items() if b not in money))
        if len(money) != 1 or rest != per:
            self.issue(
                "wrong-unit",
                loc,
                f"expected a price per {dimension_name(per)} such as {example}, got {value}",
            )

    def lane_cost(self, loc: Loc, value: Quantity) -> None:
        dims = dict(value.dimension)
        money = [b for b in dims if b.isupper() and len(b) == 3 and dims[b] == 1]
        per = tuple(sorted((b, -e) for b, e in dims.items() if b not in money))
        allowed = (COUNT, MASS, _dim_of("tkm"), ())
        if len(money) != 1 or per not in allowed:
            self.issue(
                "wrong-unit",
                loc,
                f"expected a freight cost per tonne-km, per tonne, per piece or per shipment "
                f"such as '0.06 EUR/tkm' or '12 EUR/pcs', got {value}",
            )

    def positive(self, loc: Loc, value: Quantity) -> None:
        if value.magnitude <= 0:
            self.issue("out-of-range", loc, f"must be above zero, got {value}")


def _div(a: Dimension, b: Dimension) -> Dimension:
    exps = dict(a)
    for base, e in b:
        exps[base] = exps.get(base, 0) - e
    return tuple(sorted((k, v) for k, v in exps.items() if v))


def _dim_of(unit: str) -> Dimension:
    return parse_unit(unit).dimension


def _ratio(num: Dimension, unit: str) -> Dimension:
    return _div(num, parse_unit(unit).dimension)


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance on a sphere of the Earth's mean radius (6,371 km)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def check_scenario(scenario: Scenario) -> list[tuple[Issue, Loc]]:
    """Every whole-document problem, with the document location of each."""
    checker = _Checker(scenario)
    checker.check()
    return checker.issues


__all__ = ["check_scenario", "great_circle_km"]
