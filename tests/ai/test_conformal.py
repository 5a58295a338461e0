from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twinverse.ai.conformal import ConformalBands, coverage


@given(st.integers(0, 2**32 - 1), st.sampled_from([0.8, 0.9, 0.95]))
@settings(max_examples=25, deadline=None)
def test_exchangeable_data_get_at_least_nominal_coverage(seed: int, level: float) -> None:
    rng = np.random.default_rng(seed)
    predicted = rng.uniform(0, 125, size=8000)
    actual = predicted + rng.normal(scale=2 + predicted / 10)  # errors grow with horizon
    bands = ConformalBands.fit(predicted[:4000], actual[:4000], level)
    low, high = bands.interval(predicted[4000:])
    found = coverage(actual[4000:], low, high)
    # the spread of coverage over seeds is about 0.01 here: 5 of them either side
    assert found >= level - 0.05
    assert found <= level + 0.05


def test_bands_are_narrower_where_errors_are_small() -> None:
    rng = np.random.default_rng(1)
    predicted = rng.uniform(0, 125, size=5000)
    actual = predicted + rng.normal(scale=1 + predicted / 5)
    bands = ConformalBands.fit(predicted, actual, 0.9)
    low, high = bands.interval(np.asarray([10.0, 110.0]))
    assert (high - low)[0] < (high - low)[1]


def test_level_must_be_a_probability() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        ConformalBands.fit(np.zeros(10), np.zeros(10), 1.5)


def test_bands_round_trip_through_a_dict() -> None:
    bands = ConformalBands.fit(np.arange(100.0), np.arange(100.0) + 1, 0.9)
    assert ConformalBands.from_dict(bands.to_dict()) == bands
