"""Every schedule a solver returns passes the independent checker (property tests)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from tests.schedule.problems import FT06_MACHINES, FT06_TIMES, problems
from twinverse.schedule import (
    DispatchRule,
    Objective,
    Problem,
    SolverSettings,
    SolveStatus,
    Strategy,
    dispatch,
    measure,
    solve,
    validate,
)

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(problems())
def test_every_dispatch_rule_gives_a_valid_schedule(problem: Problem) -> None:
    for rule in DispatchRule:
        schedule = dispatch(problem, rule)
        assert validate(schedule, problem) == [], rule


@SLOW
@given(problems())
def test_cpsat_schedules_are_valid_and_no_worse_than_dispatch(problem: Problem) -> None:
    objective = Objective(makespan=1.0, tardiness=1.0, setup=0.5)
    result = solve(problem, SolverSettings(time_limit=2.0, workers=2, seed=3, objective=objective))
    assert validate(result.schedule, problem) == []
    best_rule = min(measure(dispatch(problem, r), problem, objective).value for r in DispatchRule)
    assert result.figures.value <= best_rule + 1e-9


@SLOW
@given(problems(operators=False))
def test_lns_schedules_are_valid(problem: Problem) -> None:
    result = solve(problem, SolverSettings(time_limit=1.0, workers=1, strategy=Strategy.LNS))
    assert validate(result.schedule, problem) == []


def test_small_job_shop_is_proven_optimal() -> None:
    from twinverse.schedule import job_shop

    # ft06 (Fisher & Thompson 1963), optimum 55
    problem = job_shop(FT06_TIMES, FT06_MACHINES, name="ft06")
    result = solve(problem, SolverSettings(time_limit=10, workers=2, seed=1))
    assert result.status is SolveStatus.OPTIMAL
    assert result.figures.makespan == 55
    assert validate(result.schedule, problem) == []


def test_progress_is_reported_from_the_first_heuristic_to_the_end() -> None:
    from twinverse.schedule import Phase, job_shop

    problem = job_shop([[3, 2], [2, 4], [4, 1]], [[0, 1], [1, 0], [0, 1]], name="tiny")
    seen = []
    solve(problem, SolverSettings(time_limit=2), on_progress=seen.append)
    assert seen[0].phase is Phase.DISPATCH
    assert seen[-1].phase is Phase.DONE
    assert seen[-1].objective <= seen[0].objective
