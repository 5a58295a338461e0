from __future__ import annotations

import subprocess
import sys

import twinverse.ai


def test_ai_exports() -> None:
    assert twinverse.ai.__all__ == [
        "AiError",
        "Anomaly",
        "Answer",
        "DataFormatError",
        "Evaluation",
        "MachineDetector",
        "MaintenanceAlert",
        "ModelFileError",
        "PropertyDetector",
        "Reading",
        "RulModel",
        "RulMonitor",
        "RulPrediction",
        "StreamingRul",
        "Subset",
        "TelemetryMonitor",
        "TrainingPlan",
        "WatchSettings",
        "ask",
        "load_subset",
        "nasa_score",
        "property_changes",
    ]
    for name in twinverse.ai.__all__:
        assert getattr(twinverse.ai, name) is not None


def test_asking_does_not_import_scikit_learn() -> None:
    code = "import sys, twinverse.ai.ask; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
