"""The verifiable log: an append-only RFC 9162 Merkle log in SQLite, with signed checkpoints.

Every record of consequence — twin events (as digests), telemetry batch
digests, control commands and their outcomes, trade steps, credential issuance
and revocation, key bindings — becomes an entry. An entry's *data* is the exact
byte string that was hashed into the tree (UTF-8 JSON); verifiers hash those
bytes and never re-serialise.

Storage: ``entry`` rows hold the data; ``node`` rows hold the hash of every
perfect subtree above the leaves, keyed ``level << 48 | index``; leaf hashes
are recomputed from the entry data when a proof needs one (at most two per
proof), which saves a third of the rows an append writes. An inclusion or
consistency proof is one batched lookup of O(log n) rows.
``checkpoint`` rows hold the signed notes the log published and the witness
cosignatures they collected.

Durability: WAL with ``synchronous=FULL``. An append batch (entries and the
nodes they complete) is one transaction: after ``append`` returns it survives
``kill -9`` and power loss, and a batch cut short leaves no trace, so the tree
on disk is always one the log could have signed. A checkpoint is written only
for a size that is already durable.

Lifecycle: ``Ledger(path, signer)`` does no I/O; ``open()`` creates or checks
the file and loads the right edge of the tree; ``close()`` releases it.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Final, Self

import orjson

from twinverse.store import StoreCorruptError, StoreError
from twinverse.store.sqlitefile import FileKind, connect, immediate
from twinverse.trust.checkpoint import Checkpoint, parse_checkpoint
from twinverse.trust.errors import EntryNotFoundError, ProofShapeError
from twinverse.trust.merkle import (
    EMPTY_ROOT,
    NodeKey,
    build_proof,
    consistency_ranges,
    fold_right,
    inclusion_ranges,
    leaf_hash,
    range_nodes,
)
from twinverse.trust.note import Note, NoteSigner, parse_note, sign_note

APPLICATION_ID: Final = 0x5457544C  # "TWTL"
SCHEMA_VERSION: Final = 1
_LEVEL_SHIFT: Final = 48
_SQL_VARS: Final = 500

_SCHEMA: Final = """
CREATE TABLE entry (
    idx  INTEGER PRIMARY KEY,
    ts   INTEGER NOT NULL,
    kind TEXT NOT NULL,
    ref  TEXT,
    data BLOB NOT NULL
) STRICT;
CREATE INDEX entry_by_ref ON entry (ref) WHERE ref IS NOT NULL;
CREATE TABLE node (
    id   INTEGER PRIMARY KEY,  -- level << 48 | index, level >= 1
    hash BLOB NOT NULL
) STRICT;
CREATE TABLE checkpoint (
    size INTEGER PRIMARY KEY,
    ts   INTEGER NOT NULL,
    note TEXT NOT NULL        -- the signed note, with every cosignature collected so far
) STRICT;
"""


_FILE: Final = FileKind("ledger", APPLICATION_ID, _SCHEMA, SCHEMA_VERSION)


class EntryKind(StrEnum):
    """What an entry records."""

    TWIN_EVENT = "twin-event"
    TELEMETRY_BATCH = "telemetry-batch"
    COMMAND = "command"
    COMMAND_OUTCOME = "command-outcome"
    TRADE_OFFER = "trade-offer"
    TRADE_ACCEPT = "trade-accept"
    TRADE_SETTLE = "trade-settle"
    CREDENTIAL_ISSUED = "credential-issued"
    CREDENTIAL_REVOKED = "credential-revoked"
    KEY_BOUND = "key-bound"
    KEY_ROTATED = "key-rotated"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class Record:
    """Something to log: a kind, a JSON body, and an optional stable reference to find it by."""

    kind: EntryKind
    body: Mapping[str, object]
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    index: int
    ts: int
    kind: EntryKind
    ref: str | None
    data: bytes

    @property
    def body(self) -> dict[str, object]:
        decoded: dict[str, object] = orjson.loads(self.data).get("body", {})
        return decoded

    @property
    def leaf_hash(self) -> bytes:
        return leaf_hash(self.data)


def encode_record(record: Record, ts: int) -> bytes:
    """The bytes logged for a record: sorted-key JSON of kind, ts, ref and body."""
    return orjson.dumps(
        {"kind": record.kind.value, "ts": ts, "ref": record.ref, "body": record.body},
        option=orjson.OPT_SORT_KEYS,
    )


def _node_id(level: int, index: int) -> int:
    return (level << _LEVEL_SHIFT) | index


@dataclass(frozen=True, slots=True)
class Published:
    """A checkpoint the log signed, and the note with its cosignatures."""

    checkpoint: Checkpoint
    note: Note
    ts: int


class Ledger:
    """An append-only Merkle log in one SQLite file, signing checkpoints as ``signer``."""

    def __init__(self, path: Path | str, signer: NoteSigner, *, clock: Callable[[], int]) -> None:
        self.path = Path(path)
        self.signer = signer
        self.origin = signer.name
        self._clock = clock
        self._con: sqlite3.Connection | None = None
        self._lock = threading.RLock()
        self._frontier: list[tuple[int, bytes]] = []  # (level, hash) of the right edge
        self._size = 0

    # ------------------------------------------------------------ lifecycle
    def open(self) -> Self:
        with self._lock:
            if self._con is not None:
                raise StoreError(f"ledger {self.path} is open already", code="store-open")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = connect(self.path, _FILE)
            try:
                self._con = con
                self._load_frontier()
            except BaseException:
                self._con = None
                con.close()
                raise
        return self

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def __enter__(self) -> Self:
        return self if self._con is not None else self.open()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def _db(self) -> sqlite3.Connection:
        if self._con is None:
            raise StoreError(f"ledger {self.path} is not open", code="store-closed")
        return self._con

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return immediate(self._db)

    def _load_frontier(self) -> None:
        row = self._db.execute("SELECT max(idx) FROM entry").fetchone()
        self._size = 0 if row[0] is None else row[0] + 1
        keys = range_nodes(0, self._size)
        self._frontier = [(k[0], h) for k, h in zip(keys, self._fetch(keys), strict=True)]

    # ------------------------------------------------------------ reading
    @property
    def size(self) -> int:
        return self._size

    def _fetch(self, keys: Sequence[NodeKey]) -> list[bytes]:
        found: dict[int, bytes] = {}
        con = self._db
        leaves = [index for level, index in keys if level == 0]
        inner = [_node_id(level, index) for level, index in keys if level > 0]
        for i in range(0, len(leaves), _SQL_VARS):
            chunk = leaves[i : i + _SQL_VARS]
            marks = ",".join("?" * len(chunk))
            for idx, data in con.execute(
                f"SELECT idx, data FROM entry WHERE idx IN ({marks})", chunk
            ):
                found[idx] = leaf_hash(data)
        for i in range(0, len(inner), _SQL_VARS):
            chunk = inner[i : i + _SQL_VARS]
            marks = ",".join("?" * len(chunk))
            found.update(con.execute(f"SELECT id, hash FROM node WHERE id IN ({marks})", chunk))
        try:
            return [found[_node_id(level, index)] for level, index in keys]
        except KeyError as err:
            raise StoreCorruptError(f"{self.path}: tree node {err.args[0]:#x} is missing") from err

    def root(self, size: int | None = None) -> bytes:
        with self._lock:
            size = self._size if size is None else size
            self._check_size(size)
            if size == 0:
                return EMPTY_ROOT
            if size == self._size:
                return fold_right([h for _, h in self._frontier])
            return fold_right(self._fetch(range_nodes(0, size)))

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self._size:
            raise ProofShapeError(
                f"the log has {self._size} entries; size {size} is not one of its trees"
            )

    def entry(self, index: int) -> Entry:
        with self._lock:
            row = self._db.execute(
                "SELECT idx, ts, kind, ref, data FROM entry WHERE idx = ?", (index,)
            ).fetchone()
        if row is None:
            raise EntryNotFoundError(f"the log has no entry {index} (it has {self._size})")
        return Entry(row[0], row[1], EntryKind(row[2]), row[3], row[4])

    def find(self, ref: str) -> Entry:
        """The first entry recorded with reference ``ref`` (e.g. ``trade:…``)."""
        with self._lock:
            row = self._db.execute(
                "SELECT idx, ts, kind, ref, data FROM entry WHERE ref = ? ORDER BY idx LIMIT 1",
                (ref,),
            ).fetchone()
        if row is None:
            raise EntryNotFoundError(f"no log entry has the reference {ref!r}")
        return Entry(row[0], row[1], EntryKind(row[2]), row[3], row[4])

    def entries(
        self, *, after: int = -1, limit: int = 100, kind: EntryKind | None = None
    ) -> list[Entry]:
        sql = "SELECT idx, ts, kind, ref, data FROM entry WHERE idx > ?"
        args: list[object] = [after]
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind.value)
        sql += " ORDER BY idx LIMIT ?"
        args.append(limit)
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [Entry(r[0], r[1], EntryKind(r[2]), r[3], r[4]) for r in rows]

    def last_ref(self, prefix: str) -> str | None:
        """The greatest reference starting with ``prefix`` (how far a feed has been logged)."""
        with self._lock:
            row = self._db.execute(
                "SELECT ref FROM entry WHERE ref >= ? AND ref < ? ORDER BY idx DESC LIMIT 1",
                (prefix, prefix + "\U0010ffff"),
            ).fetchone()
        return None if row is None else str(row[0])

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        with self._lock:
            size = self._size if size is None else size
            self._check_size(size)
            return build_proof(inclusion_ranges(index, size), self._fetch)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        with self._lock:
            size2 = self._size if size2 is None else size2
            self._check_size(size2)
            if size1 == size2:
                return []
            return build_proof(consistency_ranges(size1, size2), self._fetch)

    # ------------------------------------------------------------ writing
    def append(self, records: Sequence[Record], *, ts: int | None = None) -> list[Entry]:
        """Append records in one durable transaction; returns their entries."""
        stamp = self._clock() if ts is None else ts
        rows = [(r.kind, r.ref, encode_record(r, stamp)) for r in records]
        first = self._append_rows(stamp, rows)
        return [Entry(first + i, stamp, k, ref, d) for i, (k, ref, d) in enumerate(rows)]

    def append_data(
        self, kind: EntryKind, data: Sequence[bytes], *, refs: Sequence[str | None] | None = None
    ) -> int:
        """Append pre-encoded entries (one transaction); returns the index of the first."""
        refs = refs if refs is not None else [None] * len(data)
        return self._append_rows(
            self._clock(), list(zip([kind] * len(data), refs, data, strict=True))
        )

    def _append_rows(self, ts: int, rows: Sequence[tuple[EntryKind, str | None, bytes]]) -> int:
        with self._lock:
            first = self._size
            frontier = list(self._frontier)
            nodes: list[tuple[int, bytes]] = []
            pop, push, add = frontier.pop, frontier.append, nodes.append
            sha = hashlib.sha256  # inlined leaf_hash/node_hash: the loop is the append's hot path
            for index, (_, _, data) in enumerate(rows, start=first):
                h = sha(b"\x00" + data).digest()
                level = 0
                while frontier and frontier[-1][0] == level:
                    h = sha(b"\x01" + pop()[1] + h).digest()
                    level += 1
                    add(((level << _LEVEL_SHIFT) | (index >> level), h))
                push((level, h))
            with self._transaction() as con:
                con.executemany(
                    "INSERT INTO entry (idx, ts, kind, ref, data) VALUES (?, ?, ?, ?, ?)",
                    [(first + i, ts, str(k), ref, d) for i, (k, ref, d) in enumerate(rows)],
                )
                con.executemany("INSERT INTO node (id, hash) VALUES (?, ?)", nodes)
            self._frontier = frontier
            self._size = first + len(rows)
            return first

    # ------------------------------------------------------------ checkpoints
    def checkpoint(self) -> Published:
        """Sign the current head as a C2SP checkpoint and keep it; returns the published note."""
        with self._lock:
            latest = self.latest_checkpoint()
            if latest is not None and latest.checkpoint.size == self._size:
                return latest
            cp = Checkpoint(self.origin, self._size, self.root())
            text = cp.text()
            note = Note(text, (sign_note(text, self.signer),))
            ts = self._clock()
            with self._transaction() as con:
                con.execute(
                    "INSERT INTO checkpoint (size, ts, note) VALUES (?, ?, ?)",
                    (cp.size, ts, note.encode()),
                )
            return Published(cp, note, ts)

    def _published(self, row: tuple[int, int, str]) -> Published:
        cp, note = parse_checkpoint(row[2], where=f"{self.path} checkpoint {row[0]}")
        return Published(cp, note, row[1])

    def latest_checkpoint(self) -> Published | None:
        with self._lock:
            row = self._db.execute(
                "SELECT size, ts, note FROM checkpoint ORDER BY size DESC LIMIT 1"
            ).fetchone()
        return None if row is None else self._published(row)

    def checkpoint_at(self, size: int) -> Published:
        with self._lock:
            row = self._db.execute(
                "SELECT size, ts, note FROM checkpoint WHERE size = ?", (size,)
            ).fetchone()
        if row is None:
            raise EntryNotFoundError(f"the log published no checkpoint at size {size}")
        return self._published(row)

    def checkpoints(self) -> list[Published]:
        with self._lock:
            rows = self._db.execute(
                "SELECT size, ts, note FROM checkpoint ORDER BY size"
            ).fetchall()
        return [self._published(r) for r in rows]

    def add_cosignatures(self, size: int, note_text: str) -> Published:
        """Merge the cosignatures of ``note_text`` into the stored checkpoint of that size."""
        with self._lock:
            stored = self.checkpoint_at(size)
            other = parse_note(note_text, where="cosigned checkpoint")
            if other.text != stored.note.text:
                raise ProofShapeError(f"the cosigned note is not the checkpoint of size {size}")
            note = stored.note
            for sig in other.signatures:
                note = note.with_signature(sig)
            with self._transaction() as con:
                con.execute("UPDATE checkpoint SET note = ? WHERE size = ?", (note.encode(), size))
            return Published(stored.checkpoint, note, stored.ts)

    # ------------------------------------------------------------ audit
    def audit(self) -> int:
        """Recompute every leaf and node from the entries; check every published checkpoint.

        Returns the number of entries checked; raises StoreCorruptError or
        RootMismatchError naming the first disagreement.
        """
        from twinverse.trust.errors import RootMismatchError
        from twinverse.trust.merkle import MemoryTree

        tree = MemoryTree()
        with self._lock:
            cur = self._db.execute("SELECT idx, data FROM entry ORDER BY idx")
            for idx, data in cur:
                if idx != len(tree):
                    raise StoreCorruptError(f"{self.path}: entry {len(tree)} is missing")
                tree.append_hash(leaf_hash(data))
            stored = self._fetch(range_nodes(0, len(tree))) if len(tree) else []
        if len(tree) and fold_right(stored) != tree.root():
            raise RootMismatchError(len(tree), fold_right(stored), tree.root(), what="stored root")
        for published in self.checkpoints():
            cp = published.checkpoint
            if cp.size > len(tree):
                raise StoreCorruptError(
                    f"{self.path}: checkpoint of size {cp.size} but only {len(tree)} entries"
                )
            if tree.root(cp.size) != cp.root:
                raise RootMismatchError(
                    cp.size, tree.root(cp.size), cp.root, what="checkpoint root"
                )
        return len(tree)
