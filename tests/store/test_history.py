"""The twin over time: as-of reconstruction and TwinHistory, on every backend."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_backends import BACKENDS

from twinverse.store import ConflictError, Snapshot, Store, StoreCorruptError, TwinInfo
from twinverse.store.history import TwinHistory, graph_as_of
from twinverse.twin import codec
from twinverse.twin.errors import GraphConflictError
from twinverse.twin.events import (
    Change,
    EntityAdded,
    EntityRemoved,
    Event,
    PropertyRemoved,
    PropertySet,
    RelationAdded,
    RelationRemoved,
)
from twinverse.twin.graph import TwinGraph
from twinverse.twin.ids import EntityId
from twinverse.twin.model import Entity, EntityKind, GeoPoint, Relation, RelationKind
from twinverse.twin.quantity import UNITS, Quantity

TWIN = "acme"
ROOT = EntityId(TWIN)


def canonical(graph: TwinGraph) -> tuple[list[bytes], list[bytes]]:
    """The graph as sorted JSON documents: equal graphs give equal results."""
    entities = sorted(
        orjson.dumps(codec.entity_to_dict(e), option=orjson.OPT_SORT_KEYS) for e in graph.entities()
    )
    relations = sorted(
        orjson.dumps(codec.relation_to_dict(r), option=orjson.OPT_SORT_KEYS)
        for r in graph.relations()
    )
    return entities, relations


class Clock:
    """A test clock: each call is 1 µs after the previous one; ``last`` is the last reading."""

    def __init__(self, start: int = 1_000_000) -> None:
        self._ticks = itertools.count(start, 1000)
        self.last: int | None = None

    def __call__(self) -> int:
        self.last = next(self._ticks)
        return self.last


@contextmanager
def fresh_store(backend: str) -> Iterator[Store]:
    """A new, empty store with the twin registered (for use inside Hypothesis examples)."""
    with tempfile.TemporaryDirectory() as tmp:
        store = BACKENDS[backend](Path(tmp))
        try:
            store.register_twin(TwinInfo(TWIN, "Acme", "tenant-a", 0))
            yield store
        finally:
            store.close()


@pytest.fixture
def log(store: Store) -> Store:
    store.register_twin(TwinInfo(TWIN, "Acme", "tenant-a", 0))
    return store


def _entity(local: str, kind: EntityKind = EntityKind.MACHINE, **props: Any) -> Entity:
    return Entity(EntityId(f"{TWIN}/{local}"), kind, local, dict(props))


def _contains(parent: EntityId, child: EntityId) -> RelationAdded:
    return RelationAdded(Relation(parent, RelationKind.CONTAINS, child))


def _with_root(history: TwinHistory) -> None:
    history.commit([EntityAdded(Entity(ROOT, EntityKind.ENTERPRISE, "Acme"))], actor="setup")


# ------------------------------------------------------------- graph_as_of
def test_the_graph_of_a_twin_without_events_is_empty(log: Store) -> None:
    assert len(graph_as_of(log, TWIN)) == 0
    assert len(graph_as_of(log, "nobody", 10)) == 0


def test_as_of_a_time_includes_exactly_the_events_until_then(log: Store) -> None:
    history = TwinHistory.load(log, TWIN, clock=Clock())
    history.commit([EntityAdded(Entity(ROOT, EntityKind.ENTERPRISE, "Acme"))], "a", ts=100)
    history.commit([EntityAdded(_entity("m1"))], "a", ts=200)
    history.commit([PropertySet(EntityId("acme/m1"), "rate", 2)], "a", ts=200)
    history.commit([PropertySet(EntityId("acme/m1"), "rate", 3)], "a", ts=300)

    assert len(graph_as_of(log, TWIN, 99)) == 0
    assert len(graph_as_of(log, TWIN, 100)) == 1
    assert graph_as_of(log, TWIN, 250).entity("acme/m1").properties == {"rate": 2}
    assert graph_as_of(log, TWIN, 250).entity("acme/m1").stamps == {"rate": 200}
    assert graph_as_of(log, TWIN).entity("acme/m1").properties == {"rate": 3}


def test_a_snapshot_in_the_middle_of_events_sharing_a_time_is_a_valid_start(log: Store) -> None:
    history = TwinHistory.load(log, TWIN, clock=Clock())
    history.commit([EntityAdded(Entity(ROOT, EntityKind.ENTERPRISE, "Acme"))], "a", ts=100)
    history.commit([EntityAdded(_entity("m1"))], "a", ts=200)
    history.snapshot()
    history.commit([EntityAdded(_entity("m2"))], "a", ts=200)

    as_of = graph_as_of(log, TWIN, 200)

    assert sorted(e.id for e in as_of.entities()) == ["acme", "acme/m1", "acme/m2"]


def test_a_log_that_does_not_replay_is_reported_as_corrupt(log: Store) -> None:
    log.append_events([_event(PropertySet(EntityId("acme/ghost"), "rate", 1), ts=1)])

    with pytest.raises(StoreCorruptError, match="seq 1"):
        graph_as_of(log, TWIN)


def test_an_undecodable_snapshot_is_reported_as_corrupt(log: Store) -> None:
    log.append_events([_event(EntityAdded(Entity(ROOT, EntityKind.ENTERPRISE, "Acme")), ts=1)])
    log.save_snapshot(Snapshot(TWIN, 1, 1, b'{"entities": 3}'))

    with pytest.raises(StoreCorruptError, match="snapshot"):
        graph_as_of(log, TWIN)


def _event(change: Change, ts: int) -> Event:
    return Event(twin=TWIN, ts=ts, actor="t", change=change)


def _snapshot_of(log: Store, data: bytes) -> None:
    """Store ``data`` as the snapshot after the twin's first (and only) event."""
    log.append_events([_event(EntityAdded(Entity(ROOT, EntityKind.ENTERPRISE, "Acme")), ts=1)])
    log.save_snapshot(Snapshot(TWIN, 1, 1, data))


@pytest.mark.parametrize(
    ("entities", "relations", "conflict"),
    [
        pytest.param(
            [{"id": "acme", "kind": "enterprise", "name": "Acme"}] * 2,
            [],
            "exists already",
            id="entity-twice",
        ),
        pytest.param(
            [{"id": "acme", "kind": "enterprise", "name": "Acme"}],
            [{"source": "acme", "kind": "contains", "target": "acme/gone"}],
            "no entity 'acme/gone'",
            id="relation-to-missing",
        ),
    ],
)
def test_a_snapshot_whose_parts_do_not_fit_is_reported_as_corrupt(
    log: Store, entities: list[dict[str, str]], relations: list[dict[str, str]], conflict: str
) -> None:
    _snapshot_of(log, orjson.dumps({"entities": entities, "relations": relations}))

    with pytest.raises(StoreCorruptError, match=f"snapshot.*{conflict}"):
        graph_as_of(log, TWIN)


# ------------------------------------------------------------- TwinHistory
def test_commit_stamps_events_with_the_injected_clock(log: Store) -> None:
    clock = Clock(start=5_000)
    history = TwinHistory.load(log, TWIN, clock=clock)

    stored = history.commit(
        [EntityAdded(Entity(ROOT, EntityKind.ENTERPRISE, "Acme"))], "alice", reason="setup"
    )

    assert [(e.ts, e.actor, e.reason, e.seq) for e in stored] == [(5_000, "alice", "setup", 1)]
    assert history.last_seq == 1


def test_a_commit_earlier_than_the_last_event_gets_the_last_time(log: Store) -> None:
    history = TwinHistory.load(log, TWIN, clock=Clock())
    history.commit([EntityAdded(Entity(ROOT, EntityKind.ENTERPRISE, "Acme"))], "a", ts=500)
    history.commit([EntityAdded(_entity("m1"))], "a", ts=600)

    stored = history.commit([PropertySet(EntityId("acme/m1"), "rate", 1)], "a", ts=10)

    assert stored[0].ts == 600
    assert history.graph.entity("acme/m1").stamps == {"rate": 600}
    assert canonical(history.graph) == canonical(graph_as_of(log, TWIN))


@pytest.mark.parametrize(
    "changes",
    [
        [EntityAdded(Entity(ROOT, EntityKind.ENTERPRISE, "again"))],
        [EntityAdded(_entity("m9")), PropertySet(EntityId("acme/nobody"), "rate", 1)],
        [EntityAdded(_entity("m9")), _contains(ROOT, EntityId("acme/m9")), EntityRemoved(ROOT)],
    ],
    ids=["single-change", "second-of-two-fails", "third-of-three-fails"],
)
def test_a_change_that_does_not_fit_stores_nothing_and_keeps_the_graph(
    log: Store, changes: list[Change]
) -> None:
    history = TwinHistory.load(log, TWIN, clock=Clock())
    _with_root(history)
    before = canonical(history.graph)

    with pytest.raises(GraphConflictError):
        history.commit(changes, "a")

    assert log.last_seq(TWIN) == 1
    assert canonical(history.graph) == before


def test_a_graph_handed_out_is_never_changed_by_later_commits(log: Store) -> None:
    history = TwinHistory.load(log, TWIN, clock=Clock())
    _with_root(history)
    before = history.graph

    history.commit([EntityAdded(_entity("m1"))], "a")

    assert "acme/m1" not in before
    assert "acme/m1" in history.graph


def test_a_second_writer_is_detected_and_the_history_catches_up(log: Store) -> None:
    first = TwinHistory.load(log, TWIN, clock=Clock())
    _with_root(first)
    second = TwinHistory.load(log, TWIN, clock=Clock())
    second.commit([EntityAdded(_entity("from-second"))], "b")

    with pytest.raises(ConflictError):
        first.commit([EntityAdded(_entity("from-first"))], "a")

    assert "acme/from-second" in first.graph
    assert "acme/from-first" not in first.graph
    first.commit([EntityAdded(_entity("from-first"))], "a")
    assert canonical(first.graph) == canonical(graph_as_of(log, TWIN))


def test_a_snapshot_is_taken_every_n_events(log: Store) -> None:
    history = TwinHistory.load(log, TWIN, clock=Clock(), snapshot_every=3)
    _with_root(history)
    history.commit([EntityAdded(_entity("m1")), EntityAdded(_entity("m2"))], "a")
    after_three = log.latest_snapshot(TWIN)
    history.commit([EntityAdded(_entity("m3"))], "a")

    assert after_three is not None and after_three.seq == 3
    assert len(codec.decode_graph(after_three.data)) == 3
    assert log.latest_snapshot(TWIN) == after_three


def test_load_continues_from_the_latest_snapshot(log: Store) -> None:
    history = TwinHistory.load(log, TWIN, clock=Clock(), snapshot_every=2)
    _with_root(history)
    for i in range(5):
        history.commit(
            [EntityAdded(_entity(f"m{i}")), _contains(ROOT, EntityId(f"acme/m{i}"))], "a"
        )

    reloaded = TwinHistory.load(log, TWIN, clock=Clock(), snapshot_every=2)

    assert canonical(reloaded.graph) == canonical(history.graph)
    assert reloaded.last_seq == history.last_seq


def test_a_new_history_loads_on_first_use(log: Store) -> None:
    TwinHistory.load(log, TWIN, clock=Clock()).commit(
        [EntityAdded(Entity(ROOT, EntityKind.ENTERPRISE, "Acme"))], "a"
    )

    lazy = TwinHistory(log, TWIN, clock=Clock())

    assert ROOT in lazy.graph


def test_snapshot_every_must_be_positive(log: Store) -> None:
    with pytest.raises(ValueError, match="snapshot_every"):
        TwinHistory(log, TWIN, clock=Clock(), snapshot_every=0)


# ------------------------------------------------------ property: as-of == replay
LOCAL_IDS = [f"e{i}" for i in range(8)]
PROPERTY_NAMES = ["rate", "state", "pos", "spec", "name"]
KEYS = st.text(st.characters(codec="utf-8", exclude_characters="$"), max_size=6)


def _quantities() -> st.SearchStrategy[Quantity]:
    numbers = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)
    return st.builds(Quantity.of, numbers, st.sampled_from(sorted(UNITS)))


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
    _quantities(),
    st.builds(GeoPoint, st.floats(-90, 90), st.floats(-180, 180)),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def changes(draw: st.DrawFn, graph: TwinGraph) -> Change | None:
    """A change that fits ``graph``, or None when the drawn kind has nothing to act on."""
    ids = sorted(e.id for e in graph.entities() if e.id != ROOT)
    kind = draw(
        st.sampled_from(["add", "add", "set", "set", "unset", "relate", "unrelate", "remove"])
    )
    if kind == "add":
        free = [i for i in LOCAL_IDS if EntityId(f"{TWIN}/{i}") not in graph]
        if not free:
            return None
        props = draw(st.dictionaries(st.sampled_from(PROPERTY_NAMES[:-1]), VALUES, max_size=3))
        kind_ = draw(st.sampled_from(list(EntityKind)))
        return EntityAdded(_entity(draw(st.sampled_from(free)), kind_, **props))
    if not ids:
        return None
    target = EntityId(draw(st.sampled_from(ids)))
    if kind == "set":
        name = draw(st.sampled_from(PROPERTY_NAMES))
        value = draw(st.text(max_size=8)) if name == "name" else draw(VALUES)
        return PropertySet(target, name, value)
    if kind == "unset":
        props = sorted(graph.entity(target).properties)
        return PropertyRemoved(target, draw(st.sampled_from(props))) if props else None
    if kind == "relate":
        source = EntityId(draw(st.sampled_from([*ids, ROOT])))
        relation_kind = draw(st.sampled_from(list(RelationKind)))
        rel = Relation(
            source, relation_kind, target, draw(st.dictionaries(KEYS, VALUES, max_size=2))
        )
        if rel.key in {r.key for r in graph.relations()}:
            return None
        if relation_kind is RelationKind.CONTAINS and (
            graph.parent(target) is not None or graph.is_within(source, target)
        ):
            return None
        return RelationAdded(rel)
    if kind == "unrelate":
        rels = sorted(graph.relations(), key=lambda r: r.key)
        return RelationRemoved(draw(st.sampled_from(rels)).key) if rels else None
    if graph.outgoing(target) or graph.incoming(target):
        return None
    return EntityRemoved(target)


@dataclass(frozen=True)
class Commit:
    changes: list[Change]
    ts: int | None  # None: the history's clock
    snapshot_after: bool


@st.composite
def histories(draw: st.DrawFn) -> list[Commit]:
    """Random valid commits; times mostly rise, often repeat and sometimes go back."""
    model = TwinGraph()
    model.apply(EntityAdded(Entity(ROOT, EntityKind.ENTERPRISE, "Acme")))
    commits: list[Commit] = []
    ts = 10_000
    for _ in range(draw(st.integers(1, 25))):
        batch: list[Change] = []
        for _ in range(draw(st.integers(1, 3))):
            change = draw(changes(model))
            if change is not None:
                model.apply(change)
                batch.append(change)
        if not batch:
            continue
        step = draw(st.sampled_from(["same", "later", "later", "earlier", "clock"]))
        ts = {"same": ts, "later": ts + 7, "earlier": ts - 13, "clock": ts}[step]
        commits.append(Commit(batch, None if step == "clock" else ts, draw(st.booleans())))
    return commits


def _replay_model(stored: list[Event], until: int | None) -> TwinGraph:
    """The graph from applying the stored events with ts <= ``until``: no snapshot, no store."""
    graph = TwinGraph()
    for event in stored:
        if until is None or event.ts <= until:
            graph.apply(event.change, event.ts)
    return graph


def _check_as_of_matches_replay(backend: str, commits: list[Commit], every: int) -> None:
    with fresh_store(backend) as store:
        clock = Clock(start=9_000)
        history = TwinHistory.load(store, TWIN, clock=clock, snapshot_every=every)
        _with_root(history)
        stored = list(store.events(TWIN))
        expected_ts = stored[-1].ts
        for commit in commits:
            events = history.commit(commit.changes, "prop", ts=commit.ts)
            wanted = clock.last if commit.ts is None else commit.ts
            assert wanted is not None
            expected_ts = max(expected_ts, wanted)
            assert all(e.ts == expected_ts for e in events)
            stored.extend(events)
            if commit.snapshot_after:
                history.snapshot()
        times = sorted({e.ts for e in stored})
        probes = [None, times[0] - 1, *times, *(t + 1 for t in times), *(t - 1 for t in times)]
        for until in probes:
            assert canonical(graph_as_of(store, TWIN, until)) == canonical(
                _replay_model(stored, until)
            ), f"as of {until}"
        assert canonical(history.graph) == canonical(_replay_model(stored, None))
        reloaded = TwinHistory.load(store, TWIN, clock=Clock())
        assert canonical(reloaded.graph) == canonical(history.graph)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(commits=histories(), every=st.integers(1, 8))
def test_as_of_equals_replaying_the_events_until_then_in_memory(
    commits: list[Commit], every: int
) -> None:
    _check_as_of_matches_replay("memory", commits, every)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(commits=histories(), every=st.integers(1, 8))
def test_as_of_equals_replaying_the_events_until_then_in_sqlite(
    commits: list[Commit], every: int
) -> None:
    _check_as_of_matches_replay("sqlite", commits, every)


# ------------------------------------------------------ property: codec round trip
@st.composite
def graphs(draw: st.DrawFn) -> TwinGraph:
    graph = TwinGraph()
    graph.apply(EntityAdded(Entity(ROOT, EntityKind.ENTERPRISE, "Acme")))
    for step in range(draw(st.integers(0, 30))):
        change = draw(changes(graph))
        if change is not None:
            graph.apply(change, step)
    return graph


@settings(max_examples=200, deadline=None)
@given(graph=graphs())
def test_a_graph_survives_encoding_and_decoding(graph: TwinGraph) -> None:
    decoded = codec.decode_graph(codec.encode_graph(graph))

    assert canonical(decoded) == canonical(graph)
    assert decoded.relation_count == graph.relation_count
    for entity in graph.entities():
        assert decoded.entity(entity.id) == entity
    for relation in graph.relations():
        assert relation in decoded.outgoing(relation.source)


def _ordered(graph: TwinGraph) -> list[Any]:
    """The graph as its public API lists it, in that order."""
    return [
        [codec.entity_to_dict(e) for e in graph.entities()],
        [codec.relation_to_dict(r) for r in graph.relations()],
        [[r.key for r in graph.outgoing(e.id)] for e in graph.entities()],
        [[r.key for r in graph.incoming(e.id)] for e in graph.entities()],
    ]


@settings(max_examples=100, deadline=None)
@given(graph=graphs())
def test_a_snapshot_is_read_back_as_the_graph_codec_decodes(graph: TwinGraph) -> None:
    data = codec.encode_graph(graph)
    with fresh_store("memory") as store:
        _snapshot_of(store, data)

        read = graph_as_of(store, TWIN)

    assert _ordered(read) == _ordered(codec.decode_graph(data))
    assert canonical(read) == canonical(graph)
