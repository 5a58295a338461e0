"""The in-memory backend: the Store protocol with nothing on disk.

For tests and throwaway twins. It follows the same rules as the SQLite backend
— one seq counter for the store, times non-decreasing per twin, ``expect_seq``,
registered twins only, chunked time series — and it keeps events in their
encoded form, so a value that would not survive the codec fails here too.
"Durable" means "in this process": everything is gone after ``close()``.

Lifecycle: ready when constructed (holding nothing costs nothing); ``close()``
drops the data. Thread-safe: one lock guards all state.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Self

import numpy as np
import numpy.typing as npt

from twinverse.store import (
    AccountRecord,
    Aggregate,
    ConflictError,
    Samples,
    SeriesKey,
    Snapshot,
    StoreError,
    TokenRecord,
    TwinInfo,
    Windowed,
)
from twinverse.store.chunks import (
    Chunk,
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
from twinverse.twin import codec
from twinverse.twin.events import Event


@dataclass(frozen=True, slots=True)
class _StoredEvent:
    seq: int
    ts: int
    actor: str
    reason: str
    subject: str
    object: str | None
    payload: bytes


@dataclass(slots=True)
class _TwinLog:
    """The events of one twin (seq order) and its snapshots by seq."""

    events: list[_StoredEvent] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)  # for bisect
    snapshots: dict[int, Snapshot] = field(default_factory=dict)


class MemoryStore:
    """A twinverse store held in memory (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._twins: dict[str, TwinInfo] = {}
        self._logs: dict[str, _TwinLog] = {}
        self._next_seq = 1
        self._chunks: dict[SeriesKey, list[Chunk]] = {}
        self._accounts: dict[str, AccountRecord] = {}
        self._tokens: dict[str, TokenRecord] = {}
        self._marks: set[tuple[str, int]] = set()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop everything the store holds."""
        with self._lock:
            self._twins.clear()
            self._logs.clear()
            self._chunks.clear()
            self._accounts.clear()
            self._tokens.clear()

    # -------------------------------------------------------------- event log
    def register_twin(self, info: TwinInfo) -> None:
        """Record a twin; raises ConflictError when its prefix is taken."""
        with self._lock:
            if info.prefix in self._twins:
                raise ConflictError(f"a twin with prefix {info.prefix!r} exists already")
            self._twins[info.prefix] = info
            self._logs[info.prefix] = _TwinLog()

    def twins(self) -> list[TwinInfo]:
        with self._lock:
            return [self._twins[prefix] for prefix in sorted(self._twins)]

    def twin(self, prefix: str) -> TwinInfo | None:
        with self._lock:
            return self._twins.get(prefix)

    def append_events(
        self, events: Sequence[Event], *, expect_seq: int | None = None
    ) -> list[Event]:
        """Append atomically; see :mod:`twinverse.store.sequencing` for the rules and errors."""
        if not events:
            return []
        twins = twins_of(events, expect_seq)
        encoded = [codec.encode_change(e.change) for e in events]
        with self._lock:
            last_ts: dict[str, int | None] = {}
            for twin in twins:
                log = self._logs.get(twin)
                if log is None:
                    raise unknown_twin(twin)
                check_expected(twin, log.seqs[-1] if log.seqs else 0, expect_seq)
                last_ts[twin] = log.events[-1].ts if log.events else None
            stored = sequence(events, self._next_seq, last_ts)
            for event, payload in zip(stored, encoded, strict=True):
                log = self._logs[event.twin]
                log.events.append(
                    _StoredEvent(
                        seq=event.seq,
                        ts=event.ts,
                        actor=event.actor,
                        reason=event.reason,
                        subject=event.change.subject,
                        object=relation_target(event.change),
                        payload=payload,
                    )
                )
                log.seqs.append(event.seq)
            self._next_seq += len(stored)
        return stored

    def last_seq(self, twin: str) -> int:
        with self._lock:
            log = self._logs.get(twin)
            return log.seqs[-1] if log is not None and log.seqs else 0

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
        if limit is not None and limit <= 0:
            return []
        with self._lock:
            log = self._logs.get(twin)
            if log is None:
                return []
            first = bisect.bisect_right(log.seqs, after_seq)
            end = len(log.seqs)
            if until_seq is not None:
                end = min(end, bisect.bisect_right(log.seqs, until_seq))
            if until_ts is not None:
                # Times are non-decreasing along the log, so "ts <= T" is a prefix.
                end = min(end, bisect.bisect_right(log.events, until_ts, key=lambda e: e.ts))
            picked: list[_StoredEvent] = []
            for stored in log.events[first:end]:
                if entity is not None and entity not in (stored.subject, stored.object):
                    continue
                picked.append(stored)
                if limit is not None and len(picked) >= limit:
                    break
        return [
            Event(
                twin=twin,
                ts=s.ts,
                actor=s.actor,
                change=codec.decode_change(s.payload),
                reason=s.reason,
                seq=s.seq,
            )
            for s in picked
        ]

    def save_snapshot(self, snapshot: Snapshot) -> None:
        """Keep the encoded graph after event ``snapshot.seq``; replaces one at the same seq."""
        with self._lock:
            log = self._logs.get(snapshot.twin)
            if log is None:
                raise unknown_twin(snapshot.twin)
            log.snapshots[snapshot.seq] = snapshot

    def latest_snapshot(self, twin: str, *, at_or_before_ts: int | None = None) -> Snapshot | None:
        """The snapshot with the highest seq whose ts is at or before ``at_or_before_ts``."""
        with self._lock:
            log = self._logs.get(twin)
            if log is None:
                return None
            fitting = [
                s
                for s in log.snapshots.values()
                if at_or_before_ts is None or s.ts <= at_or_before_ts
            ]
        return max(fitting, key=lambda s: s.seq, default=None)

    # ------------------------------------------------------------ time series
    def append_samples(
        self,
        keys: Sequence[SeriesKey],
        series_index: npt.NDArray[np.integer],
        ts: npt.NDArray[np.int64],
        values: npt.NDArray[np.float64],
    ) -> int:
        """Append samples in bulk; raises StoreError (InvalidSamplesError) for bad arrays."""
        return self.append_samples_once((), keys, series_index, ts, values)

    def append_samples_once(
        self,
        marks: Sequence[tuple[str, int]],
        keys: Sequence[SeriesKey],
        series_index: npt.NDArray[np.integer],
        ts: npt.NDArray[np.int64],
        values: npt.NDArray[np.float64],
    ) -> int:
        """Append samples and record the ingest marks (source, sequence) together."""
        # Copies: the caller may reuse its arrays, and a chunk must not change under us.
        chunks = [
            Chunk(c.key, c.ts.copy(), c.values.copy())
            for c in split_batch(keys, series_index, ts, values)
        ]
        with self._lock:
            for chunk in chunks:
                self._chunks.setdefault(chunk.key, []).append(chunk)
            self._marks.update(marks)
        return sum(len(c) for c in chunks)

    def seen_marks(self, source: str, seqs: Sequence[int]) -> set[int]:
        """Which of ``seqs`` of ``source`` were recorded by :meth:`append_samples_once`."""
        with self._lock:
            return {s for s in seqs if (source, s) in self._marks}

    def prune_marks(self, keep: int = 100_000) -> int:
        """Forget all but the newest ``keep`` marks of each source."""
        with self._lock:
            newest: dict[str, int] = {}
            for source, seq in self._marks:
                newest[source] = max(seq, newest.get(source, seq))
            old = {(src, seq) for src, seq in self._marks if seq <= newest[src] - keep}
            self._marks -= old
            return len(old)

    def series(self, entity_prefix: str | None = None) -> list[SeriesKey]:
        """Series of the entities at or below ``entity_prefix`` in the id tree, or all of them."""
        with self._lock:
            keys = list(self._chunks)
        if entity_prefix is not None:
            below = entity_prefix + "/"
            keys = [k for k in keys if k.entity == entity_prefix or k.entity.startswith(below)]
        return sorted(keys, key=lambda k: (k.entity, k.prop))

    def _range(self, key: SeriesKey, start: int, end: int) -> tuple[Int64Array, Float64Array]:
        with self._lock:
            chunks = list(self._chunks.get(key, ()))
        parts = [(c.ts, c.values) for c in chunks if c.t_max >= start and c.t_min < end]
        return gather(parts, start, end)

    def samples(self, key: SeriesKey, start: int, end: int) -> Samples:
        """Raw samples with ``start <= ts < end``, sorted by time; empty for an unknown series."""
        times, vals = self._range(key, start, end)
        return Samples(key=key, ts=times, values=vals)

    def downsample(
        self, keys: Sequence[SeriesKey], start: int, end: int, window: int, agg: Aggregate
    ) -> list[Windowed]:
        """One Windowed per key, in order; windows of ``window`` ns aligned to ``start``."""
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
        with self._lock:
            for key in keys:
                chunks = self._chunks.get(key)
                if not chunks:
                    continue
                # max() keeps the first maximum, so scan newest first.
                newest = max(reversed(chunks), key=lambda c: c.t_max)
                out[key] = (newest.t_max, float(newest.values[-1]))
        return out

    # --------------------------------------------------------------- accounts
    def put_account(self, record: AccountRecord) -> None:
        """Create or replace an account (its tokens are kept)."""
        with self._lock:
            self._accounts[record.principal] = record

    def account(self, principal: str) -> AccountRecord | None:
        with self._lock:
            return self._accounts.get(principal)

    def accounts(self, tenant: str | None = None) -> list[AccountRecord]:
        with self._lock:
            records = [a for a in self._accounts.values() if tenant is None or a.tenant == tenant]
        return sorted(records, key=lambda a: a.principal)

    def put_token(self, record: TokenRecord) -> None:
        """Create or replace a token; raises StoreError (code ``unknown-principal``)."""
        with self._lock:
            if record.principal not in self._accounts:
                raise StoreError(
                    f"no account {record.principal!r}: a token needs an existing account "
                    "(put_account first)",
                    code="unknown-principal",
                )
            self._tokens[record.token_hash] = record

    def token(self, token_hash: str) -> TokenRecord | None:
        with self._lock:
            return self._tokens.get(token_hash)

    def delete_token(self, token_hash: str) -> None:
        """Forget a token; deleting an unknown token does nothing."""
        with self._lock:
            self._tokens.pop(token_hash, None)
