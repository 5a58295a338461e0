"""The tabu search: valid schedules, known optima, determinism, and what it declines."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from tests.schedule.problems import FT06_MACHINES, FT06_TIMES, problems
from twinverse.schedule import (
    Job,
    Machine,
    Objective,
    Operation,
    Option,
    Phase,
    Problem,
    Setups,
    SolverSettings,
    SolveStatus,
    Strategy,
    dispatch,
    job_shop,
    read_fjsp,
    solve,
    validate,
)
from twinverse.schedule.tabu import (
    TabuSettings,
    makespan_lower_bound,
    tabu_search,
    unsupported,
)


def ft06() -> Problem:
    return job_shop(FT06_TIMES, FT06_MACHINES, name="ft06")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(plain=True))
def test_tabu_schedules_pass_the_checker_and_never_lose_to_the_start(problem: Problem) -> None:
    start = dispatch(problem)
    result = tabu_search(problem, start, TabuSettings(time_limit=60, max_iterations=300, seed=2))
    assert validate(result.schedule, problem) == []
    assert result.makespan == result.schedule.makespan
    assert makespan_lower_bound(problem) <= result.makespan <= start.makespan


def test_ft06_optimum_is_found_in_a_few_thousand_moves() -> None:
    problem = ft06()
    result = tabu_search(
        problem, dispatch(problem), TabuSettings(time_limit=60, max_iterations=5000, seed=1)
    )
    assert result.makespan == 55
    assert validate(result.schedule, problem) == []


def test_same_seed_same_schedule_different_seed_may_differ() -> None:
    problem = job_shop(
        [[(7 * j + 3 * k) % 11 + 1 for k in range(5)] for j in range(8)],
        [[(j + k) % 5 for k in range(5)] for j in range(8)],
        name="ring",
    )
    start = dispatch(problem)
    runs = [
        tabu_search(problem, start, TabuSettings(time_limit=60, max_iterations=800, seed=s))
        for s in (4, 4)
    ]
    assert runs[0].schedule == runs[1].schedule
    assert runs[0].iterations == runs[1].iterations


def test_two_workers_search_in_parallel_and_keep_the_best() -> None:
    problem = ft06()
    result = tabu_search(
        problem,
        dispatch(problem),
        TabuSettings(time_limit=60, max_iterations=3000, seed=1, workers=2),
    )
    assert result.makespan == 55
    assert result.iterations > 0


def test_flexible_benchmark_instance_reaches_its_optimum(fjsp_dir: Path) -> None:
    problem = read_fjsp(fjsp_dir / "brandimarte" / "mk01.txt")
    result = tabu_search(problem, dispatch(problem), TabuSettings(time_limit=20, seed=1, target=40))
    assert result.makespan == 40  # Brandimarte mk01, proven optimal in the literature
    assert validate(result.schedule, problem) == []


def test_releases_and_now_are_respected() -> None:
    base = ft06()
    jobs = tuple(Job(j.id, j.operations, release=5 * n) for n, j in enumerate(base.jobs))
    problem = Problem(jobs, base.machines, not_before=3, name="ft06-released")
    result = tabu_search(
        problem, dispatch(problem), TabuSettings(time_limit=60, max_iterations=2000, seed=1)
    )
    assert validate(result.schedule, problem) == []
    assert min(a.start for a in result.schedule.assignments) >= 3


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"setups": Setups(change=5)}, "setups"),
        ({"closed": ((10, 20),)}, "calendars"),
    ],
)
def test_features_it_does_not_model_are_named_and_refused(
    change: dict[str, object], expected: str
) -> None:
    machine = Machine("m0", **change)  # type: ignore[arg-type]
    problem = Problem(
        (
            Job("a", (Operation((Option("m0", 4),)),), family="x"),
            Job("b", (Operation((Option("m0", 3),)),), family="y"),
        ),
        (machine,),
    )
    reason = unsupported(problem, Objective())
    assert reason is not None and expected in reason
    with pytest.raises(ValueError, match=expected):
        tabu_search(problem, dispatch(problem), TabuSettings(time_limit=1))


def test_tardiness_objective_is_left_to_cpsat() -> None:
    problem = Problem((Job("a", (Operation((Option("m0", 4),)),), due=3),), (Machine("m0"),))
    assert unsupported(problem, Objective(makespan=1.0, tardiness=1.0)) is not None
    assert unsupported(problem, Objective()) is None


def test_solver_portfolio_runs_tabu_then_proves_with_cpsat() -> None:
    seen = []
    result = solve(
        ft06(), SolverSettings(time_limit=10, workers=2, seed=1), on_progress=seen.append
    )
    assert result.status is SolveStatus.OPTIMAL
    assert result.figures.makespan == 55
    assert Phase.TABU in {p.phase for p in seen}


def test_tabu_strategy_falls_back_on_problems_it_does_not_model() -> None:
    problem = Problem(
        (
            Job("a", (Operation((Option("m0", 4),)),), family="x"),
            Job("b", (Operation((Option("m0", 3),)),), family="y"),
        ),
        (Machine("m0", setups=Setups(change=5)),),
    )
    result = solve(problem, SolverSettings(time_limit=2, strategy=Strategy.TABU))
    assert validate(result.schedule, problem) == []
    assert result.figures.makespan == 12


def test_a_worker_stopped_by_another_reaching_the_bound_does_not_win(fjsp_dir: Path) -> None:
    # mk08's best known 523 equals its lower bound: one worker reaches it in a few moves and
    # stops the other before that one has searched at all
    problem = read_fjsp(fjsp_dir / "brandimarte" / "mk08.txt")
    start = dispatch(problem)
    result = tabu_search(problem, start, TabuSettings(time_limit=20, seed=1, workers=2))
    assert result.makespan == makespan_lower_bound(problem) == 523
    assert validate(result.schedule, problem) == []
