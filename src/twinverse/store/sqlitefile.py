"""One SQLite file owned by twinverse: opened, marked, made durable, written in transactions.

The event store, the verifiable log and the trust registry each keep their own
file. They share how such a file is opened — created with its schema and an
``application_id`` marker when new, refused when it belongs to someone else or
to a newer twinverse, then switched to WAL with ``synchronous=FULL`` — and how
a write transaction runs (``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any
error).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from twinverse.store import StoreCorruptError, StoreError

_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26


@dataclass(frozen=True, slots=True)
class FileKind:
    """What a file holds: its marker, its schema, and how errors name it."""

    what: str  # "store", "ledger", "trust registry": used in messages
    application_id: int
    schema: str  # statements separated by ';'
    version: int = 1
    # Runs inside the creating transaction, after the schema (e.g. to write a salt).
    on_create: Callable[[sqlite3.Connection], None] | None = None


def connect(path: Path, kind: FileKind, *, busy_timeout: float = 10.0) -> sqlite3.Connection:
    """Open (creating if new) ``path`` as a file of ``kind``; durable, WAL, explicit transactions.

    The folder must exist: whether to create it is the caller's decision.
    """
    try:
        con = sqlite3.connect(
            path,
            isolation_level=None,  # transactions are explicit: BEGIN IMMEDIATE … COMMIT
            check_same_thread=False,  # callers serialise use across threads with a lock
            timeout=busy_timeout,
        )
    except sqlite3.Error as err:
        raise translate(err, path, kind) from err
    try:
        _prepare(con, path, kind, busy_timeout)
    except sqlite3.Error as err:
        con.close()
        raise translate(err, path, kind) from err
    except BaseException:
        con.close()
        raise
    return con


def _prepare(con: sqlite3.Connection, path: Path, kind: FileKind, busy_timeout: float) -> None:
    # Only read until the file is known to be ours: switching another
    # application's database to WAL would change its file.
    app_id = con.execute("PRAGMA application_id").fetchone()[0]
    version = con.execute("PRAGMA user_version").fetchone()[0]
    if app_id == 0 and version == 0:
        _create(con, path, kind)
    elif app_id != kind.application_id:
        raise StoreCorruptError(
            f"{path} is an SQLite database of another application "
            f"(application_id {app_id:#x}, expected {kind.application_id:#x}), "
            f"not a twinverse {kind.what}; point twinverse at a new file or at one of its own",
        )
    elif version > kind.version:
        raise StoreError(
            f"{path} has schema version {version}, written by a newer twinverse; "
            f"this one reads {kind.what} files up to version {kind.version}",
            code="store-version",
        )
    mode = con.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if mode != "wal":
        raise StoreError(f"{path}: could not switch to WAL mode (got {mode!r})")
    con.execute("PRAGMA synchronous=FULL")
    con.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")


def _create(con: sqlite3.Connection, path: Path, kind: FileKind) -> None:
    with immediate(con):
        # Another process may have created the schema while we waited for the lock.
        if con.execute("PRAGMA application_id").fetchone()[0] == kind.application_id:
            return
        tables = con.execute("SELECT name FROM sqlite_schema WHERE type = 'table'").fetchall()
        if tables:
            names = ", ".join(sorted(row[0] for row in tables)[:5])
            raise StoreCorruptError(
                f"{path} is an SQLite database with other tables ({names}) and no "
                f"twinverse marker, not a twinverse {kind.what}; point twinverse at a new file",
            )
        for statement in kind.schema.split(";"):
            if statement.strip():
                con.execute(statement)
        con.execute(f"PRAGMA application_id={kind.application_id}")
        con.execute(f"PRAGMA user_version={kind.version}")
        if kind.on_create is not None:
            kind.on_create(con)


@contextmanager
def immediate(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: committed (durably) on exit, rolled back on any error.

    IMMEDIATE takes the write lock up front, so what the transaction reads
    before it writes cannot go stale.
    """
    con.execute("BEGIN IMMEDIATE")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise


def translate(err: sqlite3.Error, path: Path, kind: FileKind) -> StoreError:
    """An SQLite error as a StoreError naming the file; corruption as StoreCorruptError."""
    code = getattr(err, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return StoreCorruptError(f"{path} is not readable as a twinverse {kind.what}: {err}")
    return StoreError(f"{path}: {err}")
