"""The ingest pipeline: batches from every source, stored durably, then acknowledged.

Sources (MQTT, OPC UA) turn messages into :class:`Batch` objects — columnar
arrays of tag-map rows, times and values — and :meth:`IngestPipeline.submit`
them. One writer thread gathers what arrived within ``flush_interval_s`` and,
per flush:

1. drops redelivered messages: a batch with a ``seq`` is stored at most once per
   (source, seq), checked against the marks the store keeps with the samples;
2. scales values, drops NaN/±inf (counted), notes out-of-order times (stored);
3. commits state changes (``kind: state`` rows) as twin events, then the samples
   and their marks in **one durable transaction**;
4. only then calls each batch's ``ack`` (an MQTT PUBACK), and hands what was
   stored to the listeners (:meth:`IngestPipeline.add_listener`, e.g. the
   models that watch the plant).

The newest value of each series goes to the live hub as soon as a batch is
submitted, before the commit: ``/live`` shows the plant as it is
now (like a SCADA screen), while acknowledgements wait for durability.

A failing store (a full disk) is retried with back-off; nothing is acknowledged
meanwhile, so the broker keeps the messages. Lifecycle: ``start()`` and
``stop()`` (or ``with``); the constructor starts nothing.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from twinverse.live.hub import LiveChange, LiveHub, wire_property
from twinverse.live.report import Cause, IngestReport
from twinverse.live.tagmap import TagMap
from twinverse.store import SeriesKey, Store, StoreError
from twinverse.twin.errors import TwinError
from twinverse.twin.events import Change, PropertySet
from twinverse.twin.ids import EntityId

if TYPE_CHECKING:  # the workspace (and the scenario loader behind it) is only a parameter here
    from twinverse.workspace import Workspace

_log = logging.getLogger(__name__)

# Marks remembered per source without asking the store (redelivery is recent).
_RECENT_MARKS: Final = 100_000
_MAX_BACKOFF_S: Final = 5.0

Int64Array = npt.NDArray[np.int64]
Float64Array = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]


@dataclass(slots=True)
class Batch:
    """Points of one message: rows of ``tag_map``, times (ns) and raw values.

    ``states`` holds the text values of ``kind: state`` rows as (row, ts, text).
    ``seq`` identifies the message within ``source`` for deduplication (None:
    not deduplicated); ``ack`` is called once the batch is durably stored (or
    known to be stored already).
    """

    tag_map: TagMap
    channel: str
    source: str
    seq: int | None
    rows: IndexArray
    ts: Int64Array
    values: Float64Array
    states: list[tuple[int, int, str]] = field(default_factory=list)
    ack: Callable[[], None] | None = None

    @property
    def points(self) -> int:
        return len(self.rows) + len(self.states)


@dataclass(frozen=True, slots=True)
class StoredSamples:
    """What one flush stored: samples of ``keys[index[i]]`` at ``ts[i]`` and the state texts.

    ``states`` holds every state reading of the flush as (entity, property, ts, text),
    changed or not.
    """

    keys: list[SeriesKey]
    index: IndexArray
    ts: Int64Array
    values: Float64Array
    states: list[tuple[str, str, int, str]]


StoredListener = Callable[[StoredSamples], None]


@dataclass(frozen=True, slots=True)
class PipelineSettings:
    flush_interval_s: float = 0.25
    max_flush_points: int = 500_000
    queue_batches: int = 10_000
    # Dedup marks: keep each source's newest this many, pruned every prune_every flushes.
    keep_marks: int = 100_000
    prune_every: int = 1_000


class IngestPipeline:
    """Batches in, durable samples and events out (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        report: IngestReport,
        *,
        hub: LiveHub | None = None,
        workspace: Workspace | None = None,
        settings: PipelineSettings = PipelineSettings(),
    ) -> None:
        self.store = store
        self.report = report
        self.hub = hub
        self.workspace = workspace
        self.settings = settings
        self._queue: queue.Queue[Batch] = queue.Queue(maxsize=settings.queue_batches)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: dict[str, OrderedDict[int, None]] = {}
        self._last_ts: dict[SeriesKey, int] = {}
        self._states: dict[tuple[str, str], str] = {}
        self._listeners: list[StoredListener] = []
        self.flushes = 0

    # ------------------------------------------------------------ lifecycle
    def start(self) -> IngestPipeline:
        if self._thread is not None:
            return self
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="ingest-writer", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Store what is queued (within ``timeout``), then stop the writer."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> IngestPipeline:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def submit(self, batch: Batch, *, timeout: float | None = None) -> None:
        """Queue a batch; blocks while the queue is full (backpressure on the source).

        The batch's newest values go to the live hub at once, on the caller's thread,
        so a commit in progress never delays ``/live``.
        """
        self.report.received_points(batch.points)
        self._publish(batch)
        self._queue.put(batch, timeout=timeout)

    def pending(self) -> int:
        return self._queue.qsize()

    def add_listener(self, listener: StoredListener) -> Callable[[], None]:
        """Call ``listener`` on the writer thread after each durable flush; returns its remover.

        It must hand work off and return at once (it delays the next flush); an
        exception it raises is logged and does not undo or repeat the flush.
        """
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # --------------------------------------------------------------- writer
    def _run(self) -> None:
        interval = self.settings.flush_interval_s
        while True:
            try:
                first = self._queue.get(timeout=0.05)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            batches = [first]
            points = first.points
            deadline = time.monotonic() + interval
            while points < self.settings.max_flush_points:
                left = deadline - time.monotonic()
                try:
                    batch = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                batches.append(batch)
                points += batch.points
            self._flush_with_retry(batches)

    def _flush_with_retry(self, batches: list[Batch]) -> None:
        backoff = 0.05
        while True:
            try:
                self.flush(batches)
                return
            except StoreError as err:
                self.report.count(
                    "store",
                    Cause.STORE_FAILED,
                    f"{err} (retrying in {backoff:.2f} s)",
                    sum(b.points for b in batches),
                )
                if self._stop.wait(backoff):
                    # Stopping while the store fails: the batches stay unacknowledged,
                    # so the broker delivers them again to the next ingest.
                    return
                backoff = min(backoff * 2, _MAX_BACKOFF_S)

    def flush(self, batches: Sequence[Batch]) -> int:
        """Store a group of batches durably, then acknowledge and publish them.

        Returns the samples stored. Raises StoreError when the store fails
        (nothing is acknowledged then).
        """
        fresh, marks = self._drop_duplicates(batches)
        keys, gidx, ts, values = self._columns(fresh)
        self._commit_states(fresh)
        stored = self.store.append_samples_once(marks, keys, gidx, ts, values)
        for source, seq in marks:
            self._remember(source, seq)
        self.report.stored_points(stored + sum(len(b.states) for b in fresh))
        self.flushes += 1
        for batch in batches:
            if batch.ack is not None:
                batch.ack()
        if self.flushes % self.settings.prune_every == 0:
            # Only a source's recent messages can be redelivered; older marks just grow the file.
            self.store.prune_marks(self.settings.keep_marks)
        if self._listeners:
            self._tell_listeners(StoredSamples(keys, gidx, ts, values, _state_rows(fresh)))
        return stored

    def _tell_listeners(self, stored: StoredSamples) -> None:
        for listener in list(self._listeners):
            try:
                listener(stored)
            except Exception:  # a listener's bug must not stop the ingest; its cause is logged
                _log.exception("ingest listener %r failed", listener)

    def _remember(self, source: str, seq: int) -> None:
        seen = self._seen.setdefault(source, OrderedDict())
        seen[seq] = None
        if len(seen) > _RECENT_MARKS:
            seen.popitem(last=False)

    def _drop_duplicates(
        self, batches: Sequence[Batch]
    ) -> tuple[list[Batch], list[tuple[str, int]]]:
        by_source: dict[str, list[int]] = {}
        for b in batches:
            if b.seq is not None and b.seq not in self._seen.get(b.source, ()):
                by_source.setdefault(b.source, []).append(b.seq)
        stored = {src: self.store.seen_marks(src, seqs) for src, seqs in by_source.items()}
        fresh: list[Batch] = []
        marks: list[tuple[str, int]] = []
        taken: set[tuple[str, int]] = set()
        for b in batches:
            if b.seq is not None:
                mark = (b.source, b.seq)
                if (
                    mark in taken
                    or b.seq in self._seen.get(b.source, ())
                    or b.seq in stored.get(b.source, ())
                ):
                    self.report.count(b.source, Cause.DUPLICATE, f"message seq {b.seq}", b.points)
                    continue
                taken.add(mark)
                marks.append(mark)
            fresh.append(b)
        return fresh, marks

    def _columns(
        self, batches: Sequence[Batch]
    ) -> tuple[list[SeriesKey], IndexArray, Int64Array, Float64Array]:
        keys: list[SeriesKey] = []
        offsets: dict[int, int] = {}
        parts_idx: list[IndexArray] = []
        parts_ts: list[Int64Array] = []
        parts_val: list[Float64Array] = []
        for b in batches:
            if not len(b.rows):
                continue
            tm = b.tag_map
            base = offsets.get(id(tm))
            if base is None:
                base = offsets[id(tm)] = len(keys)
                keys.extend(tm.keys)
            vals = b.values * tm.scale[b.rows] + tm.offset[b.rows]
            ok = np.isfinite(vals)
            if not ok.all():
                bad = int((~ok).sum())
                self.report.count(b.source, Cause.NON_FINITE, f"{bad} NaN/±inf value(s)", bad)
                vals, rows, ts = vals[ok], b.rows[ok], b.ts[ok]
            else:
                rows, ts = b.rows, b.ts
            parts_idx.append(rows + base)
            parts_ts.append(ts)
            parts_val.append(vals)
        if not parts_idx:
            empty = np.empty(0, dtype=np.intp)
            return keys, empty, np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        gidx = np.concatenate(parts_idx)
        ts = np.concatenate(parts_ts).astype(np.int64, copy=False)
        values = np.concatenate(parts_val)
        self._note_out_of_order(keys, gidx, ts, batches[0].source)
        return keys, gidx, ts, values

    def _note_out_of_order(
        self, keys: list[SeriesKey], gidx: IndexArray, ts: Int64Array, source: str
    ) -> None:
        """Count points older than the point before them in their series (they are still stored)."""
        last = np.array(
            [self._last_ts.get(k, np.iinfo(np.int64).min) for k in keys], dtype=np.int64
        )
        order = np.argsort(gidx, kind="stable")
        g, t = gidx[order], ts[order]
        same = np.empty(len(g), dtype=bool)
        same[:1] = False
        np.equal(g[1:], g[:-1], out=same[1:])
        before = np.empty_like(t)
        before[1:] = t[:-1]
        before[~same] = last[g[~same]]
        late = int((t < before).sum())
        if late:
            self.report.count(
                source, Cause.OUT_OF_ORDER, f"{late} point(s) older than stored", late
            )
        newest = last.copy()
        np.maximum.at(newest, gidx, ts)
        for i in np.unique(gidx).tolist():
            self._last_ts[keys[i]] = int(newest[i])

    def _commit_states(self, batches: Sequence[Batch]) -> None:
        if self.workspace is None:
            return
        per_twin: dict[tuple[str, str], list[Change]] = {}
        for b in batches:
            for row_i, _ts, text in b.states:
                row = b.tag_map.rows[row_i]
                key = (row.entity, row.prop)
                if key not in self._states:
                    self._states[key] = self._current_state(b.tag_map.twin, row.entity, row.prop)
                if self._states[key] == text:
                    continue
                self._states[key] = text
                per_twin.setdefault((b.tag_map.twin, b.channel), []).append(
                    PropertySet(EntityId(row.entity), row.prop, text)
                )
        for (twin, channel), changes in per_twin.items():
            try:
                self.workspace.apply_changes(
                    twin, changes, principal=None, actor=channel, reason="ingest"
                )
            except TwinError as err:
                self.report.count(channel, Cause.UNKNOWN_TAG, f"state change refused: {err}")

    def _current_state(self, twin: str, entity: str, prop: str) -> str:
        assert self.workspace is not None
        try:
            found = self.workspace.graph(twin).get(entity)
        except Exception:  # an unknown twin: the first state will be refused and counted
            return ""
        value = found.get(prop) if found is not None else None
        return value if isinstance(value, str) else ""

    def _publish(self, batch: Batch) -> None:
        """Offer the newest value of each series of a batch to the live hub, at once."""
        if self.hub is None or not len(batch.rows):
            return
        tm = batch.tag_map
        values = batch.values * tm.scale[batch.rows] + tm.offset[batch.rows]
        ok = np.isfinite(values)
        rows, ts, values = batch.rows[ok], batch.ts[ok], values[ok]
        if not len(rows):
            return
        # The newest point of each series: sort by (row, time), take each run's last.
        order = np.lexsort((ts, rows))
        r = rows[order]
        last = order[np.flatnonzero(np.append(r[1:] != r[:-1], True))]
        changes = [
            LiveChange(tm.rows[k].entity, wire_property(tm.rows[k].prop), v, t, batch.channel)
            for k, t, v in zip(
                rows[last].tolist(), ts[last].tolist(), values[last].tolist(), strict=True
            )
        ]
        self.hub.publish(tm.twin, changes)


def _state_rows(batches: Sequence[Batch]) -> list[tuple[str, str, int, str]]:
    out: list[tuple[str, str, int, str]] = []
    for b in batches:
        rows = b.tag_map.rows
        out.extend((rows[i].entity, rows[i].prop, ts, text) for i, ts, text in b.states)
    return out
