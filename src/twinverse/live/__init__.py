"""The live twin: a simulated OPC UA plant, OPC UA and MQTT ingest, control write-back.

Names are imported on first use, so a process that only ingests MQTT does not
load the OPC UA stack (and the other way round).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "AuditLog": "commands",
    "Batch": "pipeline",
    "Command": "commands",
    "CommandError": "commands",
    "Commander": "commands",
    "IngestPipeline": "pipeline",
    "IngestReport": "report",
    "LiveChange": "hub",
    "LiveFeed": "feed",
    "LiveHub": "hub",
    "LiveRuntime": "runtime",
    "MqttIngest": "mqtt",
    "OpcUaIngest": "opcua",
    "PlantLine": "plant_model",
    "PlantServer": "plant",
    "TagMap": "tagmap",
    "TagMapError": "tagmap",
    "load_tag_map": "tagmap",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'twinverse.live' has no attribute {name!r}")
    return getattr(import_module(f"twinverse.live.{module}"), name)
