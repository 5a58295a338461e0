"""An MQTT ingest process for the kill -9 test: ``python ingest_worker.py STORE PORT USER PASSWORD``.

Prints ``ready`` once subscribed, then ingests until killed.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.live.tags import TAGS
from twinverse.live.mqtt import BrokerSettings, MqttIngest, topic_rows
from twinverse.live.pipeline import IngestPipeline
from twinverse.live.report import IngestReport
from twinverse.live.tagmap import tag_map_from_dict
from twinverse.store.sqlite import SqliteStore


def main() -> None:
    store_path, port, user, password = sys.argv[1:5]
    store = SqliteStore(store_path).open()
    report = IngestReport()
    pipeline = IngestPipeline(store, report).start()
    broker = BrokerSettings(
        port=int(port), username=user, password=password, client_id="kill-test-ingest"
    )
    ingest = MqttIngest(broker, tag_map_from_dict(TAGS), topic_rows(TAGS, "t"), pipeline, report)
    ingest.start().wait_connected()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
