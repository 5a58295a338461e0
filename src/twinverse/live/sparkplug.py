"""Sparkplug B payloads with the official schema, on the ``protobuf`` package.

The message types are those of Eclipse Tahu's ``sparkplug_b.proto``
(``org.eclipse.tahu.protobuf.Payload`` and its ``Metric``) with the same field
numbers; the descriptor is built here so no ``protoc`` step is needed. Only the
fields twinverse reads or writes are declared (timestamp, metrics, seq, uuid,
body; a metric's name, alias, timestamp, datatype, flags and scalar values);
the others (metadata, properties, data sets, templates) are skipped as unknown
fields when parsing, which protobuf does by design.

Topics are ``spBv1.0/<group>/<type>/<edge node>[/<device>]``; see
:func:`parse_topic`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any, Final

from google.protobuf import (  # type: ignore[import-untyped]
    descriptor_pb2,
    descriptor_pool,
    message_factory,
)
from google.protobuf.message import DecodeError, Message  # type: ignore[import-untyped]

from twinverse.errors import TwinverseError

NAMESPACE: Final = "spBv1.0"


class SparkplugError(TwinverseError):
    code = "invalid-sparkplug"


class MessageType(StrEnum):
    NBIRTH = "NBIRTH"
    NDEATH = "NDEATH"
    NDATA = "NDATA"
    NCMD = "NCMD"
    DBIRTH = "DBIRTH"
    DDEATH = "DDEATH"
    DDATA = "DDATA"
    DCMD = "DCMD"
    STATE = "STATE"


class DataType(IntEnum):
    """Sparkplug B metric data types (the subset of scalars)."""

    INT8 = 1
    INT16 = 2
    INT32 = 3
    INT64 = 4
    UINT8 = 5
    UINT16 = 6
    UINT32 = 7
    UINT64 = 8
    FLOAT = 9
    DOUBLE = 10
    BOOLEAN = 11
    STRING = 12
    DATETIME = 13
    TEXT = 14


@dataclass(frozen=True, slots=True)
class Topic:
    group: str
    kind: MessageType
    edge: str
    device: str | None

    @property
    def node(self) -> str:
        return f"{self.group}/{self.edge}"

    def tag(self, metric: str) -> str:
        """The tag-map name of a metric: ``edge/device/metric`` or ``edge/metric``."""
        return f"{self.edge}/{self.device}/{metric}" if self.device else f"{self.edge}/{metric}"


def parse_topic(topic: str) -> Topic:
    """Split a Sparkplug B topic; raises SparkplugError naming the part that is wrong."""
    parts = topic.split("/")
    if len(parts) < 4 or parts[0] != NAMESPACE:
        raise SparkplugError(
            f"expected {NAMESPACE}/<group>/<type>/<edge node>[/<device>], got {topic!r}"
        )
    try:
        kind = MessageType(parts[2])
    except ValueError:
        raise SparkplugError(
            f"unknown Sparkplug message type {parts[2]!r} in {topic!r}; "
            f"expected one of {', '.join(MessageType)}"
        ) from None
    device = parts[4] if len(parts) > 4 else None
    return Topic(parts[1], kind, parts[3], device)


def _schema() -> Any:
    f = descriptor_pb2.FieldDescriptorProto
    opt, rep = f.LABEL_OPTIONAL, f.LABEL_REPEATED
    file = descriptor_pb2.FileDescriptorProto(
        name="twinverse/sparkplug_b.proto", package="org.eclipse.tahu.protobuf", syntax="proto2"
    )
    payload = file.message_type.add(name="Payload")
    metric = payload.nested_type.add(name="Metric")
    metric.oneof_decl.add(name="value")
    scalar = [
        ("name", 1, f.TYPE_STRING),
        ("alias", 2, f.TYPE_UINT64),
        ("timestamp", 3, f.TYPE_UINT64),
        ("datatype", 4, f.TYPE_UINT32),
        ("is_historical", 5, f.TYPE_BOOL),
        ("is_transient", 6, f.TYPE_BOOL),
        ("is_null", 7, f.TYPE_BOOL),
    ]
    for name, number, kind in scalar:
        metric.field.add(name=name, number=number, type=kind, label=opt)
    values = [
        ("int_value", 10, f.TYPE_UINT32),
        ("long_value", 11, f.TYPE_UINT64),
        ("float_value", 12, f.TYPE_FLOAT),
        ("double_value", 13, f.TYPE_DOUBLE),
        ("boolean_value", 14, f.TYPE_BOOL),
        ("string_value", 15, f.TYPE_STRING),
        ("bytes_value", 16, f.TYPE_BYTES),
    ]
    for name, number, kind in values:
        metric.field.add(name=name, number=number, type=kind, label=opt, oneof_index=0)
    payload.field.add(name="timestamp", number=1, type=f.TYPE_UINT64, label=opt)
    payload.field.add(
        name="metrics",
        number=2,
        type=f.TYPE_MESSAGE,
        label=rep,
        type_name=".org.eclipse.tahu.protobuf.Payload.Metric",
    )
    payload.field.add(name="seq", number=3, type=f.TYPE_UINT64, label=opt)
    payload.field.add(name="uuid", number=4, type=f.TYPE_STRING, label=opt)
    payload.field.add(name="body", number=5, type=f.TYPE_BYTES, label=opt)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(
        pool.FindMessageTypeByName("org.eclipse.tahu.protobuf.Payload")
    )


Payload: Final = _schema()

# datatype -> the oneof field holding the value
_VALUE_FIELD: Final = {
    **dict.fromkeys(
        (
            DataType.INT8,
            DataType.INT16,
            DataType.INT32,
            DataType.UINT8,
            DataType.UINT16,
            DataType.UINT32,
        ),
        "int_value",
    ),
    **dict.fromkeys((DataType.INT64, DataType.UINT64, DataType.DATETIME), "long_value"),
    DataType.FLOAT: "float_value",
    DataType.DOUBLE: "double_value",
    DataType.BOOLEAN: "boolean_value",
    DataType.STRING: "string_value",
    DataType.TEXT: "string_value",
}


@dataclass(frozen=True, slots=True)
class MetricValue:
    """One metric as sent: ``alias`` is used when ``name`` is empty (after a BIRTH)."""

    name: str
    alias: int | None
    timestamp_ms: int | None
    datatype: DataType
    value: float | bool | str | None


def encode(metrics: list[MetricValue], *, seq: int | None, timestamp_ms: int) -> bytes:
    """A Sparkplug B payload (the edge-node side; used by the plant and tests)."""
    out = Payload(timestamp=timestamp_ms)
    if seq is not None:
        out.seq = seq
    for m in metrics:
        item = out.metrics.add(datatype=int(m.datatype))
        if m.name:
            item.name = m.name
        if m.alias is not None:
            item.alias = m.alias
        if m.timestamp_ms is not None:
            item.timestamp = m.timestamp_ms
        if m.value is None:
            item.is_null = True
        else:
            setattr(item, _VALUE_FIELD[m.datatype], m.value)
    data: bytes = out.SerializeToString()
    return data


def decode(data: bytes) -> Message:
    """Parse a payload; raises SparkplugError when the bytes are not a Sparkplug B payload."""
    try:
        message: Message = Payload.FromString(data)
    except DecodeError as err:
        raise SparkplugError(f"not a Sparkplug B payload: {err}") from err
    return message


def metric_value(metric: Any) -> float | bool | str | None:
    """The value of a decoded metric (None when null or of an unsupported type)."""
    if metric.is_null:
        return None
    which = metric.WhichOneof("value")
    if which is None or which == "bytes_value":
        return None
    value: float | bool | str = getattr(metric, which)
    return value
