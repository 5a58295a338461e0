"""Industrial AI: remaining useful life, anomaly detection, questions about the twin.

The names below are loaded on first use, so importing :mod:`twinverse.ai.ask`
(the API does) does not pay for scikit-learn and scipy.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "AiError": "twinverse.ai.errors",
    "DataFormatError": "twinverse.ai.errors",
    "ModelFileError": "twinverse.ai.errors",
    "Subset": "twinverse.ai.cmapss",
    "load_subset": "twinverse.ai.cmapss",
    "nasa_score": "twinverse.ai.cmapss",
    "RulModel": "twinverse.ai.rul",
    "TrainingPlan": "twinverse.ai.rul",
    "RulPrediction": "twinverse.ai.rul",
    "Evaluation": "twinverse.ai.rul",
    "StreamingRul": "twinverse.ai.stream",
    "RulMonitor": "twinverse.ai.stream",
    "MaintenanceAlert": "twinverse.ai.stream",
    "property_changes": "twinverse.ai.stream",
    "PropertyDetector": "twinverse.ai.anomaly",
    "MachineDetector": "twinverse.ai.anomaly",
    "Anomaly": "twinverse.ai.anomaly",
    "TelemetryMonitor": "twinverse.ai.telemetry",
    "WatchSettings": "twinverse.ai.telemetry",
    "Reading": "twinverse.ai.telemetry",
    "Answer": "twinverse.ai.ask",
    "ask": "twinverse.ai.ask",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'twinverse.ai' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
