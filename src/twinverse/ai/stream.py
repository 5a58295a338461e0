"""Streaming RUL: one machine's estimate updated per telemetry sample, without re-reading history.

A :class:`StreamingRul` keeps exactly what the window features need — the
exponentially weighted means, the last few dozen normalised readings and the
age — so each :meth:`~StreamingRul.update` costs the same however long the
machine has run. A :class:`RulMonitor` holds one per machine, turns estimates
into twin property changes (``health``, ``rul``, ``rul_low``, ``rul_high``) and
raises a :class:`MaintenanceAlert` when the interval's lower bound first falls
to the alert threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from twinverse.ai.rul import RulModel
from twinverse.twin.events import PropertySet
from twinverse.twin.ids import EntityId

Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class RulEstimate:
    """The RUL of a machine after ``age`` cycles, with its interval and health index."""

    age: int
    rul: float
    low: float
    high: float
    level: float

    @property
    def health(self) -> float:
        return float(min(max(self.rul / 125.0, 0.0), 1.0))


@dataclass(frozen=True, slots=True)
class MaintenanceAlert:
    """The lower bound of a machine's RUL fell to the threshold: plan maintenance now."""

    machine: str
    estimate: RulEstimate
    threshold: float

    @property
    def message(self) -> str:
        e = self.estimate
        return (
            f"{self.machine}: RUL {e.rul:.0f} cycles ({e.level:.0%} interval {e.low:.0f}–"
            f"{e.high:.0f}); lower bound at or below {self.threshold:.0f} — plan maintenance"
        )


class StreamingRul:
    """Incremental features and prediction for one machine; call :meth:`update` per cycle."""

    def __init__(self, model: RulModel) -> None:
        self._model = model
        spec = model.spec
        self._alphas = np.asarray(spec.ewm_alphas)
        self._window = max((*spec.mean_windows, *spec.slope_windows, 1))
        self._sensors = len(model.normaliser.informative)
        self._ewm = np.zeros((len(self._alphas), self._sensors))
        self._recent = np.zeros((self._window, self._sensors))
        self._age = 0

    @property
    def age(self) -> int:
        return self._age

    def update(self, settings: Array, sensors: Array) -> RulEstimate:
        """Add one cycle's operating settings (3) and raw sensor readings (21)."""
        settings = np.asarray(settings, np.float64).reshape(1, -1)
        sensors = np.asarray(sensors, np.float64).reshape(1, -1)
        z = self._model.normaliser.transform(settings, sensors)[0]
        if self._age == 0:
            self._ewm[:] = z
        else:
            self._ewm += self._alphas[:, None] * (z - self._ewm)
        self._recent = np.roll(self._recent, -1, axis=0)
        self._recent[-1] = z
        self._age += 1
        x = self.features()
        rul = float(self._model.predict_features(x[None, :])[0])
        low, high = self._model.bands.interval(np.asarray([rul]))
        return RulEstimate(self._age, rul, float(low[0]), float(high[0]), self._model.bands.level)

    def features(self) -> Array:
        """The window features after the last update (the model's input)."""
        spec = self._model.spec
        parts: list[Array] = [self._ewm[i] for i in range(len(self._alphas))]
        for w in spec.mean_windows:
            k = min(w, self._age)
            parts.append(self._recent[-k:].mean(axis=0))
        for w in spec.slope_windows:
            k = min(w, self._age)
            if k < 2:
                parts.append(np.zeros(self._sensors))
                continue
            t = np.arange(self._age - k + 1, self._age + 1, dtype=np.float64)
            x = self._recent[-k:]
            st, stt = t.sum(), (t * t).sum()
            denom = k * stt - st * st
            parts.append((k * (t @ x) - st * x.sum(axis=0)) / denom)
        per_sensor = np.stack(parts, axis=1).reshape(-1)
        return np.concatenate(([float(self._age)], per_sensor))


class RulMonitor:
    """Streaming RUL for many machines, with maintenance alerts on the interval's lower bound."""

    def __init__(self, model: RulModel, *, alert_below: float = 30.0) -> None:
        self._model = model
        self.alert_below = alert_below
        self._machines: dict[str, StreamingRul] = {}
        self._alerted: set[str] = set()

    def update(
        self, machine: str, settings: Array, sensors: Array
    ) -> tuple[RulEstimate, MaintenanceAlert | None]:
        """Feed one cycle of ``machine``; the alert is returned only on the first crossing."""
        stream = self._machines.get(machine)
        if stream is None:
            stream = self._machines[machine] = StreamingRul(self._model)
        estimate = stream.update(settings, sensors)
        alert = None
        if estimate.low <= self.alert_below and machine not in self._alerted:
            self._alerted.add(machine)
            alert = MaintenanceAlert(machine, estimate, self.alert_below)
        return estimate, alert

    def maintained(self, machine: str) -> None:
        """The machine was overhauled: its history starts again and alerts re-arm."""
        self._machines.pop(machine, None)
        self._alerted.discard(machine)


def property_changes(machine: EntityId, estimate: RulEstimate) -> list[PropertySet]:
    """Twin property events carrying an estimate (health index, RUL and its interval)."""
    return [
        PropertySet(machine, "health", round(estimate.health, 4)),
        PropertySet(machine, "rul", round(estimate.rul, 2)),
        PropertySet(machine, "rul_low", round(estimate.low, 2)),
        PropertySet(machine, "rul_high", round(estimate.high, 2)),
    ]
