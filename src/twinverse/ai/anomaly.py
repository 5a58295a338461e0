"""Online anomaly detection on sensor streams: per property and per machine.

Each :class:`PropertyDetector` keeps an exponentially weighted baseline (mean
and variance, updated with clipped values so a fault does not drag the
baseline after it) and looks at each new sample once:

* a **spike** is one sample beyond ``spike_z`` baseline deviations;
* a **shift** (drift or a level rise such as growing vibration) is a two-sided
  CUSUM of the standardised values crossing ``cusum_h``; the new level then
  becomes the baseline, so a change is reported once (and its end once more);
* a **stuck** sensor repeats the same value for ``stuck_samples`` samples
  while its baseline says it should be moving.

Slow changes (a daily cycle) are tracked by the baseline and are not flagged.
A :class:`MachineDetector` runs one detector per property and adds a joint
test — the sum of squared standardised values against a χ² bound — for faults
that show faintly in several properties at once. Cost per sample is constant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from scipy.stats import chi2  # type: ignore[import-untyped]


class AnomalyKind(StrEnum):
    SPIKE = "spike"
    SHIFT = "shift"
    STUCK = "stuck"
    JOINT = "joint"


@dataclass(frozen=True, slots=True)
class DetectorSettings:
    """Thresholds of the detectors; the defaults hold false alarms to about one a day."""

    warmup: int = 120
    """Samples used to learn the baseline before anything is flagged."""
    half_life: float = 600.0
    """Samples for the baseline's weight to halve: long against faults, short against a day."""
    spike_z: float = 7.0
    cusum_k: float = 1.0
    cusum_h: float = 14.0
    fast_alpha: float = 0.2
    """Weight of the fast average that becomes the new baseline after a shift is reported."""
    stuck_samples: int = 15
    joint_p: float = 1e-7

    @property
    def alpha(self) -> float:
        return 1.0 - math.pow(0.5, 1.0 / self.half_life)


@dataclass(frozen=True, slots=True)
class Anomaly:
    """A detector's finding: which stream, when (the sample's time), what and how strong."""

    source: str
    ts: float
    kind: AnomalyKind
    score: float


class PropertyDetector:
    """Online detector of one numeric stream; feed samples in time order with :meth:`update`."""

    def __init__(self, source: str, settings: DetectorSettings | None = None) -> None:
        self.source = source
        self.settings = settings or DetectorSettings()
        self._n = 0
        self._mean = 0.0
        self._var = 0.0
        self._up = 0.0
        self._down = 0.0
        self._last: float | None = None
        self._same = 0
        self._fast = 0.0
        self.z = 0.0

    def update(self, ts: float, value: float) -> Anomaly | None:
        """Add one sample; returns the anomaly it reveals, if any. NaN samples are skipped."""
        if math.isnan(value):
            return None
        s = self.settings
        self._same = self._same + 1 if value == self._last else 0
        self._last = value
        self._n += 1
        self._fast = value if self._n == 1 else self._fast + s.fast_alpha * (value - self._fast)
        if self._n <= s.warmup:
            # Welford-style running mean and variance while learning the baseline
            delta = value - self._mean
            self._mean += delta / self._n
            self._var += (delta * (value - self._mean) - self._var) / self._n
            return None
        sd = math.sqrt(self._var) if self._var > 0 else 0.0
        if sd == 0.0:
            self.z = 0.0
            return None
        z = (value - self._mean) / sd
        self.z = z
        found: Anomaly | None = None
        clipped = max(-s.spike_z, min(s.spike_z, z))
        self._up = max(0.0, self._up + clipped - s.cusum_k)
        self._down = max(0.0, self._down - clipped - s.cusum_k)
        if max(self._up, self._down) > s.cusum_h:
            found = Anomaly(self.source, ts, AnomalyKind.SHIFT, max(self._up, self._down))
            # report a change once: the new level becomes the baseline
            self._up = self._down = 0.0
            self._mean = self._fast
        elif abs(z) > s.spike_z:
            found = Anomaly(self.source, ts, AnomalyKind.SPIKE, abs(z))
        if found is None and self._same >= s.stuck_samples:
            found = Anomaly(self.source, ts, AnomalyKind.STUCK, float(self._same))
            self._same = 0
        if found is None:
            # learn only from samples that look normal, and only a bounded step from them
            bounded = self._mean + max(-3.0, min(3.0, z)) * sd
            delta = bounded - self._mean
            self._mean += s.alpha * delta
            self._var = (1 - s.alpha) * (self._var + s.alpha * delta * delta)
        return found


class MachineDetector:
    """One detector per property of a machine, plus a joint χ² test across them."""

    def __init__(self, machine: str, settings: DetectorSettings | None = None) -> None:
        self.machine = machine
        self.settings = settings or DetectorSettings()
        self._detectors: dict[str, PropertyDetector] = {}
        self._bounds: dict[int, float] = {}

    def update(self, ts: float, values: dict[str, float]) -> list[Anomaly]:
        """Add one sample of several properties taken at ``ts``."""
        found: list[Anomaly] = []
        for name, value in values.items():
            detector = self._detectors.get(name)
            if detector is None:
                detector = self._detectors[name] = PropertyDetector(
                    f"{self.machine}/{name}", self.settings
                )
            hit = detector.update(ts, value)
            if hit is not None:
                found.append(hit)
        if not found and len(values) > 1:
            total = sum(self._detectors[n].z ** 2 for n in values)
            bound = self._bounds.get(len(values))
            if bound is None:
                bound = self._bounds[len(values)] = float(
                    chi2.isf(self.settings.joint_p, len(values))
                )
            if total > bound:
                found.append(Anomaly(self.machine, ts, AnomalyKind.JOINT, total))
        return found
