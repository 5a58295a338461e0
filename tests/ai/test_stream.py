from __future__ import annotations

import numpy as np

from twinverse.ai.cmapss import Subset
from twinverse.ai.rul import RulModel
from twinverse.ai.stream import RulMonitor, StreamingRul, property_changes
from twinverse.twin.ids import EntityId


def test_streaming_matches_the_batch_prediction_at_every_cycle(
    small_model: RulModel, fd001: Subset
) -> None:
    engine = fd001.test.select(np.asarray([3]))
    features = small_model.features(engine)
    batch = small_model.predict_features(features)
    stream = StreamingRul(small_model)
    live = []
    for i in range(len(batch)):
        live.append(stream.update(engine.settings[i], engine.sensors[i]).rul)
        # the same features up to rounding: running sums versus sliding windows
        np.testing.assert_allclose(stream.features(), features[i], rtol=1e-9, atol=1e-9)
    # a rounding difference can tip a value across a split threshold, rarely and slightly
    differ = np.abs(np.asarray(live) - batch)
    assert np.mean(differ < 1e-9) >= 0.95
    assert differ.max() < 3.0
    assert stream.age == len(batch)


def test_monitor_alerts_once_when_the_lower_bound_crosses(
    small_model: RulModel, fd001: Subset
) -> None:
    engine = fd001.train.select(np.asarray([0]))  # runs to failure
    monitor = RulMonitor(small_model, alert_below=20)
    alerts = []
    for i in range(len(engine.units)):
        _, alert = monitor.update("m1", engine.settings[i], engine.sensors[i])
        if alert is not None:
            alerts.append((i, alert))
    assert len(alerts) == 1
    cycle, alert = alerts[0]
    assert alert.estimate.low <= 20
    assert cycle > len(engine.units) // 2
    assert "plan maintenance" in alert.message
    monitor.maintained("m1")
    _, again = monitor.update("m1", engine.settings[-1], engine.sensors[-1])
    assert again is None or again.machine == "m1"


def test_estimates_become_twin_properties(small_model: RulModel, fd001: Subset) -> None:
    stream = StreamingRul(small_model)
    estimate = stream.update(fd001.test.settings[0], fd001.test.sensors[0])
    changes = property_changes(EntityId("86.1000.x/m1"), estimate)
    assert [c.name for c in changes] == ["health", "rul", "rul_low", "rul_high"]
    assert all(c.entity_id == "86.1000.x/m1" for c in changes)
