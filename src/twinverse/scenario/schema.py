"""The scenario file format: what an enterprise description may contain.

These models describe the *file* (wire) format and are separate from the twin
graph's domain types; :mod:`twinverse.scenario.build` maps one to the other.
Every model forbids unknown keys, so a typo is reported rather than ignored.
Cross-references (a routing naming a machine, a lane naming a site…) are
checked afterwards by :mod:`twinverse.scenario.checks`, which sees the whole
document.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from twinverse.scenario.fields import (
    AnyQuantity,
    Count,
    CountRate,
    Duration,
    DurationDist,
    Length,
    Mass,
    MassRate,
    Power,
    Ratio,
    Speed,
)
from twinverse.twin.ids import LOCAL_ID_PATTERN, PREFIX_PATTERN

FORMAT_VERSION = 1

LocalId = Annotated[str, Field(pattern=f"^{LOCAL_ID_PATTERN}$")]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class Break(_Model):
    start: str
    duration: Duration

    @field_validator("start")
    @classmethod
    def _clock(cls, v: str) -> str:
        if not _CLOCK.match(v):
            raise ValueError(f"expected a clock time 'HH:MM' such as '12:00', got {v!r}")
        return v


class Shift(_Model):
    name: LocalId
    start: str
    end: str
    days: list[Weekday] = Field(
        default_factory=lambda: [Weekday(d) for d in ("mon", "tue", "wed", "thu", "fri")]
    )
    breaks: list[Break] = Field(default_factory=list)

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, v: str) -> str:
        if not _CLOCK.match(v):
            raise ValueError(f"expected a clock time 'HH:MM' such as '06:00', got {v!r}")
        return v


class Calendar(_Model):
    shifts: list[Shift] = Field(default_factory=list)
    holidays: list[dt.date] = Field(default_factory=list)


class GeoLocation(_Model):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Position(_Model):
    """A point on a site's floor plan, in metres from the site's origin."""

    x: Length
    y: Length
    z: Length | None = None


class Footprint(_Model):
    width: Length
    depth: Length
    height: Length | None = None


class PowerByState(_Model):
    busy: Power
    idle: Power | None = None
    blocked: Power | None = None
    down: Power | None = None
    setup: Power | None = None


class MachineKind(StrEnum):
    PRESS = "press"
    CNC = "cnc"
    ROBOT_CELL = "robot-cell"
    WELDING = "welding"
    ASSEMBLY = "assembly"
    PAINT = "paint"
    FURNACE = "furnace"
    OVEN = "oven"
    MOLDING = "molding"
    INSPECTION = "inspection"
    TEST_BENCH = "test-bench"
    PACKAGING = "packaging"
    GENERIC = "generic"


class Maintenance(_Model):
    """Planned maintenance: the machine is not available from ``start`` for ``duration``."""

    start: dt.datetime = Field(description="ISO date-time; without a zone, the site's")
    duration: Duration
    note: str | None = None


class SetupChange(_Model):
    """Changing over from one product family to another takes ``time`` on this machine."""

    source: LocalId = Field(
        alias="from", description="a product family (a product without one is its own)"
    )
    target: LocalId = Field(alias="to")
    time: Duration


class Machine(_Model):
    id: LocalId
    name: str | None = None
    kind: MachineKind = MachineKind.GENERIC
    position: Position | None = None
    footprint: Footprint | None = None
    heading: Ratio | None = None
    cycle_time: DurationDist
    setup_time: DurationDist | None = None
    mtbf: DurationDist | None = None
    mttr: DurationDist | None = None
    scrap_rate: Ratio | None = None
    power: PowerByState | None = None
    skills: list[LocalId] = Field(default_factory=list)
    model: str | None = Field(default=None, description="a glTF file for the 3D view")
    maintenance: list[Maintenance] = Field(
        default_factory=list, description="planned maintenance windows"
    )
    setups: list[SetupChange] = Field(
        default_factory=list,
        description="setup matrix: change-over time between product families on this machine",
    )


class Buffer(_Model):
    id: LocalId
    name: str | None = None
    capacity: Count
    between: tuple[LocalId, LocalId] | None = Field(
        default=None, description="the upstream and downstream station"
    )
    position: Position | None = None
    footprint: Footprint | None = None


class Conveyor(_Model):
    id: LocalId
    name: str | None = None
    source: LocalId = Field(alias="from")
    target: LocalId = Field(alias="to")
    length: Length
    speed: Speed
    capacity: Count | None = None
    position: Position | None = None


class Line(_Model):
    id: LocalId
    name: str | None = None
    products: list[LocalId] = Field(default_factory=list)
    feeds: list[LocalId] = Field(default_factory=list)
    machines: list[Machine] = Field(default_factory=list)
    buffers: list[Buffer] = Field(default_factory=list)
    conveyors: list[Conveyor] = Field(default_factory=list)


class Area(_Model):
    id: LocalId
    name: str | None = None
    lines: list[Line] = Field(default_factory=list)


class SiteRole(StrEnum):
    HEADQUARTERS = "headquarters"
    FACTORY = "factory"
    DISTRIBUTION = "distribution"
    PARK = "park"


class Site(_Model):
    id: LocalId
    name: str | None = None
    role: SiteRole = SiteRole.FACTORY
    country: CountryCode
    city: str | None = None
    location: GeoLocation
    timezone: str = "UTC"
    calendar: Calendar | None = None
    areas: list[Area] = Field(default_factory=list)
    lines: list[Line] = Field(default_factory=list)
    grid_factor: AnyQuantity | None = Field(
        default=None, description="grid electricity emission factor, e.g. '0.58 kgCO2e/kWh'"
    )


class Material(_Model):
    id: LocalId
    name: str | None = None
    unit: str = Field(description="the unit the material is counted in: pcs, kg, t, m …")
    cost: AnyQuantity | None = Field(default=None, description="price per unit, e.g. '650 EUR/t'")
    co2e: AnyQuantity | None = Field(
        default=None, description="footprint per unit, '1.9 kgCO2e/kg'"
    )


class BomItem(_Model):
    item: LocalId
    quantity: AnyQuantity


class Operation(_Model):
    op: LocalId
    machines: list[LocalId] = Field(min_length=1)
    time: DurationDist
    setup: Duration | None = None


class Product(_Model):
    id: LocalId
    name: str | None = None
    family: str | None = None
    mass: Mass | None = None
    price: AnyQuantity | None = None
    bom: list[BomItem] = Field(default_factory=list)
    routing: list[Operation] = Field(default_factory=list)


class PersonRole(StrEnum):
    OPERATOR = "operator"
    TECHNICIAN = "technician"
    ENGINEER = "engineer"
    DESIGNER = "designer"
    MANAGER = "manager"
    PLANNER = "planner"


class SkillLevel(StrEnum):
    TRAINEE = "trainee"
    QUALIFIED = "qualified"
    EXPERT = "expert"
    MASTER = "master"


class Skill(_Model):
    skill: LocalId
    level: SkillLevel = SkillLevel.QUALIFIED


class Person(_Model):
    id: LocalId
    name: str
    role: PersonRole
    site: LocalId
    skills: list[Skill] = Field(default_factory=list)
    shift: LocalId | None = None


class SuppliedMaterial(_Model):
    material: LocalId
    capacity: AnyQuantity | None = Field(default=None, description="per time, e.g. '500 t/wk'")
    lead_time: DurationDist | None = None
    price: AnyQuantity | None = None


class Supplier(_Model):
    id: LocalId
    name: str | None = None
    country: CountryCode
    location: GeoLocation
    materials: list[SuppliedMaterial] = Field(min_length=1)


class Warehouse(_Model):
    id: LocalId
    name: str | None = None
    country: CountryCode
    location: GeoLocation
    capacity: AnyQuantity | None = None
    site: LocalId | None = None


class DemandRate(_Model):
    product: LocalId
    rate: CountRate
    cv: float = Field(default=0.0, ge=0)


class Customer(_Model):
    id: LocalId
    name: str | None = None
    region: str | None = None
    country: CountryCode
    location: GeoLocation
    demand: list[DemandRate] = Field(default_factory=list)


class TransportMode(StrEnum):
    SEA = "sea"
    AIR = "air"
    RAIL = "rail"
    ROAD = "road"


class Lane(_Model):
    id: LocalId
    source: LocalId = Field(alias="from")
    target: LocalId = Field(alias="to")
    mode: TransportMode
    distance: Length | None = None
    lead_time: DurationDist
    cost: AnyQuantity | None = Field(
        default=None, description="e.g. '0.06 EUR/tkm' or '12 EUR/pcs'"
    )
    capacity: MassRate | CountRate | None = None
    emission_factor: AnyQuantity | None = None
    items: list[LocalId] = Field(
        default_factory=list, description="what the lane carries (empty: whatever its source ships)"
    )


# ----------------------------------------------------------------- simulation


class PolicyKind(StrEnum):
    """How a stock point is replenished (or, when made, how much is produced)."""

    BASE_STOCK = "base-stock"
    S_S = "s-S"
    MIN_MAX = "min-max"


class InventoryPolicy(_Model):
    """The policy of one item held at one site or warehouse.

    Levels are given either as quantities (``S: 1200 pcs``) or as days of
    demand cover on top of the replenishment lead time (``cover: 10 d``).
    """

    at: LocalId
    item: LocalId
    policy: PolicyKind = PolicyKind.BASE_STOCK
    s: AnyQuantity | None = Field(default=None, description="reorder point (s-S, min-max)")
    S: AnyQuantity | None = Field(default=None, description="order-up-to level")
    cover: Duration | None = Field(default=None, description="safety cover beyond the lead time")
    initial: AnyQuantity | None = Field(default=None, description="stock at the start")


class UnmetDemand(StrEnum):
    BACKORDER = "backorder"
    LOST_SALES = "lost-sales"


class SimulationSettings(_Model):
    horizon: Duration = Field(default="365 d", validate_default=True)
    unmet: UnmetDemand = UnmetDemand.BACKORDER
    cover: Duration = Field(
        default="7 d",
        validate_default=True,
        description="default safety cover of every stock point beyond its lead time",
    )
    holding_rate: float = Field(
        default=0.25, ge=0, description="holding cost per year, share of value"
    )
    replications: int = Field(default=200, ge=1, le=100_000)
    seed: int = Field(default=0, ge=0)
    inventory: list[InventoryPolicy] = Field(default_factory=list)


class DisruptionKind(StrEnum):
    STRIKE = "strike"
    MATERIAL_SHORTAGE = "material-shortage"
    EXPORT_BAN = "export-ban"
    LANE_CLOSURE = "lane-closure"
    PORT_CLOSURE = "port-closure"
    KNOW_HOW_LOSS = "know-how-loss"
    DEMAND_SURGE = "demand-surge"
    PORT_CONGESTION = "port-congestion"
    MACHINE_BREAKDOWN = "machine-breakdown"
    ENERGY_PRICE_SHOCK = "energy-price-shock"


# What each kind of disruption may name as its targets (entity kinds of the file).
DISRUPTION_TARGETS: dict[DisruptionKind, tuple[str, ...]] = {
    DisruptionKind.STRIKE: ("site",),
    DisruptionKind.MATERIAL_SHORTAGE: ("supplier",),
    DisruptionKind.EXPORT_BAN: ("site", "supplier"),
    DisruptionKind.LANE_CLOSURE: ("lane",),
    DisruptionKind.PORT_CLOSURE: ("lane",),
    DisruptionKind.KNOW_HOW_LOSS: ("site", "line"),
    DisruptionKind.DEMAND_SURGE: ("customer",),
    DisruptionKind.PORT_CONGESTION: ("lane",),
    DisruptionKind.MACHINE_BREAKDOWN: ("line",),
    DisruptionKind.ENERGY_PRICE_SHOCK: ("site",),
}


class Disruption(_Model):
    """Something that happens to the network: what, where, when, how hard and how likely."""

    id: LocalId
    name: str | None = None
    kind: DisruptionKind
    targets: list[LocalId] = Field(default_factory=list)
    country: CountryCode | None = Field(default=None, description="export-ban: the banned origin")
    destinations: list[CountryCode] = Field(
        default_factory=list, description="export-ban: countries closed to it (empty: all others)"
    )
    items: list[LocalId] = Field(default_factory=list, description="only these products/materials")
    skill: LocalId | None = Field(default=None, description="know-how-loss: the skill lost")
    start: DurationDist = Field(default="0 d", validate_default=True)
    duration: DurationDist
    severity: float = Field(default=1.0, ge=0, le=10)
    probability: float = Field(default=1.0, ge=0, le=1)
    after: LocalId | None = Field(default=None, description="start when this disruption ends")


class MitigationKind(StrEnum):
    ALTERNATIVE_LANE = "alternative-lane"
    SAFETY_STOCK = "safety-stock"
    DUAL_SOURCING = "dual-sourcing"
    CAPACITY_SHIFT = "capacity-shift"
    OVERTIME = "overtime"
    SUPPLIER_SCORE = "supplier-score"


class Mitigation(_Model):
    """A response to disruptions, set up before they happen."""

    id: LocalId
    name: str | None = None
    kind: MitigationKind
    lanes: list[LocalId] = Field(default_factory=list, description="alternative or second lanes")
    at: list[LocalId] = Field(default_factory=list, description="sites or warehouses")
    items: list[LocalId] = Field(default_factory=list)
    share: float = Field(default=0.3, gt=0, le=1, description="dual-sourcing: share of orders")
    cover: Duration | None = Field(default=None, description="safety-stock: extra cover")
    extra: float = Field(
        default=0.2, gt=0, le=5, description="overtime/capacity-shift: extra capacity"
    )
    cost_premium: float = Field(default=0.5, ge=0, le=10, description="extra cost per unit, share")
    min_score: float | None = Field(
        default=None,
        ge=0,
        le=100,
        description="supplier-score: buy only from suppliers whose verified score is at least this",
    )


class NamedScenario(_Model):
    id: LocalId
    name: str | None = None
    description: str | None = None
    disruptions: list[LocalId] = Field(default_factory=list)
    mitigations: list[LocalId] = Field(default_factory=list)


class Enterprise(_Model):
    id: LocalId
    prefix: str = Field(pattern=f"^{PREFIX_PATTERN}$")
    name: str
    currency: str = "EUR"
    headquarters: LocalId | None = None


class Scenario(_Model):
    """A whole scenario file."""

    twinverse: int = Field(description="format version of the file")
    enterprise: Enterprise
    sites: list[Site] = Field(min_length=1)
    materials: list[Material] = Field(default_factory=list)
    products: list[Product] = Field(default_factory=list)
    people: list[Person] = Field(default_factory=list)
    suppliers: list[Supplier] = Field(default_factory=list)
    warehouses: list[Warehouse] = Field(default_factory=list)
    customers: list[Customer] = Field(default_factory=list)
    lanes: list[Lane] = Field(default_factory=list)
    simulation: SimulationSettings = Field(default_factory=SimulationSettings)
    disruptions: list[Disruption] = Field(default_factory=list)
    mitigations: list[Mitigation] = Field(default_factory=list)
    scenarios: list[NamedScenario] = Field(default_factory=list)

    @field_validator("twinverse")
    @classmethod
    def _version(cls, v: int) -> int:
        if v != FORMAT_VERSION:
            raise ValueError(
                f"this twinverse reads format version {FORMAT_VERSION}, the file says {v}"
            )
        return v


# Re-exported so checks can name the quantity types without importing fields.
__all__ = [
    "DISRUPTION_TARGETS",
    "FORMAT_VERSION",
    "Area",
    "BomItem",
    "Buffer",
    "Calendar",
    "Conveyor",
    "Count",
    "CountRate",
    "Customer",
    "Disruption",
    "DisruptionKind",
    "Enterprise",
    "InventoryPolicy",
    "Line",
    "Machine",
    "MachineKind",
    "Material",
    "Mitigation",
    "MitigationKind",
    "NamedScenario",
    "Operation",
    "Person",
    "PolicyKind",
    "Product",
    "Scenario",
    "SimulationSettings",
    "Site",
    "Supplier",
    "TransportMode",
    "UnmetDemand",
    "Warehouse",
]
