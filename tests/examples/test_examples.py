"""The scenarios in examples/: each one is valid and builds, and the two reference
examples hold what they are there to show.

Every ``*.yaml``/``*.yml``/``*.json`` file in ``examples/`` is picked up, so a new
example is checked as soon as it is added. The complete example in the user's
guide (docs/scenario-format.md) is checked too, so the guide cannot drift from
the format.
"""

from __future__ import annotations

import functools
import itertools
import re
from pathlib import Path

import pytest

from twinverse.scenario import (
    LoadedScenario,
    load_scenario,
    parse_text,
    validate_document,
    validate_file,
)
from twinverse.scenario.schema import (
    Line,
    MachineKind,
    Scenario,
    Site,
    SiteRole,
    SkillLevel,
    TransportMode,
)
from twinverse.twin.model import EntityKind, RelationKind

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_FILES = sorted(p for p in EXAMPLES.glob("*") if p.suffix in {".yaml", ".yml", ".json"})
GLOBAL_NETWORK = EXAMPLES / "global-network.yaml"
LINE = EXAMPLES / "line.yaml"
GUIDE = EXAMPLES.parent / "docs" / "scenario-format.md"

# ISO 3166-1 alpha-2 → continent, for the countries an example is likely to use.
_COUNTRIES = {
    "Asia": "CN IN JP KR TW SG TH VN MY ID PH AE SA TR",
    "Europe": "DE FR NL BE IT ES PT GB IE PL CZ AT CH SE FI NO DK HU RO SK",
    "North America": "US CA MX",
    "South America": "BR AR CL CO PE UY PY BO EC VE",
    "Africa": "ZA MA EG NG KE MZ ET GH TN DZ AO",
    "Oceania": "AU NZ",
}
CONTINENT = {code: continent for continent, codes in _COUNTRIES.items() for code in codes.split()}
# The first part of an IANA time-zone name, for the same continents.
TIMEZONE_REGION = {
    "Asia": "Asia",
    "Europe": "Europe",
    "North America": "America",
    "South America": "America",
    "Africa": "Africa",
    "Oceania": "Australia",
}


@functools.cache
def _load(path: Path) -> LoadedScenario:
    return load_scenario(path)


def _lines(scenario: Scenario) -> list[Line]:
    return [
        line
        for site in scenario.sites
        for line in (*site.lines, *(ln for area in site.areas for ln in area.lines))
    ]


def _site_lines(scenario: Scenario, site_id: str) -> list[Line]:
    site = next(s for s in scenario.sites if s.id == site_id)
    return [*site.lines, *(ln for area in site.areas for ln in area.lines)]


def _factories(scenario: Scenario) -> list[Site]:
    return [s for s in scenario.sites if s.role is SiteRole.FACTORY]


@pytest.fixture(scope="module")
def network() -> Scenario:
    return _load(GLOBAL_NETWORK).scenario


@pytest.fixture(scope="module")
def line_scenario() -> Scenario:
    return _load(LINE).scenario


# ----------------------------------------------------------------- every example


def test_examples_folder_holds_the_reference_scenarios() -> None:
    assert GLOBAL_NETWORK in EXAMPLE_FILES
    assert LINE in EXAMPLE_FILES


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_example_validates_without_issues(path: Path) -> None:
    issues = validate_file(path)
    assert issues == [], "\n".join(str(i) for i in issues)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_example_builds_a_graph_with_every_declared_entity(path: Path) -> None:
    loaded = _load(path)
    s = loaded.scenario
    lines = _lines(s)
    expected = {
        EntityKind.ENTERPRISE: 1,
        EntityKind.SITE: len(s.sites),
        EntityKind.AREA: sum(len(site.areas) for site in s.sites),
        EntityKind.LINE: len(lines),
        EntityKind.MACHINE: sum(len(ln.machines) for ln in lines),
        EntityKind.BUFFER: sum(len(ln.buffers) for ln in lines),
        EntityKind.CONVEYOR: sum(len(ln.conveyors) for ln in lines),
        EntityKind.MATERIAL: len(s.materials),
        EntityKind.PRODUCT: len(s.products),
        EntityKind.PERSON: len(s.people),
        EntityKind.SUPPLIER: len(s.suppliers),
        EntityKind.WAREHOUSE: len(s.warehouses),
        EntityKind.CUSTOMER: len(s.customers),
        EntityKind.LANE: len(s.lanes),
    }
    graph = loaded.graph()
    assert {kind: graph.count(kind) for kind in expected} == expected


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_example_identifiers_start_with_the_enterprise_prefix(path: Path) -> None:
    loaded = _load(path)
    prefix = loaded.scenario.enterprise.prefix
    outside = [
        e.id
        for e in loaded.graph().entities()
        if e.id != prefix and not e.id.startswith(prefix + "/")
    ]
    assert outside == []


# -------------------------------------------------------------- global network


def test_global_network_has_its_headquarters_in_china(network: Scenario) -> None:
    hq = next(s for s in network.sites if s.id == network.enterprise.headquarters)
    assert hq.role is SiteRole.HEADQUARTERS
    assert hq.country == "CN"


def test_global_network_has_five_factories_on_five_continents(network: Scenario) -> None:
    factories = _factories(network)
    unknown = [f.country for f in factories if f.country not in CONTINENT]
    assert unknown == [], f"add these countries to CONTINENT: {unknown}"
    continents = {CONTINENT[f.country] for f in factories}
    assert len(factories) == 5
    assert continents == {"Asia", "Europe", "North America", "South America", "Africa"}


def test_global_network_factory_time_zones_match_their_continent(network: Scenario) -> None:
    mismatched = [
        (f.id, f.timezone)
        for f in _factories(network)
        if f.timezone.split("/")[0] != TIMEZONE_REGION[CONTINENT[f.country]]
    ]
    assert mismatched == []


def test_global_network_factories_each_have_shifts_a_grid_factor_and_a_line(
    network: Scenario,
) -> None:
    incomplete = [
        f.id
        for f in _factories(network)
        if not (f.calendar and f.calendar.shifts)
        or f.grid_factor is None
        or not any(len(line.machines) >= 2 and line.buffers for line in _site_lines(network, f.id))
    ]
    assert incomplete == []


@pytest.mark.parametrize(
    ("section", "minimum"),
    [("suppliers", 10), ("warehouses", 3), ("customers", 10), ("materials", 15)],
)
def test_global_network_has_the_minimum_number_of(
    network: Scenario, section: str, minimum: int
) -> None:
    assert len(getattr(network, section)) >= minimum


def test_global_network_has_twenty_products_with_boms(network: Scenario) -> None:
    with_bom = [p.id for p in network.products if p.bom]
    assert len(with_bom) >= 20


def test_global_network_has_sub_assemblies_in_its_boms(network: Scenario) -> None:
    products = {p.id for p in network.products}
    assert any(item.item in products for p in network.products for item in p.bom)


def test_global_network_has_an_electric_arc_furnace(network: Scenario) -> None:
    arc_furnaces = [
        m.id
        for line in _lines(network)
        for m in line.machines
        if m.kind is MachineKind.FURNACE and "arc furnace" in (m.name or "").lower()
    ]
    assert arc_furnaces


def test_global_network_has_a_master_craftsman_at_a_factory(network: Scenario) -> None:
    factory_ids = {f.id for f in _factories(network)}
    masters = [
        p.id
        for p in network.people
        if p.site in factory_ids and any(sk.level is SkillLevel.MASTER for sk in p.skills)
    ]
    assert masters


def test_global_network_uses_every_transport_mode(network: Scenario) -> None:
    assert {lane.mode for lane in network.lanes} == set(TransportMode)


def test_global_network_every_lane_endpoint_resolves(network: Scenario) -> None:
    graph = _load(GLOBAL_NETWORK).graph()
    places = {EntityKind.SITE, EntityKind.SUPPLIER, EntityKind.WAREHOUSE, EntityKind.CUSTOMER}
    unresolved = []
    for lane in graph.entities(EntityKind.LANE):
        for kind in (RelationKind.ORIGIN, RelationKind.DESTINATION):
            ends = graph.outgoing(lane.id, kind)
            end = graph.get(ends[0].target) if len(ends) == 1 else None
            if end is None or end.kind not in places:
                unresolved.append((lane.id, kind.value))
    assert unresolved == []


def test_global_network_ships_from_every_supplier(network: Scenario) -> None:
    sources = {lane.source for lane in network.lanes}
    assert [s.id for s in network.suppliers if s.id not in sources] == []


def test_global_network_delivers_to_every_customer(network: Scenario) -> None:
    targets = {lane.target for lane in network.lanes}
    assert [c.id for c in network.customers if c.id not in targets] == []


# ------------------------------------------------------------------------ line


def _longest_line(scenario: Scenario) -> Line:
    return max(_lines(scenario), key=lambda line: len(line.machines))


def test_line_example_has_a_line_of_at_least_ten_machines(line_scenario: Scenario) -> None:
    assert len(_longest_line(line_scenario).machines) >= 10


def test_line_example_places_every_machine(line_scenario: Scenario) -> None:
    unplaced = [m.id for line in _lines(line_scenario) for m in line.machines if m.position is None]
    assert unplaced == []


def test_line_example_has_a_buffer_between_each_pair_of_consecutive_stations(
    line_scenario: Scenario,
) -> None:
    line = _longest_line(line_scenario)
    pairs = {tuple(b.between) for b in line.buffers if b.between}
    stations = [m.id for m in line.machines]
    missing = [pair for pair in itertools.pairwise(stations) if pair not in pairs]
    assert missing == []


def test_line_example_has_a_conveyor(line_scenario: Scenario) -> None:
    assert any(line.conveyors for line in _lines(line_scenario))


# ----------------------------------------------------------------------- guide


def test_guide_complete_example_validates_without_issues() -> None:
    section = GUIDE.read_text(encoding="utf-8").split("## A short complete example", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the guide's complete example is not a ```yaml block"
    document = parse_text(block.group(1).encode(), str(GUIDE))
    _, issues = validate_document(document)
    assert issues == [], "\n".join(str(i) for i in issues)
