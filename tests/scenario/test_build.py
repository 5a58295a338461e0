"""A scenario that validates always builds its twin graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from twinverse.scenario import (
    Issue,
    Scenario,
    ScenarioError,
    build_graph,
    load_scenario,
    scenario_changes,
    validate_document,
    validate_file,
)
from twinverse.scenario.source import read_document
from twinverse.twin.graph import TwinGraph
from twinverse.twin.model import EntityKind, RelationKind

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
SMALL_TEXT = (HERE / "valid" / "small.yaml").read_text(encoding="utf-8")
SCENARIOS = sorted(
    [
        HERE / "valid" / "small.yaml",
        *(ROOT / "examples").glob("*.yaml"),
        *(ROOT / "tests" / "fixtures").glob("*.yaml"),
    ]
)
BROKEN = sorted((HERE / "broken").iterdir())


def _small_with(tmp_path: Path, old: str, new: str) -> Path:
    assert old in SMALL_TEXT
    path = tmp_path / "scenario.yaml"
    path.write_text(SMALL_TEXT.replace(old, new, 1), encoding="utf-8")
    return path


def test_small_scenario_builds_one_entity_per_declaration(tmp_path: Path) -> None:
    graph = load_scenario(_small_with(tmp_path, "", "")).graph()
    assert {kind: graph.count(kind) for kind in EntityKind if graph.count(kind)} == {
        EntityKind.ENTERPRISE: 1,
        EntityKind.SITE: 1,
        EntityKind.LINE: 1,
        EntityKind.MACHINE: 2,
        EntityKind.BUFFER: 1,
        EntityKind.MATERIAL: 1,
        EntityKind.PRODUCT: 1,
        EntityKind.PERSON: 1,
        EntityKind.CUSTOMER: 1,
        EntityKind.LANE: 1,
    }


def test_small_scenario_machines_sit_in_their_line(tmp_path: Path) -> None:
    graph = load_scenario(_small_with(tmp_path, "", "")).graph()
    press = graph.entity("86.1000.globex/shanghai/l1/press-1")
    assert [a.id for a in graph.ancestors(press.id)] == [
        "86.1000.globex/shanghai/l1",
        "86.1000.globex/shanghai",
        "86.1000.globex",
    ]
    feeds = {(r.source, r.target) for r in graph.relations() if r.kind is RelationKind.FEEDS}
    assert ("86.1000.globex/shanghai/l1/press-1", "86.1000.globex/shanghai/l1/b1") in feeds


_DUPLICATE_REFERENCES = [
    pytest.param(
        "bom: [{item: steel, quantity: 60 kg}]",
        "bom: [{item: steel, quantity: 60 kg}, {item: steel, quantity: 5 kg}]",
        "products[0].bom[1].item",
        id="bom-item-twice",
    ),
    pytest.param(
        "demand: [{product: drive, rate: 100 pcs/wk, cv: 0.2}]",
        "demand: [{product: drive, rate: 100 pcs/wk}, {product: drive, rate: 5 pcs/wk}]",
        "customers[0].demand[1].product",
        id="demand-product-twice",
    ),
    pytest.param(
        "products: [drive]",
        "products: [drive, drive]",
        "sites[0].lines[0].products[1]",
        id="line-product-twice",
    ),
]


@pytest.mark.parametrize(("old", "new", "where"), _DUPLICATE_REFERENCES)
def test_a_reference_listed_twice_is_reported_not_a_build_crash(
    tmp_path: Path, old: str, new: str, where: str
) -> None:
    issues = validate_file(_small_with(tmp_path, old, new))
    assert [issue.path for issue in issues] == [where]


# --------------------------------------------- the bulk build and the item-wise schema


def _ordered(graph: TwinGraph) -> list[Any]:
    """The graph as its public API lists it, in that order."""
    return [
        [(e.id, e.kind, e.name, e.properties, e.stamps) for e in graph.entities()],
        [(r.key, r.properties) for r in graph.relations()],
        [[r.key for r in graph.outgoing(e.id)] for e in graph.entities()],
        [[r.key for r in graph.incoming(e.id)] for e in graph.entities()],
        [[e.id for e in graph.entities(kind)] for kind in EntityKind],
    ]


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_the_built_graph_is_the_one_its_changes_make_one_by_one(path: Path) -> None:
    scenario = load_scenario(path).scenario
    one_by_one = TwinGraph()
    one_by_one.apply_all(scenario_changes(scenario))

    assert _ordered(build_graph(scenario)) == _ordered(one_by_one)


def _validated_at_once(path: Path) -> tuple[Scenario | None, list[Issue]]:
    try:
        document = read_document(path)
    except ScenarioError as err:
        return None, err.issues
    return validate_document(document)


def _check_validated_as_at_once(path: Path) -> None:
    # load_scenario and validate_file validate list items one by one, freeing the
    # parsed text as they go; the outcome is that of validating the document at once.
    scenario, issues = _validated_at_once(path)

    assert validate_file(path) == issues
    if not issues:
        assert load_scenario(path).scenario == scenario


@pytest.mark.parametrize("path", [*SCENARIOS, *BROKEN], ids=lambda p: p.name)
def test_a_file_is_validated_as_its_whole_document_is(path: Path) -> None:
    _check_validated_as_at_once(path)


_ANCHORED = [
    pytest.param(
        "power: {busy: 15 kW, idle: 3 kW}",
        "power: &power {busy: 15 kW, idle: 3 kW}",
        "cycle_time: 40 s",
        "cycle_time: 40 s\n            power: *power",
        id="shared-mapping",
    ),
    pytest.param(
        "materials:\n  - {id: steel, unit: kg, cost: 0.8 EUR/kg, co2e: 1.9 kgCO2e/kg}",
        "materials: &stock\n  - {id: steel, unit: kg, cost: 0.8 EUR/kg, co2e: 1.9 kgCO2e/kg}",
        "\nproducts:",
        "\nwarehouses: *stock\nproducts:",
        id="shared-top-level-list",
    ),
]


@pytest.mark.parametrize(("old", "new", "old2", "new2"), _ANCHORED)
def test_a_file_with_yaml_anchors_is_validated_as_its_whole_document_is(
    tmp_path: Path, old: str, new: str, old2: str, new2: str
) -> None:
    path = _small_with(tmp_path, old, new)
    text = path.read_text(encoding="utf-8")
    assert old2 in text
    path.write_text(text.replace(old2, new2, 1), encoding="utf-8")

    _check_validated_as_at_once(path)
