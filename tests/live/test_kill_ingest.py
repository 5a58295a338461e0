"""kill -9 of the ingest at random moments during QoS 1 ingest: nothing acknowledged is lost,
nothing is stored twice. 20 kills by default, 50 in CI (CI set), 200 with TWINVERSE_LONG=1."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tests.live.conftest import INGEST, PLANT
from tests.live.tags import GLOBEX, LINE
from twinverse.live.broker import LocalBroker
from twinverse.store import SeriesKey
from twinverse.store.sqlite import SqliteStore

WORKER = Path(__file__).with_name("ingest_worker.py")
POINTS = 50
T0 = 1_790_000_000_000


def kills() -> int:
    if os.environ.get("TWINVERSE_LONG") == "1":
        return 200
    return 50 if os.environ.get("CI") else 20


def start_worker(store: Path, broker: LocalBroker) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, str(WORKER), str(store), str(broker.port), INGEST.name, INGEST.password],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.strip() == "ready", f"the worker did not start: {line!r}"
    return process


def test_kill_9_loses_nothing_acknowledged_and_stores_nothing_twice(
    broker: LocalBroker, tmp_path: Path
) -> None:
    store_path = tmp_path / "kill.db"
    rng = random.Random(4)
    worker = start_worker(store_path, broker)
    total = kills()
    messages = total * 25
    done = threading.Event()

    def publish() -> None:
        pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="kill-test-plant")
        pub.username_pw_set(PLANT.name, PLANT.password)
        pub.connect("127.0.0.1", broker.port)
        pub.loop_start()
        for seq in range(1, messages + 1):
            body = {
                "source": "kill-test",
                "seq": seq,
                "ts": T0 + seq,
                "tags": ["press-1/temperature"] * POINTS,
                "values": [seq * 1000.0 + i for i in range(POINTS)],
            }
            pub.publish("twinverse/globex/telemetry/k", orjson.dumps(body), qos=1).wait_for_publish(
                10
            )
            time.sleep(0.002)
        pub.loop_stop()
        pub.disconnect()
        done.set()

    publisher = threading.Thread(target=publish)
    publisher.start()
    try:
        for _ in range(total):
            time.sleep(rng.uniform(0.0, 0.15))
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
            worker = start_worker(store_path, broker)
        publisher.join()
        key = SeriesKey(f"{GLOBEX}/{LINE}/press-1", "temperature")
        expected = messages * POINTS
        deadline = time.monotonic() + 60
        with SqliteStore(store_path) as store:
            while time.monotonic() < deadline:
                values = store.samples(key, 0, 2**62).values
                if len(values) >= expected:
                    break
                time.sleep(0.2)
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    want = np.array([s * 1000.0 + i for s in range(1, messages + 1) for i in range(POINTS)])
    assert len(values) == expected, (
        f"{expected - len(values)} samples lost or {len(values) - expected} extra"
    )
    assert np.array_equal(np.sort(values), want)  # each sample once: no loss, no duplicate
