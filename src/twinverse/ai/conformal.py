"""Split-conformal prediction intervals, calibrated separately per band of predicted RUL.

Errors of a RUL model grow with the horizon: near failure the trend is steep
and clear, at 100 cycles it is not. One residual quantile for all engines would
give intervals too wide near failure and too narrow far from it, and the test
fleet's mix of horizons would decide the coverage. So the calibration residuals
``actual − predicted`` (from engines the model did not train on) are grouped by
the predicted value (Mondrian conformal), and each band gets its own lower and
upper quantile with the finite-sample correction ⌈(n+1)(1−α/2)⌉/n.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

DEFAULT_EDGES = (60.0,)
"""Band boundaries in predicted cycles: near failure, and the rest (finer bands were
found to over-fit the calibration engines' mix of horizons)."""

MIN_BAND_SIZE = 30
"""A band with fewer residuals uses the quantiles of all residuals."""


@dataclass(frozen=True, slots=True)
class ConformalBands:
    """Per-band residual quantiles at a nominal coverage ``level``."""

    level: float
    edges: tuple[float, ...]
    lower: tuple[float, ...]  # offset added to the prediction, ≤ 0
    upper: tuple[float, ...]  # offset added to the prediction, ≥ 0

    @classmethod
    def fit(
        cls,
        predicted: Array,
        actual: Array,
        level: float = 0.9,
        edges: tuple[float, ...] = DEFAULT_EDGES,
    ) -> ConformalBands:
        if not 0.0 < level < 1.0:
            raise ValueError(f"coverage level must be between 0 and 1, got {level}")
        residual = np.asarray(actual, np.float64) - np.asarray(predicted, np.float64)
        band = np.searchsorted(edges, predicted, side="right")
        everything = _quantiles(residual, level)
        lower: list[float] = []
        upper: list[float] = []
        for b in range(len(edges) + 1):
            mine = residual[band == b]
            lo, hi = _quantiles(mine, level) if mine.size >= MIN_BAND_SIZE else everything
            lower.append(lo)
            upper.append(hi)
        return cls(level, tuple(edges), tuple(lower), tuple(upper))

    def interval(self, predicted: Array) -> tuple[Array, Array]:
        """Lower and upper bounds (clipped at 0 cycles) around each prediction."""
        predicted = np.asarray(predicted, np.float64)
        band = np.searchsorted(self.edges, predicted, side="right")
        low = np.maximum(predicted + np.asarray(self.lower)[band], 0.0)
        high = np.maximum(predicted + np.asarray(self.upper)[band], 0.0)
        return low, high

    def to_dict(self) -> dict[str, float | list[float]]:
        return {
            "level": self.level,
            "edges": list(self.edges),
            "lower": list(self.lower),
            "upper": list(self.upper),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> ConformalBands:
        level = data["level"]
        if not isinstance(level, int | float):
            raise ValueError("conformal 'level' must be a number")
        edges, lower, upper = (
            tuple(float(v) for v in _floats(data[k])) for k in ("edges", "lower", "upper")
        )
        if len(lower) != len(edges) + 1 or len(upper) != len(edges) + 1:
            raise ValueError("conformal bands need one more quantile pair than edges")
        return cls(float(level), edges, lower, upper)


def coverage(actual: Array, low: Array, high: Array) -> float:
    """Share of ``actual`` values inside ``[low, high]``."""
    actual = np.asarray(actual, np.float64)
    return float(np.mean((actual >= low) & (actual <= high)))


def _quantiles(residual: Array, level: float) -> tuple[float, float]:
    n = residual.size
    tail = (1.0 - level) / 2.0
    k = min(math.ceil((n + 1) * (1.0 - tail)), n)
    ordered = np.sort(residual)
    hi = float(ordered[k - 1])
    lo = float(ordered[max(n - k, 0)])
    return min(lo, 0.0), max(hi, 0.0)


def _floats(value: object) -> list[float]:
    if not isinstance(value, list):
        raise ValueError("expected a list of numbers")
    return [float(v) for v in value]
