"""Planned maintenance windows and a setup matrix from the scenario file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.schedule.conftest import REPO
from twinverse.scenario import load_scenario
from twinverse.scenario.errors import ScenarioError
from twinverse.schedule import (
    LotPolicy,
    Objective,
    ObjectiveKind,
    best_dispatch,
    problem_from_scenario,
    read_orders,
    validate,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
SERVICE = """                skills: [winding]
                maintenance:
                  - {start: 2025-03-04T08:00, duration: 4 h, note: spindle bearings}
                setups:
                  - {from: ie3-motor, to: ie3-motor-large, time: 45 min}
                  - {from: ie3-motor-large, to: ie3-motor, time: 30 min}
              - id: op050"""


def _scenario(tmp_path: Path, service: str = SERVICE) -> Path:
    text = (REPO / "examples" / "line.yaml").read_text(encoding="utf-8")
    head, tail = text.split("    family: ie3-motor\n", 1)
    text = (
        head
        + "    family: ie3-motor\n"
        + tail.replace("family: ie3-motor", "family: ie3-motor-large", 1)
    )
    text = text.replace("                skills: [winding]\n              - id: op050", service, 1)
    path = tmp_path / "line.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_maintenance_is_closed_and_the_matrix_sets_change_overs(tmp_path: Path) -> None:
    scenario = load_scenario(_scenario(tmp_path)).scenario
    orders = read_orders(REPO / "examples" / "orders.csv", tz=SHANGHAI)
    problem = problem_from_scenario(
        scenario, orders, lots=LotPolicy(max_lot=60, merge_window=dt.timedelta(hours=12))
    )
    origin = dt.datetime.fromisoformat(problem.origin)
    a = round((dt.datetime(2025, 3, 4, 8, tzinfo=SHANGHAI) - origin).total_seconds() / 60)
    op040 = next(m for m in problem.machines if m.id == "op040")
    # The 4 h are closed (with whatever the calendar closes around them).
    closed = sum(max(0, min(y, a + 240) - max(x, a)) for x, y in op040.closed)
    assert closed == 240
    assert op040.setups.time("ie3-motor", "ie3-motor-large") == 45
    assert op040.setups.time("ie3-motor-large", "ie3-motor") == 30
    assert op040.setups.time("ie3-motor", "ie3-motor") == 0
    families = {j.family for j in problem.jobs}
    assert families == {"ie3-motor", "ie3-motor-large"}
    plan, _ = best_dispatch(problem, Objective.of(ObjectiveKind.MAKESPAN))
    assert validate(plan, problem) == []
    on = [x for x in plan.assignments if x.machine == "op040"]
    assert not any(x.start < a + 240 and x.end > a for x in on)


def test_an_unknown_family_in_the_matrix_is_named(tmp_path: Path) -> None:
    bad = SERVICE.replace("to: ie3-motor-large, time: 45", "to: ie3-motr, time: 45")
    with pytest.raises(ScenarioError, match="ie3-motr") as err:
        load_scenario(_scenario(tmp_path, bad))
    assert "setups" in str(err.value)
