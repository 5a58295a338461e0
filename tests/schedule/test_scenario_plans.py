"""Plans for the example line: calendars, operators, re-planning after a breakdown, charts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.schedule.conftest import REPO
from twinverse.scenario import load_scenario
from twinverse.schedule import (
    Breakdown,
    ChangeKind,
    Job,
    LateOperation,
    LotPolicy,
    Machine,
    Objective,
    ObjectiveKind,
    Operation,
    Option,
    Problem,
    ProblemError,
    RushOrder,
    SolverSettings,
    best_dispatch,
    gantt_html,
    gantt_png,
    order_rows,
    problem_from_scenario,
    read_orders,
    replan,
    validate,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def line_problem() -> Problem:
    scenario = load_scenario(REPO / "examples" / "line.yaml").scenario
    orders = read_orders(REPO / "examples" / "orders.csv", tz=SHANGHAI)
    return problem_from_scenario(
        scenario, orders, lots=LotPolicy(max_lot=60, merge_window=dt.timedelta(hours=12))
    )


def test_the_example_becomes_lots_with_calendars_and_operators(line_problem: Problem) -> None:
    assert len(line_problem.jobs) == 19
    assert all(len(j.operations) == 13 for j in line_problem.jobs)
    assert all(m.closed for m in line_problem.machines)
    assert line_problem.operators and any(
        op.skill for j in line_problem.jobs for op in j.operations
    )
    assert line_problem.time_unit == 60


def test_the_dispatch_plan_respects_shifts_breaks_and_people(line_problem: Problem) -> None:
    schedule, _ = best_dispatch(line_problem, Objective.of(ObjectiveKind.COMBINED))
    assert validate(schedule, line_problem) == []
    # nothing runs on Sunday (the calendar's shifts are Mon-Sat)
    origin = dt.datetime.fromisoformat(line_problem.origin or "")
    for a in schedule.assignments:
        day = (origin + dt.timedelta(minutes=a.start)).astimezone(SHANGHAI).weekday()
        assert day != 6, a


def test_an_unknown_product_is_named() -> None:
    scenario = load_scenario(REPO / "examples" / "line.yaml").scenario
    orders = read_orders(REPO / "examples" / "orders.csv", tz=SHANGHAI)
    bad = [orders[0].__class__("x", "motor-9k", 5, orders[0].due)]
    with pytest.raises(ProblemError, match="motor-9k"):
        problem_from_scenario(scenario, bad)


def test_a_breakdown_replan_freezes_started_work_and_reports_changes(
    line_problem: Problem,
) -> None:
    settings = SolverSettings(time_limit=3, workers=2, seed=1)
    first, _ = best_dispatch(line_problem, settings.objective)
    now = 600
    done = replan(line_problem, first, now, [Breakdown("op040", now, now + 240)], settings)
    assert validate(done.result.schedule, done.problem) == []
    started = {a.ref for a in first.assignments if a.start < now}
    assert done.frozen == len(started) > 0
    after = done.result.schedule.by_ref()
    for ref in started:
        assert after[ref].machine == first.by_ref()[ref].machine
        assert after[ref].start == first.by_ref()[ref].start
    assert all(a.start >= now for a in done.result.schedule.assignments if a.ref not in started)
    on_op040 = [a for a in done.result.schedule.assignments if a.machine == "op040"]
    assert not any(a.start < now + 240 and a.end > now for a in on_op040 if a.ref not in started)
    assert all(c.kind in (ChangeKind.MOVED, ChangeKind.MACHINE) for c in done.changes)


def test_a_rush_order_and_a_late_operation_are_replanned() -> None:
    ops = (Operation((Option("m0", 5), Option("m1", 6))), Operation((Option("m1", 4),)))
    problem = Problem(
        (Job("a", ops, due=20), Job("b", ops, due=30)),
        (Machine("m0"), Machine("m1")),
    )
    settings = SolverSettings(time_limit=2, workers=1)
    first, _ = best_dispatch(problem, settings.objective)
    running = next(a for a in first.assignments if a.start == 0)
    done = replan(
        problem,
        first,
        2,
        [
            RushOrder(Job("rush", ops, due=10, weight=5)),
            LateOperation(running.job, running.index, 9),
        ],
        settings,
    )
    assert validate(done.result.schedule, done.problem) == []
    assert done.result.schedule.by_ref()[running.ref].end == 9
    assert any(c.kind is ChangeKind.ADDED and c.job == "rush" for c in done.changes)


def test_gantt_charts_are_written(line_problem: Problem, tmp_path: Path) -> None:
    schedule, _ = best_dispatch(line_problem, Objective())
    html = gantt_html(schedule, line_problem)
    assert "op130" in html and "motor-2k2" in html
    pytest.importorskip("matplotlib", reason="the PNG Gantt needs matplotlib (plot extra)")
    gantt_png(schedule, line_problem, tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_order_rows_give_lateness_per_order(line_problem: Problem) -> None:
    schedule, _ = best_dispatch(line_problem, Objective())
    rows = order_rows(schedule, line_problem)
    assert [r["order"] for r in rows][:2] == ["SO-1001", "SO-1002"]
    assert len(rows) == 12 and all(isinstance(r["lateness"], int) for r in rows)
