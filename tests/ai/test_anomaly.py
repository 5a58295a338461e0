from __future__ import annotations

import numpy as np

from twinverse.ai.anomaly import AnomalyKind, DetectorSettings, MachineDetector, PropertyDetector


def _feed(detector: PropertyDetector, values: np.ndarray) -> list[tuple[int, AnomalyKind]]:
    found = []
    for t, v in enumerate(values):
        hit = detector.update(float(t), float(v))
        if hit is not None:
            found.append((t, hit.kind))
    return found


def _normal(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 50.0 + rng.normal(0, 1.0, n) + 2 * np.sin(np.arange(n) / 86_400 * 2 * np.pi)


def test_normal_noise_raises_no_alarm() -> None:
    assert _feed(PropertyDetector("t"), _normal(20_000)) == []


def test_a_spike_is_reported_at_its_sample() -> None:
    values = _normal(2_000)
    values[1_000] += 12
    assert _feed(PropertyDetector("t"), values) == [(1_000, AnomalyKind.SPIKE)]


def test_a_drift_is_reported_within_thirty_samples() -> None:
    values = _normal(3_000)
    values[1_500:] += 0.1 * np.arange(1_500)
    found = _feed(PropertyDetector("t"), values)
    assert found
    first, kind = found[0]
    assert kind is AnomalyKind.SHIFT
    assert 1_500 <= first <= 1_530


def test_a_stuck_sensor_is_reported() -> None:
    values = _normal(2_000)
    values[1_200:1_400] = values[1_200]
    found = _feed(PropertyDetector("t"), values)
    assert found[0] == (1_215, AnomalyKind.STUCK)  # the 15th repeat of the value at 1200
    assert all(1_200 <= t <= 1_460 for t, _ in found)  # its end may show as a shift


def test_a_level_rise_is_reported_once_and_its_end_once() -> None:
    values = _normal(4_000)
    values[1_500:2_100] += 3.0
    found = _feed(PropertyDetector("v"), values)
    assert [k for _, k in found] == [AnomalyKind.SHIFT, AnomalyKind.SHIFT]
    assert 1_500 <= found[0][0] <= 1_520
    assert 2_100 <= found[1][0] <= 2_120


def test_nothing_is_flagged_while_learning_or_for_a_constant_signal() -> None:
    settings = DetectorSettings(warmup=50)
    assert _feed(PropertyDetector("c", settings), np.full(500, 3.0)) == []


def test_machine_detector_names_the_property() -> None:
    detector = MachineDetector("press-1")
    temperature = _normal(1_000, seed=1)
    vibration = _normal(1_000, seed=2)
    vibration[700] += 15
    found = [
        a
        for t in range(1_000)
        for a in detector.update(
            float(t), {"temperature": temperature[t], "vibration": vibration[t]}
        )
    ]
    assert [(a.source, a.kind, a.ts) for a in found] == [
        ("press-1/vibration", AnomalyKind.SPIKE, 700.0)
    ]
