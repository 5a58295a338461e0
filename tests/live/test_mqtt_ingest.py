"""MQTT ingest through a real Mosquitto: durable QoS 1, ack after store, bad input, security."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.live.conftest import INGEST, PLANT, SPY
from tests.live.tags import GLOBEX, LINE, TAGS
from twinverse.live import sparkplug
from twinverse.live.broker import LocalBroker
from twinverse.live.mqtt import BrokerSettings, MqttError, MqttIngest, topic_rows
from twinverse.live.pipeline import IngestPipeline
from twinverse.live.report import Cause, IngestReport
from twinverse.live.tagmap import TagMap
from twinverse.store import SeriesKey
from twinverse.store.sqlite import SqliteStore
from twinverse.workspace import Workspace

PRESS = f"{GLOBEX}/{LINE}/press-1"
T0 = 1_790_000_000_000  # ms
_ids = itertools.count()


def publisher(broker: LocalBroker, user=PLANT) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{next(_ids)}")
    c.username_pw_set(user.name, user.password)
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    return c


def publish(c: mqtt.Client, topic: str, payload: bytes | dict) -> None:
    data = orjson.dumps(payload) if isinstance(payload, dict) else payload
    c.publish(topic, data, qos=1).wait_for_publish(5)


def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


class Ingest:
    """A running ingest (pipeline + MQTT client) over a store, as the CLI runs it."""

    def __init__(self, broker: LocalBroker, store, tag_map: TagMap, workspace=None, client_id=None):
        self.report = IngestReport()
        self.pipeline = IngestPipeline(store, self.report, workspace=workspace).start()
        settings = BrokerSettings(
            port=broker.port,
            username=INGEST.name,
            password=INGEST.password,
            client_id=client_id or f"ingest-{next(_ids)}",
        )
        self.mqtt = MqttIngest(settings, tag_map, topic_rows(TAGS, "t"), self.pipeline, self.report)
        self.mqtt.start().wait_connected()

    def stop(self) -> None:
        self.mqtt.stop()
        self.pipeline.stop()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    with SqliteStore(tmp_path / "ingest.db") as s:
        yield s


@pytest.fixture
def ingest(broker: LocalBroker, store: SqliteStore, tag_map: TagMap) -> Iterator[Ingest]:
    running = Ingest(broker, store, tag_map)
    yield running
    running.stop()


def temps(store: SqliteStore, prop: str = "temperature") -> np.ndarray:
    return store.samples(SeriesKey(PRESS, prop), 0, 2**62).values


def test_columnar_json_is_stored_scaled(broker, ingest: Ingest, store: SqliteStore) -> None:
    pub = publisher(broker)
    publish(
        pub,
        "twinverse/globex/telemetry/a",
        {
            "seq": 1,
            "ts": T0,
            "tags": ["press-1/temperature", "press-1/power"],
            "values": [61.5, 15000],
        },
    )
    until(lambda: ingest.report.stored == 2)
    assert temps(store).tolist() == [61.5]
    assert temps(store, "power_kw").tolist() == [15.0]
    pub.disconnect()


def test_a_redelivered_message_is_stored_once(broker, ingest: Ingest, store: SqliteStore) -> None:
    pub = publisher(broker)
    message = {"source": "gw", "seq": 7, "ts": T0, "tags": ["press-1/temperature"], "values": [1.0]}
    publish(pub, "twinverse/globex/telemetry/a", message)
    publish(pub, "twinverse/globex/telemetry/a", message)
    publish(pub, "twinverse/globex/telemetry/a", {**message, "seq": 8, "values": [2.0]})
    until(lambda: ingest.report.stored == 2 and ingest.report.counts[Cause.DUPLICATE] == 1)
    assert temps(store).tolist() == [1.0, 2.0]
    pub.disconnect()


def test_bad_input_is_counted_and_the_rest_stored(
    broker, ingest: Ingest, store: SqliteStore
) -> None:
    pub = publisher(broker)
    topic = "twinverse/globex/telemetry/a"
    publish(pub, topic, b"{not json")
    publish(pub, topic, b"\xff\xfe garbage")
    publish(pub, topic, {"seq": "x", "tags": [], "values": []})
    publish(pub, topic, {"tags": ["press-1/temperature"], "values": [1.0, 2.0]})
    publish(pub, topic, {"ts": 12, "tags": ["press-1/temperature"], "values": [1.0]})
    publish(
        pub,
        topic,
        {
            "seq": 2,
            "ts": T0,
            "points": [
                {"tag": "press-1/temperature", "value": 10.0},
                {"tag": "nope/temperature", "value": 1.0},
                {"tag": "press-1/temperature", "value": "hot", "ts": T0 + 1},
                {"tag": "press-1/parts", "value": None},
                {"tag": "press-1/temperature", "value": 11.0, "ts": T0 + 2},
            ],
        },
    )
    publish(pub, topic, b'{"seq": 9, "tags": ["press-1/temperature"], "values": [NaN]}')
    publish(pub, topic, {"seq": 3, "ts": T0 + 3, "tags": ["press-1/temperature"], "values": [12.0]})
    publish(
        pub, topic, {"seq": 4, "ts": T0 - 1000, "tags": ["press-1/temperature"], "values": [9.0]}
    )
    publish(pub, topic, {"seq": 5, "ts": T0 + 4, "tags": ["press-1/temperature"], "values": [13.0]})
    until(lambda: ingest.report.stored == 5)
    counts = ingest.report.counts
    assert counts[Cause.MALFORMED] == 6  # NaN is not JSON: the message is malformed
    assert counts[Cause.UNKNOWN_TAG] == 1
    assert counts[Cause.WRONG_TYPE] == 2
    assert counts[Cause.OUT_OF_ORDER] == 1
    assert temps(store).tolist() == [9.0, 10.0, 11.0, 12.0, 13.0]
    detail = ingest.report.as_dict()
    assert any("not JSON" in i["detail"] for i in detail["last_incidents"])
    pub.disconnect()


def test_an_unknown_topic_is_counted(broker, store: SqliteStore, tag_map: TagMap) -> None:
    from twinverse.live.mqtt import PayloadFormat, TopicRow

    report = IngestReport()
    pipeline = IngestPipeline(store, report).start()
    settings = BrokerSettings(
        port=broker.port,
        username=INGEST.name,
        password=INGEST.password,
        client_id=f"ingest-{next(_ids)}",
    )
    # Subscribed wider than the topic map knows: the extra topic is refused, not stored.
    rows = (TopicRow("twinverse/#", PayloadFormat.JSON),)
    narrow = MqttIngest(settings, tag_map, rows, pipeline, report)
    narrow.topics = rows
    narrow._format_of = lambda topic: None if "other" in topic else PayloadFormat.JSON  # type: ignore[method-assign]
    narrow.start().wait_connected()
    pub = publisher(broker)
    publish(pub, "twinverse/globex/other", {"tags": ["press-1/temperature"], "values": [1.0]})
    until(lambda: report.counts[Cause.UNKNOWN_TOPIC] == 1)
    narrow.stop()
    pipeline.stop()


def test_states_become_events_only_when_they_change(
    broker, store: SqliteStore, tag_map: TagMap, workspace: Workspace
) -> None:
    running = Ingest(broker, workspace.store, tag_map, workspace=workspace)
    pub = publisher(broker)
    for seq, state in enumerate(["running", "running", "down", "down", "running"], start=1):
        publish(
            pub,
            "twinverse/globex/telemetry/a",
            {
                "seq": seq,
                "points": [{"tag": "press-1/state", "value": state, "ts": T0 + seq}],
            },
        )
    until(lambda: running.report.stored == 5)
    running.stop()
    states = [
        (e.actor, e.change.value)
        for e in workspace.history(PRESS, limit=1000)
        if getattr(e.change, "name", None) == "state"
    ]
    assert states == [("mqtt", "running"), ("mqtt", "down"), ("mqtt", "running")]
    assert workspace.graph(GLOBEX).entity(PRESS).get("state") == "running"
    pub.disconnect()


def test_sparkplug_birth_then_data_by_alias(broker, ingest: Ingest, store: SqliteStore) -> None:
    pub = publisher(broker)
    D = sparkplug.DataType
    birth = sparkplug.encode(
        [
            sparkplug.MetricValue("temperature", 1, T0, D.DOUBLE, 60.0),
            sparkplug.MetricValue("state", 2, T0, D.STRING, "running"),
        ],
        seq=0,
        timestamp_ms=T0,
    )
    data = sparkplug.encode(
        [
            sparkplug.MetricValue("", 1, T0 + 10, D.DOUBLE, 61.0),
            sparkplug.MetricValue("", 1, T0 + 11, D.DOUBLE, math.nan),
            sparkplug.MetricValue("", 3, T0 + 10, D.DOUBLE, 1.0),
        ],
        seq=1,
        timestamp_ms=T0 + 10,
    )
    publish(pub, "spBv1.0/globex/DDATA/edge-2/press-1", data)  # before its birth
    publish(pub, "spBv1.0/globex/DBIRTH/edge-1/press-1", birth)
    publish(pub, "spBv1.0/globex/DDATA/edge-1/press-1", data)
    publish(pub, "spBv1.0/globex/DDATA/edge-1/press-1", data)  # redelivered: same seq and time
    publish(
        pub, "spBv1.0/globex/NDEATH/edge-1", sparkplug.encode([], seq=None, timestamp_ms=T0 + 20)
    )
    until(lambda: ingest.report.counts[Cause.GAP] == 1)
    until(lambda: len(temps(store, "temperature_spb")) == 2)
    assert temps(store, "temperature_spb").tolist() == [60.0, 61.0]
    counts = ingest.report.counts
    # The early DDATA, and alias 3 (never born) in each of the two DDATAs.
    assert counts[Cause.UNKNOWN_TAG] == 3
    assert counts[Cause.DUPLICATE] >= 1
    assert counts[Cause.NON_FINITE] == 1
    pub.disconnect()


def test_anonymous_clients_are_refused(broker) -> None:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="anon")
    outcome: list = []
    c.on_connect = lambda *a: outcome.append(a[3])
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    until(lambda: bool(outcome))
    c.loop_stop()
    assert outcome[0].is_failure and "authori" in str(outcome[0]).lower()


def test_a_wrong_password_is_refused_with_a_clear_error(broker, store, tag_map) -> None:
    settings = BrokerSettings(
        port=broker.port, username=INGEST.name, password="wrong", client_id=f"ingest-{next(_ids)}"
    )
    report = IngestReport()
    ingest = MqttIngest(
        settings, tag_map, topic_rows(TAGS, "t"), IngestPipeline(store, report), report
    )
    with pytest.raises(MqttError, match="refused"):
        ingest.start().wait_connected(5)
    ingest.stop()


def test_a_publisher_cannot_write_outside_its_acl(broker) -> None:
    spy = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="spy")
    spy.username_pw_set(SPY.name, SPY.password)
    seen: list[str] = []
    spy.on_message = lambda _c, _u, m: seen.append(m.topic)
    spy.connect("127.0.0.1", broker.port)
    spy.subscribe("#", qos=1)
    spy.loop_start()
    time.sleep(0.3)
    pub = publisher(broker)
    publish(pub, "twinverse/initech/telemetry/a", b"{}")  # not granted to the plant
    publish(pub, "twinverse/globex/telemetry/a", b"{}")  # granted
    until(lambda: "twinverse/globex/telemetry/a" in seen)
    time.sleep(0.2)
    assert "twinverse/initech/telemetry/a" not in seen
    spy.loop_stop()
    pub.disconnect()


def test_a_full_disk_holds_the_ack_until_the_samples_are_stored(
    broker, tmp_path: Path, tag_map: TagMap
) -> None:
    store = SqliteStore(tmp_path / "full.db").open()
    store.append_samples_once(
        [("warm", 0)],
        [SeriesKey("x", "y")],
        np.zeros(1, np.intp),
        np.zeros(1, np.int64),
        np.zeros(1),
    )
    pages = store._con.execute("PRAGMA page_count").fetchone()[0]
    store._con.execute(f"PRAGMA max_page_count={pages}")
    running = Ingest(broker, store, tag_map, client_id="ingest-full-disk")
    pub = publisher(broker)
    values = np.arange(5000, dtype=float).tolist()
    publish(
        pub,
        "twinverse/globex/telemetry/a",
        {
            "seq": 1,
            "ts": T0,
            "tags": ["press-1/temperature"] * 5000,
            "values": values,
        },
    )
    until(lambda: running.report.counts[Cause.STORE_FAILED] >= 2)
    assert running.report.stored == 0
    store._con.execute("PRAGMA max_page_count=1073741823")
    until(lambda: running.report.stored == 5000, timeout=20)
    running.stop()
    # Acknowledged: the same session gets nothing again.
    again = Ingest(broker, store, tag_map, client_id="ingest-full-disk")
    time.sleep(0.5)
    assert again.report.received == 0
    again.stop()
    assert len(store.samples(SeriesKey(PRESS, "temperature"), 0, 2**62).ts) == 5000
    store.close()
    pub.disconnect()


def test_the_ingest_survives_the_broker_going_away(tmp_path: Path, store, tag_map) -> None:
    pytest.importorskip("paho")
    with LocalBroker(tmp_path / "b", (INGEST, PLANT)) as broker:
        running = Ingest(broker, store, tag_map)
        pub = publisher(broker)
        publish(
            pub,
            "twinverse/globex/telemetry/a",
            {"seq": 1, "ts": T0, "tags": ["press-1/temperature"], "values": [1.0]},
        )
        until(lambda: running.report.stored == 1)
        pub.disconnect()
        broker.stop()
        until(lambda: running.report.counts[Cause.SOURCE_LOST] >= 1)
        broker.start()
        until(lambda: all(running.report.connected.values()), timeout=40)
        pub = publisher(broker)
        publish(
            pub,
            "twinverse/globex/telemetry/a",
            {"seq": 2, "ts": T0 + 1, "tags": ["press-1/temperature"], "values": [2.0]},
        )
        until(lambda: running.report.stored == 2, timeout=20)
        running.stop()
        pub.disconnect()
    assert temps(store).tolist() == [1.0, 2.0]


def test_old_dedup_marks_are_pruned_as_the_ingest_runs(store: SqliteStore, tag_map: TagMap) -> None:
    from twinverse.live.pipeline import Batch, PipelineSettings
    from twinverse.live.tagmap import rows_of

    pipeline = IngestPipeline(
        store, IngestReport(), settings=PipelineSettings(keep_marks=2, prune_every=3)
    )
    rows, _ = rows_of(tag_map, ["press-1/temperature"])
    for seq in range(1, 7):
        batch = Batch(
            tag_map, "test", "gw", seq, rows, np.array([T0 * 10**6 + seq]), np.array([20.0])
        )
        pipeline.flush([batch])
    # Pruned after flushes 3 and 6: only the newest two marks are left.
    assert store.seen_marks("gw", list(range(1, 7))) == {5, 6}
    assert temps(store).size == 6
