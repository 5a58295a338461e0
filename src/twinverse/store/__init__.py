"""Persistence: the event log, graph snapshots, time series and accounts.

The protocols here are what callers use; each backend is one module
(``sqlite`` is the embedded default, ``memory`` is for tests and throwaway
twins). ``tests/store/conformance.py`` is one suite that every backend passes.

Durability contract: when ``append_events``, ``append_samples`` or an account
write returns, the data is on stable storage (it survives ``kill -9`` of the
process and, for the SQLite backend, a power loss).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from twinverse.errors import TwinverseError
from twinverse.twin.events import Event


class StoreError(TwinverseError):
    code = "store-error"


class StoreCorruptError(StoreError):
    """The store's files are not readable as a twinverse store."""

    code = "store-corrupt"


class ConflictError(StoreError):
    """A write lost a race with another writer (optimistic concurrency)."""

    code = "conflict"


@dataclass(frozen=True, slots=True)
class TwinInfo:
    """A twin (one enterprise) held by the store, and the tenant that owns it."""

    prefix: str
    name: str
    tenant: str
    created_ts: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The encoded graph of a twin after the event ``seq`` (whose time is ``ts``)."""

    twin: str
    seq: int
    ts: int
    data: bytes


@dataclass(frozen=True, slots=True)
class SeriesKey:
    """A time series: one property of one entity."""

    entity: str
    prop: str


@dataclass(frozen=True, slots=True)
class ChunkDigest:
    """A stored chunk of samples of one series, named by its SHA-256 digest."""

    id: int
    key: SeriesKey
    t_min: int
    t_max: int
    n: int
    sha256: str


class Aggregate(StrEnum):
    MEAN = "mean"
    MIN = "min"
    MAX = "max"
    LAST = "last"
    COUNT = "count"


@dataclass(frozen=True, slots=True)
class Samples:
    """Samples of one series: ``ts`` in ns since the epoch (UTC, sorted) and values."""

    key: SeriesKey
    ts: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Windowed:
    """A downsampled series: one row per window start that holds samples."""

    key: SeriesKey
    window_start: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]


@runtime_checkable
class EventLog(Protocol):
    def register_twin(self, info: TwinInfo) -> None:
        """Record a twin and its owning tenant; raises ConflictError if the prefix is taken."""

    def twins(self) -> list[TwinInfo]: ...

    def twin(self, prefix: str) -> TwinInfo | None: ...

    def append_events(
        self, events: Sequence[Event], *, expect_seq: int | None = None
    ) -> list[Event]:
        """Append atomically and durably; return the events with ``seq`` assigned.

        Within one twin timestamps are made non-decreasing (an event older than the
        last one is stamped with the last one's time). With ``expect_seq`` the append
        fails with ConflictError unless the twin's last seq equals it.
        """

    def last_seq(self, twin: str) -> int: ...

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
        """Events of a twin in seq order, after ``after_seq``, up to ``until_ts`` inclusive."""

    def save_snapshot(self, snapshot: Snapshot) -> None: ...

    def latest_snapshot(
        self, twin: str, *, at_or_before_ts: int | None = None
    ) -> Snapshot | None: ...


@runtime_checkable
class TimeSeriesStore(Protocol):
    def append_samples(
        self,
        keys: Sequence[SeriesKey],
        series_index: npt.NDArray[np.integer],
        ts: npt.NDArray[np.int64],
        values: npt.NDArray[np.float64],
    ) -> int:
        """Append samples in bulk, durably; sample i belongs to ``keys[series_index[i]]``.

        Returns the number of samples stored. Raises StoreError for mismatched lengths.
        """

    def append_samples_once(
        self,
        marks: Sequence[tuple[str, int]],
        keys: Sequence[SeriesKey],
        series_index: npt.NDArray[np.integer],
        ts: npt.NDArray[np.int64],
        values: npt.NDArray[np.float64],
    ) -> int:
        """Like ``append_samples``, and record ``marks`` — (source, sequence) of the
        messages the samples came from — in the same durable transaction."""

    def seen_marks(self, source: str, seqs: Sequence[int]) -> set[int]:
        """Which of ``seqs`` of ``source`` were recorded by ``append_samples_once``."""

    def prune_marks(self, keep: int = 100_000) -> int:
        """Forget all but the newest ``keep`` marks of each source; returns how many went."""

    def series(self, entity_prefix: str | None = None) -> list[SeriesKey]: ...

    def samples(self, key: SeriesKey, start: int, end: int) -> Samples:
        """Raw samples with ``start <= ts < end``, sorted by time."""

    def downsample(
        self, keys: Sequence[SeriesKey], start: int, end: int, window: int, agg: Aggregate
    ) -> list[Windowed]: ...

    def latest(self, keys: Sequence[SeriesKey]) -> dict[SeriesKey, tuple[int, float]]: ...


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """A principal as stored: a person or a service of a tenant (company)."""

    principal: str
    tenant: str
    display_name: str
    roles: tuple[str, ...]
    scopes: tuple[str, ...]  # twin subtrees (entity ids) it may see; () = the tenant's twins
    password_hash: str | None
    is_service: bool = False


@dataclass(frozen=True, slots=True)
class TokenRecord:
    token_hash: str
    principal: str
    expires_ts: int
    kind: str  # "session" or "api"


@runtime_checkable
class AccountStore(Protocol):
    def put_account(self, record: AccountRecord) -> None: ...

    def account(self, principal: str) -> AccountRecord | None: ...

    def accounts(self, tenant: str | None = None) -> list[AccountRecord]: ...

    def put_token(self, record: TokenRecord) -> None: ...

    def token(self, token_hash: str) -> TokenRecord | None: ...

    def delete_token(self, token_hash: str) -> None: ...


@runtime_checkable
class Store(EventLog, TimeSeriesStore, AccountStore, Protocol):
    """Everything a twinverse deployment keeps."""

    def close(self) -> None: ...


__all__ = [
    "AccountRecord",
    "AccountStore",
    "Aggregate",
    "ChunkDigest",
    "ConflictError",
    "EventLog",
    "Samples",
    "SeriesKey",
    "Snapshot",
    "Store",
    "StoreCorruptError",
    "StoreError",
    "TimeSeriesStore",
    "TokenRecord",
    "TwinInfo",
    "Windowed",
]
