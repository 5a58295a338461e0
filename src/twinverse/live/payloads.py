"""Messages to batches: JSON telemetry and Sparkplug B, checked point by point.

JSON messages come in two shapes; times are ms since the epoch (UTC)::

    {"source": "gw-1", "seq": 42, "ts": 1732000000000,
     "tags": ["op010/temperature", …], "values": [61.5, …]}        # columns; "ts" a number or a list
    {"source": "gw-1", "seq": 42,
     "points": [{"tag": "op010/state", "value": "running", "ts": 1732000000000}, …]}

``source`` defaults to the topic; ``seq`` (an integer increasing per source)
makes redelivered messages deduplicate. A malformed message raises
:class:`PayloadError` (nothing of it is stored); bad points inside a good
message — unknown tags, wrong types — are dropped and counted, the rest stored.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import orjson

from twinverse.errors import TwinverseError
from twinverse.live import sparkplug
from twinverse.live.pipeline import Batch
from twinverse.live.report import Cause, IngestReport
from twinverse.live.tagmap import TagMap, ValueKind, rows_of

NS_PER_MS: Final = 1_000_000
# 2001-09-09 .. 2286-11-20 in ms: anything else is not a plausible ms timestamp.
_MS_RANGE: Final = (1_000_000_000_000, 9_999_999_999_999)


class PayloadError(TwinverseError):
    """A message that cannot be read at all; ``cause`` says how it is counted."""

    code = "invalid-payload"

    def __init__(self, message: str, cause: Cause = Cause.MALFORMED) -> None:
        super().__init__(message)
        self.cause = cause


Clock = Callable[[], int]


def _ms(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PayloadError(f"{where}: expected a time in ms since the epoch, got {value!r:.60}")
    if not _MS_RANGE[0] <= value <= _MS_RANGE[1]:
        raise PayloadError(f"{where}: {value!r} is not a time in ms since the epoch")
    return int(value * NS_PER_MS)


def _seq(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value >= 2**63:
        raise PayloadError(f"seq: expected a non-negative integer, got {value!r:.60}")
    return value


def decode_json(
    tag_map: TagMap,
    topic: str,
    payload: bytes,
    report: IngestReport,
    *,
    clock: Clock,
    channel: str = "mqtt",
) -> Batch:
    """A batch from a JSON telemetry message; raises PayloadError when it is malformed."""
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as err:
        raise PayloadError(f"not JSON: {err}") from err
    if not isinstance(doc, dict):
        raise PayloadError(f"expected a JSON object, got {type(doc).__name__}")
    source = doc.get("source", topic)
    if not isinstance(source, str) or not source:
        raise PayloadError(f"source: expected a text, got {source!r:.60}")
    seq = _seq(doc.get("seq"))
    default_ts = _ms(doc["ts"], "ts") if isinstance(doc.get("ts"), int | float) else None
    if "tags" in doc:
        return _columns(tag_map, doc, source, seq, default_ts, report, clock, channel)
    points = doc.get("points")
    if not isinstance(points, list):
        raise PayloadError("expected 'points' (a list) or 'tags' and 'values' (lists)")
    builder = _Builder(tag_map, source, report)
    now = default_ts if default_ts is not None else clock()
    for i, point in enumerate(points):
        if not isinstance(point, dict):
            builder.refuse(Cause.WRONG_TYPE, f"points[{i}]: expected an object, got {point!r:.60}")
            continue
        ts = _ms(point["ts"], f"points[{i}].ts") if "ts" in point else now
        builder.add(point.get("tag"), point.get("value"), ts, f"points[{i}]")
    return builder.batch(channel, seq)


def _columns(
    tag_map: TagMap,
    doc: dict[str, Any],
    source: str,
    seq: int | None,
    default_ts: int | None,
    report: IngestReport,
    clock: Clock,
    channel: str,
) -> Batch:
    tags, values, times = doc.get("tags"), doc.get("values"), doc.get("ts")
    if not isinstance(tags, list) or not isinstance(values, list) or len(tags) != len(values):
        raise PayloadError("expected 'tags' and 'values' as lists of the same length")
    if isinstance(times, list):
        if len(times) != len(tags):
            raise PayloadError(f"'ts' has {len(times)} times for {len(tags)} tags")
        try:
            ts = np.asarray(times, dtype=np.int64) * NS_PER_MS
        except (TypeError, ValueError, OverflowError) as err:
            raise PayloadError(f"ts: expected times in ms since the epoch: {err}") from err
        if len(ts) and (ts.min() < _MS_RANGE[0] * NS_PER_MS or ts.max() > _MS_RANGE[1] * NS_PER_MS):
            raise PayloadError("ts: a time is not in ms since the epoch")
    else:
        ts = np.full(len(tags), default_ts if default_ts is not None else clock(), dtype=np.int64)
    try:
        rows, unknown = rows_of(tag_map, tags)
        numeric = tag_map.numeric[rows].all() and not unknown
        vals = np.asarray(values, dtype=np.float64) if numeric else None
    except (TypeError, ValueError):
        vals = None
    if vals is not None:
        # The fast path: every tag known, numeric, every value a number.
        return Batch(tag_map, channel, source, seq, rows, ts, vals)
    builder = _Builder(tag_map, source, report)
    for i, (tag, value) in enumerate(zip(tags, values, strict=True)):
        builder.add(tag, value, int(ts[i]), f"tags[{i}]")
    return builder.batch(channel, seq)


@dataclass(slots=True)
class _Builder:
    """Point-by-point checks for the slow path."""

    tag_map: TagMap
    source: str
    report: IngestReport
    rows: list[int] = field(default_factory=list)
    ts: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    states: list[tuple[int, int, str]] = field(default_factory=list)

    def refuse(self, cause: Cause, detail: str) -> None:
        self.report.count(self.source, cause, detail)

    def add(self, tag: Any, value: Any, ts: int, where: str) -> None:
        row = self.tag_map.index.get(tag) if isinstance(tag, str) else None
        if row is None:
            self.refuse(Cause.UNKNOWN_TAG, f"{where}: tag {tag!r:.80} is not in the tag map")
            return
        if self.tag_map.rows[row].kind is ValueKind.STATE:
            if not isinstance(value, str) or not value:
                self.refuse(
                    Cause.WRONG_TYPE, f"{where}: state {tag!r} needs a text, got {value!r:.60}"
                )
                return
            self.states.append((row, ts, value))
            return
        if isinstance(value, bool):
            value = float(value)
        if not isinstance(value, int | float):
            self.refuse(Cause.WRONG_TYPE, f"{where}: {tag!r} needs a number, got {value!r:.60}")
            return
        self.rows.append(row)
        self.ts.append(ts)
        self.values.append(float(value))

    def batch(self, channel: str, seq: int | None) -> Batch:
        return Batch(
            self.tag_map,
            channel,
            self.source,
            seq,
            np.asarray(self.rows, dtype=np.intp),
            np.asarray(self.ts, dtype=np.int64),
            np.asarray(self.values, dtype=np.float64),
            self.states,
        )


class SparkplugDecoder:
    """Sparkplug B messages of edge nodes to batches, keeping each node's metric aliases.

    BIRTH messages declare names and aliases; DATA messages may carry aliases
    only. A DATA message from a node whose BIRTH was not seen is refused
    (counted as unknown tag): the host cannot know what its aliases mean. A
    DEATH marks the node's source as lost (a gap in its data).
    """

    def __init__(self, tag_map: TagMap, report: IngestReport, *, clock: Clock) -> None:
        self.tag_map = tag_map
        self.report = report
        self.clock = clock
        self._aliases: dict[tuple[str, str | None], dict[int, str]] = {}

    def decode(self, topic_text: str, payload: bytes) -> Batch | None:
        """A batch of a BIRTH or DATA message; None for the others. Raises PayloadError."""
        try:
            topic = sparkplug.parse_topic(topic_text)
            message: Any = sparkplug.decode(payload)
        except sparkplug.SparkplugError as err:
            raise PayloadError(err.message) from err
        node_key = (topic.node, topic.device)
        if topic.kind in (sparkplug.MessageType.NDEATH, sparkplug.MessageType.DDEATH):
            self.report.count(topic.node, Cause.GAP, f"{topic.kind.value} from {topic_text}")
            self.report.set_connected(f"spb:{topic.node}", False)
            return None
        if topic.kind not in (
            sparkplug.MessageType.NBIRTH,
            sparkplug.MessageType.DBIRTH,
            sparkplug.MessageType.NDATA,
            sparkplug.MessageType.DDATA,
        ):
            return None
        birth = topic.kind in (sparkplug.MessageType.NBIRTH, sparkplug.MessageType.DBIRTH)
        if birth:
            self._aliases[node_key] = {}
            self.report.set_connected(f"spb:{topic.node}", True)
        aliases = self._aliases.get(node_key)
        if aliases is None:
            raise PayloadError(
                f"{topic.kind.value} from {topic_text} before its BIRTH: aliases unknown",
                Cause.UNKNOWN_TAG,
            )
        default_ts = int(message.timestamp) * NS_PER_MS if message.timestamp else self.clock()
        builder = _Builder(self.tag_map, f"spb:{topic.node}", self.report)
        for i, metric in enumerate(message.metrics):
            name = metric.name
            if metric.HasField("alias"):
                if name:
                    aliases[int(metric.alias)] = name
                else:
                    name = aliases.get(int(metric.alias), "")
            if not name:
                builder.refuse(Cause.UNKNOWN_TAG, f"metrics[{i}]: alias {metric.alias} unknown")
                continue
            value = sparkplug.metric_value(metric)
            if value is None:
                continue  # a null metric: no sample
            ts = int(metric.timestamp) * NS_PER_MS if metric.timestamp else default_ts
            builder.add(topic.tag(name), value, ts, f"metrics[{i}]")
        # Sparkplug's seq wraps at 256; with the message time it names a message uniquely.
        seq = None
        if message.HasField("seq") and message.timestamp:
            seq = int(message.timestamp) * 256 + int(message.seq) % 256
        return builder.batch("mqtt", seq)
