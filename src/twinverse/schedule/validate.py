"""The independent validity checker: every hard constraint of a schedule, one violation each.

Written from the constraint list in :mod:`twinverse.schedule.problem` and
nothing else: it shares no code with the dispatcher or the CP-SAT model, so a
modelling mistake in a solver shows up here instead of being repeated.

>>> problems = validate(schedule, problem)     # [] when the schedule is valid
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import StrEnum

from twinverse.schedule.problem import Assignment, OpRef, Problem
from twinverse.schedule.solution import Schedule


class ViolationKind(StrEnum):
    MISSING = "missing"
    DUPLICATE = "duplicate"
    UNKNOWN = "unknown"
    INELIGIBLE = "ineligible-machine"
    DURATION = "wrong-duration"
    RELEASE = "before-release"
    NOT_BEFORE = "before-now"
    PRECEDENCE = "precedence"
    OVERLAP = "machine-overlap"
    SETUP = "setup-too-short"
    CALENDAR = "machine-closed"
    OPERATOR_MISSING = "operator-missing"
    OPERATOR_SKILL = "operator-unqualified"
    OPERATOR_OVERLAP = "operator-overlap"
    OPERATOR_ABSENT = "operator-absent"
    FROZEN = "frozen-changed"


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken hard constraint, naming the operation (``job#index``) and what was expected."""

    kind: ViolationKind
    op: str
    message: str

    def __str__(self) -> str:
        return f"{self.op}: {self.kind.value}: {self.message}"


def validate(schedule: Schedule, problem: Problem) -> list[Violation]:
    """Every violation of a hard constraint (an empty list when the schedule is valid)."""
    out: list[Violation] = []
    placed: dict[OpRef, Assignment] = {}
    for a in schedule.assignments:
        ref = OpRef(a.job, a.index)
        if ref in placed:
            out.append(Violation(ViolationKind.DUPLICATE, str(ref), "scheduled more than once"))
            continue
        placed[ref] = a
    frozen = {OpRef(f.job, f.index): f for f in problem.frozen}
    known: set[OpRef] = set()
    families: dict[str, str] = {}
    for job in problem.jobs:
        families[job.id] = job.family
        previous_end: int | None = None
        for index, op in enumerate(job.operations):
            ref = OpRef(job.id, index)
            known.add(ref)
            found = placed.get(ref)
            if found is None:
                out.append(Violation(ViolationKind.MISSING, str(ref), "not scheduled"))
                previous_end = None
                continue
            a = found
            fixed = frozen.get(ref)
            if fixed is not None:
                if (a.machine, a.start, a.end, a.operator) != (
                    fixed.machine,
                    fixed.start,
                    fixed.end,
                    fixed.operator,
                ):
                    out.append(
                        Violation(
                            ViolationKind.FROZEN,
                            str(ref),
                            f"started operation must stay on {fixed.machine} "
                            f"[{fixed.start}, {fixed.end}), got {a.machine} [{a.start}, {a.end})",
                        )
                    )
            else:
                allowed = {o.machine: o.duration for o in op.options}
                if a.machine not in allowed:
                    out.append(
                        Violation(
                            ViolationKind.INELIGIBLE,
                            str(ref),
                            f"runs on {a.machine}, eligible: {', '.join(sorted(allowed))}",
                        )
                    )
                elif a.end - a.start != allowed[a.machine]:
                    out.append(
                        Violation(
                            ViolationKind.DURATION,
                            str(ref),
                            f"takes {a.end - a.start} on {a.machine}, "
                            f"expected {allowed[a.machine]}",
                        )
                    )
                if a.start < job.release:
                    out.append(
                        Violation(
                            ViolationKind.RELEASE,
                            str(ref),
                            f"starts at {a.start}, job released at {job.release}",
                        )
                    )
                if a.start < problem.not_before:
                    out.append(
                        Violation(
                            ViolationKind.NOT_BEFORE,
                            str(ref),
                            f"starts at {a.start}, before re-scheduling time {problem.not_before}",
                        )
                    )
            if previous_end is not None and a.start < previous_end:
                out.append(
                    Violation(
                        ViolationKind.PRECEDENCE,
                        str(ref),
                        f"starts at {a.start}, before its predecessor ends at {previous_end}",
                    )
                )
            previous_end = a.end
    for ref in placed:
        if ref not in known:
            out.append(Violation(ViolationKind.UNKNOWN, str(ref), "no such operation"))
    out += _machines(placed, problem, families, set(frozen))
    out += _operators(placed, problem, set(frozen))
    return out


def _machines(
    placed: dict[OpRef, Assignment],
    problem: Problem,
    families: dict[str, str],
    frozen: set[OpRef],
) -> list[Violation]:
    out: list[Violation] = []
    lanes: dict[str, list[Assignment]] = {}
    for a in placed.values():
        lanes.setdefault(a.machine, []).append(a)
    for machine in problem.machines:
        lane = sorted(lanes.get(machine.id, []), key=lambda x: (x.start, x.end, x.job, x.index))
        before: Assignment | None = None
        for a in lane:
            if a.end == a.start:
                continue  # an empty operation occupies nothing
            ref = f"{a.job}#{a.index}"
            if before is None:
                if machine.initial_family is not None and (OpRef(a.job, a.index) not in frozen):
                    need = machine.setups.time(machine.initial_family, families.get(a.job, ""))
                    if a.start < need:
                        out.append(
                            Violation(
                                ViolationKind.SETUP,
                                ref,
                                f"first on {machine.id} at {a.start}, "
                                f"setup from the initial family needs {need}",
                            )
                        )
            else:
                gap = a.start - before.end
                need = machine.setups.time(families.get(before.job, ""), families.get(a.job, ""))
                if gap < 0:
                    out.append(
                        Violation(
                            ViolationKind.OVERLAP,
                            ref,
                            f"overlaps {before.job}#{before.index} on {machine.id} "
                            f"([{a.start}, {a.end}) vs [{before.start}, {before.end}))",
                        )
                    )
                elif gap < need:
                    out.append(
                        Violation(
                            ViolationKind.SETUP,
                            ref,
                            f"starts {gap} after {before.job}#{before.index} on {machine.id}, "
                            f"setup needs {need}",
                        )
                    )
            if before is None or a.end > before.end:
                before = a
            if OpRef(a.job, a.index) in frozen:
                continue
            for c0, c1 in machine.closed:
                if a.start < c1 and c0 < a.end:
                    out.append(
                        Violation(
                            ViolationKind.CALENDAR,
                            ref,
                            f"runs [{a.start}, {a.end}) on {machine.id}, closed [{c0}, {c1})",
                        )
                    )
                    break
    return out


def _operators(
    placed: dict[OpRef, Assignment], problem: Problem, frozen: set[OpRef]
) -> list[Violation]:
    out: list[Violation] = []
    people = {o.id: o for o in problem.operators}
    jobs = {j.id: j for j in problem.jobs}
    shifts: dict[str, list[Assignment]] = {}
    for ref, a in placed.items():
        job = jobs.get(a.job)
        if job is None or not 0 <= a.index < len(job.operations):
            continue
        need = job.operations[a.index].skill
        if not need:
            continue
        if a.operator is None:
            out.append(
                Violation(
                    ViolationKind.OPERATOR_MISSING,
                    str(ref),
                    f"needs an operator with {', '.join(sorted(need))}",
                )
            )
            continue
        person = people.get(a.operator)
        if person is None or not need <= person.skills:
            out.append(
                Violation(
                    ViolationKind.OPERATOR_SKILL,
                    str(ref),
                    f"{a.operator} lacks {', '.join(sorted(need - (person.skills if person else frozenset())))}",
                )
            )
            continue
        shifts.setdefault(person.id, []).append(a)
        present = person.available is None or any(
            w0 <= a.start and a.end <= w1 for w0, w1 in person.available
        )
        if not present and ref not in frozen and a.end > a.start:
            out.append(
                Violation(
                    ViolationKind.OPERATOR_ABSENT,
                    str(ref),
                    f"{person.id} is not at work during [{a.start}, {a.end})",
                )
            )
    for person_id, runs in shifts.items():
        runs.sort(key=lambda x: (x.start, x.end))
        for first, second in itertools.pairwise(runs):
            if second.start < first.end and second.end > second.start:
                out.append(
                    Violation(
                        ViolationKind.OPERATOR_OVERLAP,
                        f"{second.job}#{second.index}",
                        f"{person_id} also runs {first.job}#{first.index} until {first.end}",
                    )
                )
    return out
