"""Scenario files: read, validate with located messages, and turn into a twin graph.

    >>> loaded = load_scenario("examples/line.yaml")     # raises ScenarioError
    >>> issues = validate_file("broken.yaml")             # every problem, never raises
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from twinverse.scenario.build import build_graph, scenario_changes
from twinverse.scenario.checks import check_scenario
from twinverse.scenario.errors import Issue, ScenarioError, format_path
from twinverse.scenario.schema import Scenario
from twinverse.scenario.source import MAX_BYTES, Document, parse_text, read_document
from twinverse.twin.bulk import paused_gc
from twinverse.twin.graph import TwinGraph


@dataclass(frozen=True)
class LoadedScenario:
    scenario: Scenario
    document: Document

    def graph(self) -> TwinGraph:
        with paused_gc():
            return build_graph(self.scenario)


def _pydantic_issues(err: ValidationError, document: Document) -> list[Issue]:
    issues: list[Issue] = []
    for e in err.errors(include_url=False):
        loc = tuple(e["loc"])
        kind = e["type"]
        message = e["msg"].removeprefix("Value error, ")
        hint = None
        if kind == "extra_forbidden":
            message = f"unknown field {loc[-1]!r}"
            hint = _field_hint(loc, document.data)
        elif kind == "missing":
            message = f"missing required field {loc[-1]!r}"
        else:
            found = e.get("input")
            if not isinstance(found, dict | list) and found is not None:
                shown = repr(found)
                if len(shown) > 60:
                    shown = shown[:57] + "..."
                if shown not in message:
                    message += f" (found {shown})"
        code = {
            "extra_forbidden": "unknown-field",
            "missing": "missing-field",
        }.get(kind, kind.replace("_", "-"))
        issues.append(document.locate(Issue(code, format_path(loc), message, hint), loc))
    return issues


def _field_hint(loc: tuple[Any, ...], data: Any) -> str | None:
    """Suggest the known field closest to an unknown one."""
    import difflib

    from pydantic import BaseModel

    model: Any = Scenario
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part) if isinstance(model, type) else None
        if field is None:
            return None
        model = _inner_model(field.annotation)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    names = [f.alias or n for n, f in model.model_fields.items()]
    close = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.5)
    return f"did you mean {close[0]!r}?" if close else f"known fields: {', '.join(names)}"


def _inner_model(annotation: Any) -> Any:
    from typing import get_args

    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def validate_document(document: Document) -> tuple[Scenario | None, list[Issue]]:
    """Validate parsed data; returns the scenario (None when the schema fails) and every issue."""
    if not isinstance(document.data, dict):
        got = type(document.data).__name__
        return None, [Issue("wrong-type", "", f"a scenario is a mapping with 'twinverse', 'enterprise' "
                            f"and 'sites' at the top, got a {got}", "start from examples/line.yaml",
                            document.file, 1, 1)]
    try:
        scenario = Scenario.model_validate(document.data)
    except ValidationError as err:
        return None, _pydantic_issues(err, document)
    issues = [document.locate(issue, loc) for issue, loc in check_scenario(scenario)]
    return scenario, issues


def load_scenario(path: str | Path, *, max_bytes: int = MAX_BYTES) -> LoadedScenario:
    """Read and fully validate a scenario file. Raises ScenarioError listing every issue."""
    with paused_gc():
        document = read_document(path, max_bytes=max_bytes)
        scenario, issues = validate_document(document)
    if issues or scenario is None:
        raise ScenarioError(issues)
    return LoadedScenario(scenario, document)


def validate_file(path: str | Path, *, max_bytes: int = MAX_BYTES) -> list[Issue]:
    """Every problem of a scenario file (an empty list when it is valid)."""
    with paused_gc():
        try:
            document = read_document(path, max_bytes=max_bytes)
        except ScenarioError as err:
            return err.issues
        return validate_document(document)[1]


__all__ = [
    "Issue",
    "LoadedScenario",
    "Scenario",
    "ScenarioError",
    "build_graph",
    "load_scenario",
    "parse_text",
    "scenario_changes",
    "validate_document",
    "validate_file",
]
