"""How a plan holds up on the shop floor: run it many times with chance in it.

:func:`robustness` turns a schedule into the arrays of
:mod:`twinverse.sim.plan` (each machine keeps its planned sequence), runs it
under varying processing times and machine failures, and compares the planned
makespan, weighted tardiness and late jobs with their spread over the runs.
Frozen operations (already done when the plan was made) run as recorded. Each
operation keeps the operator it was given, who does one at a time and only in
their available windows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from twinverse.scenario.schema import Scenario
from twinverse.schedule.problem import Problem
from twinverse.schedule.solution import Schedule
from twinverse.sim.plan import Disturbance, KpiSpread, PlanArrays, execute, spread


@dataclass(frozen=True)
class Robustness:
    """Planned KPIs against their spread when the plan meets chance."""

    replications: int
    disturbance: Disturbance
    makespan: KpiSpread
    weighted_tardiness: KpiSpread
    late_jobs: KpiSpread
    on_time: dict[str, float]  # job id -> share of runs in which it finished by its due time
    time_unit: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "replications": self.replications,
            "cv": self.disturbance.cv,
            "failures": self.disturbance.failures,
            "time_unit_s": self.time_unit,
            "makespan": self.makespan.to_dict(),
            "weighted_tardiness": self.weighted_tardiness.to_dict(),
            "late_jobs": self.late_jobs.to_dict(),
            "on_time": {k: round(v, 4) for k, v in self.on_time.items()},
        }


def failures_from_scenario(scenario: Scenario, problem: Problem) -> dict[str, tuple[float, float]]:
    """MTBF and MTTR (means, in the problem's time units) of the plan's machines that declare them."""
    wanted = {m.id for m in problem.machines}
    out: dict[str, tuple[float, float]] = {}
    for site in scenario.sites:
        lines = list(site.lines) + [line for area in site.areas for line in area.lines]
        for line in lines:
            for machine in line.machines:
                if machine.id in wanted and machine.mtbf is not None and machine.mttr is not None:
                    out[machine.id] = (
                        machine.mtbf.mean / problem.time_unit,
                        machine.mttr.mean / problem.time_unit,
                    )
    return out


def plan_arrays(
    problem: Problem, schedule: Schedule, failures: dict[str, tuple[float, float]] | None = None
) -> tuple[PlanArrays, list[str]]:
    """The schedule as :class:`PlanArrays`, and the job id of each job index."""
    order = sorted(schedule.assignments, key=lambda a: (a.start, a.end, a.index, a.job))
    machine_ids = [m.id for m in problem.machines]
    m_index = {mid: k for k, mid in enumerate(machine_ids)}
    job_ids = [j.id for j in problem.jobs]
    j_index = {jid: k for k, jid in enumerate(job_ids)}
    jobs = {j.id: j for j in problem.jobs}
    frozen = {a.ref for a in problem.frozen}
    n = len(order)
    machine = np.empty(n, dtype=np.int64)
    job = np.empty(n, dtype=np.int64)
    duration = np.empty(n)
    release = np.empty(n)
    job_prev = np.full(n, -1, dtype=np.int64)
    machine_prev = np.full(n, -1, dtype=np.int64)
    setup = np.zeros(n)
    planned_end = np.empty(n)
    fixed = np.zeros(n, dtype=bool)
    operator_prev = np.full(n, -1, dtype=np.int64)
    calendar = np.empty(n, dtype=np.int64)
    calendars: dict[tuple[str, str | None], int] = {}
    windows: list[np.ndarray | None] = []
    operators = {o.id: o for o in problem.operators}
    last_of_job: dict[str, int] = {}
    last_on_machine: dict[str, int] = {}
    last_by_operator: dict[str, int] = {}
    for i, a in enumerate(order):
        spec = jobs[a.job]
        machine[i], job[i] = m_index[a.machine], j_index[a.job]
        duration[i] = a.end - a.start
        planned_end[i] = a.end
        fixed[i] = a.ref in frozen
        release[i] = a.start if fixed[i] else max(spec.release, problem.not_before)
        job_prev[i] = last_of_job.get(a.job, -1)
        machine_prev[i] = last_on_machine.get(a.machine, -1)
        m = problem.machine(a.machine)
        before = (
            jobs[order[machine_prev[i]].job].family if machine_prev[i] >= 0 else m.initial_family
        )
        if before is not None:
            setup[i] = m.setups.time(before, spec.family)
        if a.operator is not None:
            operator_prev[i] = last_by_operator.get(a.operator, -1)
            last_by_operator[a.operator] = i
        key = (a.machine, a.operator)
        if key not in calendars:
            calendars[key] = len(windows)
            person = operators.get(a.operator) if a.operator is not None else None
            windows.append(_intersect(_open(m.closed), person.available if person else None))
        calendar[i] = calendars[key]
        last_of_job[a.job] = i
        last_on_machine[a.machine] = i
    known = failures or {}
    mtbf = np.array([known.get(mid, (math.inf, 0.0))[0] for mid in machine_ids])
    mttr = np.array([known.get(mid, (math.inf, 0.0))[1] for mid in machine_ids])
    arrays = PlanArrays(
        machine, job, duration, release, job_prev, machine_prev, setup, planned_end,
        tuple(windows), mtbf, mttr, calendar, operator_prev, fixed,
    )  # fmt: skip
    return arrays, job_ids


def _open(closed: tuple[tuple[int, int], ...]) -> np.ndarray | None:
    if not closed:
        return None
    out, t = [], 0.0
    for a, b in closed:
        if a > t:
            out.append((t, float(a)))
        t = max(t, float(b))
    out.append((t, math.inf))
    return np.array(out)


def _intersect(
    machine_open: np.ndarray | None, available: tuple[tuple[int, int], ...] | None
) -> np.ndarray | None:
    """The machine's open windows cut to an operator's available ones."""
    if available is None:
        return machine_open
    person = np.array(available, dtype=float).reshape(-1, 2)
    if machine_open is None:
        return person
    out = [
        (max(a, c), min(b, d)) for a, b in machine_open for c, d in person if max(a, c) < min(b, d)
    ]
    return np.array(sorted(out), dtype=float).reshape(-1, 2)


def robustness(
    problem: Problem,
    schedule: Schedule,
    *,
    replications: int = 500,
    disturbance: Disturbance | None = None,
    failures: dict[str, tuple[float, float]] | None = None,
    seed: int = 0,
) -> Robustness:
    """Run ``schedule`` ``replications`` times with chance in it; planned vs simulated KPIs."""
    disturbance = disturbance or Disturbance()
    arrays, job_ids = plan_arrays(problem, schedule, failures)
    ends = execute(arrays, disturbance, replications, seed)
    n_jobs = len(job_ids)
    finish = np.zeros((replications, n_jobs))
    np.maximum.at(finish.T, arrays.job, ends.T)
    planned_finish = np.zeros(n_jobs)
    np.maximum.at(planned_finish, arrays.job, arrays.planned_end)
    due = np.array([math.inf if j.due is None else j.due for j in problem.jobs])
    weight = np.array([j.weight for j in problem.jobs])
    lateness = np.maximum(finish - due, 0.0)
    planned_late = np.maximum(planned_finish - due, 0.0)
    return Robustness(
        replications=replications,
        disturbance=disturbance,
        makespan=spread(float(planned_finish.max(initial=0.0)), finish.max(axis=1, initial=0.0)),
        weighted_tardiness=spread(float(planned_late @ weight), lateness @ weight),
        late_jobs=spread(float((planned_late > 0).sum()), (lateness > 0).sum(axis=1) * 1.0),
        on_time={jid: float((lateness[:, k] == 0).mean()) for k, jid in enumerate(job_ids)},
        time_unit=problem.time_unit,
    )
