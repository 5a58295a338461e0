"""Estimates over replications: a mean and the half-width of its Student-t confidence interval.

Shared by every simulator of :mod:`twinverse.sim`, so a line study and a
network study state their uncertainty the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True, slots=True)
class Estimate:
    """A mean over ``n`` replications and the half-width of its confidence interval."""

    mean: float
    half_width: float
    confidence: float
    n: int

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    @property
    def relative_half_width(self) -> float:
        return self.half_width / abs(self.mean) if self.mean else math.inf

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def __str__(self) -> str:
        return f"{self.mean:.6g} ± {self.half_width:.3g} ({self.confidence:.0%}, n={self.n})"


def confidence_interval(samples: np.ndarray, confidence: float = 0.95) -> Estimate:
    """Mean and Student-t half-width of independent samples (NaN samples are left out).

    The half-width is infinite for fewer than two samples.
    """
    values = np.asarray(samples, dtype=np.float64)
    values = values[~np.isnan(values)]
    n = int(values.size)
    if n == 0:
        return Estimate(math.nan, math.nan, confidence, 0)
    mean = float(values.mean())
    if n < 2:
        return Estimate(mean, math.inf, confidence, n)
    t = float(stats.t.ppf(0.5 + confidence / 2, n - 1))
    return Estimate(mean, t * float(values.std(ddof=1)) / math.sqrt(n), confidence, n)
