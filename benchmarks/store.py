"""Store benchmarks: bulk sample appends, downsampling and as-of reconstruction.

Run as ``.venv/bin/python benchmarks/store.py [--quick] [--dir DIR]``. Each
benchmark prints readable lines and returns a dict of figures; the last line
printed is one JSON object with all of them merged. Everything runs on a fresh
SQLite store in a temporary directory (on the same disk as DIR when given), with
the store's production settings: WAL, ``synchronous=FULL``.

Targets: appends >= 5M samples/s durably; 1-minute means of 1,000 series over a
day <= 1 s; the twin as of a time in the middle of 1M events (100k entities)
<= 2 s. ``--quick`` scales every size down about 10x.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twinverse.store import Aggregate, SeriesKey, TwinInfo
from twinverse.store.history import TwinHistory, graph_as_of
from twinverse.store.sqlite import SqliteStore
from twinverse.twin.events import Change, EntityAdded, PropertySet, RelationAdded
from twinverse.twin.ids import EntityId
from twinverse.twin.model import Entity, EntityKind, Relation, RelationKind
from twinverse.twin.quantity import Quantity

NS = 10**9
MINUTE = 60 * NS
DAY = 24 * 60 * MINUTE
T0 = 1_795_219_200 * NS  # 2026-11-21 00:00 UTC
TWIN = "bench"


@dataclass(frozen=True, slots=True)
class Scale:
    """The sizes of one run."""

    series: int
    samples_per_series: int
    append_batch: int  # samples per append_samples call (one durable transaction each)
    reference_rows: int  # rows of the row-per-sample SQLite reference
    entities: int
    events: int
    snapshot_every: int
    commit_batch: int  # changes per TwinHistory.commit while building the log


FULL = Scale(1_000, 10_000, 1_000_000, 1_000_000, 100_000, 1_000_000, 50_000, 10_000)
QUICK = Scale(1_000, 1_000, 100_000, 100_000, 10_000, 100_000, 5_000, 1_000)


@dataclass(frozen=True, slots=True)
class Context:
    scale: Scale
    workdir: Path

    def target(self, text: str) -> str:
        """The target to print beside a figure; the targets are for the full sizes."""
        return f"(target {text})" if self.scale == FULL else "(targets are for the full run)"


Bench = Callable[[Context], dict[str, float | int]]


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def _samples(scale: Scale) -> tuple[list[SeriesKey], np.ndarray, np.ndarray, np.ndarray]:
    """One day of samples for every series, in the order an ingest sees them: by time."""
    keys = [SeriesKey(f"{TWIN}/line-{i // 50}/m-{i}", "power") for i in range(scale.series)]
    step = DAY // scale.samples_per_series
    rng = np.random.default_rng(1)
    # Time-major: all series at t0, then all at t1, … with a per-series phase.
    phase = rng.integers(0, step, size=scale.series)
    ticks = np.arange(scale.samples_per_series, dtype=np.int64) * step
    ts = (T0 + ticks[:, None] + phase[None, :]).ravel()
    index = np.tile(np.arange(scale.series, dtype=np.int32), scale.samples_per_series)
    values = 50.0 + 10.0 * rng.standard_normal(ts.shape[0])
    return keys, index, ts, values


def bench_append_samples(ctx: Context) -> dict[str, float | int]:
    """(a) Bulk appends of chunked samples, durably, and row-per-sample SQLite for reference."""
    scale = ctx.scale
    keys, index, ts, values = _samples(scale)
    total = int(ts.shape[0])
    path = ctx.workdir / "samples.db"
    with SqliteStore(path) as store:
        started = time.perf_counter()
        for lo in range(0, total, scale.append_batch):
            hi = lo + scale.append_batch
            store.append_samples(keys, index[lo:hi], ts[lo:hi], values[lo:hi])
        elapsed = time.perf_counter() - started
    rate = total / elapsed
    size_mb = path.stat().st_size / 2**20
    print(
        f"append: {total:,} samples ({scale.series:,} series x {scale.samples_per_series:,}) "
        f"in {elapsed:.2f} s = {rate / 1e6:.2f} M samples/s durable "
        f"{ctx.target('>= 5 M/s')}; file {size_mb:.0f} MiB ({size_mb * 2**20 / total:.1f} B/sample)"
    )

    n = scale.reference_rows
    rows_path = ctx.workdir / "rows.db"
    con = sqlite3.connect(rows_path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    # The most generous row-per-sample layout: a rowid table with no index at
    # all (a query index on (series, ts) would make inserts slower still).
    con.execute("CREATE TABLE sample (series_id INTEGER, ts INTEGER, value REAL)")
    started = time.perf_counter()
    rows = zip(index[:n].tolist(), ts[:n].tolist(), values[:n].tolist(), strict=True)
    con.execute("BEGIN")
    con.executemany("INSERT INTO sample VALUES (?, ?, ?)", rows)
    con.execute("COMMIT")
    ref_elapsed = time.perf_counter() - started
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    ref_rate = n / ref_elapsed
    ref_bytes = rows_path.stat().st_size / n
    print(
        f"reference: row-per-sample executemany, {n:,} rows in {ref_elapsed:.2f} s = "
        f"{ref_rate / 1e6:.2f} M rows/s, {ref_bytes:.1f} B/sample; {total:,} rows would take "
        f"~{total / ref_rate:.1f} s (extrapolated) -> chunks are {rate / ref_rate:.1f}x faster"
    )
    return {
        "append_samples": total,
        "append_s": round(elapsed, 3),
        "append_samples_per_s": round(rate),
        "append_bytes_per_sample": round(size_mb * 2**20 / total, 2),
        "reference_rows": n,
        "reference_rows_per_s": round(ref_rate),
        "reference_bytes_per_sample": round(ref_bytes, 2),
        "reference_extrapolated_s": round(total / ref_rate, 2),
        "append_vs_reference": round(rate / ref_rate, 2),
    }


def bench_downsample(ctx: Context) -> dict[str, float | int]:
    """(b) 1-minute means of every series over the day (reuses the store of (a))."""
    path = ctx.workdir / "samples.db"
    with SqliteStore(path) as store:
        keys = store.series()
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            result = store.downsample(keys, T0, T0 + DAY, MINUTE, Aggregate.MEAN)
            runs.append(time.perf_counter() - started)
    windows = sum(w.window_start.shape[0] for w in result)
    print(
        f"downsample: 1-minute means of {len(keys):,} series over one day "
        f"({windows:,} windows) in {runs[0]:.3f} s first, {min(runs):.3f} s best of 3 "
        f"{ctx.target('<= 1 s')}"
    )
    return {
        "downsample_series": len(keys),
        "downsample_s": round(runs[0], 3),
        "downsample_best_s": round(min(runs), 3),
    }


def _structure(scale: Scale) -> list[Change]:
    """An enterprise, lines of 100 machines, each contained in its parent."""
    root = EntityId(TWIN)
    changes: list[Change] = [EntityAdded(Entity(root, EntityKind.ENTERPRISE, "Bench"))]
    line = root
    for i in range(scale.entities - 1):
        if i % 100 == 0:
            line = EntityId(f"{TWIN}/line-{i // 100}")
            changes += [
                EntityAdded(Entity(line, EntityKind.LINE, f"Line {i // 100}")),
                RelationAdded(Relation(root, RelationKind.CONTAINS, line)),
            ]
            continue
        machine = EntityId(f"{line}/m-{i}")
        props = {"rate": Quantity.of(60.0, "pcs/h"), "state": "idle"}
        changes += [
            EntityAdded(Entity(machine, EntityKind.MACHINE, f"M{i}", props)),
            RelationAdded(Relation(line, RelationKind.CONTAINS, machine)),
        ]
    return changes


def _changes(scale: Scale) -> list[Change]:
    """The structure, then property sets (temperature, state, rate) up to ``scale.events``."""
    rng = np.random.default_rng(2)
    changes = _structure(scale)
    ids = [c.entity.id for c in changes if isinstance(c, EntityAdded)]
    n_sets = scale.events - len(changes)
    targets = rng.integers(0, len(ids), size=n_sets).tolist()
    levels = rng.uniform(0, 100, size=n_sets).tolist()
    for k, (target, level) in enumerate(zip(targets, levels, strict=True)):
        value: object
        if k % 3 == 0:
            name, value = "temperature", level
        elif k % 3 == 1:
            name, value = "state", "busy" if level > 50 else "idle"
        else:
            name, value = "rate", Quantity.of(round(level, 1), "pcs/h")
        changes.append(PropertySet(ids[target], name, value))
    return changes


def _build_history(scale: Scale, store: SqliteStore) -> tuple[list[int], float]:
    """Commit the changes through TwinHistory; return each commit's time and the seconds taken.

    A function of its own so that the change list and the history's graph are
    freed before the as-of measurements.
    """
    changes = _changes(scale)
    step = DAY // (len(changes) // scale.commit_batch + 1)
    store.register_twin(TwinInfo(TWIN, "Bench", "tenant", T0))
    history = TwinHistory.load(store, TWIN, clock=lambda: T0, snapshot_every=scale.snapshot_every)
    started = time.perf_counter()
    commit_times: list[int] = []
    for n, lo in enumerate(range(0, len(changes), scale.commit_batch)):
        at = T0 + n * step
        history.commit(changes[lo : lo + scale.commit_batch], actor="bench", ts=at)
        commit_times.append(at)
    return commit_times, time.perf_counter() - started


def bench_as_of(ctx: Context) -> dict[str, float | int]:
    """(c) The twin as of a time between two snapshots, in a log of 1M events."""
    scale = ctx.scale
    path = ctx.workdir / "events.db"
    with SqliteStore(path) as store:
        commit_times, build = _build_history(scale, store)
        events = store.last_seq(TWIN)
        print(
            f"history: {events:,} events ({scale.entities:,} entities) committed through "
            f"TwinHistory in {build:.1f} s = {events / build:,.0f} events/s, "
            f"snapshot every {scale.snapshot_every:,}"
        )
        figures: dict[str, float | int] = {
            "asof_events": events,
            "history_build_s": round(build, 1),
        }
        # Commit i ends with event (i + 1) * commit_batch, and snapshots fall
        # on multiples of snapshot_every. "mid": half an interval after the
        # snapshot in the middle of the log (the typical replay); "worst": the
        # last commit before the next snapshot (the longest replay).
        batch, every = scale.commit_batch, scale.snapshot_every
        middle = scale.events // 2
        for label, event_index in (("mid", middle + every // 2), ("worst", middle + every - batch)):
            at = commit_times[event_index // batch - 1]
            runs = []
            for _ in range(3):
                gc.collect()
                started = time.perf_counter()
                graph = graph_as_of(store, TWIN, at)
                runs.append(time.perf_counter() - started)
                entities, relations = len(graph), graph.relation_count
                del graph
            snapshot = store.latest_snapshot(TWIN, at_or_before_ts=at)
            replayed = len(
                store.events(TWIN, after_seq=snapshot.seq if snapshot else 0, until_ts=at)
            )
            print(
                f"as-of ({label}): {entities:,} entities, {relations:,} relations "
                f"at event ~{event_index:,}, snapshot + {replayed:,} replayed events "
                f"in {runs[0]:.2f} s first, {min(runs):.2f} s best of 3 {ctx.target('<= 2 s')}"
            )
            figures[f"asof_{label}_s"] = round(runs[0], 3)
            figures[f"asof_{label}_best_s"] = round(min(runs), 3)
            figures[f"asof_{label}_replayed"] = replayed

        gc.collect()
        started = time.perf_counter()
        history = TwinHistory.load(store, TWIN, clock=lambda: T0)
        figures["load_s"] = round(time.perf_counter() - started, 3)
        print(f"load: the current graph (latest snapshot + replay) in {figures['load_s']:.2f} s")
        # One-change commits on the loaded 100k-entity graph: each copies the
        # graph (see TwinHistory._validated) and waits for one fsync.
        machine = next(iter(history.graph.entities(EntityKind.MACHINE))).id
        latencies = []
        for k in range(21):
            started = time.perf_counter()
            history.commit([PropertySet(machine, "state", f"s{k}")], actor="bench")
            latencies.append(time.perf_counter() - started)
        figures["commit_one_median_s"] = round(sorted(latencies)[10], 4)
        print(
            f"commit: one change to the {len(history.graph):,}-entity graph in "
            f"{figures['commit_one_median_s'] * 1000:.0f} ms (median of 21)"
        )
        started = time.perf_counter()
        snapshot = history.snapshot()
        figures["snapshot_s"] = round(time.perf_counter() - started, 3)
        size = len(snapshot.data) / 2**20 if snapshot else 0.0
        figures["snapshot_json_mb"] = round(size, 1)
        with sqlite3.connect(path) as raw:
            stored = raw.execute("SELECT max(length(data)) FROM snapshot").fetchone()[0] / 2**20
        raw.close()
        figures["snapshot_stored_mb"] = round(stored, 1)
        print(
            f"snapshot: {size:.1f} MiB of JSON, {stored:.1f} MiB stored with zlib level 1, "
            f"written in {figures['snapshot_s']:.2f} s"
        )
    figures["events_db_mb"] = round(path.stat().st_size / 2**20, 1)
    return figures


# The 100k-entity scenario load benchmark (bench_load_scenario) belongs to the
# scenario package's owner and is added to this list by them.
BENCHES: list[Bench] = [bench_append_samples, bench_downsample, bench_as_of]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="scale every size down ~10x")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the temporary store")
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL
    print(
        f"twinverse store benchmarks ({'quick' if args.quick else 'full'}) on "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, numpy {np.__version__}"
    )
    figures: dict[str, float | int | str] = {"mode": "quick" if args.quick else "full"}
    with tempfile.TemporaryDirectory(prefix="twinverse-bench-", dir=args.dir) as tmp:
        context = Context(scale=scale, workdir=Path(tmp))
        for bench in BENCHES:
            figures.update(bench(context))
            figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(f"peak RSS: {figures['peak_rss_mb']:.0f} MiB")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
