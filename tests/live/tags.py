"""The tag map the MQTT tests use (a module of its own: the kill -9 worker imports it)."""

from __future__ import annotations

GLOBEX = "86.1000.globex"
LINE = "shanghai/l1"

TAGS = {
    "twin": GLOBEX,
    "source": "test-plant",
    "topics": [
        {"topic": "twinverse/globex/telemetry/#", "format": "json"},
        {"topic": "spBv1.0/globex/#", "format": "sparkplug"},
    ],
    "tags": [
        {
            "tag": "press-1/temperature",
            "entity": f"{LINE}/press-1",
            "property": "temperature",
            "unit": "degC",
        },
        {
            "tag": "press-1/power",
            "entity": f"{LINE}/press-1",
            "property": "power_kw",
            "scale": 0.001,
            "unit": "kW",
        },
        {"tag": "press-1/parts", "entity": f"{LINE}/press-1", "property": "parts"},
        {"tag": "press-1/state", "entity": f"{LINE}/press-1", "property": "state", "kind": "state"},
        {"tag": "weld-1/temperature", "entity": f"{LINE}/weld-1", "property": "temperature"},
        {
            "tag": "edge-1/press-1/temperature",
            "entity": f"{LINE}/press-1",
            "property": "temperature_spb",
        },
        {
            "tag": "edge-1/press-1/state",
            "entity": f"{LINE}/press-1",
            "property": "state",
            "kind": "state",
        },
    ],
}
