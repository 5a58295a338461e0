"""Operating conditions and per-condition normalisation of sensor readings.

FD002 and FD004 fly six operating conditions (altitude, Mach number, throttle);
a sensor's level depends far more on the condition than on wear. Normalising
each reading by the mean and spread of its condition in the training data
removes that and leaves the degradation trend. Conditions are found as the
clusters of the three settings (k-means seeded from a rounded grid, so the
result does not depend on a random start); a single-condition subset gets one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

MIN_CONDITION_SHARE = 0.01
"""A rounded setting combination holding fewer rows than this is noise, not a condition."""

MIN_LEVELS = 5
"""Distinct values a sensor must take within each condition to be kept."""

MIN_SPREAD = 1e-6
"""Sensors whose spread within every condition is below this carry no information."""


@dataclass(frozen=True, slots=True)
class ConditionNormaliser:
    """Condition centres and per-condition sensor mean/std learnt from training data."""

    centres: Array  # (k, 3) in scaled settings units
    scale: Array  # (3,) divides settings before measuring distance
    mean: Array  # (k, n_sensors)
    std: Array  # (k, n_sensors)
    informative: npt.NDArray[np.int64]  # sensor columns kept

    @property
    def condition_count(self) -> int:
        return int(self.centres.shape[0])

    @classmethod
    def fit(cls, settings: Array, sensors: Array) -> ConditionNormaliser:
        scale = np.maximum(settings.std(axis=0), 1e-3)
        scaled = settings / scale
        centres = _initial_centres(settings, scaled)
        for _ in range(20):  # Lloyd iterations from a deterministic start
            labels = _nearest(scaled, centres)
            updated = np.stack([scaled[labels == c].mean(axis=0) for c in range(len(centres))])
            if np.allclose(updated, centres):
                break
            centres = updated
        labels = _nearest(scaled, centres)
        k = len(centres)
        mean = np.stack([sensors[labels == c].mean(axis=0) for c in range(k)])
        std = np.stack([sensors[labels == c].std(axis=0) for c in range(k)])
        informative = np.flatnonzero((std > MIN_SPREAD).all(axis=0) & (std.max(axis=0) > 1e-4))
        # a sensor that takes only a few values within a condition is quantisation noise
        keep = [
            int(j)
            for j in informative
            if min(len(np.unique(sensors[labels == c, j])) for c in range(k)) >= MIN_LEVELS
        ]
        return cls(centres, scale, mean, np.maximum(std, MIN_SPREAD), np.asarray(keep, np.int64))

    def conditions(self, settings: Array) -> npt.NDArray[np.int64]:
        return _nearest(settings / self.scale, self.centres)

    def transform(self, settings: Array, sensors: Array) -> Array:
        """Z-scores of the informative sensors within their condition."""
        labels = self.conditions(settings)
        z = (sensors - self.mean[labels]) / self.std[labels]
        return z[:, self.informative]

    def to_dict(self) -> dict[str, list[float] | list[list[float]] | list[int]]:
        return {
            "centres": self.centres.tolist(),
            "scale": self.scale.tolist(),
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "informative": self.informative.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> ConditionNormaliser:
        return cls(
            np.asarray(data["centres"], np.float64),
            np.asarray(data["scale"], np.float64),
            np.asarray(data["mean"], np.float64),
            np.asarray(data["std"], np.float64),
            np.asarray(data["informative"], np.int64),
        )


def _initial_centres(settings: Array, scaled: Array) -> Array:
    grid = np.column_stack(
        (np.round(settings[:, 0]), np.round(settings[:, 1], 2), np.round(settings[:, 2]))
    )
    _, inverse, counts = np.unique(grid, axis=0, return_inverse=True, return_counts=True)
    frequent = np.flatnonzero(counts >= MIN_CONDITION_SHARE * len(settings))
    if frequent.size == 0:
        frequent = np.asarray([int(np.argmax(counts))])
    return np.stack([scaled[inverse.ravel() == g].mean(axis=0) for g in frequent])


def _nearest(points: Array, centres: Array) -> npt.NDArray[np.int64]:
    d = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    out: npt.NDArray[np.int64] = np.argmin(d, axis=1).astype(np.int64)
    return out
