"""The scheduling problem: jobs of operations, machines with calendars and setups, operators.

A flexible job shop. Every *job* is a chain of *operations* done in order; each
operation may run on one of several *options* (a machine and the time it takes
there). Times are whole *time units* (``time_unit`` seconds each; benchmark
instances have abstract units) counted from the plan's origin.

Hard constraints (what :func:`twinverse.schedule.validate.validate` checks):

* every operation runs once, on one of its options, for exactly that option's time;
* an operation starts after its predecessor in the job ends and not before the
  job's release (nor before ``not_before`` unless it is frozen);
* a machine runs one operation at a time, and between two consecutive ones
  leaves at least the sequence-dependent setup ``setup(prev family, next family)``
  (from the machine's initial family before its first one);
* an operation never overlaps a closed window of its machine (shift gaps, breaks,
  holidays, maintenance): it does not pause, it fits wholly in open time. A setup
  may be done while the machine is closed (setters work during breaks);
* an operation whose ``skill`` set is not empty holds one operator having all
  those skills for its whole run, inside the operator's available windows; an
  operator does one operation at a time;
* *frozen* operations (already started when re-scheduling) keep their machine,
  start, end and operator exactly; they are exempt from the duration and
  calendar checks, since they record what happened.

Constructing a :class:`Problem` checks that it is well formed and raises
:class:`~twinverse.schedule.errors.ProblemError` naming the object.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from twinverse.schedule.errors import ProblemError

Window = tuple[int, int]
"""``[start, end)`` in time units."""

NO_FAMILY: Final = ""


@dataclass(frozen=True, slots=True, order=True)
class OpRef:
    """Names one operation: the job's id and the operation's position in it (from 0)."""

    job: str
    index: int

    def __str__(self) -> str:
        return f"{self.job}#{self.index}"


@dataclass(frozen=True, slots=True)
class Option:
    """One way to run an operation: on ``machine`` for ``duration`` time units."""

    machine: str
    duration: int


@dataclass(frozen=True, slots=True)
class Operation:
    """One step of a job, with its eligible machines; ``skill`` is what its operator must hold."""

    options: tuple[Option, ...]
    skill: frozenset[str] = frozenset()
    name: str = ""

    def duration_on(self, machine: str) -> int | None:
        for option in self.options:
            if option.machine == machine:
                return option.duration
        return None


@dataclass(frozen=True, slots=True)
class Job:
    """A lot to make: its operations in order, when it may start, when it is due and how much it matters.

    ``family`` drives the sequence-dependent setups; ``orders`` lists the customer
    orders it serves (a lot can merge several orders or carry part of one).
    """

    id: str
    operations: tuple[Operation, ...]
    release: int = 0
    due: int | None = None
    weight: float = 1.0
    family: str = NO_FAMILY
    product: str = ""
    quantity: int = 1
    orders: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Setups:
    """Sequence-dependent setup times of one machine, by job family.

    ``pairs`` gives the time from one family to another; missing pairs take
    ``change`` when the families differ and ``same`` when they are equal.
    """

    change: int = 0
    same: int = 0
    pairs: Mapping[tuple[str, str], int] = field(default_factory=lambda: MappingProxyType({}))

    def time(self, before: str, after: str) -> int:
        found = self.pairs.get((before, after))
        if found is not None:
            return found
        return self.same if before == after else self.change

    @property
    def any(self) -> bool:
        return self.change > 0 or self.same > 0 or any(v > 0 for v in self.pairs.values())


@dataclass(frozen=True, slots=True)
class Machine:
    """A resource that runs one operation at a time; ``closed`` windows are sorted and disjoint."""

    id: str
    closed: tuple[Window, ...] = ()
    setups: Setups = Setups()
    initial_family: str | None = None
    name: str = ""


@dataclass(frozen=True, slots=True)
class Operator:
    """A person who runs operations needing ``skills``; ``available`` None means always."""

    id: str
    skills: frozenset[str]
    available: tuple[Window, ...] | None = None


@dataclass(frozen=True, slots=True)
class Assignment:
    """When and where one operation runs (and who runs it)."""

    job: str
    index: int
    machine: str
    start: int
    end: int
    operator: str | None = None

    @property
    def ref(self) -> OpRef:
        return OpRef(self.job, self.index)


@dataclass(frozen=True)
class Problem:
    """A whole scheduling problem; see the module docstring for its constraints."""

    jobs: tuple[Job, ...]
    machines: tuple[Machine, ...]
    operators: tuple[Operator, ...] = ()
    frozen: tuple[Assignment, ...] = ()
    not_before: int = 0
    time_unit: float = 1.0
    origin: str | None = None
    name: str = "problem"

    def __post_init__(self) -> None:
        _check(self)

    # Lookups are rebuilt on demand; the problem itself stays plain data.
    def job(self, job_id: str) -> Job:
        for job in self.jobs:
            if job.id == job_id:
                return job
        raise KeyError(job_id)

    def machine(self, machine_id: str) -> Machine:
        for machine in self.machines:
            if machine.id == machine_id:
                return machine
        raise KeyError(machine_id)

    @property
    def operation_count(self) -> int:
        return sum(len(j.operations) for j in self.jobs)

    @property
    def has_setups(self) -> bool:
        return any(m.setups.any for m in self.machines)

    @property
    def is_flexible(self) -> bool:
        return any(len(op.options) > 1 for j in self.jobs for op in j.operations)

    def frozen_map(self) -> dict[OpRef, Assignment]:
        return {a.ref: a for a in self.frozen}

    def horizon_bound(self) -> int:
        """An upper bound on any sensible schedule's end: everything one after another, plus gaps."""
        total = max(
            [self.not_before, *(j.release for j in self.jobs), *(a.end for a in self.frozen)]
        )
        for job in self.jobs:
            for op in job.operations:
                total += max(o.duration for o in op.options)
        longest_setup = max(
            [m.setups.change for m in self.machines]
            + [m.setups.same for m in self.machines]
            + [v for m in self.machines for v in m.setups.pairs.values()]
            + [0]
        )
        total += longest_setup * self.operation_count
        closed = [w for m in self.machines for w in m.closed]
        closed += [w for o in self.operators for w in _gaps(o.available)]
        if closed:
            total = max(total, max(b for _, b in closed)) + sum(b - a for a, b in closed)
        return total


def _gaps(windows: tuple[Window, ...] | None) -> list[Window]:
    if windows is None:
        return []
    out, t = [], 0
    for a, b in windows:
        if a > t:
            out.append((t, a))
        t = b
    return out


def _windows_ok(windows: tuple[Window, ...], where: str) -> None:
    previous_end = -math.inf
    for n, (a, b) in enumerate(windows):
        if not (isinstance(a, int) and isinstance(b, int)) or a >= b:
            raise ProblemError(f"{where}[{n}]", "a window [start, end) of whole units", (a, b))
        if a < previous_end:
            raise ProblemError(f"{where}[{n}]", "sorted, disjoint windows", (a, b))
        previous_end = b


def _check(problem: Problem) -> None:
    machines: set[str] = set()
    for machine in problem.machines:
        if machine.id in machines:
            raise ProblemError(f"machines[{machine.id}]", "a unique machine id", machine.id)
        machines.add(machine.id)
        _windows_ok(machine.closed, f"machines[{machine.id}].closed")
        for (a, b), t in machine.setups.pairs.items():
            if t < 0:
                raise ProblemError(f"machines[{machine.id}].setups[{a}->{b}]", "a time >= 0", t)
    skills: list[frozenset[str]] = []
    operator_ids: set[str] = set()
    for operator in problem.operators:
        if operator.id in operator_ids:
            raise ProblemError(f"operators[{operator.id}]", "a unique operator id", operator.id)
        operator_ids.add(operator.id)
        skills.append(operator.skills)
        if operator.available is not None:
            _windows_ok(operator.available, f"operators[{operator.id}].available")
    jobs: set[str] = set()
    for job in problem.jobs:
        where = f"jobs[{job.id}]"
        if job.id in jobs:
            raise ProblemError(where, "a unique job id", job.id)
        jobs.add(job.id)
        if not job.operations:
            raise ProblemError(f"{where}.operations", "at least one operation", 0)
        if job.release < 0:
            raise ProblemError(f"{where}.release", "a release time >= 0", job.release)
        if not math.isfinite(job.weight) or job.weight < 0:
            raise ProblemError(f"{where}.weight", "a finite weight >= 0", job.weight)
        for n, op in enumerate(job.operations):
            at = f"{where}.operations[{n}]"
            if not op.options:
                raise ProblemError(f"{at}.options", "at least one eligible machine", 0)
            seen: set[str] = set()
            for option in op.options:
                if option.machine not in machines:
                    raise ProblemError(f"{at}.options", "a known machine", option.machine)
                if option.machine in seen:
                    raise ProblemError(f"{at}.options", "each machine once", option.machine)
                seen.add(option.machine)
                if not isinstance(option.duration, int) or option.duration < 0:
                    raise ProblemError(
                        f"{at}.options[{option.machine}]", "a whole duration >= 0", option.duration
                    )
            if op.skill and not any(op.skill <= held for held in skills):
                raise ProblemError(
                    f"{at}.skill", "an operator holding every skill", sorted(op.skill)
                )
    for fixed in problem.frozen:
        where = f"frozen[{fixed.job}#{fixed.index}]"
        if fixed.job not in jobs:
            raise ProblemError(where, "a known job", fixed.job)
        if not 0 <= fixed.index < len(problem.job(fixed.job).operations):
            raise ProblemError(where, "an operation of the job", fixed.index)
        if fixed.machine not in machines:
            raise ProblemError(where, "a known machine", fixed.machine)
        if fixed.end < fixed.start:
            raise ProblemError(where, "end >= start", (fixed.start, fixed.end))
