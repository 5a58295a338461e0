"""A plan run many times with chance in it: planned against simulated KPIs."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.schedule.conftest import REPO
from tests.schedule.problems import problems
from twinverse.scenario import load_scenario
from twinverse.schedule import (
    DispatchRule,
    LotPolicy,
    Objective,
    ObjectiveKind,
    Problem,
    best_dispatch,
    dispatch,
    problem_from_scenario,
    read_orders,
)
from twinverse.schedule.robustness import failures_from_scenario, plan_arrays, robustness
from twinverse.sim.plan import Disturbance, execute


@settings(max_examples=60, deadline=None)
@given(problems(), st.sampled_from(list(DispatchRule)), st.booleans())
def test_without_chance_no_operation_ends_later_than_planned(
    problem: Problem, rule: DispatchRule, pause: bool
) -> None:
    # Each machine keeps its sequence and starts every operation as early as it
    # may, so with planned times nothing can end later than the plan says.
    schedule = dispatch(problem, rule)
    arrays, _ = plan_arrays(problem, schedule)
    ends = execute(arrays, Disturbance(cv=0.0, failures=False, pause=pause), 1)[0]
    assert (ends <= arrays.planned_end + 1e-9).all()


def test_the_example_lines_plan_under_failures_and_variation() -> None:
    loaded = load_scenario(REPO / "examples" / "line.yaml").scenario
    orders = read_orders(REPO / "examples" / "orders.csv", tz=ZoneInfo("Asia/Shanghai"))
    problem = problem_from_scenario(
        loaded, orders, lots=LotPolicy(max_lot=60, merge_window=dt.timedelta(hours=12))
    )
    schedule, _ = best_dispatch(problem, Objective.of(ObjectiveKind.COMBINED))
    failures = failures_from_scenario(loaded, problem)
    assert failures  # the example's machines declare MTBF and MTTR
    assert all(mtbf > mttr > 0 for mtbf, mttr in failures.values())

    calm = robustness(problem, schedule, replications=50, disturbance=Disturbance(0.0, False))
    assert calm.makespan.mean <= calm.makespan.planned
    rough = robustness(problem, schedule, replications=300, failures=failures, seed=3)
    # Chance only delays a plan whose sequences are kept: late work grows.
    assert rough.makespan.mean > calm.makespan.mean
    assert rough.weighted_tardiness.mean >= calm.weighted_tardiness.mean
    assert rough.makespan.p95 >= rough.makespan.p50
    on_time = np.array(list(rough.on_time.values()))
    assert ((on_time >= 0) & (on_time <= 1)).all() and len(on_time) == len(problem.jobs)
    # The same seed gives the same figures.
    again = robustness(problem, schedule, replications=300, failures=failures, seed=3)
    assert again.to_dict() == rough.to_dict()


def test_the_cli_shows_planned_against_simulated(tmp_path) -> None:
    import json

    from typer.testing import CliRunner

    from twinverse.cli.main import app

    line, orders = str(REPO / "examples" / "line.yaml"), str(REPO / "examples" / "orders.csv")
    args = ["schedule", line, "--orders", orders, "--time-limit", "1", "--robustness", "100"]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    held = json.loads(result.output)["robustness"]
    assert held["replications"] == 100 and held["failures"] is True
    assert held["makespan"]["p95"] >= held["makespan"]["p50"] > 0
    shown = CliRunner().invoke(app, [*args, "--cv", "0.2"], env={"COLUMNS": "160"})
    assert shown.exit_code == 0, shown.output
    assert "the plan run 100 times" in shown.output and "weighted tardiness" in shown.output
