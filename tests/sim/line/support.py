"""Builders of small line models and the confidence-interval assertion the theory tests share."""

from __future__ import annotations

from typing import Any

from twinverse.sim.line import Estimate, LineModel, LineResults


def station(sid: str, process: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"id": sid, "process": process, **more}


def const(value: float) -> dict[str, Any]:
    return {"dist": "constant", "value": value}


def expo(mean: float) -> dict[str, Any]:
    return {"dist": "exponential", "mean": mean}


def logn(mean: float, cv: float) -> dict[str, Any]:
    return {"dist": "lognormal", "mean": mean, "cv": cv}


def line(
    stations: list[dict[str, Any]], buffers: list[int | None] | None = None, **more: Any
) -> LineModel:
    if buffers is None:
        buffers = [None] * (len(stations) - 1)
    return LineModel.from_dict({"name": "test", "stations": stations, "buffers": buffers, **more})


def assert_theory(
    results: LineResults, kpi: str, theory: float, *, max_relative_half_width: float | None = 0.02
) -> Estimate:
    """The theory value lies in the 99 % interval, and the 95 % interval is tight enough to mean something."""
    wide = results.estimate(kpi, 0.99)
    assert wide.contains(theory), f"{kpi}: theory {theory:.6g} outside {wide} ({results.method})"
    if max_relative_half_width is not None:
        narrow = results.estimate(kpi, 0.95)
        assert narrow.relative_half_width < max_relative_half_width, f"{kpi}: {narrow} too wide"
    return wide


def assert_state_theory(
    results: LineResults,
    station_id: str,
    state: str,
    theory: float,
    *,
    max_half_width: float = 0.01,
) -> None:
    wide = results.state_estimate(station_id, state, 0.99)
    assert wide.contains(theory), f"{station_id}.{state}: theory {theory:.5f} outside {wide}"
    assert results.state_estimate(station_id, state).half_width < max_half_width
