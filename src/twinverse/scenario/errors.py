"""Problems found in a scenario file, each one pointing at where it is and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from twinverse.errors import TwinverseError


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in a scenario file.

    ``path`` is the place in the document (``sites[2].lines[0].machines[3].mtbf``);
    ``line`` and ``column`` (1-based) are filled in from the source when known.
    """

    code: str
    path: str
    message: str
    hint: str | None = None
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def located(self, file: str | None, line: int | None, column: int | None) -> Issue:
        return replace(self, file=file, line=line, column=column)

    def __str__(self) -> str:
        where = self.file or "<scenario>"
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        text = f"{where}: {self.path or '(document)'}: {self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
        }


class ScenarioError(TwinverseError):
    """A scenario file could not be read or is not valid; ``issues`` lists every problem."""

    code = "invalid-scenario"

    def __init__(self, issues: list[Issue]) -> None:
        first = str(issues[0]) if issues else "invalid scenario"
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        super().__init__(first + more)
        self.issues = issues


def format_path(loc: tuple[str | int, ...]) -> str:
    """``('sites', 2, 'lines', 0, 'mtbf')`` → ``sites[2].lines[0].mtbf``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
