"""Invariants over generated lines (Hypothesis)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twinverse.sim.line import LineModel, simulate_line

from .support import const, expo, logn

# Small whole numbers make simultaneous events common, the hard case for tie handling.
durations = st.integers(1, 12).map(float)
capacities = st.one_of(st.integers(0, 3), st.none())


@st.composite
def constant_flow_lines(draw: Any) -> LineModel:
    n = draw(st.integers(1, 4))
    stations = []
    for i in range(n):
        item: dict[str, Any] = {"id": f"s{i}", "process": const(draw(durations))}
        if draw(st.booleans()):
            item["mtbf"] = const(draw(durations) * 3)
            item["mttr"] = const(draw(durations))
        stations.append(item)
    arrival = const(draw(durations)) if draw(st.booleans()) else None
    buffers = [draw(capacities) for _ in range(n - 1)]
    return LineModel.from_dict({"stations": stations, "buffers": buffers, "arrival": arrival})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(constant_flow_lines(), st.integers(0, 20))
def test_both_engines_agree_exactly_on_any_deterministic_flow_line(
    model: LineModel, warmup: int
) -> None:
    des = simulate_line(model, parts=150, warmup=warmup, method="des")
    rec = simulate_line(model, parts=150, warmup=warmup, method="recursion")
    for name in ("makespan", "wip_mean", "lead_time_mean", "lead_time_p90", "state_fraction"):
        np.testing.assert_allclose(
            getattr(des, name), getattr(rec, name), rtol=1e-9, atol=1e-9, err_msg=name
        )


@st.composite
def general_lines(draw: Any) -> LineModel:
    n = draw(st.integers(1, 4))
    skills = ["a", "b"]
    stations = []
    for i in range(n):
        item: dict[str, Any] = {
            "id": f"s{i}",
            "process": draw(st.sampled_from([const(5.0), expo(5.0), logn(5.0, 0.5)])),
            "servers": draw(st.integers(1, 3)),
            "scrap": draw(st.sampled_from([0.0, 0.1])),
            "skill": draw(st.sampled_from([None, *skills])),
        }
        if draw(st.booleans()):
            item["mtbf"] = expo(60.0)
            item["mttr"] = expo(10.0)
        stations.append(item)
    operators = [
        {"id": f"o{k}", "skills": draw(st.lists(st.sampled_from(skills), min_size=1, max_size=2))}
        for k in range(draw(st.integers(0, 3)))
    ]
    held = {s for o in operators for s in o["skills"]}
    for item in stations:  # a skill nobody holds would be refused
        if item["skill"] not in held:
            item["skill"] = None
    shifts = (
        {"period": 100.0, "windows": [[0.0, 40.0], [50.0, 90.0]]} if draw(st.booleans()) else None
    )
    return LineModel.from_dict(
        {
            "stations": stations,
            "buffers": [draw(capacities) for _ in range(n - 1)],
            "arrival": expo(4.0) if draw(st.booleans()) else None,
            "operators": operators,
            "shifts": shifts,
        }
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(general_lines(), st.integers(0, 1_000))
def test_any_line_finishes_with_consistent_figures(model: LineModel, seed: int) -> None:
    results = simulate_line(model, parts=300, warmup=30, seed=seed, method="des")
    assert results.good[0] == 270
    fractions = results.state_fraction[0]
    assert np.all(fractions >= -1e-12)
    np.testing.assert_allclose(fractions.sum(axis=1), 1.0, rtol=1e-9)
    assert results.wip_mean[0] >= 0
    assert 0 < results.lead_time_p50[0] <= results.lead_time_p90[0]
    # Every good part was processed by the last station in the measured period.
    assert results.processed[0, -1] >= results.good[0]
