"""Dispatch heuristics: a feasible schedule in a fraction of a second, by priority rule.

A Giffler–Thompson style generator: at each step it finds the machine on which
some ready operation would complete first (``C*``), takes every ready
operation that could start on that machine before ``C*`` as a candidate, and
places the one the rule prefers as early as the machine's calendar, setups and
an operator allow. The rules are a table (:data:`RULES`); :func:`dispatch`
runs one, :func:`best_dispatch` runs several and keeps the best.

The result is always valid (the tests check it with the independent
validator); it is the warm start and the fallback of the CP-SAT solver.
Raises :class:`~twinverse.schedule.errors.InfeasibleError` when an operation
needs an operator who is never available long enough.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

import numpy as np
from numpy.typing import NDArray

from twinverse.schedule.errors import InfeasibleError
from twinverse.schedule.problem import Assignment, Operator, OpRef, Problem, Setups
from twinverse.schedule.solution import Objective, Schedule, measure

FloatArray = NDArray[np.float64]


class DispatchRule(StrEnum):
    SPT = "spt"
    """shortest processing time first"""
    EDD = "edd"
    """earliest due date first"""
    ATC = "atc"
    """apparent tardiness cost (weighted, slack-discounted)"""
    MWKR = "mwkr"
    """most work remaining first (good for makespan)"""


@dataclass(frozen=True, slots=True)
class _Context:
    """What a rule sees for the candidate jobs: vectors aligned with them."""

    duration: FloatArray  # on the chosen machine
    due: FloatArray  # +inf without a due date
    weight: FloatArray
    remaining: FloatArray  # work left in the job, this operation included
    start: FloatArray  # earliest start on the chosen machine
    mean_duration: float


def _spt(c: _Context) -> FloatArray:
    return c.duration


def _edd(c: _Context) -> FloatArray:
    return c.due * 1e6 + c.duration  # due date first, then the shorter


def _atc(c: _Context) -> FloatArray:
    k = 2.0
    slack = np.maximum(c.due - c.remaining - c.start, 0.0)
    slack = np.where(np.isfinite(slack), slack, 1e18)
    p = np.maximum(c.duration, 1e-9)
    return -(c.weight / p) * np.exp(-slack / (k * max(c.mean_duration, 1e-9)))


def _mwkr(c: _Context) -> FloatArray:
    return -c.remaining


# Lower is better.
RULES: Final[MappingProxyType[DispatchRule, Callable[[_Context], FloatArray]]] = MappingProxyType(
    {
        DispatchRule.SPT: _spt,
        DispatchRule.EDD: _edd,
        DispatchRule.ATC: _atc,
        DispatchRule.MWKR: _mwkr,
    }
)


def _fit_closed(starts: list[int], ends: list[int], s: int, d: int) -> int:
    """The earliest start >= s such that [start, start+d) misses every closed window."""
    if d == 0:
        return s
    while True:
        i = bisect_right(ends, s)
        if i < len(starts) and starts[i] < s + d:
            s = ends[i]
            continue
        return s


def _fit_open(starts: list[int], ends: list[int], s: int, d: int) -> int | None:
    """The earliest start >= s such that [start, start+d) lies in one open window, or None."""
    i = bisect_right(ends, s)
    while i < len(starts):
        t = max(s, starts[i])
        if t + d <= ends[i]:
            return t
        i += 1
    return None


@dataclass
class _Shop:
    """Mutable state of the generator: when each machine and operator is next free."""

    machine_free: list[int]
    machine_family: list[str | None]
    closed: list[tuple[list[int], list[int]]]
    operator_free: dict[str, int]
    operators: tuple[Operator, ...]


def dispatch(problem: Problem, rule: DispatchRule = DispatchRule.ATC) -> Schedule:
    """One schedule built by ``rule``; frozen operations stay as they are."""
    machine_index = {m.id: n for n, m in enumerate(problem.machines)}
    setups = [m.setups for m in problem.machines]
    shop = _Shop(
        machine_free=[problem.not_before] * len(problem.machines),
        machine_family=[m.initial_family for m in problem.machines],
        closed=[([a for a, _ in m.closed], [b for _, b in m.closed]) for m in problem.machines],
        operator_free={o.id: problem.not_before for o in problem.operators},
        operators=problem.operators,
    )
    frozen = problem.frozen_map()
    placed: list[Assignment] = []
    jobs = problem.jobs
    n_jobs = len(jobs)
    next_op = [0] * n_jobs
    ready = [max(j.release, problem.not_before) for j in jobs]
    last_end_on: list[int] = [-1] * len(problem.machines)
    for a in sorted(problem.frozen, key=lambda x: x.end):
        placed.append(a)
        m = machine_index[a.machine]
        if a.end >= last_end_on[m]:
            last_end_on[m] = a.end
            shop.machine_free[m] = max(shop.machine_free[m], a.end)
            shop.machine_family[m] = problem.job(a.job).family
        if a.operator is not None:
            shop.operator_free[a.operator] = max(shop.operator_free[a.operator], a.end)
    for n, job in enumerate(jobs):
        while next_op[n] < len(job.operations) and OpRef(job.id, next_op[n]) in frozen:
            ready[n] = max(ready[n], frozen[OpRef(job.id, next_op[n])].end)
            next_op[n] += 1

    # Padded option tables of each job's *current* operation, refreshed on each step.
    width = max(len(op.options) for j in jobs for op in j.operations) if jobs else 1
    opt_m = np.full((n_jobs, width), -1, dtype=np.int64)
    opt_d = np.zeros((n_jobs, width), dtype=np.float64)
    mean_d = np.zeros(n_jobs)
    remaining = np.zeros(n_jobs)
    job_mean_ops = [
        [float(np.mean([o.duration for o in op.options])) for op in j.operations] for j in jobs
    ]
    for n in range(n_jobs):
        remaining[n] = sum(job_mean_ops[n][next_op[n] :])
    active = np.array([next_op[n] < len(jobs[n].operations) for n in range(n_jobs)])

    def load(n: int) -> None:
        opt_m[n].fill(-1)
        opt_d[n].fill(0.0)
        if next_op[n] >= len(jobs[n].operations):
            active[n] = False
            return
        op = jobs[n].operations[next_op[n]]
        for k, o in enumerate(op.options):
            opt_m[n, k] = machine_index[o.machine]
            opt_d[n, k] = o.duration
        mean_d[n] = job_mean_ops[n][next_op[n]]

    for n in range(n_jobs):
        load(n)
    due = np.array([math.inf if j.due is None else float(j.due) for j in jobs])
    weight = np.array([j.weight for j in jobs])
    all_mean = float(np.mean([x for row in job_mean_ops for x in row])) if jobs else 1.0
    free = np.array(shop.machine_free, dtype=np.float64)
    ready_arr = np.array(ready, dtype=np.float64)
    priority = RULES[rule]

    while active.any():
        rows = np.flatnonzero(active)
        m_rows = opt_m[rows]
        valid = m_rows >= 0
        est = np.maximum(ready_arr[rows, None], free[np.where(valid, m_rows, 0)])
        comp = np.where(valid, est + opt_d[rows], np.inf)
        flat = int(np.argmin(comp))
        c_star = comp.flat[flat]
        m_star = int(m_rows.flat[flat])
        on_m = valid & (m_rows == m_star)
        cand_mask = (on_m & (est < c_star)).any(axis=1) | (
            on_m.any(axis=1) & (comp == c_star).any(axis=1)
        )
        cand = rows[cand_mask]
        k_of = np.argmax(opt_m[cand] == m_star, axis=1)
        dur = opt_d[cand, k_of]
        start = np.maximum(ready_arr[cand], free[m_star])
        context = _Context(
            duration=dur,
            due=due[cand],
            weight=weight[cand],
            remaining=remaining[cand],
            start=start,
            mean_duration=all_mean,
        )
        chosen = int(cand[int(np.argmin(priority(context)))])
        job = jobs[chosen]
        index = next_op[chosen]
        op = job.operations[index]
        duration = int(opt_d[chosen, int(np.argmax(opt_m[chosen] == m_star))])
        s, who = _place(
            shop, m_star, duration, int(ready_arr[chosen]), job.family, setups, op.skill
        )
        if s is None:
            raise InfeasibleError(
                f"operation {job.id}#{index} needs an operator with "
                f"{', '.join(sorted(op.skill))} for {duration} units; nobody is available that long"
            )
        end = s + duration
        placed.append(Assignment(job.id, index, problem.machines[m_star].id, s, end, operator=who))
        shop.machine_free[m_star] = end
        shop.machine_family[m_star] = job.family
        free[m_star] = end
        if who is not None:
            shop.operator_free[who] = end
        ready_arr[chosen] = end
        remaining[chosen] -= mean_d[chosen]
        next_op[chosen] += 1
        load(chosen)
    return Schedule.of(placed)


def _place(
    shop: _Shop,
    m: int,
    duration: int,
    ready: int,
    family: str,
    setups: list[Setups],
    skill: frozenset[str],
) -> tuple[int | None, str | None]:
    """Earliest start on machine ``m`` after setup, in open machine time, with an operator."""
    rules = setups[m]
    previous = shop.machine_family[m]
    setup = 0 if previous is None else rules.time(previous, family)
    earliest = max(ready, shop.machine_free[m] + setup)
    starts, ends = shop.closed[m]
    if not skill:
        return _fit_closed(starts, ends, earliest, duration), None
    best: tuple[int, int, str] | None = None
    for operator in shop.operators:
        if not skill <= operator.skills:
            continue
        s: int | None = max(earliest, shop.operator_free[operator.id])
        while s is not None:
            t = _fit_closed(starts, ends, s, duration)
            if operator.available is None:
                s = t
                break
            u = _fit_open(
                [a for a, _ in operator.available], [b for _, b in operator.available], t, duration
            )
            if u is None or u == t:
                s = u
                break
            s = u
        if s is None:
            continue
        key = (s, len(operator.skills), operator.id)
        if best is None or key < best:
            best = key
    if best is None:
        return None, None
    return best[0], best[2]


def best_dispatch(
    problem: Problem,
    objective: Objective,
    rules: tuple[DispatchRule, ...] = tuple(DispatchRule),
) -> tuple[Schedule, DispatchRule]:
    """The best schedule (by ``objective``) over several rules, and the rule that made it."""
    found: tuple[float, Schedule, DispatchRule] | None = None
    for rule in rules:
        schedule = dispatch(problem, rule)
        value = measure(schedule, problem, objective).value
        if found is None or value < found[0]:
            found = (value, schedule, rule)
    assert found is not None
    return found[1], found[2]
