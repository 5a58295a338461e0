"""The trust registry: sealed keys bound to twin identifiers, credentials, status lists,
trades and witness state, in one SQLite file beside the ledger.

Durability as the ledger: WAL, ``synchronous=FULL``, one transaction per call.
Lifecycle: the constructor does no I/O; ``open(passphrase)`` creates or checks
the file and derives the key-encryption key; ``close()`` releases it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

import orjson

from twinverse.store import StoreError
from twinverse.store.sqlitefile import FileKind, connect, immediate
from twinverse.trust.errors import KeyStoreError
from twinverse.trust.keys import KeyPair
from twinverse.trust.keystore import SCRYPT_N, Sealer

APPLICATION_ID: Final = 0x54575452  # "TWTR"

_SCHEMA: Final = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) STRICT;
CREATE TABLE key (
    did     TEXT PRIMARY KEY,
    subject TEXT NOT NULL,       -- the twin identifier (or name) the key stands for
    created INTEGER NOT NULL,
    retired INTEGER,             -- set when rotated away
    sealed  BLOB NOT NULL
) STRICT;
CREATE INDEX key_by_subject ON key (subject, created);
CREATE TABLE credential (
    id       TEXT PRIMARY KEY,
    subject  TEXT NOT NULL,      -- the twin identifier the credential is about
    issuer   TEXT NOT NULL,
    list_url TEXT,
    list_idx INTEGER,
    doc      BLOB NOT NULL
) STRICT;
CREATE INDEX credential_by_subject ON credential (subject);
CREATE TABLE status_list (
    url    TEXT PRIMARY KEY,
    issuer TEXT NOT NULL,
    next   INTEGER NOT NULL,
    bits   BLOB NOT NULL,
    doc    BLOB               -- the signed status list credential
) STRICT;
CREATE TABLE trade (
    id    TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    doc   BLOB NOT NULL          -- offer, acceptances and settlement as JSON
) STRICT;
CREATE TABLE witness (
    origin TEXT PRIMARY KEY,
    size   INTEGER NOT NULL,
    root   BLOB NOT NULL
) STRICT;
"""


def _new_salt(con: sqlite3.Connection) -> None:
    con.execute("INSERT INTO meta VALUES ('salt', ?)", (os.urandom(16),))


_FILE: Final = FileKind("trust registry", APPLICATION_ID, _SCHEMA, on_create=_new_salt)


@dataclass(frozen=True, slots=True)
class KeyRecord:
    did: str
    subject: str
    created: int
    retired: int | None


@dataclass(frozen=True, slots=True)
class StatusListRow:
    url: str
    issuer: str
    next: int
    bits: bytes
    doc: dict[str, Any] | None


class Registry:
    def __init__(self, path: Path | str, *, scrypt_n: int = SCRYPT_N) -> None:
        self.path = Path(path)
        self._scrypt_n = scrypt_n
        self._con: sqlite3.Connection | None = None
        self._sealer: Sealer | None = None
        self._lock = threading.RLock()

    def open(self, passphrase: bytes) -> Self:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = connect(self.path, _FILE)
        try:
            salt = con.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()[0]
        except BaseException:
            con.close()
            raise
        self._con = con
        self._sealer = Sealer.derive(passphrase, salt, n=self._scrypt_n)
        # Fail now, not at the first signature, when the passphrase is wrong.
        row = con.execute("SELECT did, sealed FROM key LIMIT 1").fetchone()
        if row is not None:
            try:
                self._sealer.open(row[1], row[0])
            except KeyStoreError:
                self.close()
                raise
        return self

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def _db(self) -> sqlite3.Connection:
        if self._con is None:
            raise StoreError(f"registry {self.path} is not open", code="store-closed")
        return self._con

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock, immediate(self._db) as con:
            yield con

    # ---------------------------------------------------------------- keys
    def add_key(self, subject: str, key: KeyPair, created: int) -> KeyRecord:
        assert self._sealer is not None
        with self._tx() as con:
            con.execute(
                "INSERT INTO key (did, subject, created, retired, sealed) VALUES (?, ?, ?, NULL, ?)",
                (key.did, subject, created, self._sealer.seal(key)),
            )
        return KeyRecord(key.did, subject, created, None)

    def retire_key(self, did: str, at: int) -> None:
        with self._tx() as con:
            con.execute("UPDATE key SET retired = ? WHERE did = ?", (at, did))

    def keys(self, subject: str | None = None) -> list[KeyRecord]:
        sql = "SELECT did, subject, created, retired FROM key"
        args: tuple[str, ...] = ()
        if subject is not None:
            sql += " WHERE subject = ?"
            args = (subject,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY created, did", args).fetchall()
        return [KeyRecord(*r) for r in rows]

    def key_record(self, did: str) -> KeyRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT did, subject, created, retired FROM key WHERE did = ?", (did,)
            ).fetchone()
        return None if row is None else KeyRecord(*row)

    def current_key(self, subject: str) -> KeyPair | None:
        assert self._sealer is not None
        with self._lock:
            row = self._db.execute(
                "SELECT did, sealed FROM key WHERE subject = ? AND retired IS NULL "
                "ORDER BY created DESC LIMIT 1",
                (subject,),
            ).fetchone()
        return None if row is None else self._sealer.open(row[1], row[0])

    # ---------------------------------------------------------------- credentials
    def put_credential(
        self,
        cid: str,
        subject: str,
        issuer: str,
        doc: dict[str, Any],
        list_url: str | None,
        list_idx: int | None,
    ) -> None:
        with self._tx() as con:
            con.execute(
                "INSERT OR REPLACE INTO credential VALUES (?, ?, ?, ?, ?, ?)",
                (cid, subject, issuer, list_url, list_idx, orjson.dumps(doc)),
            )

    def credentials(self, subject: str | None = None) -> list[dict[str, Any]]:
        sql, args = "SELECT doc FROM credential", tuple[str, ...]()
        if subject is not None:
            sql, args = sql + " WHERE subject = ?", (subject,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY rowid", args).fetchall()
        return [orjson.loads(r[0]) for r in rows]

    def credential(self, cid: str) -> tuple[dict[str, Any], str | None, int | None] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT doc, list_url, list_idx FROM credential WHERE id = ?", (cid,)
            ).fetchone()
        return None if row is None else (orjson.loads(row[0]), row[1], row[2])

    # ---------------------------------------------------------------- status lists
    def status_list(self, url: str) -> StatusListRow | None:
        with self._lock:
            row = self._db.execute(
                "SELECT url, issuer, next, bits, doc FROM status_list WHERE url = ?", (url,)
            ).fetchone()
        if row is None:
            return None
        return StatusListRow(
            row[0], row[1], row[2], row[3], orjson.loads(row[4]) if row[4] else None
        )

    def status_lists(self) -> list[StatusListRow]:
        with self._lock:
            urls = [r[0] for r in self._db.execute("SELECT url FROM status_list ORDER BY url")]
        return [row for u in urls if (row := self.status_list(u)) is not None]

    def save_status_list(self, row: StatusListRow) -> None:
        with self._tx() as con:
            con.execute(
                "INSERT OR REPLACE INTO status_list VALUES (?, ?, ?, ?, ?)",
                (
                    row.url,
                    row.issuer,
                    row.next,
                    row.bits,
                    orjson.dumps(row.doc) if row.doc else None,
                ),
            )

    # ---------------------------------------------------------------- trades
    def save_trade(self, tid: str, state: str, doc: dict[str, Any]) -> None:
        with self._tx() as con:
            con.execute(
                "INSERT OR REPLACE INTO trade VALUES (?, ?, ?)", (tid, state, orjson.dumps(doc))
            )

    def trade(self, tid: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT doc FROM trade WHERE id = ?", (tid,)).fetchone()
        return None if row is None else orjson.loads(row[0])

    def trades(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT doc FROM trade ORDER BY rowid").fetchall()
        return [orjson.loads(r[0]) for r in rows]

    # ---------------------------------------------------------------- witness
    def witness_state(self, origin: str) -> tuple[int, bytes] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT size, root FROM witness WHERE origin = ?", (origin,)
            ).fetchone()
        return None if row is None else (row[0], row[1])

    def save_witness_state(self, origin: str, size: int, root: bytes) -> None:
        with self._tx() as con:
            con.execute("INSERT OR REPLACE INTO witness VALUES (?, ?, ?)", (origin, size, root))
