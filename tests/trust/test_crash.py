"""kill -9 during appends leaves a log consistent with every checkpoint already published."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.trust.crash_appender import SIGNER
from twinverse.trust.log import Ledger
from twinverse.trust.merkle import MemoryTree, verify_consistency

APPENDER = Path(__file__).with_name("crash_appender.py")
KILLS = 100 if os.environ.get("TWINVERSE_LONG") == "1" else 8
ROOT = Path(__file__).resolve().parents[2]


def test_kill_9_keeps_every_published_checkpoint(tmp_path: Path) -> None:
    rng = random.Random(7)
    path = tmp_path / "ledger.db"
    published: set[int] = set()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(KILLS):
        child = subprocess.Popen(
            [sys.executable, str(APPENDER), str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert child.stdout is not None
        first = child.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.2))
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL, err
        lines = [first, *out.splitlines(keepends=True)]
        published.update(
            int(x.split()[1]) for x in lines if x.endswith("\n") and x.startswith("cp ")
        )
        with Ledger(path, SIGNER, clock=time.time_ns).open() as log:
            size = log.audit()  # every node recomputed, every stored checkpoint re-checked
            assert all(s <= size for s in published)
            root = log.root()
            data = [log.entry(i).data for i in range(size)]
            tree = MemoryTree.of_data(data)
            for s in published:
                verify_consistency(
                    s, size, log.consistency_proof(s), log.checkpoint_at(s).checkpoint.root, root
                )
                assert tree.root(s) == log.checkpoint_at(s).checkpoint.root
    assert published
