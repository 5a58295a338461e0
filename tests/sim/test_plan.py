"""Running a plan with chance in it, checked against what theory says it must give."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twinverse.sim.plan import Disturbance, PlanArrays, PlanShapeError, execute


def serial(durations: list[float], *, mtbf: float = math.inf, mttr: float = 0.0, windows=None):
    """One machine working ``durations`` one after another (one job each)."""
    n = len(durations)
    return PlanArrays(
        machine=np.zeros(n, dtype=np.int64),
        job=np.arange(n, dtype=np.int64),
        duration=np.array(durations, dtype=float),
        release=np.zeros(n),
        job_prev=np.full(n, -1, dtype=np.int64),
        machine_prev=np.arange(n, dtype=np.int64) - 1,
        setup=np.zeros(n),
        planned_end=np.cumsum(durations).astype(float),
        open_windows=(windows,),
        mtbf=np.array([mtbf]),
        mttr=np.array([mttr]),
    )


def test_without_chance_the_plan_runs_as_planned() -> None:
    plan = serial([3, 5, 2])
    ends = execute(plan, Disturbance(cv=0.0, failures=False), 4)
    assert (ends == plan.planned_end).all()


def test_processing_time_spread_has_the_planned_mean_and_variance() -> None:
    durations = [10.0, 20.0, 30.0, 40.0]
    cv = 0.3
    ends = execute(serial(durations), Disturbance(cv=cv, failures=False), 20_000, seed=1)
    makespan = ends[:, -1]
    # Sum of independent lognormals with the planned means and sd = cv * mean.
    assert makespan.mean() == pytest.approx(100.0, rel=0.01)
    assert makespan.var() == pytest.approx(sum((cv * d) ** 2 for d in durations), rel=0.05)


def test_failures_add_work_times_mttr_over_mtbf() -> None:
    # Operation-dependent failures: E[downtime] = work * MTTR / MTBF, exactly.
    durations = [50.0] * 8
    plan = serial(durations, mtbf=40.0, mttr=6.0)
    makespan = execute(plan, Disturbance(cv=0.0, failures=True), 20_000, seed=2)[:, -1]
    expected = 400.0 * (1 + 6.0 / 40.0)
    half = 3 * makespan.std() / math.sqrt(len(makespan))
    assert abs(makespan.mean() - expected) < half
    # Var of a compound Poisson sum of exponentials: rate * E[X^2] = (W/mtbf) * 2 mttr^2.
    assert makespan.var() == pytest.approx(400.0 / 40.0 * 2 * 36.0, rel=0.05)


def test_work_pauses_while_the_machine_is_closed() -> None:
    windows = np.array([[0.0, 10.0], [20.0, 30.0], [40.0, math.inf]])
    plan = serial([6.0, 4.0], windows=windows)
    calm = Disturbance(cv=0.0, failures=False)
    assert execute(plan, calm, 1)[0].tolist() == [6.0, 10.0]
    # 7 then 15: 7-10, pause, 20-30, pause, 40-42.
    long = PlanArrays(**{**plan.__dict__, "duration": np.array([7.0, 15.0])})
    assert execute(long, calm, 1)[0].tolist() == [7.0, 42.0]
    # Ready while closed: starts at the opening.
    late = PlanArrays(**{**plan.__dict__, "release": np.array([12.0, 0.0])})
    assert execute(late, calm, 1)[0].tolist() == [26.0, 30.0]
    # After the last window closes, nothing stops the work any more.
    finite = serial([6.0, 4.0], windows=windows[:2])
    after = PlanArrays(**{**finite.__dict__, "release": np.array([33.0, 0.0])})
    assert execute(after, calm, 1)[0].tolist() == [39.0, 43.0]


def test_an_operation_that_no_longer_fits_waits_for_the_next_open_window() -> None:
    windows = np.array([[0.0, 10.0], [20.0, 30.0], [40.0, math.inf]])
    # Planned: 0-6 and 6-10. With the first stretched to 7, the second (4) no longer
    # fits before 10 and starts at 20.
    plan = serial([6.0, 4.0], windows=windows)
    fit = Disturbance(cv=0.0, failures=False, pause=False)
    stretched = PlanArrays(**{**plan.__dict__, "duration": np.array([7.0, 4.0])})
    ends = execute(stretched, fit, 1)
    assert ends[0].tolist() == [7.0, 24.0]
    # Longer than any window left: starts at the first open moment and runs on.
    finite = serial([6.0, 4.0], windows=windows[:2])
    long = PlanArrays(**{**finite.__dict__, "duration": np.array([7.0, 15.0])})
    assert execute(long, fit, 1)[0].tolist() == [7.0, 22.0]
    # Otherwise it waits for a window it fits in, however late.
    waits = PlanArrays(**{**plan.__dict__, "duration": np.array([7.0, 15.0])})
    assert execute(waits, fit, 1)[0].tolist() == [7.0, 55.0]


def test_plans_out_of_start_order_are_refused() -> None:
    plan = serial([1.0, 2.0])
    with pytest.raises(PlanShapeError, match="operation 0 comes before its predecessor"):
        PlanArrays(**{**plan.__dict__, "machine_prev": np.array([1, -1], dtype=np.int64)})
