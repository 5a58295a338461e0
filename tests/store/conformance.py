"""The behaviour every Store backend shares.

Each test takes the ``store`` fixture of ``conftest.py`` and so runs once per
backend. A new backend is added to ``BACKENDS`` there and must pass all of it.
"""

from __future__ import annotations

import numpy as np
import pytest

from twinverse.store import (
    AccountRecord,
    Aggregate,
    ConflictError,
    SeriesKey,
    Snapshot,
    Store,
    StoreError,
    TokenRecord,
    TwinInfo,
)
from twinverse.store.chunks import CHUNK_SAMPLES
from twinverse.twin.events import (
    EntityAdded,
    Event,
    PropertySet,
    RelationAdded,
    RelationRemoved,
)
from twinverse.twin.ids import EntityId
from twinverse.twin.model import Entity, EntityKind, Relation, RelationKind
from twinverse.twin.quantity import Quantity

TWIN = "acme"
OTHER = "globex"
MINUTE = 60 * 10**9
DAY = 24 * 60 * MINUTE
T0 = 1_800_000_000 * 10**9


def _id(local: str, twin: str = TWIN) -> EntityId:
    return EntityId(f"{twin}/{local}")


def _added(local: str, ts: int, twin: str = TWIN) -> Event:
    entity = Entity(_id(local, twin), EntityKind.MACHINE, local)
    return Event(twin=twin, ts=ts, actor="tester", change=EntityAdded(entity))


def _set(local: str, ts: int, value: object = 1.0, twin: str = TWIN) -> Event:
    change = PropertySet(_id(local, twin), "rate", value)
    return Event(twin=twin, ts=ts, actor="tester", change=change, reason="tuning")


def _relation(source: str, target: str, ts: int, kind: RelationKind = RelationKind.FEEDS) -> Event:
    change = RelationAdded(Relation(_id(source), kind, _id(target)))
    return Event(twin=TWIN, ts=ts, actor="tester", change=change)


@pytest.fixture
def twin_store(store: Store) -> Store:
    """The store with two twins registered."""
    store.register_twin(TwinInfo(TWIN, "Acme", "tenant-a", 1))
    store.register_twin(TwinInfo(OTHER, "Globex", "tenant-b", 2))
    return store


# ------------------------------------------------------------------- twins
def test_registered_twins_are_listed_by_prefix(store: Store) -> None:
    store.register_twin(TwinInfo("zeta", "Zeta", "t1", 5))
    store.register_twin(TwinInfo("alpha", "Alpha", "t2", 6))

    assert [t.prefix for t in store.twins()] == ["alpha", "zeta"]
    assert store.twin("zeta") == TwinInfo("zeta", "Zeta", "t1", 5)


def test_unknown_twin_is_none(store: Store) -> None:
    assert store.twin("nobody") is None


def test_registering_a_taken_prefix_conflicts(store: Store) -> None:
    store.register_twin(TwinInfo(TWIN, "Acme", "tenant-a", 1))

    with pytest.raises(ConflictError, match=TWIN):
        store.register_twin(TwinInfo(TWIN, "Other Acme", "tenant-b", 2))
    assert store.twin(TWIN) == TwinInfo(TWIN, "Acme", "tenant-a", 1)


# ------------------------------------------------------------------ events
def test_append_assigns_increasing_seqs_and_reads_back(twin_store: Store) -> None:
    stored = twin_store.append_events([_added("a", 10), _added("b", 11), _set("a", 12)])

    assert [e.seq for e in stored] == [1, 2, 3]
    assert twin_store.events(TWIN) == stored
    assert twin_store.last_seq(TWIN) == 3


def test_seqs_are_one_counter_across_twins(twin_store: Store) -> None:
    first = twin_store.append_events([_added("a", 10)])
    other = twin_store.append_events([_added("x", 10, twin=OTHER)])
    second = twin_store.append_events([_added("b", 11)])

    assert first[0].seq < other[0].seq < second[0].seq
    assert [e.seq for e in twin_store.events(TWIN)] == [first[0].seq, second[0].seq]
    assert twin_store.events(OTHER) == other


def test_last_seq_of_a_twin_without_events_is_zero(twin_store: Store) -> None:
    assert twin_store.last_seq(TWIN) == 0
    assert twin_store.last_seq("nobody") == 0


def test_appending_nothing_stores_nothing(twin_store: Store) -> None:
    assert twin_store.append_events([]) == []
    assert twin_store.last_seq(TWIN) == 0


def test_append_to_an_unregistered_twin_fails(twin_store: Store) -> None:
    with pytest.raises(StoreError, match="nobody") as caught:
        twin_store.append_events([_added("a", 10, twin="nobody")])
    assert caught.value.code == "unknown-twin"


def test_a_failed_append_stores_none_of_its_events(twin_store: Store) -> None:
    with pytest.raises(StoreError):
        twin_store.append_events([_added("a", 10), _added("b", 10, twin="nobody")])
    assert twin_store.events(TWIN) == []


def test_an_event_older_than_the_last_gets_the_last_time(twin_store: Store) -> None:
    twin_store.append_events([_added("a", 100)])
    stored = twin_store.append_events([_set("a", 50), _set("a", 120), _set("a", 110)])

    assert [e.ts for e in stored] == [100, 120, 120]
    assert [e.ts for e in twin_store.events(TWIN)] == [100, 100, 120, 120]


def test_times_are_made_non_decreasing_per_twin_only(twin_store: Store) -> None:
    twin_store.append_events([_added("a", 100)])
    stored = twin_store.append_events([_added("x", 5, twin=OTHER)])

    assert stored[0].ts == 5


def test_expect_seq_matching_the_last_seq_appends(twin_store: Store) -> None:
    first = twin_store.append_events([_added("a", 10)], expect_seq=0)
    second = twin_store.append_events([_set("a", 11)], expect_seq=first[-1].seq)

    assert twin_store.events(TWIN) == first + second


def test_expect_seq_behind_the_log_conflicts_and_stores_nothing(twin_store: Store) -> None:
    twin_store.append_events([_added("a", 10)])

    with pytest.raises(ConflictError, match="seq 1"):
        twin_store.append_events([_set("a", 11)], expect_seq=0)
    assert twin_store.last_seq(TWIN) == 1


def test_expect_seq_counts_only_the_own_twin(twin_store: Store) -> None:
    mine = twin_store.append_events([_added("a", 10)])
    twin_store.append_events([_added("x", 10, twin=OTHER)])

    twin_store.append_events([_set("a", 11)], expect_seq=mine[-1].seq)


def test_expect_seq_for_events_of_several_twins_is_rejected(twin_store: Store) -> None:
    with pytest.raises(StoreError, match="one twin"):
        twin_store.append_events([_added("a", 1), _added("x", 1, twin=OTHER)], expect_seq=0)


def test_events_round_trip_values_through_the_store(twin_store: Store) -> None:
    twin_store.append_events([_added("a", 10)])
    value = {"speed": Quantity.of(2.5, "m/s"), "tags": ["x", 1, None], "ok": True}
    stored = twin_store.append_events([_set("a", 11, value=value)])

    (read,) = twin_store.events(TWIN, after_seq=1)
    assert read == stored[0]
    assert read.actor == "tester" and read.reason == "tuning"


def test_entity_filter_finds_subject_and_relation_target(twin_store: Store) -> None:
    twin_store.append_events([_added("a", 1), _added("b", 2), _added("c", 3)])
    twin_store.append_events([_relation("a", "b", 4), _set("b", 5), _relation("c", "a", 6)])
    removed = Event(
        twin=TWIN,
        ts=7,
        actor="tester",
        change=RelationRemoved((_id("a"), RelationKind.FEEDS, _id("b"))),
    )
    twin_store.append_events([removed])

    touching_b = twin_store.events(TWIN, entity=_id("b"))
    touching_a = twin_store.events(TWIN, entity=_id("a"))

    assert [e.seq for e in touching_b] == [2, 4, 5, 7]
    assert [e.seq for e in touching_a] == [1, 4, 6, 7]
    assert all(e.touches(_id("b")) for e in touching_b)


def test_entity_filter_lists_a_self_relation_once(twin_store: Store) -> None:
    twin_store.append_events([_added("a", 1), _relation("a", "a", 2)])

    assert [e.seq for e in twin_store.events(TWIN, entity=_id("a"))] == [1, 2]


def test_entity_filter_combines_with_the_other_bounds(twin_store: Store) -> None:
    twin_store.append_events([_added("a", 1)] + [_set("a", t) for t in range(2, 12)])

    page = twin_store.events(TWIN, entity=_id("a"), after_seq=3, until_ts=8, limit=3)

    assert [e.seq for e in page] == [4, 5, 6]


def test_until_ts_is_inclusive_and_keeps_events_sharing_a_time(twin_store: Store) -> None:
    twin_store.append_events([_added("a", 10), _set("a", 20), _set("a", 20), _set("a", 30)])

    assert [e.seq for e in twin_store.events(TWIN, until_ts=20)] == [1, 2, 3]
    assert [e.seq for e in twin_store.events(TWIN, until_ts=19)] == [1]
    assert twin_store.events(TWIN, until_ts=9) == []
    assert len(twin_store.events(TWIN, until_ts=10**18)) == 4


def test_until_ts_after_fix_up_uses_the_stored_times(twin_store: Store) -> None:
    twin_store.append_events([_added("a", 10), _set("a", 30), _set("a", 5)])

    assert [e.seq for e in twin_store.events(TWIN, until_ts=29)] == [1]


def test_until_seq_and_after_seq_bound_the_range(twin_store: Store) -> None:
    twin_store.append_events([_added("a", 1)] + [_set("a", t) for t in range(2, 10)])

    assert [e.seq for e in twin_store.events(TWIN, after_seq=2, until_seq=5)] == [3, 4, 5]


def test_limit_pages_through_the_log(twin_store: Store) -> None:
    stored = twin_store.append_events([_added("a", 1)] + [_set("a", t) for t in range(2, 26)])

    pages: list[list[Event]] = []
    after = 0
    while page := twin_store.events(TWIN, after_seq=after, limit=10):
        pages.append(page)
        after = page[-1].seq

    assert [len(p) for p in pages] == [10, 10, 5]
    assert [e for p in pages for e in p] == stored
    assert twin_store.events(TWIN, limit=0) == []


def test_events_of_an_unknown_twin_are_empty(store: Store) -> None:
    assert store.events("nobody") == []


# --------------------------------------------------------------- snapshots
def test_latest_snapshot_is_the_highest_seq_at_or_before_the_time(twin_store: Store) -> None:
    for seq, ts in [(10, 100), (20, 200), (30, 200), (40, 300)]:
        twin_store.save_snapshot(Snapshot(TWIN, seq, ts, f"graph-{seq}".encode()))

    assert _seq_of(twin_store.latest_snapshot(TWIN)) == 40
    assert _seq_of(twin_store.latest_snapshot(TWIN, at_or_before_ts=299)) == 30
    assert _seq_of(twin_store.latest_snapshot(TWIN, at_or_before_ts=200)) == 30
    assert _seq_of(twin_store.latest_snapshot(TWIN, at_or_before_ts=100)) == 10
    assert twin_store.latest_snapshot(TWIN, at_or_before_ts=99) is None
    assert twin_store.latest_snapshot(OTHER) is None


def test_a_snapshot_keeps_its_data(twin_store: Store) -> None:
    data = b'{"entities":[],"relations":[]}' * 1000
    twin_store.save_snapshot(Snapshot(TWIN, 7, 70, data))

    assert twin_store.latest_snapshot(TWIN) == Snapshot(TWIN, 7, 70, data)


def test_a_snapshot_at_the_same_seq_replaces_the_old_one(twin_store: Store) -> None:
    twin_store.save_snapshot(Snapshot(TWIN, 7, 70, b"old"))
    twin_store.save_snapshot(Snapshot(TWIN, 7, 70, b"new"))

    assert twin_store.latest_snapshot(TWIN) == Snapshot(TWIN, 7, 70, b"new")


def test_a_snapshot_of_an_unregistered_twin_fails(store: Store) -> None:
    with pytest.raises(StoreError, match="nobody"):
        store.save_snapshot(Snapshot("nobody", 1, 1, b"{}"))


def _seq_of(snapshot: Snapshot | None) -> int | None:
    return None if snapshot is None else snapshot.seq


# ------------------------------------------------------------- time series
TEMP = SeriesKey("acme/press-1", "temperature")
POWER = SeriesKey("acme/press-1", "power")
SPEED = SeriesKey("acme/line-1", "speed")


def _append(
    store: Store, keys: list[SeriesKey], index: list[int], ts: list[int], values: list[float]
) -> int:
    return store.append_samples(
        keys, np.array(index), np.array(ts, dtype=np.int64), np.array(values, dtype=np.float64)
    )


def test_appended_samples_read_back_per_series_sorted(store: Store) -> None:
    count = _append(store, [TEMP, POWER], [0, 1, 0, 1, 0], [30, 10, 10, 20, 20], [3, 1, 1, 2, 2])

    temp = store.samples(TEMP, 0, 100)
    power = store.samples(POWER, 0, 100)

    assert count == 5
    assert temp.key == TEMP
    assert temp.ts.tolist() == [10, 20, 30] and temp.values.tolist() == [1, 2, 3]
    assert power.ts.tolist() == [10, 20] and power.values.tolist() == [1, 2]
    assert temp.ts.dtype == np.int64 and temp.values.dtype == np.float64


def test_sample_ranges_are_half_open(store: Store) -> None:
    _append(store, [TEMP], [0, 0, 0, 0], [10, 20, 30, 40], [1, 2, 3, 4])

    assert store.samples(TEMP, 20, 40).ts.tolist() == [20, 30]
    assert store.samples(TEMP, 41, 50).ts.tolist() == []
    assert store.samples(TEMP, 40, 20).ts.tolist() == []


def test_an_unknown_series_has_no_samples(store: Store) -> None:
    empty = store.samples(SPEED, 0, 100)

    assert empty.ts.size == 0 and empty.values.size == 0
    assert store.latest([SPEED]) == {}


def test_out_of_order_batches_read_back_sorted(store: Store) -> None:
    _append(store, [TEMP], [0, 0, 0], [100, 200, 300], [1, 2, 3])
    _append(store, [TEMP], [0, 0, 0], [50, 250, 150], [0.5, 2.5, 1.5])

    temp = store.samples(TEMP, 0, 1000)

    assert temp.ts.tolist() == [50, 100, 150, 200, 250, 300]
    assert temp.values.tolist() == [0.5, 1, 1.5, 2, 2.5, 3]


def test_of_samples_with_equal_times_the_later_appended_comes_last(store: Store) -> None:
    _append(store, [TEMP], [0, 0], [100, 200], [1, 2])
    _append(store, [TEMP], [0, 0], [200, 100], [20, 10])

    temp = store.samples(TEMP, 0, 1000)
    last = store.downsample([TEMP], 0, 1000, 1000, Aggregate.LAST)

    assert temp.ts.tolist() == [100, 100, 200, 200]
    assert temp.values.tolist() == [1, 10, 2, 20]
    assert store.latest([TEMP]) == {TEMP: (200, 20.0)}
    assert last[0].values.tolist() == [20]


def test_latest_is_the_newest_sample_of_each_series(store: Store) -> None:
    _append(store, [TEMP, POWER], [0, 0, 1], [300, 100, 50], [3, 1, 5])
    _append(store, [TEMP], [0], [200], [2])

    assert store.latest([TEMP, POWER, SPEED]) == {TEMP: (300, 3.0), POWER: (50, 5.0)}


def test_series_lists_keys_below_an_entity_in_the_id_tree(store: Store) -> None:
    near = SeriesKey("acme2/press-1", "temperature")
    _append(store, [TEMP, POWER, SPEED, near], [0, 1, 2, 3], [1, 1, 1, 1], [1, 1, 1, 1])

    assert store.series() == [SPEED, POWER, TEMP, near]
    assert store.series("acme") == [SPEED, POWER, TEMP]
    assert store.series("acme/press-1") == [POWER, TEMP]
    assert store.series("acme/press") == []


def test_nan_values_are_stored_as_given(store: Store) -> None:
    _append(store, [TEMP], [0, 0], [1, 2], [float("nan"), 1.0])

    values = store.samples(TEMP, 0, 10).values

    assert np.isnan(values[0]) and values[1] == 1.0


def test_a_large_shuffled_batch_spans_chunks_and_reads_back_sorted(store: Store) -> None:
    rng = np.random.default_rng(7)
    n = 3 * CHUNK_SAMPLES + 17
    ts = rng.permutation(n).astype(np.int64) * 1000 + T0
    index = rng.integers(0, 2, size=n)
    values = ts.astype(np.float64)

    assert store.append_samples([TEMP, POWER], index, ts, values) == n

    for i, key in enumerate([TEMP, POWER]):
        got = store.samples(key, T0, T0 + n * 1000)
        expected = np.sort(ts[index == i])
        assert np.array_equal(got.ts, expected)
        assert np.array_equal(got.values, expected.astype(np.float64))


@pytest.mark.parametrize("agg", list(Aggregate))
def test_downsample_matches_a_plain_computation(store: Store, agg: Aggregate) -> None:
    rng = np.random.default_rng(3)
    n = 5000
    ts = T0 + rng.integers(0, DAY, size=n)
    index = rng.integers(0, 2, size=n)
    values = rng.normal(size=n)
    store.append_samples([TEMP, POWER], index[: n // 2], ts[: n // 2], values[: n // 2])
    store.append_samples([TEMP, POWER], index[n // 2 :], ts[n // 2 :], values[n // 2 :])
    start, end, window = T0 + 7 * MINUTE, T0 + DAY - 13 * MINUTE, 10 * MINUTE

    result = store.downsample([TEMP, POWER, SPEED], start, end, window, agg)

    assert [w.key for w in result] == [TEMP, POWER, SPEED]
    assert result[2].window_start.size == 0 and result[2].values.size == 0
    for i in (0, 1):
        expected = _plain_windows(ts[index == i], values[index == i], start, end, window, agg)
        assert result[i].window_start.tolist() == list(expected)
        assert np.allclose(result[i].values, list(expected.values()), rtol=1e-12)


def _plain_windows(
    ts: np.ndarray, values: np.ndarray, start: int, end: int, window: int, agg: Aggregate
) -> dict[int, float]:
    """The aggregate per window, computed sample by sample (ties: later in time order wins)."""
    groups: dict[int, list[float]] = {}
    order = np.argsort(ts, kind="stable")
    for t, v in zip(ts[order].tolist(), values[order].tolist(), strict=True):
        if start <= t < end:
            groups.setdefault(start + (t - start) // window * window, []).append(v)
    folds = {
        Aggregate.MEAN: lambda vs: sum(vs) / len(vs),
        Aggregate.MIN: min,
        Aggregate.MAX: max,
        Aggregate.LAST: lambda vs: vs[-1],
        Aggregate.COUNT: lambda vs: float(len(vs)),
    }
    return {w: folds[agg](vs) for w, vs in sorted(groups.items())}


def test_downsample_windows_are_aligned_to_the_start(store: Store) -> None:
    _append(store, [TEMP], [0, 0, 0, 0], [5, 14, 15, 27], [1, 2, 3, 4])

    result = store.downsample([TEMP], 5, 30, 10, Aggregate.COUNT)[0]

    assert result.window_start.tolist() == [5, 15, 25]
    assert result.values.tolist() == [2, 1, 1]


def test_downsample_rejects_a_window_that_is_not_positive(store: Store) -> None:
    with pytest.raises(StoreError, match="window"):
        store.downsample([TEMP], 0, 100, 0, Aggregate.MEAN)


@pytest.mark.parametrize(
    ("index", "ts", "values", "message"),
    [
        ([0, 0], [1, 2, 3], [1.0, 2.0], "ts has 3"),
        ([0, 0, 0], [1, 2, 3], [1.0, 2.0], "values has 2"),
        ([0, 2], [1, 2], [1.0, 2.0], "series_index 2 at position 1"),
        ([0, -1], [1, 2], [1.0, 2.0], "series_index -1 at position 1"),
    ],
)
def test_malformed_sample_batches_are_rejected_with_the_reason(
    store: Store, index: list[int], ts: list[int], values: list[float], message: str
) -> None:
    with pytest.raises(StoreError, match=message):
        _append(store, [TEMP, POWER], index, ts, values)
    assert store.series() == []


def test_times_that_are_not_integers_are_rejected(store: Store) -> None:
    with pytest.raises(StoreError, match="integer nanoseconds"):
        store.append_samples([TEMP], np.array([0]), np.array([1.5]), np.array([1.0]))


def test_an_empty_batch_stores_nothing(store: Store) -> None:
    empty_i = np.array([], dtype=np.int64)

    assert store.append_samples([TEMP], empty_i, empty_i, np.array([], dtype=np.float64)) == 0
    assert store.series() == []


# ---------------------------------------------------------------- accounts
ALICE = AccountRecord(
    principal="alice",
    tenant="tenant-a",
    display_name="Alice",
    roles=("admin",),
    scopes=("acme/shanghai",),
    password_hash="$argon2id$x",
)
BOT = AccountRecord(
    principal="bot",
    tenant="tenant-a",
    display_name="Ingest bot",
    roles=("writer", "reader"),
    scopes=(),
    password_hash=None,
    is_service=True,
)
BOB = AccountRecord("bob", "tenant-b", "Bob", ("reader",), (), "$argon2id$y")


def test_accounts_are_stored_and_listed_per_tenant(store: Store) -> None:
    for record in (BOT, BOB, ALICE):
        store.put_account(record)

    assert store.account("alice") == ALICE
    assert store.account("bot") == BOT
    assert store.account("nobody") is None
    assert store.accounts() == [ALICE, BOB, BOT]
    assert store.accounts("tenant-a") == [ALICE, BOT]


def test_putting_an_account_again_replaces_it_and_keeps_its_tokens(store: Store) -> None:
    store.put_account(ALICE)
    token = TokenRecord("hash-1", "alice", 10**18, "session")
    store.put_token(token)
    renamed = AccountRecord("alice", "tenant-a", "Alice A.", ("reader",), (), None)

    store.put_account(renamed)

    assert store.account("alice") == renamed
    assert store.token("hash-1") == token


def test_tokens_are_stored_found_and_deleted(store: Store) -> None:
    store.put_account(ALICE)
    session = TokenRecord("hash-1", "alice", 1000, "session")
    api = TokenRecord("hash-2", "alice", 2000, "api")
    store.put_token(session)
    store.put_token(api)

    store.delete_token("hash-1")
    store.delete_token("never-issued")

    assert store.token("hash-1") is None
    assert store.token("hash-2") == api


def test_a_token_for_an_unknown_account_is_rejected(store: Store) -> None:
    with pytest.raises(StoreError, match="nobody") as caught:
        store.put_token(TokenRecord("hash-1", "nobody", 1000, "session"))
    assert caught.value.code == "unknown-principal"


def test_pruning_marks_keeps_each_sources_newest(store: Store) -> None:
    key = SeriesKey("86.1000.globex/m", "t")
    one = np.zeros(1, dtype=np.int64)
    for seq in range(1, 11):
        store.append_samples_once(
            [("a", seq), ("b", 100 + seq)], [key], one, np.array([seq]), np.array([1.0])
        )
    assert store.prune_marks(keep=3) == 14
    assert store.seen_marks("a", list(range(1, 11))) == {8, 9, 10}
    assert store.seen_marks("b", list(range(101, 111))) == {108, 109, 110}
    assert store.prune_marks(keep=3) == 0
