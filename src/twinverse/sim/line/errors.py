"""Errors of the line simulator: a bad line model, bad run settings, a model the fast path cannot run."""

from __future__ import annotations

from enum import StrEnum

from twinverse.errors import TwinverseError


class Problem(StrEnum):
    """What is wrong with a line-model field (the finer reason behind ``code``)."""

    MISSING = "missing"
    UNKNOWN_FIELD = "unknown-field"
    WRONG_TYPE = "wrong-type"
    OUT_OF_RANGE = "out-of-range"
    UNKNOWN_DISTRIBUTION = "unknown-distribution"
    INCONSISTENT = "inconsistent"
    DUPLICATE = "duplicate"
    UNKNOWN_REFERENCE = "unknown-reference"


class LineModelError(TwinverseError):
    """A line model (a dictionary, a scenario line or a constructed object) is not valid.

    ``path`` locates the field (``stations[2].mtbf.mean``), ``station`` names the
    station concerned (or is ``None``), ``expected`` and ``got`` say what was wanted
    and what was found, ``problem`` classifies it.
    """

    code = "invalid-line-model"

    def __init__(
        self,
        path: str,
        expected: str,
        got: object = None,
        *,
        problem: Problem = Problem.OUT_OF_RANGE,
        station: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = path
        self.expected = expected
        self.got = got
        self.problem = problem
        self.station = station
        self.hint = hint
        where = path or "(line model)"
        if station is not None:
            where += f" (station {station!r})"
        if problem is Problem.MISSING:
            text = f"{where}: missing, expected {expected}"
        else:
            text = f"{where}: expected {expected}, got {'nothing' if got is None else _shown(got)}"
        if hint:
            text += f"; {hint}"
        super().__init__(text)

    def within(self, prefix: str, station: str | None = None) -> LineModelError:
        """The same error seen from an enclosing object: ``prefix`` is put before the path."""
        path = ".".join(part for part in (prefix, self.path) if part)
        return LineModelError(
            path,
            self.expected,
            self.got,
            problem=self.problem,
            station=self.station if self.station is not None else station,
            hint=self.hint,
        )


def _shown(value: object) -> str:
    text = repr(value)
    kind = type(value).__name__
    if len(text) > 60:
        text = text[:57] + "..."
    return text if isinstance(value, int | float | str) or value is None else f"{text} ({kind})"


class LineNotFoundError(TwinverseError):
    """A scenario holds no line with the id asked for; ``known`` lists the line ids it has."""

    code = "line-not-found"

    def __init__(self, line_id: str, known: list[str]) -> None:
        listed = ", ".join(repr(k) for k in known) or "none"
        super().__init__(f"the scenario has no line {line_id!r} (its lines: {listed})")
        self.line_id = line_id
        self.known = known


class RunSettingsError(TwinverseError):
    """``parts``, ``warmup``, ``horizon``, ``replications`` or ``workers`` do not make a run."""

    code = "invalid-run-settings"

    def __init__(self, field: str, expected: str, got: object) -> None:
        super().__init__(f"{field}: expected {expected}, got {got!r}")
        self.field = field
        self.expected = expected
        self.got = got


class FlowLineError(TwinverseError):
    """The flow-line recursion was asked for a model it cannot run; ``reasons`` says why."""

    code = "not-a-flow-line"

    def __init__(self, reasons: tuple[str, ...]) -> None:
        super().__init__(
            "the flow-line recursion needs one server per station, no operators, no shifts "
            "and no scrap; this model has " + "; ".join(reasons) + " (use method='des')"
        )
        self.reasons = reasons
