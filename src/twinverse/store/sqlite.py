"""The embedded SQLite backend: one file holds a deployment's events, snapshots,
time series and accounts. No server.

Lifecycle: ``SqliteStore(path)`` only remembers the path (no I/O). ``open()``
connects, checks that the file is a twinverse store — or creates one when the
file is new or empty — and returns the store; ``close()`` closes it and may be
called twice. ``with SqliteStore(path) as store:`` does both. Calling anything
else on a store that is not open raises StoreError (code ``store-closed``).

Durability: the WAL journal with ``synchronous=FULL``; a write returns after its
WAL frames are fsynced, so an acknowledged write survives ``kill -9`` and power
loss, and a write cut short leaves no trace (the transaction never committed).

Concurrency: one connection, guarded by one lock. Each call holds the lock only
for its SQL; encoding and decoding (codec, zlib, numpy) happen outside it, so a
thread pool overlaps the array work while the database sees one statement
stream. Other processes may open the same file; SQLite's file locks and the
busy timeout arbitrate between them.

Identity: the file carries ``PRAGMA application_id`` = :data:`APPLICATION_ID`
and ``PRAGMA user_version`` = the schema version. A file that is not SQLite, or
an SQLite database of another application, raises StoreCorruptError naming the
path; a store written by a newer twinverse raises StoreError.

Time series are kept as chunks (see :mod:`twinverse.store.chunks`): a row per
run of up to 8,192 samples of one series, times delta-encoded and
zlib-compressed, values raw float64 — row-per-sample SQLite tops out near 1M
samples/s, the chunks reach several times that, fsync included.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import IntEnum
from pathlib import Path
from typing import Final, Self

import numpy as np
import numpy.typing as npt
import orjson

from twinverse.store import (
    AccountRecord,
    Aggregate,
    ChunkDigest,
    ConflictError,
    Samples,
    SeriesKey,
    Snapshot,
    StoreCorruptError,
    StoreError,
    TokenRecord,
    TwinInfo,
    Windowed,
)
from twinverse.store.chunks import (
    Float64Array,
    Int64Array,
    aggregate,
    check_window,
    gather,
    split_batch,
)
from twinverse.store.sequencing import (
    check_expected,
    relation_target,
    sequence,
    twins_of,
    unknown_twin,
)
from twinverse.store.sqlitefile import FileKind, connect, immediate, translate
from twinverse.twin import codec
from twinverse.twin.codec import CodecError
from twinverse.twin.events import Event

# "TWNV": tells a twinverse store apart from any other SQLite file.
APPLICATION_ID: Final = 0x54574E56
SCHEMA_VERSION: Final = 1
# STRICT tables need SQLite 3.37.
MIN_SQLITE: Final = (3, 37, 0)


class BlobEncoding(IntEnum):
    """How a blob column is encoded; stored per row so the format can evolve."""

    RAW = 0  # the bytes as they are
    ZLIB = 1  # zlib-compressed bytes
    DELTA_ZLIB = 2  # int64 little-endian deltas (the first is absolute), zlib-compressed


_SCHEMA: Final = """
CREATE TABLE twin (
    prefix     TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    tenant     TEXT NOT NULL,
    created_ts INTEGER NOT NULL
) STRICT;

CREATE TABLE event (
    seq     INTEGER PRIMARY KEY,
    twin    TEXT NOT NULL REFERENCES twin(prefix),
    ts      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    reason  TEXT NOT NULL,
    subject TEXT NOT NULL,
    object  TEXT,            -- the target of a relation change: events(entity=) finds both ends
    kind    TEXT NOT NULL,
    payload BLOB NOT NULL    -- codec.encode_change
) STRICT;
CREATE INDEX event_by_twin_seq ON event (twin, seq);
CREATE INDEX event_by_twin_ts ON event (twin, ts);
CREATE INDEX event_by_twin_subject ON event (twin, subject);
CREATE INDEX event_by_twin_object ON event (twin, object) WHERE object IS NOT NULL;

CREATE TABLE snapshot (
    twin     TEXT NOT NULL REFERENCES twin(prefix),
    seq      INTEGER NOT NULL,
    ts       INTEGER NOT NULL,
    encoding INTEGER NOT NULL,
    data     BLOB NOT NULL,
    PRIMARY KEY (twin, seq)
) STRICT;

CREATE TABLE series (
    id     INTEGER PRIMARY KEY,
    entity TEXT NOT NULL,
    prop   TEXT NOT NULL,
    UNIQUE (entity, prop)
) STRICT;

CREATE TABLE chunk (
    id          INTEGER PRIMARY KEY,   -- append order: breaks ties between overlapping chunks
    series_id   INTEGER NOT NULL REFERENCES series(id),
    t_min       INTEGER NOT NULL,
    t_max       INTEGER NOT NULL,
    n           INTEGER NOT NULL,
    ts_encoding INTEGER NOT NULL,
    ts          BLOB NOT NULL,
    vals        BLOB NOT NULL          -- float64 little-endian
) STRICT;
-- Queries ask mostly for recent ranges, so the scan starts from t_max >= start.
CREATE INDEX chunk_by_series_tmax ON chunk (series_id, t_max);

CREATE TABLE account (
    principal     TEXT PRIMARY KEY,
    tenant        TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    roles         TEXT NOT NULL,       -- JSON array
    scopes        TEXT NOT NULL,       -- JSON array
    password_hash TEXT,
    is_service    INTEGER NOT NULL
) STRICT;
CREATE INDEX account_by_tenant ON account (tenant, principal);

CREATE TABLE token (
    token_hash TEXT PRIMARY KEY,
    principal  TEXT NOT NULL REFERENCES account(principal) ON DELETE CASCADE,
    expires_ts INTEGER NOT NULL,
    kind       TEXT NOT NULL
) STRICT;
CREATE INDEX token_by_principal ON token (principal);
"""

_FILE: Final = FileKind("store", APPLICATION_ID, _SCHEMA, SCHEMA_VERSION)

# Snapshots are JSON documents full of repeated keys: zlib level 1 shrinks a
# 100k-entity graph from 14 MB to 0.8 MB in 25 ms, which the smaller write and
# read repay many times over.
_SNAPSHOT_ZLIB_LEVEL: Final = 1
# Delta-encoded sample times are mostly repeats of one sampling interval: zlib
# level 1 halves what a bulk append writes and fsyncs (1.1 s vs 2.2 s for 10M).
_TS_ZLIB_LEVEL: Final = 1
# A bulk append can grow the WAL to hundreds of MB; truncate it back after
# checkpoints so the file does not keep that size forever.
_JOURNAL_SIZE_LIMIT: Final = 64 * 1024 * 1024
# The event indices (by subject, by target) take inserts all over their
# B-trees; with SQLite's default 2 MiB page cache a large append spills and
# rereads pages constantly.
_CACHE_KIB: Final = 64 * 1024

# Made on first use, so stores written before ingest existed need no migration.
_MARK_TABLE: Final = (
    "CREATE TABLE IF NOT EXISTS ingest_mark ("
    "source TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (source, seq)) WITHOUT ROWID"
)


class SqliteStore:
    """A twinverse store in one SQLite file (see the module docstring for lifecycle)."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._lock = threading.Lock()
        self._con: sqlite3.Connection | None = None
        # Series ids never change once assigned, so a cache stays valid even
        # when other processes add series.
        self._series_ids: dict[SeriesKey, int] = {}

    # --------------------------------------------------------------- lifecycle
    def open(self) -> Self:
        """Connect, then check or create the schema. Returns the store.

        Raises StoreCorruptError when the file is not a twinverse store, and
        StoreError when it cannot be opened, is from a newer twinverse, or the
        store is open already.
        """
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            raise StoreError(
                f"the SQLite store needs SQLite >= {'.'.join(map(str, MIN_SQLITE))}, "
                f"this Python has {sqlite3.sqlite_version}"
            )
        with self._lock:
            if self._con is not None:
                raise StoreError(f"store {self.path} is open already", code="store-open")
            con = connect(self.path, _FILE, busy_timeout=self.busy_timeout)
            try:
                con.execute("PRAGMA foreign_keys=ON")
                con.execute(f"PRAGMA journal_size_limit={_JOURNAL_SIZE_LIMIT}")
                con.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
            except sqlite3.Error as err:
                con.close()
                raise self._translate(err) from err
            self._con = con
        return self

    def close(self) -> None:
        """Close the connection; closing a closed store does nothing."""
        with self._lock:
            con, self._con = self._con, None
            if con is None:
                return
            try:
                con.execute("PRAGMA optimize")
            except sqlite3.Error:
                # optimize only refreshes planner statistics; a failure must not
                # keep the connection open.
                pass
            finally:
                con.close()

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "open" if self._con is not None else "closed"
        return f"SqliteStore({str(self.path)!r}, {state})"

    # ------------------------------------------------------------- plumbing
    def _translate(self, err: sqlite3.Error) -> StoreError:
        return translate(err, self.path, _FILE)

    def _connection(self) -> sqlite3.Connection:
        if self._con is None:
            raise StoreError(
                f"store {self.path} is not open: call open() or use 'with SqliteStore(...)'",
                code="store-closed",
            )
        return self._con

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """The connection under the lock, with SQLite errors turned into StoreErrors."""
        with self._lock:
            con = self._connection()
            try:
                yield con
            except sqlite3.Error as err:
                raise self._translate(err) from err

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under the lock: committed (durably) on exit, else rolled back."""
        with self._lock:
            con = self._connection()
            try:
                with immediate(con):
                    yield con
            except sqlite3.Error as err:
                raise self._translate(err) from err

    # -------------------------------------------------------------- event log
    def register_twin(self, info: TwinInfo) -> None:
        """Record a twin; raises ConflictError when its prefix is taken."""
        with self._writing() as con:
            taken = con.execute("SELECT 1 FROM twin WHERE prefix = ?", (info.prefix,)).fetchone()
            if taken:
                raise ConflictError(f"a twin with prefix {info.prefix!r} exists already")
            con.execute(
                "INSERT INTO twin (prefix, name, tenant, created_ts) VALUES (?, ?, ?, ?)",
                (info.prefix, info.name, info.tenant, info.created_ts),
            )

    def twins(self) -> list[TwinInfo]:
        with self._reading() as con:
            rows = con.execute(
                "SELECT prefix, name, tenant, created_ts FROM twin ORDER BY prefix"
            ).fetchall()
        return [TwinInfo(*row) for row in rows]

    def twin(self, prefix: str) -> TwinInfo | None:
        with self._reading() as con:
            row = con.execute(
                "SELECT prefix, name, tenant, created_ts FROM twin WHERE prefix = ?", (prefix,)
            ).fetchone()
        return TwinInfo(*row) if row else None

    def append_events(
        self, events: Sequence[Event], *, expect_seq: int | None = None
    ) -> list[Event]:
        """Append atomically and durably; return the events with ``seq`` (and fixed ``ts``).

        Follows :mod:`twinverse.store.sequencing`. Raises StoreError (code
        ``unknown-twin``) for an unregistered twin, ConflictError when
        ``expect_seq`` is not the twin's last seq, and StoreError when
        ``expect_seq`` is given for events of several twins.
        """
        if not events:
            return []
        twins = twins_of(events, expect_seq)
        encoded = [_encode_event(e) for e in events]
        with self._writing() as con:
            last_ts: dict[str, int | None] = {}
            for twin in twins:
                if con.execute("SELECT 1 FROM twin WHERE prefix = ?", (twin,)).fetchone() is None:
                    raise unknown_twin(twin)
                row = con.execute(
                    "SELECT seq, ts FROM event WHERE twin = ? ORDER BY seq DESC LIMIT 1", (twin,)
                ).fetchone()
                check_expected(twin, row[0] if row else 0, expect_seq)
                last_ts[twin] = row[1] if row else None
            next_seq = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM event").fetchone()[0]
            stored = sequence(events, next_seq, last_ts)
            con.executemany(
                "INSERT INTO event (seq, twin, ts, actor, reason, subject, object, kind, payload) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        e.seq,
                        e.twin,
                        e.ts,
                        e.actor,
                        e.reason,
                        subject,
                        obj,
                        e.change.kind.value,
                        data,
                    )
                    for e, (subject, obj, data) in zip(stored, encoded, strict=True)
                ],
            )
        return stored

    def last_seq(self, twin: str) -> int:
        with self._reading() as con:
            row = con.execute(
                "SELECT seq FROM event WHERE twin = ? ORDER BY seq DESC LIMIT 1", (twin,)
            ).fetchone()
        return int(row[0]) if row else 0

    def events(
        self,
        twin: str,
        *,
        after_seq: int = 0,
        until_seq: int | None = None,
        until_ts: int | None = None,
        entity: str | None = None,
        limit: int | None = None,
    ) -> list[Event]:
        """Events of a twin in seq order, after ``after_seq``, up to ``until_ts`` inclusive.

        Raises StoreCorruptError when a stored event cannot be decoded.
        """
        if limit is not None and limit <= 0:
            return []
        params: dict[str, object] = {"twin": twin, "after": after_seq}
        if entity is None:
            source = "event AS e"
            where = ["e.twin = :twin", "e.seq > :after"]
        else:
            # Two index searches (subject, relation target) merged, then the rows
            # by seq; the planner would otherwise scan the twin's whole log.
            source = (
                "(SELECT seq FROM event WHERE twin = :twin AND subject = :entity AND seq > :after "
                "UNION SELECT seq FROM event WHERE twin = :twin AND object = :entity "
                "AND seq > :after) AS hit CROSS JOIN event AS e ON e.seq = hit.seq"
            )
            where = []
            params["entity"] = entity
        if until_seq is not None:
            where.append("e.seq <= :until_seq")
            params["until_seq"] = until_seq
        if until_ts is not None:
            # Times are non-decreasing in seq order within a twin, so "ts <= T"
            # is the seq prefix ending at the last event with ts <= T: one index
            # probe instead of a scan of every later event.
            where.append(
                "e.seq <= (SELECT seq FROM event WHERE twin = :twin AND ts <= :until_ts "
                "ORDER BY ts DESC, seq DESC LIMIT 1)"
            )
            params["until_ts"] = until_ts
        sql = f"SELECT e.seq, e.twin, e.ts, e.actor, e.reason, e.payload FROM {source}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY e.seq"
        if limit is not None:
            sql += " LIMIT :limit"
            params["limit"] = limit
        with self._reading() as con:
            rows: list[tuple[int, str, int, str, str, bytes]] = con.execute(sql, params).fetchall()
        # Decoded outside the lock: that is most of the cost of reading events.
        return [self._decode_event(*row) for row in rows]

    def _decode_event(
        self, seq: int, twin: str, ts: int, actor: str, reason: str, payload: bytes
    ) -> Event:
        try:
            change = codec.decode_change(payload)
        except CodecError as err:
            raise StoreCorruptError(
                f"{self.path}: event seq {seq} of twin {twin!r} cannot be decoded: {err}"
            ) from err
        return Event(twin=twin, ts=ts, actor=actor, change=change, reason=reason, seq=seq)

    def save_snapshot(self, snapshot: Snapshot) -> None:
        """Store the encoded graph after event ``snapshot.seq``; replaces one at the same seq.

        Raises StoreError (code ``unknown-twin``) for an unregistered twin.
        """
        data = zlib.compress(snapshot.data, _SNAPSHOT_ZLIB_LEVEL)
        with self._writing() as con:
            if (
                con.execute("SELECT 1 FROM twin WHERE prefix = ?", (snapshot.twin,)).fetchone()
                is None
            ):
                raise unknown_twin(snapshot.twin)
            con.execute(
                "INSERT OR REPLACE INTO snapshot (twin, seq, ts, encoding, data) "
                "VALUES (?, ?, ?, ?, ?)",
                (snapshot.twin, snapshot.seq, snapshot.ts, BlobEncoding.ZLIB, data),
            )

    def latest_snapshot(self, twin: str, *, at_or_before_ts: int | None = None) -> Snapshot | None:
        """The snapshot with the highest seq whose ts is at or before ``at_or_before_ts``."""
        sql = "SELECT seq, ts, encoding, data FROM snapshot WHERE twin = ?"
        params: tuple[object, ...] = (twin,)
        if at_or_before_ts is not None:
            sql += " AND ts <= ?"
            params = (twin, at_or_before_ts)
        sql += " ORDER BY seq DESC LIMIT 1"
        with self._reading() as con:
            row = con.execute(sql, params).fetchone()
        if row is None:
            return None
        seq, ts, encoding, blob = row
        return Snapshot(
            twin=twin, seq=seq, ts=ts, data=self._decode_blob(blob, encoding, "snapshot")
        )

    def _decode_blob(self, blob: bytes, encoding: int, what: str) -> bytes:
        try:
            if encoding == BlobEncoding.RAW:
                return blob
            if encoding in (BlobEncoding.ZLIB, BlobEncoding.DELTA_ZLIB):
                return zlib.decompress(blob)
        except zlib.error as err:
            raise StoreCorruptError(f"{self.path}: a stored {what} is damaged: {err}") from err
        raise StoreCorruptError(f"{self.path}: a stored {what} has unknown encoding {encoding}")

    # ------------------------------------------------------------ time series
    def append_samples(
        self,
        keys: Sequence[SeriesKey],
        series_index: npt.NDArray[np.integer],
        ts: npt.NDArray[np.int64],
        values: npt.NDArray[np.float64],
    ) -> int:
        """Append samples in bulk, in one durable transaction; returns how many were stored.

        Raises StoreError (InvalidSamplesError) for mismatched or malformed arrays.
        """
        return self.append_samples_once((), keys, series_index, ts, values)

    def append_samples_once(
        self,
        marks: Sequence[tuple[str, int]],
        keys: Sequence[SeriesKey],
        series_index: npt.NDArray[np.integer],
        ts: npt.NDArray[np.int64],
        values: npt.NDArray[np.float64],
    ) -> int:
        """Append samples and record the ingest ``marks`` (source, sequence) in one transaction.

        The marks say which source messages the samples came from; with
        :meth:`seen_marks` an ingest drops a redelivered message after a crash,
        because its samples and its mark were committed together or not at all.
        Raises StoreError (InvalidSamplesError) for mismatched or malformed arrays.
        """
        chunks = split_batch(keys, series_index, ts, values)
        if not chunks and not marks:
            return 0
        rows = [
            (
                chunk.key,
                chunk.t_min,
                chunk.t_max,
                len(chunk),
                zlib.compress(_deltas(chunk.ts).tobytes(), _TS_ZLIB_LEVEL),
                chunk.values.astype("<f8", copy=False).tobytes(),
            )
            for chunk in chunks
        ]
        with self._writing() as con:
            new_ids = self._assign_series_ids(con, [row[0] for row in rows])
            ids = {**self._series_ids, **new_ids}
            con.executemany(
                "INSERT INTO chunk (series_id, t_min, t_max, n, ts_encoding, ts, vals) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (ids[key], t_min, t_max, n, BlobEncoding.DELTA_ZLIB, ts_blob, vals_blob)
                    for key, t_min, t_max, n, ts_blob, vals_blob in rows
                ],
            )
            if marks:
                con.execute(_MARK_TABLE)
                con.executemany(
                    "INSERT INTO ingest_mark (source, seq) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    marks,
                )
        with self._lock:
            # Only after the commit: a rolled-back series row has no id to cache.
            self._series_ids.update(new_ids)
        return sum(row[3] for row in rows)

    def seen_marks(self, source: str, seqs: Sequence[int]) -> set[int]:
        """Which of ``seqs`` of ``source`` were recorded by :meth:`append_samples_once`."""
        if not seqs:
            return set()
        with self._reading() as con:
            exists = con.execute(
                "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'ingest_mark'"
            ).fetchone()
            if exists is None:
                return set()
            found: set[int] = set()
            for start in range(0, len(seqs), 500):
                part = list(seqs[start : start + 500])
                rows = con.execute(
                    f"SELECT seq FROM ingest_mark WHERE source = ? AND seq IN "
                    f"({', '.join('?' * len(part))})",
                    (source, *part),
                )
                found.update(int(row[0]) for row in rows)
            return found

    def prune_marks(self, keep: int = 100_000) -> int:
        """Forget all but the newest ``keep`` marks of each source; returns how many went.

        A broker redelivers only messages that were never acknowledged, and an
        ingest acknowledges after the commit that stored their marks, so only a
        source's recent sequence numbers can come back; old marks just grow the file.
        """
        with self._writing() as con:
            exists = con.execute(
                "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'ingest_mark'"
            ).fetchone()
            if exists is None:
                return 0
            sources = con.execute(
                "SELECT source, max(seq) FROM ingest_mark GROUP BY source"
            ).fetchall()
            gone = 0
            for source, newest in sources:
                gone += con.execute(
                    "DELETE FROM ingest_mark WHERE source = ? AND seq <= ?",
                    (source, newest - keep),
                ).rowcount
            return gone

    def _assign_series_ids(
        self, con: sqlite3.Connection, keys: Sequence[SeriesKey]
    ) -> dict[SeriesKey, int]:
        new: dict[SeriesKey, int] = {}
        for key in dict.fromkeys(keys):
            if key in self._series_ids:
                continue
            con.execute(
                "INSERT INTO series (entity, prop) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (key.entity, key.prop),
            )
            row = con.execute(
                "SELECT id FROM series WHERE entity = ? AND prop = ?", (key.entity, key.prop)
            ).fetchone()
            new[key] = int(row[0])
        return new

    def _series_id(self, con: sqlite3.Connection, key: SeriesKey) -> int | None:
        known = self._series_ids.get(key)
        if known is not None:
            return known
        row = con.execute(
            "SELECT id FROM series WHERE entity = ? AND prop = ?", (key.entity, key.prop)
        ).fetchone()
        if row is None:
            return None
        self._series_ids[key] = int(row[0])
        return int(row[0])

    def series(self, entity_prefix: str | None = None) -> list[SeriesKey]:
        """Series of the entities at or below ``entity_prefix`` in the id tree, or all of them."""
        with self._reading() as con:
            if entity_prefix is None:
                rows = con.execute("SELECT entity, prop FROM series ORDER BY entity, prop")
            else:
                # entity = p, or entity starts with "p/": the range ["p/", "p0")
                # because '0' is the character after '/'.
                rows = con.execute(
                    "SELECT entity, prop FROM series "
                    "WHERE entity = ? OR (entity >= ? AND entity < ?) ORDER BY entity, prop",
                    (entity_prefix, entity_prefix + "/", entity_prefix + "0"),
                )
            return [SeriesKey(entity, prop) for entity, prop in rows]

    def _chunks(self, key: SeriesKey, start: int, end: int) -> list[tuple[bytes, bytes, int]]:
        with self._reading() as con:
            series_id = self._series_id(con, key)
            if series_id is None:
                return []
            return con.execute(
                "SELECT ts, vals, ts_encoding FROM chunk "
                "WHERE series_id = ? AND t_max >= ? AND t_min < ? ORDER BY id",
                (series_id, start, end),
            ).fetchall()

    def chunk_digests(self, after_id: int = 0, limit: int = 10_000) -> list[ChunkDigest]:
        """Digests of the stored sample chunks with id > ``after_id``, in append order.

        A chunk is written once and never changed, so its digest (SHA-256 of its
        timestamps as int64 and values as float64, little-endian) can go into a
        verifiable log and be checked against the store later.
        """
        with self._reading() as con:
            rows = con.execute(
                "SELECT chunk.id, entity, prop, t_min, t_max, n, ts, vals, ts_encoding "
                "FROM chunk JOIN series ON series.id = chunk.series_id "
                "WHERE chunk.id > ? ORDER BY chunk.id LIMIT ?",
                (after_id, limit),
            ).fetchall()
        out = []
        for cid, entity, prop, t_min, t_max, n, ts_blob, vals_blob, encoding in rows:
            h = hashlib.sha256(self._decode_ts(ts_blob, encoding).astype("<i8").tobytes())
            h.update(_floats(vals_blob).astype("<f8").tobytes())
            out.append(ChunkDigest(cid, SeriesKey(entity, prop), t_min, t_max, n, h.hexdigest()))
        return out

    def _range(self, key: SeriesKey, start: int, end: int) -> tuple[Int64Array, Float64Array]:
        if end <= start:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        parts = [
            (self._decode_ts(ts_blob, encoding), _floats(vals_blob))
            for ts_blob, vals_blob, encoding in self._chunks(key, start, end)
        ]
        return gather(parts, start, end)

    def _decode_ts(self, blob: bytes, encoding: int) -> Int64Array:
        raw = np.frombuffer(self._decode_blob(blob, encoding, "series chunk"), dtype="<i8")
        times = raw.astype(np.int64, copy=False)
        return np.cumsum(times) if encoding == BlobEncoding.DELTA_ZLIB else times

    def samples(self, key: SeriesKey, start: int, end: int) -> Samples:
        """Raw samples with ``start <= ts < end``, sorted by time; empty for an unknown series."""
        times, vals = self._range(key, start, end)
        return Samples(key=key, ts=times, values=vals)

    def downsample(
        self, keys: Sequence[SeriesKey], start: int, end: int, window: int, agg: Aggregate
    ) -> list[Windowed]:
        """One Windowed per key, in order; windows of ``window`` ns aligned to ``start``.

        Raises StoreError (InvalidSamplesError) when ``window`` is not positive.
        """
        check_window(window)
        out: list[Windowed] = []
        for key in keys:
            times, vals = self._range(key, start, end)
            window_start, folded = aggregate(times, vals, start, window, agg)
            out.append(Windowed(key=key, window_start=window_start, values=folded))
        return out

    def latest(self, keys: Sequence[SeriesKey]) -> dict[SeriesKey, tuple[int, float]]:
        """The newest sample of each key that has samples (ties: the last appended)."""
        out: dict[SeriesKey, tuple[int, float]] = {}
        with self._reading() as con:
            for key in keys:
                series_id = self._series_id(con, key)
                if series_id is None:
                    continue
                # A chunk is sorted, so its last value is the one at t_max; of
                # chunks with equal t_max the later-appended (higher id) wins.
                row = con.execute(
                    "SELECT t_max, substr(vals, -8, 8) FROM chunk WHERE series_id = ? "
                    "ORDER BY t_max DESC, id DESC LIMIT 1",
                    (series_id,),
                ).fetchone()
                if row is not None:
                    out[key] = (int(row[0]), float(_floats(row[1])[0]))
        return out

    # --------------------------------------------------------------- accounts
    def put_account(self, record: AccountRecord) -> None:
        """Create or replace an account (its tokens are kept)."""
        with self._writing() as con:
            # An upsert, not INSERT OR REPLACE: replace deletes the row first,
            # which would cascade to the account's tokens.
            con.execute(
                "INSERT INTO account (principal, tenant, display_name, roles, scopes, "
                "password_hash, is_service) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (principal) DO UPDATE SET tenant = excluded.tenant, "
                "display_name = excluded.display_name, roles = excluded.roles, "
                "scopes = excluded.scopes, password_hash = excluded.password_hash, "
                "is_service = excluded.is_service",
                (
                    record.principal,
                    record.tenant,
                    record.display_name,
                    orjson.dumps(list(record.roles)).decode(),
                    orjson.dumps(list(record.scopes)).decode(),
                    record.password_hash,
                    int(record.is_service),
                ),
            )

    def account(self, principal: str) -> AccountRecord | None:
        with self._reading() as con:
            row = con.execute(_ACCOUNT_SELECT + " WHERE principal = ?", (principal,)).fetchone()
        return _account(row) if row else None

    def accounts(self, tenant: str | None = None) -> list[AccountRecord]:
        with self._reading() as con:
            if tenant is None:
                rows = con.execute(_ACCOUNT_SELECT + " ORDER BY principal").fetchall()
            else:
                rows = con.execute(
                    _ACCOUNT_SELECT + " WHERE tenant = ? ORDER BY principal", (tenant,)
                ).fetchall()
        return [_account(row) for row in rows]

    def put_token(self, record: TokenRecord) -> None:
        """Create or replace a token; raises StoreError (code ``unknown-principal``)."""
        with self._writing() as con:
            known = con.execute(
                "SELECT 1 FROM account WHERE principal = ?", (record.principal,)
            ).fetchone()
            if known is None:
                raise _unknown_principal(record.principal)
            con.execute(
                "INSERT OR REPLACE INTO token (token_hash, principal, expires_ts, kind) "
                "VALUES (?, ?, ?, ?)",
                (record.token_hash, record.principal, record.expires_ts, record.kind),
            )

    def token(self, token_hash: str) -> TokenRecord | None:
        with self._reading() as con:
            row = con.execute(
                "SELECT token_hash, principal, expires_ts, kind FROM token WHERE token_hash = ?",
                (token_hash,),
            ).fetchone()
        return TokenRecord(*row) if row else None

    def delete_token(self, token_hash: str) -> None:
        """Forget a token; deleting an unknown token does nothing."""
        with self._writing() as con:
            con.execute("DELETE FROM token WHERE token_hash = ?", (token_hash,))


_ACCOUNT_SELECT: Final = (
    "SELECT principal, tenant, display_name, roles, scopes, password_hash, is_service FROM account"
)


def _account(row: tuple[str, str, str, str, str, str | None, int]) -> AccountRecord:
    principal, tenant, display_name, roles, scopes, password_hash, is_service = row
    return AccountRecord(
        principal=principal,
        tenant=tenant,
        display_name=display_name,
        roles=tuple(orjson.loads(roles)),
        scopes=tuple(orjson.loads(scopes)),
        password_hash=password_hash,
        is_service=bool(is_service),
    )


def _encode_event(event: Event) -> tuple[str, str | None, bytes]:
    """Subject, relation target (the ``object`` column) and payload of an event."""
    change = event.change
    return change.subject, relation_target(change), codec.encode_change(change)


def _unknown_principal(principal: str) -> StoreError:
    return StoreError(
        f"no account {principal!r}: a token needs an existing account (put_account first)",
        code="unknown-principal",
    )


def _deltas(times: Int64Array) -> npt.NDArray[np.int64]:
    """int64 little-endian differences; the first is the absolute first time.

    Wrapping arithmetic is fine: the cumulative sum undoes it exactly.
    """
    out = np.empty_like(times, dtype="<i8")
    out[0] = times[0]
    np.subtract(times[1:], times[:-1], out=out[1:])
    return out


def _floats(blob: bytes) -> Float64Array:
    return np.frombuffer(blob, dtype="<f8").astype(np.float64, copy=False)
