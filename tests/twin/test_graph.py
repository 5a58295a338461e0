"""The twin graph: apply semantics, containment, removal and diff."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twinverse.twin.errors import EntityNotFoundError, GraphConflictError
from twinverse.twin.events import (
    Change,
    EntityAdded,
    EntityRemoved,
    PropertyRemoved,
    PropertySet,
    RelationAdded,
    RelationRemoved,
)
from twinverse.twin.graph import TwinGraph, diff
from twinverse.twin.ids import EntityId
from twinverse.twin.model import Entity, EntityKind, Relation, RelationKind
from twinverse.twin.quantity import Quantity

P = "86.1000.globex"
ENT = EntityId(P)
SITE = EntityId(f"{P}/sha")
LINE = EntityId(f"{P}/sha/l1")
PRESS = EntityId(f"{P}/sha/l1/press-1")
WELD = EntityId(f"{P}/sha/l1/weld-1")
LINE2 = EntityId(f"{P}/sha/l2")
STEEL = EntityId(f"{P}/steel")


def _entity(entity_id: str, kind: EntityKind, **props: Any) -> Entity:
    return Entity(EntityId(entity_id), kind, entity_id.rsplit("/", 1)[-1], props)


def _rel(source: str, kind: RelationKind, target: str, **props: Any) -> Relation:
    return Relation(EntityId(source), kind, EntityId(target), props)


def _contains(parent: str, child: str) -> RelationAdded:
    return RelationAdded(_rel(parent, RelationKind.CONTAINS, child))


def _plant() -> TwinGraph:
    """enterprise ⊃ site ⊃ {l1 ⊃ {press, weld}, l2}; steel; press feeds weld; l1 feeds l2."""
    g = TwinGraph()
    g.apply_all(
        [
            EntityAdded(_entity(ENT, EntityKind.ENTERPRISE)),
            EntityAdded(_entity(SITE, EntityKind.SITE)),
            EntityAdded(_entity(LINE, EntityKind.LINE)),
            EntityAdded(_entity(PRESS, EntityKind.MACHINE, cycle_time=Quantity.of(45, "s"))),
            EntityAdded(_entity(WELD, EntityKind.MACHINE)),
            EntityAdded(_entity(LINE2, EntityKind.LINE)),
            EntityAdded(_entity(STEEL, EntityKind.MATERIAL)),
            _contains(ENT, SITE),
            _contains(SITE, LINE),
            _contains(LINE, PRESS),
            _contains(LINE, WELD),
            _contains(SITE, LINE2),
            _contains(ENT, STEEL),
            RelationAdded(_rel(PRESS, RelationKind.FEEDS, WELD)),
            RelationAdded(_rel(LINE, RelationKind.FEEDS, LINE2)),
        ]
    )
    return g


def snapshot(g: TwinGraph) -> dict[str, Any]:
    """Everything observable through the public API, for before/after comparisons."""
    ids = sorted(e.id for e in g.entities())
    return {
        "entities": {e.id: (e.kind, e.name, e.properties, e.stamps) for e in g.entities()},
        "relations": {r.key: r.properties for r in g.relations()},
        "counts": {k: g.count(k) for k in EntityKind},
        "parents": {i: (p.id if (p := g.parent(i)) else None) for i in ids},
        "out": {i: sorted(r.key for r in g.outgoing(i)) for i in ids},
        "in": {i: sorted(r.key for r in g.incoming(i)) for i in ids},
        "len": (len(g), g.relation_count),
    }


def content(g: TwinGraph) -> dict[str, Any]:
    """What diff is meant to reproduce: entities (without stamps) and relations."""
    return {
        "entities": {e.id: (e.kind, e.name, e.properties) for e in g.entities()},
        "relations": {r.key: r.properties for r in g.relations()},
        "parents": {e.id: (p.id if (p := g.parent(e.id)) else None) for e in g.entities()},
    }


# ------------------------------------------------------------------ adding


def test_added_entity_can_be_read_back() -> None:
    g = _plant()
    assert g.entity(PRESS).get("cycle_time") == Quantity.of(45, "s")
    assert PRESS in g
    assert g.count(EntityKind.MACHINE) == 2


def test_reading_a_missing_entity_raises_entity_not_found() -> None:
    with pytest.raises(EntityNotFoundError) as err:
        _plant().entity(f"{P}/nowhere")
    assert err.value.entity_id == f"{P}/nowhere"
    assert _plant().get(f"{P}/nowhere") is None


def test_adding_an_entity_twice_is_a_conflict() -> None:
    with pytest.raises(GraphConflictError, match="exists already"):
        _plant().apply(EntityAdded(_entity(PRESS, EntityKind.MACHINE)))


@pytest.mark.parametrize(
    ("source", "target"), [(PRESS, f"{P}/nowhere"), (f"{P}/nowhere", PRESS)], ids=["to", "from"]
)
def test_relation_with_a_missing_end_is_a_conflict(source: str, target: str) -> None:
    with pytest.raises(GraphConflictError, match="nowhere"):
        _plant().apply(RelationAdded(_rel(source, RelationKind.FEEDS, target)))


def test_adding_a_relation_twice_is_a_conflict() -> None:
    with pytest.raises(GraphConflictError, match="exists already"):
        _plant().apply(RelationAdded(_rel(PRESS, RelationKind.FEEDS, WELD)))


def test_relations_of_different_kinds_between_the_same_entities_coexist() -> None:
    g = _plant()
    g.apply(RelationAdded(_rel(PRESS, RelationKind.LOCATED_AT, WELD)))
    assert {r.kind for r in g.outgoing(PRESS)} == {RelationKind.FEEDS, RelationKind.LOCATED_AT}


# ------------------------------------------------------------- containment


def test_containment_cycle_is_rejected() -> None:
    with pytest.raises(GraphConflictError, match="cycle"):
        _plant().apply(_contains(PRESS, ENT))


def test_entity_cannot_contain_itself() -> None:
    g = TwinGraph()
    g.apply(EntityAdded(_entity(SITE, EntityKind.SITE)))
    with pytest.raises(GraphConflictError, match="cycle"):
        g.apply(_contains(SITE, SITE))


def test_an_entity_has_a_single_parent() -> None:
    with pytest.raises(GraphConflictError, match="already contained in"):
        _plant().apply(_contains(LINE2, PRESS))


def test_ancestors_are_listed_nearest_first() -> None:
    assert [e.id for e in _plant().ancestors(PRESS)] == [LINE, SITE, ENT]


def test_root_has_no_ancestors() -> None:
    g = _plant()
    assert list(g.ancestors(ENT)) == []
    assert g.parent(ENT) is None


def test_descendants_are_everything_contained() -> None:
    assert {e.id for e in _plant().descendants(SITE)} == {LINE, PRESS, WELD, LINE2}


def test_children_are_only_the_direct_ones() -> None:
    assert {e.id for e in _plant().children(SITE)} == {LINE, LINE2}


def test_is_within_follows_containment_not_id_text() -> None:
    g = _plant()
    assert g.is_within(PRESS, SITE)
    assert g.is_within(PRESS, PRESS)
    assert not g.is_within(PRESS, LINE2)
    assert not g.is_within(SITE, PRESS)


# ---------------------------------------------------------------- removal


def test_removing_an_entity_with_relations_is_rejected() -> None:
    with pytest.raises(GraphConflictError, match="still has relations"):
        _plant().apply(EntityRemoved(WELD))


def test_removing_an_entity_with_children_is_rejected() -> None:
    g = _plant()
    g.apply(RelationRemoved((LINE, RelationKind.FEEDS, LINE2)))
    g.apply(RelationRemoved((SITE, RelationKind.CONTAINS, LINE)))
    with pytest.raises(GraphConflictError, match="still has relations"):
        g.apply(EntityRemoved(LINE))


def test_removing_a_missing_relation_is_a_conflict() -> None:
    with pytest.raises(GraphConflictError, match="no relation"):
        _plant().apply(RelationRemoved((WELD, RelationKind.FEEDS, PRESS)))


def test_removing_a_contains_relation_frees_the_child() -> None:
    g = _plant()
    g.apply(RelationRemoved((LINE, RelationKind.CONTAINS, WELD)))
    assert g.parent(WELD) is None
    g.apply(_contains(LINE2, WELD))
    assert g.parent(WELD).id == LINE2  # type: ignore[union-attr]


def test_removal_changes_cascade_to_contents_and_their_relations() -> None:
    g = _plant()
    changes = g.removal_changes(LINE)
    removed = {c.entity_id for c in changes if isinstance(c, EntityRemoved)}
    assert removed == {LINE, PRESS, WELD}
    unlinked = {c.key for c in changes if isinstance(c, RelationRemoved)}
    assert (LINE, RelationKind.FEEDS, LINE2) in unlinked
    assert (SITE, RelationKind.CONTAINS, LINE) in unlinked


def test_removal_changes_apply_cleanly_and_leave_no_dangling_relation() -> None:
    g = _plant()
    g.apply_all(g.removal_changes(SITE))
    assert {e.id for e in g.entities()} == {ENT, STEEL}
    assert {r.key for r in g.relations()} == {(ENT, RelationKind.CONTAINS, STEEL)}
    assert g.outgoing(ENT) == [_rel(ENT, RelationKind.CONTAINS, STEEL)]
    assert g.count(EntityKind.MACHINE) == 0


def test_removal_changes_of_a_missing_entity_is_a_conflict() -> None:
    with pytest.raises(GraphConflictError):
        _plant().removal_changes(f"{P}/nowhere")


# ------------------------------------------------------------- properties


def test_property_set_stamps_the_time() -> None:
    g = _plant()
    g.apply(PropertySet(PRESS, "state", "busy"), ts=1_700_000_000_000_000_000)
    press = g.entity(PRESS)
    assert press.get("state") == "busy"
    assert press.stamps["state"] == 1_700_000_000_000_000_000


def test_property_set_replaces_the_entity_object() -> None:
    g = _plant()
    before = g.entity(PRESS)
    g.apply(PropertySet(PRESS, "state", "busy"))
    assert before.get("state") is None


def test_setting_the_name_property_renames_the_entity() -> None:
    g = _plant()
    g.apply(PropertySet(PRESS, "name", "Press 1"))
    assert g.entity(PRESS).name == "Press 1"
    assert "name" not in g.entity(PRESS).properties


def test_removing_a_property_that_is_not_set_is_a_conflict() -> None:
    with pytest.raises(GraphConflictError, match="not set"):
        _plant().apply(PropertyRemoved(PRESS, "colour"))


def test_removing_a_property_drops_its_stamp() -> None:
    g = _plant()
    g.apply(PropertySet(PRESS, "state", "busy"), ts=5)
    g.apply(PropertyRemoved(PRESS, "state"))
    assert "state" not in g.entity(PRESS).properties
    assert "state" not in g.entity(PRESS).stamps


def test_property_of_a_missing_entity_is_a_conflict() -> None:
    with pytest.raises(GraphConflictError, match="no entity"):
        _plant().apply(PropertySet(EntityId(f"{P}/nowhere"), "state", "busy"))


# ------------------------------------------------- failed apply is atomic

_FAILING: list[tuple[str, Change]] = [
    ("duplicate-entity", EntityAdded(_entity(PRESS, EntityKind.MACHINE))),
    ("relation-to-missing", RelationAdded(_rel(PRESS, RelationKind.FEEDS, f"{P}/nowhere"))),
    ("relation-from-missing", RelationAdded(_rel(f"{P}/nowhere", RelationKind.FEEDS, PRESS))),
    ("duplicate-relation", RelationAdded(_rel(PRESS, RelationKind.FEEDS, WELD))),
    ("contains-cycle", _contains(PRESS, SITE)),
    ("second-parent", _contains(LINE2, PRESS)),
    ("missing-relation", RelationRemoved((WELD, RelationKind.FEEDS, PRESS))),
    ("entity-with-relations", EntityRemoved(PRESS)),
    ("missing-entity", EntityRemoved(EntityId(f"{P}/nowhere"))),
    ("property-not-set", PropertyRemoved(PRESS, "colour")),
    ("property-of-missing", PropertySet(EntityId(f"{P}/nowhere"), "x", 1)),
]


@pytest.mark.parametrize("change", [c for _, c in _FAILING], ids=[n for n, _ in _FAILING])
def test_failed_apply_leaves_the_graph_unchanged(change: Change) -> None:
    g = _plant()
    before = snapshot(g)
    with pytest.raises(GraphConflictError):
        g.apply(change)
    assert snapshot(g) == before


def test_copy_does_not_share_indices() -> None:
    g = _plant()
    other = g.copy()
    other.apply_all(other.removal_changes(LINE))
    assert snapshot(g) == snapshot(_plant())


# -------------------------------------------------------------------- diff


def test_diff_of_a_graph_with_itself_is_empty() -> None:
    assert diff(_plant(), _plant()) == []


def test_diff_turns_old_into_new_for_an_edit() -> None:
    old, new = _plant(), _plant()
    new.apply_all(new.removal_changes(LINE2))
    new.apply(PropertySet(PRESS, "cycle_time", Quantity.of(40, "s")))
    new.apply(PropertyRemoved(PRESS, "cycle_time"))
    new.apply(PropertySet(WELD, "power", Quantity.of(3, "kW")))
    new.apply(EntityAdded(_entity(f"{P}/alu", EntityKind.MATERIAL)))
    new.apply(_contains(ENT, f"{P}/alu"))
    new.apply(RelationRemoved((PRESS, RelationKind.FEEDS, WELD)))
    new.apply(RelationAdded(_rel(PRESS, RelationKind.FEEDS, WELD, lag=Quantity.of(1, "min"))))
    old.apply_all(diff(old, new))
    assert content(old) == content(new)


def test_diff_replaces_an_entity_whose_kind_changed() -> None:
    old, new = _plant(), _plant()
    new.apply_all(new.removal_changes(STEEL))
    new.apply(EntityAdded(_entity(STEEL, EntityKind.PRODUCT)))
    new.apply(_contains(ENT, STEEL))
    changes = diff(old, new)
    assert EntityRemoved(STEEL) in changes
    old.apply_all(changes)
    assert old.entity(STEEL).kind is EntityKind.PRODUCT
    assert content(old) == content(new)


_POOL = [EntityId(f"{P}/e{i}") for i in range(6)]
_KINDS = [EntityKind.SITE, EntityKind.LINE, EntityKind.MACHINE]
_values = st.one_of(
    st.integers(-5, 5),
    st.text(max_size=3),
    st.builds(Quantity.of, st.integers(0, 100), st.sampled_from(["s", "min", "kg"])),
)
_props = st.dictionaries(st.sampled_from(["a", "b", "c"]), _values, max_size=3)


@st.composite
def small_graphs(
    draw: st.DrawFn, property_names: st.SearchStrategy[str] | None = None
) -> TwinGraph:
    """A random graph over a fixed pool of ids: a containment forest plus free edges."""
    props = (
        _props if property_names is None else st.dictionaries(property_names, _values, max_size=3)
    )
    ids = draw(st.lists(st.sampled_from(_POOL), unique=True, max_size=len(_POOL)))
    g = TwinGraph()
    for i, entity_id in enumerate(ids):
        kind = draw(st.sampled_from(_KINDS))
        name = draw(st.sampled_from(["x", "y"]))
        g.apply(EntityAdded(Entity(entity_id, kind, name, draw(props))))
        # A parent among earlier entities keeps containment a forest.
        if i and draw(st.booleans()):
            g.apply(_contains(ids[draw(st.integers(0, i - 1))], entity_id))
    if ids:
        edges = draw(
            st.lists(
                st.tuples(
                    st.sampled_from(ids),
                    st.sampled_from([RelationKind.FEEDS, RelationKind.SUPPLIES]),
                    st.sampled_from(ids),
                ),
                unique=True,
                max_size=6,
            )
        )
        for source, relation_kind, target in edges:
            g.apply(RelationAdded(Relation(source, relation_kind, target, draw(_props))))
    return g


@settings(max_examples=300, deadline=None)
@given(small_graphs(), small_graphs())
def test_diff_applied_to_old_gives_new(old: TwinGraph, new: TwinGraph) -> None:
    old.apply_all(diff(old, new))
    assert content(old) == content(new)


@settings(max_examples=100, deadline=None)
@given(small_graphs())
def test_diff_of_a_random_graph_with_its_copy_is_empty(g: TwinGraph) -> None:
    assert diff(g, g.copy()) == []


def test_a_property_called_name_is_refused() -> None:
    graph = TwinGraph()
    with pytest.raises(GraphConflictError, match="'name' is the entity's name"):
        graph.apply(EntityAdded(Entity(_POOL[0], EntityKind.SITE, "x", {"name": "Plant 1"})))
    assert len(graph) == 0


# ------------------------------------------------ bulk construction: from_parts


def ordered(g: TwinGraph) -> dict[str, Any]:
    """Everything observable through the public API, in the order the graph gives it."""
    ids = [e.id for e in g.entities()]
    return {
        "entities": [(e.id, e.kind, e.name, e.properties, e.stamps) for e in g.entities()],
        "relations": [(r.key, r.properties) for r in g.relations()],
        "by_kind": {k: [e.id for e in g.entities(k)] for k in EntityKind},
        "parents": {i: (p.id if (p := g.parent(i)) else None) for i in ids},
        "out": {i: [r.key for r in g.outgoing(i)] for i in ids},
        "in": {i: [r.key for r in g.incoming(i)] for i in ids},
        "len": (len(g), g.relation_count),
    }


def _parts(g: TwinGraph) -> tuple[list[Entity], list[Relation]]:
    return list(g.entities()), list(g.relations())


def _one_by_one(entities: list[Entity], relations: list[Relation]) -> TwinGraph:
    g = TwinGraph()
    g.apply_all([*map(EntityAdded, entities), *map(RelationAdded, relations)])
    return g


def _outcome(build: Any, entities: list[Entity], relations: list[Relation]) -> Any:
    """The ordered view of the graph built, or the message of the conflict raised."""
    try:
        return ordered(build(entities, relations))
    except GraphConflictError as err:
        return f"conflict: {err}"


_MISSING = EntityId(f"{P}/missing")


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[Entity], list[Relation]]:
    """Entities then relations over a small pool: some fit, many do not (on purpose)."""
    ids = draw(st.lists(st.sampled_from(_POOL), max_size=len(_POOL) + 2))
    names = st.sampled_from(["a", "b", "name"])
    entities = [
        Entity(
            i, draw(st.sampled_from(_KINDS)), "x", draw(st.dictionaries(names, _values, max_size=2))
        )
        for i in ids
    ]
    ends = st.sampled_from([*_POOL, _MISSING])
    relations = draw(
        st.lists(
            st.builds(
                Relation,
                ends,
                st.sampled_from([RelationKind.CONTAINS, RelationKind.FEEDS]),
                ends,
                _props,
            ),
            max_size=8,
        )
    )
    return entities, relations


@settings(max_examples=500, deadline=None)
@given(batches())
def test_from_parts_gives_the_graph_or_the_conflict_of_adding_one_by_one(
    batch: tuple[list[Entity], list[Relation]],
) -> None:
    entities, relations = batch
    assert _outcome(TwinGraph.from_parts, entities, relations) == _outcome(
        _one_by_one, entities, relations
    )


@settings(max_examples=200, deadline=None)
@given(small_graphs())
def test_from_parts_of_a_graph_rebuilds_it_in_the_same_order(g: TwinGraph) -> None:
    assert ordered(TwinGraph.from_parts(*_parts(g))) == ordered(g)


_BULK_MISFITS: list[tuple[str, list[Entity], list[Relation]]] = [
    (
        "duplicate-entity",
        [_entity(SITE, EntityKind.SITE), _entity(SITE, EntityKind.LINE)],
        [],
    ),
    ("name-as-property", [_entity(SITE, EntityKind.SITE, name="Shanghai")], []),
    (
        "duplicate-relation",
        [_entity(SITE, EntityKind.SITE), _entity(LINE, EntityKind.LINE)],
        [_rel(SITE, RelationKind.FEEDS, LINE), _rel(SITE, RelationKind.FEEDS, LINE)],
    ),
    (
        "relation-from-missing",
        [_entity(LINE, EntityKind.LINE)],
        [_rel(SITE, RelationKind.CONTAINS, LINE)],
    ),
    (
        "relation-to-missing",
        [_entity(SITE, EntityKind.SITE)],
        [_rel(SITE, RelationKind.CONTAINS, LINE)],
    ),
    (
        "second-container",
        [
            _entity(SITE, EntityKind.SITE),
            _entity(LINE, EntityKind.LINE),
            _entity(LINE2, EntityKind.LINE),
        ],
        [_rel(SITE, RelationKind.CONTAINS, LINE), _rel(LINE2, RelationKind.CONTAINS, LINE)],
    ),
    (
        "self-containment",
        [_entity(SITE, EntityKind.SITE)],
        [_rel(SITE, RelationKind.CONTAINS, SITE)],
    ),
    (
        "containment-cycle",
        [
            _entity(SITE, EntityKind.SITE),
            _entity(LINE, EntityKind.LINE),
            _entity(PRESS, EntityKind.MACHINE),
        ],
        [
            _rel(SITE, RelationKind.CONTAINS, LINE),
            _rel(LINE, RelationKind.CONTAINS, PRESS),
            _rel(PRESS, RelationKind.CONTAINS, SITE),
        ],
    ),
    (
        "first-misfit-in-order",
        [_entity(SITE, EntityKind.SITE), _entity(LINE, EntityKind.LINE)],
        [
            _rel(SITE, RelationKind.FEEDS, _MISSING),
            _rel(SITE, RelationKind.FEEDS, LINE),
            _rel(SITE, RelationKind.FEEDS, LINE),
        ],
    ),
]


@pytest.mark.parametrize(
    ("entities", "relations"),
    [pytest.param(e, r, id=name) for name, e, r in _BULK_MISFITS],
)
def test_from_parts_refuses_a_misfit_with_the_error_apply_gives(
    entities: list[Entity], relations: list[Relation]
) -> None:
    with pytest.raises(GraphConflictError) as one_by_one:
        _one_by_one(entities, relations)
    with pytest.raises(GraphConflictError) as bulk:
        TwinGraph.from_parts(entities, relations)
    assert str(bulk.value) == str(one_by_one.value)


@settings(max_examples=200, deadline=None)
@given(small_graphs(), small_graphs())
def test_a_graph_from_parts_takes_later_changes_as_one_built_by_apply(
    old: TwinGraph, new: TwinGraph
) -> None:
    bulk = TwinGraph.from_parts(*_parts(old))
    changes = diff(old, new)
    old.apply_all(changes)
    bulk.apply_all(changes)
    assert ordered(bulk) == ordered(old)


def test_a_copy_of_a_graph_from_parts_does_not_share_indices() -> None:
    g = TwinGraph.from_parts(*_parts(_plant()))
    other = g.copy()
    other.apply_all(other.removal_changes(LINE))
    assert ordered(g) == ordered(_plant())


def test_set_and_removed_properties_keep_every_field_of_the_entity() -> None:
    # The graph rebuilds an entity field by field when a property changes;
    # a new field of Entity must be carried over there (graph._with_properties).
    assert [f.name for f in dataclasses.fields(Entity)] == [
        "id",
        "kind",
        "name",
        "properties",
        "stamps",
    ]
