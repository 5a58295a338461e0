"""Errors of the scheduler: a bad problem, a bad input file, an infeasible or unsolvable request."""

from __future__ import annotations

from twinverse.errors import TwinverseError


class ProblemError(TwinverseError):
    """A scheduling problem is not well formed.

    ``where`` locates the offending object (``jobs[o-17].operations[2]`` or
    ``machines[op010]``), ``expected`` and ``got`` say what was wanted and found.
    """

    code = "invalid-schedule-problem"

    def __init__(self, where: str, expected: str, got: object = None) -> None:
        super().__init__(f"{where}: expected {expected}, got {got!r}")
        self.where = where
        self.expected = expected
        self.got = got


class InputFileError(TwinverseError):
    """An orders CSV or benchmark instance file cannot be read; names file, line and column."""

    code = "invalid-schedule-input"

    def __init__(
        self, file: str, line: int | None, message: str, *, column: str | None = None
    ) -> None:
        place = file if line is None else f"{file}:{line}"
        if column is not None:
            place += f" (column {column!r})"
        super().__init__(f"{place}: {message}")
        self.file = file
        self.line = line
        self.column = column


class InfeasibleError(TwinverseError):
    """No schedule exists (or none was found) that satisfies every hard constraint."""

    code = "schedule-infeasible"


class UnknownReferenceError(TwinverseError):
    """A re-scheduling event or request names a machine, job or operation the plan lacks."""

    code = "schedule-unknown-reference"
