"""Dynamic re-scheduling: from *now*, started operations frozen, a penalty on changing the plan.

Events (from the live twin, a simulation or a planner) are values:

* :class:`Breakdown` — a machine is down over ``[start, end)``; an operation
  running on it then is interrupted and finishes later by the overlap;
* :class:`RushOrder` — a new job arrives (released no earlier than now);
* :class:`LateOperation` — a started operation will end at ``end`` instead.

:func:`replan` builds the new problem (operations started before ``now``
frozen, ``not_before = now``), solves it with a stability penalty against the
previous plan (time moved and machines changed) and reports what changed.
Raises :class:`~twinverse.schedule.errors.UnknownReferenceError` for an event
naming a machine or operation the plan lacks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from twinverse.schedule.cpsat import ProgressCallback, solve
from twinverse.schedule.errors import UnknownReferenceError
from twinverse.schedule.problem import Assignment, Job, OpRef, Problem
from twinverse.schedule.settings import SolveResult, SolverSettings, Stability
from twinverse.schedule.solution import Schedule


@dataclass(frozen=True, slots=True)
class Breakdown:
    machine: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class RushOrder:
    job: Job


@dataclass(frozen=True, slots=True)
class LateOperation:
    job: str
    index: int
    end: int


Event = Breakdown | RushOrder | LateOperation


class ChangeKind(StrEnum):
    MOVED = "moved"
    """same machine, another start"""
    MACHINE = "machine"
    """another machine"""
    ADDED = "added"
    """a new operation (a rush order)"""


@dataclass(frozen=True, slots=True)
class Change:
    job: str
    index: int
    kind: ChangeKind
    machine_before: str | None
    machine_after: str
    start_before: int | None
    start_after: int

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self) | {"kind": self.kind.value}


@dataclass(frozen=True)
class Replan:
    """The re-scheduled problem, its solution and the differences from the previous plan."""

    problem: Problem
    result: SolveResult
    changes: tuple[Change, ...]
    frozen: int

    def to_dict(self) -> dict[str, object]:
        moved = sum(c.kind is ChangeKind.MOVED for c in self.changes)
        switched = sum(c.kind is ChangeKind.MACHINE for c in self.changes)
        return {
            "frozen": self.frozen,
            "moved": moved,
            "machine_changes": switched,
            "added": sum(c.kind is ChangeKind.ADDED for c in self.changes),
            "changes": [c.to_dict() for c in self.changes],
            "result": self.result.to_dict(),
        }


def _merge(windows: Sequence[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(windows):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return tuple(out)


def replan_problem(
    problem: Problem, previous: Schedule, now: int, events: Sequence[Event]
) -> Problem:
    """The problem to solve at ``now`` after ``events``: see the module docstring."""
    machines = {m.id: m for m in problem.machines}
    placed = previous.by_ref()
    late: dict[OpRef, int] = {}
    down: dict[str, list[tuple[int, int]]] = {}
    jobs = list(problem.jobs)
    for event in events:
        match event:
            case Breakdown(machine=machine, start=start, end=end):
                if machine not in machines:
                    raise UnknownReferenceError(
                        f"breakdown of machine {machine!r}: the plan has {', '.join(machines)}"
                    )
                if end <= start:
                    raise UnknownReferenceError(
                        f"breakdown of {machine}: end {end} must come after start {start}"
                    )
                down.setdefault(machine, []).append((start, end))
            case RushOrder(job=job):
                if any(j.id == job.id for j in jobs):
                    raise UnknownReferenceError(f"rush order {job.id!r}: a job of that id exists")
                jobs.append(dataclasses.replace(job, release=max(job.release, now)))
            case LateOperation(job=job_id, index=index, end=end):
                ref = OpRef(job_id, index)
                a = placed.get(ref)
                if a is None:
                    raise UnknownReferenceError(f"late operation {ref}: not in the plan")
                if a.start >= now:
                    raise UnknownReferenceError(
                        f"late operation {ref}: it starts at {a.start}, after now ({now}); "
                        "only a started operation can run late"
                    )
                late[ref] = max(end, now)
    frozen: list[Assignment] = []
    for a in previous.assignments:
        if a.start >= now:
            continue
        end = late.get(a.ref, a.end)
        for start, stop in down.get(a.machine, []):
            if start < end and a.start < stop and start >= a.start:
                end += stop - max(start, a.start)  # interrupted, resumes after the repair
        frozen.append(dataclasses.replace(a, end=end))
    new_machines = tuple(
        dataclasses.replace(m, closed=_merge([*m.closed, *down.get(m.id, [])]))
        if m.id in down
        else m
        for m in machines.values()
    )
    return dataclasses.replace(
        problem,
        jobs=tuple(jobs),
        machines=new_machines,
        frozen=tuple(frozen),
        not_before=max(problem.not_before, now),
    )


def replan(
    problem: Problem,
    previous: Schedule,
    now: int,
    events: Sequence[Event],
    settings: SolverSettings | None = None,
    *,
    per_unit_moved: float = 1.0,
    per_machine_change: float = 60.0,
    on_progress: ProgressCallback | None = None,
    clock: Callable[[], float] | None = None,
) -> Replan:
    new = replan_problem(problem, previous, now, events)
    frozen = {a.ref for a in new.frozen}
    stability = Stability(
        previous=tuple(
            (a.job, a.index, a.machine, a.start)
            for a in previous.assignments
            if a.ref not in frozen
        ),
        per_unit_moved=per_unit_moved,
        per_machine_change=per_machine_change,
    )
    settings = dataclasses.replace(settings or SolverSettings(), stability=stability)
    kwargs = {} if clock is None else {"clock": clock}
    result = solve(new, settings, on_progress=on_progress, **kwargs)
    return Replan(new, result, tuple(diff(previous, result.schedule)), len(frozen))


def diff(before: Schedule, after: Schedule) -> list[Change]:
    """What changed between two plans, operation by operation (unchanged ones left out)."""
    old = before.by_ref()
    out = []
    for a in sorted(after.assignments, key=lambda x: (x.start, x.job, x.index)):
        b = old.get(a.ref)
        if b is None:
            out.append(Change(a.job, a.index, ChangeKind.ADDED, None, a.machine, None, a.start))
        elif b.machine != a.machine:
            out.append(
                Change(a.job, a.index, ChangeKind.MACHINE, b.machine, a.machine, b.start, a.start)
            )
        elif b.start != a.start:
            out.append(
                Change(a.job, a.index, ChangeKind.MOVED, b.machine, a.machine, b.start, a.start)
            )
    return out


__all__ = [
    "Breakdown",
    "Change",
    "ChangeKind",
    "Event",
    "LateOperation",
    "Replan",
    "RushOrder",
    "diff",
    "replan",
    "replan_problem",
]
