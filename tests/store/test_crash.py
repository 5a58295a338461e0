"""An acknowledged write survives kill -9; a write cut short leaves nothing behind.

A child process (``crash_writer.py``) appends batches of events and samples in a
loop and prints each batch id after its appends returned. It is killed with
SIGKILL at a random moment, the store is reopened and checked, and a new child
carries on. ``TWINVERSE_LONG=1`` runs ten times as many kills.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from crash_writer import EVENTS, KEYS, SAMPLES, TWIN

from twinverse.store import TwinInfo
from twinverse.store.sqlite import SqliteStore
from twinverse.twin.events import EntityAdded, Event
from twinverse.twin.ids import EntityId
from twinverse.twin.model import Entity, EntityKind

WRITER = Path(__file__).with_name("crash_writer.py")
KILLS = 200 if os.environ.get("TWINVERSE_LONG") == "1" else 20


def _run_and_kill(path: Path, first: int, rng: random.Random) -> list[int]:
    """Start a writer, kill it at a random moment after its first ack; return the acked ids."""
    child = subprocess.Popen(
        [sys.executable, str(WRITER), str(path), str(first)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    # Wait for the first ack so that the kill lands while the loop writes, not
    # while the interpreter starts.
    lines = [child.stdout.readline()]
    time.sleep(rng.uniform(0.0, 0.15))
    child.send_signal(signal.SIGKILL)
    out, err = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL, err
    lines += out.splitlines(keepends=True)
    # A line cut short by the kill was never a complete acknowledgement.
    return [int(line) for line in lines if line.endswith("\n")]


def _check(path: Path, acked: set[int]) -> None:
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        con.close()
    with SqliteStore(path) as store:
        events = store.events(TWIN, after_seq=1)
        per_batch = Counter(e.reason for e in events)
        values = np.concatenate([store.samples(k, 0, 2**62).values for k in KEYS])
        samples_per_batch = Counter(values.astype(np.int64).tolist())
    assert set(per_batch.values()) <= {EVENTS}, "a batch of events is partly stored"
    assert set(samples_per_batch.values()) <= {SAMPLES}, "a batch of samples is partly stored"
    missing_events = {b for b in acked if per_batch[f"b{b}"] != EVENTS}
    missing_samples = {b for b in acked if samples_per_batch[b] != SAMPLES}
    assert not missing_events, f"acknowledged event batches lost: {sorted(missing_events)}"
    assert not missing_samples, f"acknowledged sample batches lost: {sorted(missing_samples)}"
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


@pytest.mark.slow
def test_acknowledged_batches_survive_kill_9_and_none_is_partial(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    with SqliteStore(path) as store:
        store.register_twin(TwinInfo(TWIN, "Acme", "tenant", 0))
        machine = Entity(EntityId("acme/m0"), EntityKind.MACHINE, "m0")
        store.append_events([Event(twin=TWIN, ts=0, actor="setup", change=EntityAdded(machine))])
    rng = random.Random(20261121)
    acked: set[int] = set()
    for kill in range(KILLS):
        acked.update(_run_and_kill(path, first=kill * 1_000_000 + 1, rng=rng))
        _check(path, acked)
    assert len(acked) >= KILLS
