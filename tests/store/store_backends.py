"""How each backend under test is made: one row per backend, given a directory it may use.

The conformance fixture in ``conftest.py`` and the Hypothesis tests (which make a
fresh store per example) both read this table.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from twinverse.store import Store
from twinverse.store.memory import MemoryStore
from twinverse.store.sqlite import SqliteStore

BACKENDS: dict[str, Callable[[Path], Store]] = {
    "sqlite": lambda tmp: SqliteStore(tmp / "store.db").open(),
    "memory": lambda tmp: MemoryStore(),
}
