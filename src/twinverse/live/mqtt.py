"""MQTT ingest: a durable QoS 1 subscriber that acknowledges only what is stored.

The client keeps a persistent session (``clean_session=False`` and a fixed
client id), so the broker holds messages while the ingest is down and delivers
unacknowledged ones again after a crash. PUBACKs are sent manually, by the
pipeline, after the message's samples are committed; the store's marks drop
the redelivered ones. Malformed messages and unknown topics are counted in
the report and acknowledged (keeping them would only have them redelivered).

Topics are rows of the topic map (``topics:`` in the tag map file)::

    topics:
      - {topic: "twinverse/jinfeng/telemetry/#", format: json}
      - {topic: "spBv1.0/jinfeng/#", format: sparkplug}

Lifecycle: ``MqttIngest(...)`` does nothing; ``start()`` connects (and keeps
reconnecting with back-off); ``stop()`` disconnects.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from twinverse.errors import TwinverseError
from twinverse.live.payloads import PayloadError, SparkplugDecoder, decode_json
from twinverse.live.pipeline import IngestPipeline
from twinverse.live.report import Cause, IngestReport
from twinverse.live.tagmap import TagMap, TagMapError

_log = logging.getLogger(__name__)

QOS: Final = 1


class MqttError(TwinverseError):
    code = "mqtt-error"


class PayloadFormat(StrEnum):
    JSON = "json"
    SPARKPLUG = "sparkplug"


@dataclass(frozen=True, slots=True)
class TopicRow:
    topic: str  # an MQTT topic filter (+ and # wildcards)
    format: PayloadFormat


def topic_rows(doc: Any, where: str) -> tuple[TopicRow, ...]:
    """The ``topics:`` rows of a tag map document; raises TagMapError naming the row."""
    items = doc.get("topics") if isinstance(doc, dict) else None
    if not isinstance(items, list) or not items:
        raise TagMapError(f"{where}: topics", "expected a list of {topic, format} rows")
    rows = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("topic"), str):
            raise TagMapError(
                f"{where}: topics[{i}]", f"expected {{topic, format}}, got {item!r:.80}"
            )
        try:
            fmt = PayloadFormat(item.get("format", "json"))
        except ValueError:
            raise TagMapError(
                f"{where}: topics[{i}].format",
                f"expected json or sparkplug, got {item.get('format')!r}",
            ) from None
        rows.append(TopicRow(item["topic"], fmt))
    return tuple(rows)


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """Where the broker is and who the ingest is there."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    client_id: str = "twinverse-ingest"
    keepalive_s: int = 30
    ca_file: Path | None = None  # TLS with this CA when set


class MqttIngest:
    """Subscribes to the topic map's topics and feeds the pipeline (module docstring)."""

    def __init__(
        self,
        broker: BrokerSettings,
        tag_map: TagMap,
        topics: tuple[TopicRow, ...],
        pipeline: IngestPipeline,
        report: IngestReport,
        *,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.broker = broker
        self.tag_map = tag_map
        self.topics = topics
        self.pipeline = pipeline
        self.report = report
        self.clock = clock
        self._sparkplug = SparkplugDecoder(tag_map, report, clock=clock)
        self._client: mqtt.Client | None = None
        self.connected_once = False
        self._name = f"mqtt://{broker.host}:{broker.port}"

    def start(self) -> MqttIngest:
        """Connect and subscribe; raises MqttError when the broker refuses us or is unreachable."""
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.broker.client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        if self.broker.username is not None:
            client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.ca_file is not None:
            client.tls_set(ca_certs=str(self.broker.ca_file), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.max_inflight_messages_set(1000)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client
        try:
            client.connect(self.broker.host, self.broker.port, self.broker.keepalive_s)
        except OSError as err:
            raise MqttError(f"cannot reach the MQTT broker at {self._name}: {err}") from err
        client.loop_start()
        return self

    def wait_connected(self, timeout: float = 10.0) -> None:
        """Block until subscribed; raises MqttError with the broker's reason otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.connected_once:
                return
            if self._refused is not None:
                raise MqttError(
                    f"the MQTT broker at {self._name} refused the ingest: {self._refused}"
                )
            time.sleep(0.02)
        raise MqttError(f"no connection to the MQTT broker at {self._name} within {timeout:g} s")

    _refused: str | None = None

    def stop(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None

    # ------------------------------------------------------------ callbacks
    def _on_connect(
        self, client: mqtt.Client, _ud: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            self._refused = str(reason)
            self.report.set_connected(self._name, False)
            self.report.count(self._name, Cause.SOURCE_LOST, f"connection refused: {reason}")
            client.disconnect()  # a refused login will not get better by retrying
            return
        client.subscribe([(row.topic, QOS) for row in self.topics])
        self.report.set_connected(self._name, True)
        self.connected_once = True

    def _on_disconnect(
        self, _client: mqtt.Client, _ud: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        self.report.set_connected(self._name, False)
        if reason.value != 0:
            self.report.count(self._name, Cause.SOURCE_LOST, f"broker connection lost: {reason}")

    def _format_of(self, topic: str) -> PayloadFormat | None:
        for row in self.topics:
            if mqtt.topic_matches_sub(row.topic, topic):
                return row.format
        return None

    def _on_message(self, client: mqtt.Client, _ud: Any, msg: mqtt.MQTTMessage) -> None:
        mid, qos = msg.mid, msg.qos

        def ack() -> None:
            if qos > 0:
                client.ack(mid, qos)

        fmt = self._format_of(msg.topic)
        try:
            if fmt is None:
                raise PayloadError(
                    f"topic {msg.topic!r} is not in the topic map", Cause.UNKNOWN_TOPIC
                )
            if fmt is PayloadFormat.SPARKPLUG:
                batch = self._sparkplug.decode(msg.topic, bytes(msg.payload))
            else:
                batch = decode_json(
                    self.tag_map, msg.topic, bytes(msg.payload), self.report, clock=self.clock
                )
        except PayloadError as err:
            self.report.received_points(0)
            self.report.count(msg.topic, err.cause, err.message)
            ack()
            return
        except Exception as err:  # a decoder bug must not kill the network thread
            _log.exception("ingest: cannot decode a message on %s", msg.topic)
            self.report.count(msg.topic, Cause.MALFORMED, f"{type(err).__name__}: {err}")
            ack()
            return
        if batch is None:
            ack()
            return
        batch.ack = ack
        self.pipeline.submit(batch)
