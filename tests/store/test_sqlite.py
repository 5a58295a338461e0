"""What only the SQLite backend promises: its lifecycle, its file and its settings."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest

from twinverse.store import SeriesKey, Store, StoreCorruptError, StoreError, TwinInfo
from twinverse.store.sqlite import APPLICATION_ID, SCHEMA_VERSION, SqliteStore
from twinverse.twin.events import EntityAdded, Event, PropertySet
from twinverse.twin.ids import EntityId
from twinverse.twin.model import Entity, EntityKind

TWIN = "acme"
MACHINE = EntityId("acme/m")


def _event(i: int) -> Event:
    return Event(twin=TWIN, ts=i, actor="t", change=PropertySet(MACHINE, "n", i))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "twin.db"


def test_it_is_a_store(path: Path) -> None:
    assert isinstance(SqliteStore(path), Store)


def test_the_constructor_touches_no_file(path: Path) -> None:
    SqliteStore(path)

    assert not path.exists()


def test_using_a_store_that_is_not_open_fails_with_a_hint(path: Path) -> None:
    store = SqliteStore(path)

    with pytest.raises(StoreError, match="not open") as caught:
        store.twins()
    assert caught.value.code == "store-closed"


def test_a_closed_store_can_be_closed_again_but_not_used(path: Path) -> None:
    store = SqliteStore(path).open()
    store.close()
    store.close()

    with pytest.raises(StoreError, match="not open"):
        store.last_seq(TWIN)


def test_opening_an_open_store_fails(path: Path) -> None:
    with SqliteStore(path) as store, pytest.raises(StoreError, match="open already"):
        store.open()


def test_data_survives_closing_and_reopening(path: Path) -> None:
    key = SeriesKey("acme/m", "v")
    with SqliteStore(path) as store:
        store.register_twin(TwinInfo(TWIN, "Acme", "t", 0))
        store.append_events(
            [
                Event(
                    twin=TWIN,
                    ts=1,
                    actor="t",
                    change=EntityAdded(Entity(MACHINE, EntityKind.MACHINE, "m")),
                )
            ]
        )
        store.append_samples([key], np.zeros(3, dtype=np.int64), np.arange(3), np.ones(3))

    with SqliteStore(path) as store:
        assert [e.seq for e in store.events(TWIN)] == [1]
        assert store.samples(key, 0, 10).ts.tolist() == [0, 1, 2]


def test_the_file_is_marked_and_set_up_for_durability(path: Path) -> None:
    with SqliteStore(path) as store:
        store.twins()
        with sqlite3.connect(path) as con:
            assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
            assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        con.close()
        # Per-connection settings, read on the store's own connection.
        assert store._con is not None
        assert store._con.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert store._con.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store._con.execute("PRAGMA busy_timeout").fetchone()[0] == 5000


def test_an_empty_file_becomes_a_store(path: Path) -> None:
    path.write_bytes(b"")

    with SqliteStore(path) as store:
        assert store.twins() == []


@pytest.mark.parametrize("size", [10, 4096, 100_000])
def test_a_file_of_garbage_is_reported_as_corrupt_with_its_path(path: Path, size: int) -> None:
    path.write_bytes(np.random.default_rng(size).bytes(size))

    with pytest.raises(StoreCorruptError, match=str(path)) as caught:
        SqliteStore(path).open()
    assert caught.value.code == "store-corrupt"
    assert isinstance(caught.value.__cause__, sqlite3.DatabaseError)


def test_a_database_of_another_application_is_reported_as_corrupt(path: Path) -> None:
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    con.close()

    with pytest.raises(StoreCorruptError, match="invoices"):
        SqliteStore(path).open()
    with sqlite3.connect(path) as con:
        # Not switched to WAL: a file that is not ours is left as it was.
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    con.close()


def test_a_database_marked_by_another_application_is_reported_as_corrupt(path: Path) -> None:
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA application_id = 1234")
    con.close()

    with pytest.raises(StoreCorruptError, match="another application"):
        SqliteStore(path).open()


def test_a_store_from_a_newer_twinverse_is_refused(path: Path) -> None:
    with SqliteStore(path):
        pass
    with sqlite3.connect(path) as con:
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()

    with pytest.raises(StoreError, match="newer twinverse") as caught:
        SqliteStore(path).open()
    assert caught.value.code == "store-version"


def test_a_missing_directory_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="missing"):
        SqliteStore(tmp_path / "missing" / "twin.db").open()


def test_a_damaged_event_payload_is_reported_as_corrupt(path: Path) -> None:
    with SqliteStore(path) as store:
        store.register_twin(TwinInfo(TWIN, "Acme", "t", 0))
        store.append_events([_event(1)])
    with sqlite3.connect(path) as con:
        con.execute("UPDATE event SET payload = x'7b6e6f' WHERE seq = 1")
    con.close()

    with SqliteStore(path) as store, pytest.raises(StoreCorruptError, match="seq 1"):
        store.events(TWIN)


def test_appends_from_many_threads_get_distinct_seqs(path: Path) -> None:
    with SqliteStore(path) as store:
        store.register_twin(TwinInfo(TWIN, "Acme", "t", 0))
        store.append_events(
            [Event(TWIN, 0, "t", EntityAdded(Entity(MACHINE, EntityKind.MACHINE, "m")))]
        )
        errors: list[BaseException] = []

        def append_some() -> None:
            try:
                for i in range(25):
                    store.append_events([_event(i), _event(i)])
            except BaseException as err:  # reported below, in the test's thread
                errors.append(err)

        threads = [threading.Thread(target=append_some) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        seqs = [e.seq for e in store.events(TWIN)]
        assert errors == []
        assert seqs == list(range(1, 202))
