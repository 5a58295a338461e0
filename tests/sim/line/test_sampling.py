"""The kernels draw each law with its mean, and take percentiles as numpy does."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twinverse.sim.line import Dist, simulate_line
from twinverse.sim.line.sampling import percentiles_50_90

from .support import assert_theory, line, station

LAWS = [
    {"dist": "exponential", "mean": 3.0},
    {"dist": "normal", "mean": 3.0, "sd": 0.8},
    {"dist": "normal", "mean": 0.5, "sd": 1.0},  # a third of the draws cut to 0
    {"dist": "lognormal", "mean": 3.0, "cv": 0.7},
    {"dist": "gamma", "mean": 3.0, "cv": 0.6},
    {"dist": "gamma", "mean": 3.0, "cv": 2.0},  # shape below 1
    {"dist": "uniform", "low": 1.0, "high": 4.0},
    {"dist": "triangular", "low": 1.0, "mode": 1.5, "high": 6.0},
    {"dist": "triangular", "low": 1.0, "mode": 6.0, "high": 6.0},
    {"dist": "weibull", "scale": 3.0, "shape": 0.8},
]


@pytest.mark.parametrize("law", LAWS, ids=lambda law: "-".join(str(v) for v in law.values()))
def test_a_single_machine_works_at_the_mean_of_its_law(law: dict[str, Any]) -> None:
    # A saturated single server: throughput is exactly one part per mean processing time.
    results = simulate_line(line([station("m", law)]), parts=40_000, replications=10, seed=8)
    assert_theory(results, "throughput_per_h", 3600 / Dist.from_dict(law).mean)


def test_a_constant_law_draws_its_value() -> None:
    results = simulate_line(line([station("m", {"dist": "constant", "value": 7.5})]), parts=100)
    assert results.makespan[0] == 750.0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 30).map(float), min_size=1, max_size=300))
def test_percentiles_match_numpys_linear_interpolation(values: list[float]) -> None:
    a = np.array(values)
    expected = np.percentile(a, [50, 90])
    assert percentiles_50_90(a.copy()) == pytest.approx(tuple(expected))
