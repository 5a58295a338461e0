"""Child process of test_crash.py: writes batches to a SqliteStore until it is killed.

Usage: python crash_writer.py STORE_PATH FIRST_BATCH_ID

Each batch is EVENTS events (reason ``b<id>``) and SAMPLES samples (value
``<id>``). The batch id is printed, and flushed, only after both appends have
returned, so every id on stdout is a batch the store acknowledged.
"""

from __future__ import annotations

import sys

import numpy as np

from twinverse.store import SeriesKey
from twinverse.store.sqlite import SqliteStore
from twinverse.twin.events import Event, PropertySet
from twinverse.twin.ids import EntityId

TWIN = "acme"
EVENTS = 20
SAMPLES = 5_000
KEYS = [SeriesKey(f"acme/m{i}", "v") for i in range(10)]


def main(path: str, first: int) -> None:
    with SqliteStore(path) as store:
        batch = first
        while True:
            events = [
                Event(
                    twin=TWIN,
                    ts=batch,
                    actor="crash-writer",
                    reason=f"b{batch}",
                    change=PropertySet(EntityId("acme/m0"), "n", i),
                )
                for i in range(EVENTS)
            ]
            store.append_events(events)
            index = np.arange(SAMPLES) % len(KEYS)
            ts = batch * SAMPLES + np.arange(SAMPLES, dtype=np.int64)
            store.append_samples(KEYS, index, ts, np.full(SAMPLES, float(batch)))
            sys.stdout.write(f"{batch}\n")
            sys.stdout.flush()
            batch += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
