"""Causal window features of a sensor history, for the gradient-boosting RUL model.

Every feature of cycle *t* uses cycles ≤ *t* of the same engine only, so a row's
features are what a streaming estimator knows at that moment. Per sensor (after
condition normalisation): exponentially weighted means at two speeds, rolling
means over short and long windows, and the least-squares slope over a long
window; plus the engine's age in cycles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter  # type: ignore[import-untyped]

Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """Which window features to compute; saved with a model so loading can check it."""

    ewm_alphas: tuple[float, ...] = (0.3, 0.1, 0.03)
    mean_windows: tuple[int, ...] = (5, 30)
    slope_windows: tuple[int, ...] = (30, 80)

    def names(self, sensors: list[str]) -> list[str]:
        out = ["age"]
        for s in sensors:
            out += [f"{s}.ewm{a:g}" for a in self.ewm_alphas]
            out += [f"{s}.mean{w}" for w in self.mean_windows]
            out += [f"{s}.slope{w}" for w in self.slope_windows]
        return out

    def to_dict(self) -> dict[str, list[float] | list[int]]:
        return {
            "ewm_alphas": list(self.ewm_alphas),
            "mean_windows": list(self.mean_windows),
            "slope_windows": list(self.slope_windows),
        }

    @classmethod
    def from_dict(cls, data: dict[str, list[float] | list[int]]) -> FeatureSpec:
        return cls(
            tuple(float(a) for a in data["ewm_alphas"]),
            tuple(int(w) for w in data["mean_windows"]),
            tuple(int(w) for w in data["slope_windows"]),
        )


def window_features(z: Array, starts: npt.NDArray[np.int64], spec: FeatureSpec) -> Array:
    """Features of every row of ``z`` (rows × sensors), engines delimited by ``starts``."""
    blocks = [engine_features(z[starts[i] : starts[i + 1]], spec) for i in range(len(starts) - 1)]
    return np.concatenate(blocks, axis=0)


def engine_features(z: Array, spec: FeatureSpec) -> Array:
    """Features of each cycle of one engine's history ``z`` (cycles × sensors)."""
    n, m = z.shape
    age = np.arange(1, n + 1, dtype=np.float64)
    per_sensor: list[Array] = []
    for alpha in spec.ewm_alphas:
        smoothed, _ = lfilter([alpha], [1.0, alpha - 1.0], z, axis=0, zi=(1 - alpha) * z[:1])
        per_sensor.append(smoothed)
    csum = np.concatenate((np.zeros((1, m)), np.cumsum(z, axis=0)))
    tsum = np.concatenate((np.zeros((1, m)), np.cumsum(z * age[:, None], axis=0)))
    for w in spec.mean_windows:
        lo = np.maximum(np.arange(n) + 1 - w, 0)
        count = (np.arange(n) + 1 - lo)[:, None]
        per_sensor.append((csum[1:] - csum[lo]) / count)
    for w in spec.slope_windows:
        per_sensor.append(_rolling_slope(csum, tsum, age, w))
    stacked = np.stack(per_sensor, axis=2).reshape(n, -1)  # sensor-major, feature-minor
    return np.column_stack((age, stacked))


def _rolling_slope(csum: Array, tsum: Array, age: Array, w: int) -> Array:
    n = len(age)
    hi = np.arange(n) + 1
    lo = np.maximum(hi - w, 0)
    k = (hi - lo).astype(np.float64)
    # sums of t and t² over cycles lo+1 … hi, in closed form
    st = (hi * (hi + 1) - lo * (lo + 1)) / 2.0
    stt = (hi * (hi + 1) * (2 * hi + 1) - lo * (lo + 1) * (2 * lo + 1)) / 6.0
    sx = csum[hi] - csum[lo]
    stx = tsum[hi] - tsum[lo]
    denom = k * stt - st * st
    safe = np.where(denom > 0, denom, 1.0)
    slope = (k[:, None] * stx - st[:, None] * sx) / safe[:, None]
    return np.where((denom > 0)[:, None], slope, 0.0)
