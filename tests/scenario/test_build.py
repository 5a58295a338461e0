"""A scenario that validates always builds its twin graph."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinverse.scenario import load_scenario, validate_file
from twinverse.twin.model import EntityKind, RelationKind

SMALL_TEXT = (Path(__file__).parent / "valid" / "small.yaml").read_text(encoding="utf-8")


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
