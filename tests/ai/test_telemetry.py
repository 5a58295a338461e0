"""The telemetry monitor on its own: cycles from channels, state gating, rate limiting."""

from __future__ import annotations

import numpy as np

from twinverse.ai.anomaly import DetectorSettings
from twinverse.ai.cmapss import Subset
from twinverse.ai.rul import RulModel
from twinverse.ai.stream import RulMonitor
from twinverse.ai.telemetry import (
    ENGINE_CHANNELS,
    Reading,
    TelemetryMonitor,
    WatchSettings,
)

ENGINE = "86.1001.jinfeng-aero/changzhou-test/cell-1/stand-1/esn-82"
PRESS = "86.1001.jinfeng/changzhou/hall-2/ie3-line/op010"
SECOND = 1_000_000_000


def engine_readings(rows: np.ndarray, first_cycle: int = 1) -> list[list[Reading]]:
    """One call per cycle, sending only the channels whose value changed (as OPC UA does)."""
    calls: list[list[Reading]] = []
    last = np.full(rows.shape[1], np.nan)
    for k, row in enumerate(rows):
        ts = (first_cycle + k) * SECOND
        out = [
            Reading(ENGINE, name, ts, float(v))
            for name, v, before in zip(ENGINE_CHANNELS, row, last, strict=True)
            if v != before
        ]
        out.append(Reading(ENGINE, "cycle", ts, float(first_cycle + k)))
        out.reverse()  # cycle first in the call: the monitor must order by time and rank
        calls.append(out)
        last = row
    return calls


def test_cycles_carry_unchanged_channels_and_match_the_streaming_estimator(
    small_model: RulModel, fd001: Subset
) -> None:
    engine = fd001.test.select(np.array([81]))
    rows = np.hstack([engine.settings, engine.sensors])
    monitor = TelemetryMonitor(small_model)
    reference = RulMonitor(small_model)
    for k, call in enumerate(engine_readings(rows)):
        found = monitor.observe(call)
        expected, _ = reference.update("x", engine.settings[k], engine.sensors[k])
        assert found.estimates[ENGINE].rul == expected.rul
    assert monitor.cycles_seen == len(rows)


def test_the_alert_fires_once_and_a_new_engine_rearms_it(
    small_model: RulModel, fd001: Subset
) -> None:
    engine = fd001.test.select(np.array([81]))
    rows = np.hstack([engine.settings, engine.sensors])
    monitor = TelemetryMonitor(small_model, WatchSettings(alert_below=60.0))
    alerts = [a for call in engine_readings(rows) for a in monitor.observe(call).alerts]
    assert len(alerts) == 1
    restarted = monitor.observe(engine_readings(rows[:1], first_cycle=1)[0])
    names = {c.name: c.value for c in restarted.changes["86.1001.jinfeng-aero"]}
    assert names["maintenance_due"] is False
    assert restarted.estimates[ENGINE].age == 1


def vibration(ts: int, value: float) -> Reading:
    return Reading(PRESS, "vibration", ts * SECOND, value)


def test_a_machine_that_goes_idle_is_not_an_anomaly() -> None:
    monitor = TelemetryMonitor(None, WatchSettings(detector=DetectorSettings(warmup=30)))
    rng = np.random.default_rng(3)
    found = []
    for t in range(400):
        running = (t // 40) % 2 == 0
        state = Reading(PRESS, "state", t * SECOND, "running" if running else "idle")
        level = 2.5 if running else 0.3
        found.extend(monitor.observe([vibration(t, level + rng.normal(0, 0.15)), state]).anomalies)
    assert found == []


def test_anomalies_are_rate_limited_per_machine() -> None:
    settings = WatchSettings(detector=DetectorSettings(warmup=30), anomaly_gap_s=60.0)
    monitor = TelemetryMonitor(None, settings)
    rng = np.random.default_rng(4)
    shown = []
    held = 0
    for t in range(600):
        value = 2.5 + rng.normal(0, 0.15) + (30.0 if t >= 100 and t % 5 == 0 else 0.0)
        found = monitor.observe([vibration(t, value)])
        shown.extend(found.anomalies)
        held += found.held_back
    assert 1 <= len(shown) <= 600 // 60 + 1
    assert held > len(shown)
    assert shown[0].to_value()["kind"] == "spike"
    assert shown[1].held_back > 0
