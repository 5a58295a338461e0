"""The line simulator's public API is pinned: a change here is a deliberate decision."""

from __future__ import annotations

import twinverse.sim.line


def test_line_exports() -> None:
    assert sorted(twinverse.sim.line.__all__) == [
        "Dist",
        "Estimate",
        "FlowLineError",
        "Kpi",
        "LineModel",
        "LineModelError",
        "LineNotFoundError",
        "LineResults",
        "Method",
        "Operator",
        "PowerKw",
        "Problem",
        "RunSettings",
        "RunSettingsError",
        "SKILL_LEVEL_FACTORS",
        "ServerState",
        "Shifts",
        "Station",
        "choose_method",
        "confidence_interval",
        "flow_line_obstacles",
        "line_model_from_scenario",
        "simulate_line",
    ]
    for name in twinverse.sim.line.__all__:
        assert hasattr(twinverse.sim.line, name), name
