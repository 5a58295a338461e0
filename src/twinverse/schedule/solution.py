"""A schedule (the assignments), the objective it is judged by, and its figures.

:func:`measure` computes makespan, weighted tardiness and setup time of a
schedule for a problem. It does not check validity — that is
:func:`twinverse.schedule.validate.validate`, written apart on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from twinverse.schedule.problem import NO_FAMILY, Assignment, OpRef, Problem


@dataclass(frozen=True)
class Schedule:
    """Every operation's machine, start, end and operator, sorted by machine then start."""

    assignments: tuple[Assignment, ...]

    @classmethod
    def of(cls, assignments: list[Assignment] | tuple[Assignment, ...]) -> Schedule:
        return cls(tuple(sorted(assignments, key=lambda a: (a.machine, a.start, a.end, a.job))))

    def by_ref(self) -> dict[OpRef, Assignment]:
        return {a.ref: a for a in self.assignments}

    @property
    def makespan(self) -> int:
        return max((a.end for a in self.assignments), default=0)

    def to_dict(self) -> list[dict[str, object]]:
        return [
            {
                "job": a.job,
                "op": a.index,
                "machine": a.machine,
                "start": a.start,
                "end": a.end,
                "operator": a.operator,
            }
            for a in self.assignments
        ]


class ObjectiveKind(StrEnum):
    """The presets a planner picks from."""

    MAKESPAN = "makespan"
    TARDINESS = "tardiness"
    COMBINED = "combined"


@dataclass(frozen=True, slots=True)
class Objective:
    """Weights of a linear objective: makespan + weighted tardiness + setup time (all in time units)."""

    makespan: float = 1.0
    tardiness: float = 0.0
    setup: float = 0.0

    @classmethod
    def of(cls, kind: ObjectiveKind) -> Objective:
        return OBJECTIVES[kind]


OBJECTIVES: Final = MappingProxyType(
    {
        ObjectiveKind.MAKESPAN: Objective(makespan=1.0),
        ObjectiveKind.TARDINESS: Objective(makespan=0.0, tardiness=1.0, setup=0.0),
        ObjectiveKind.COMBINED: Objective(makespan=1.0, tardiness=1.0, setup=0.5),
    }
)


@dataclass(frozen=True, slots=True)
class Figures:
    """What a schedule achieves. ``value`` is the objective's weighted sum."""

    makespan: int
    weighted_tardiness: float
    tardy_jobs: int
    max_lateness: int
    setup_time: int
    value: float

    def to_dict(self) -> dict[str, float | int]:
        return {
            "makespan": self.makespan,
            "weighted_tardiness": self.weighted_tardiness,
            "tardy_jobs": self.tardy_jobs,
            "max_lateness": self.max_lateness,
            "setup_time": self.setup_time,
            "objective": self.value,
        }


def job_completion(schedule: Schedule) -> dict[str, int]:
    done: dict[str, int] = {}
    for a in schedule.assignments:
        done[a.job] = max(done.get(a.job, 0), a.end)
    return done


def measure(schedule: Schedule, problem: Problem, objective: Objective) -> Figures:
    done = job_completion(schedule)
    tardiness = 0.0
    tardy = 0
    max_lateness = -(10**18)
    for job in problem.jobs:
        if job.due is None or job.id not in done:
            continue
        lateness = done[job.id] - job.due
        max_lateness = max(max_lateness, lateness)
        if lateness > 0:
            tardy += 1
            tardiness += job.weight * lateness
    families = {j.id: j.family for j in problem.jobs}
    setup = 0
    by_machine: dict[str, list[Assignment]] = {}
    for a in schedule.assignments:
        by_machine.setdefault(a.machine, []).append(a)
    for machine in problem.machines:
        previous = machine.initial_family
        for a in sorted(by_machine.get(machine.id, []), key=lambda x: (x.start, x.end)):
            family = families.get(a.job, NO_FAMILY)
            if previous is not None:
                setup += machine.setups.time(previous, family)
            previous = family
    makespan = schedule.makespan
    value = objective.makespan * makespan + objective.tardiness * tardiness
    value += objective.setup * setup
    return Figures(
        makespan=makespan,
        weighted_tardiness=tardiness,
        tardy_jobs=tardy,
        max_lateness=0 if max_lateness == -(10**18) else max_lateness,
        setup_time=setup,
        value=value,
    )
