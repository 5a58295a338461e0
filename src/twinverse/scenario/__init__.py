"""Scenario files: read, validate with located messages, and turn into a twin graph.

>>> loaded = load_scenario("examples/line.yaml")     # raises ScenarioError
>>> issues = validate_file("broken.yaml")             # every problem, never raises
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from twinverse.scenario.build import build_graph, scenario_changes
from twinverse.scenario.checks import check_scenario
from twinverse.scenario.errors import Issue, ScenarioError, format_path
from twinverse.scenario.schema import Scenario
from twinverse.scenario.source import MAX_BYTES, Document, parse_text, read_document
from twinverse.twin.bulk import mark_long_lived, paused_gc
from twinverse.twin.graph import TwinGraph


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario and the file it came from (the raw text is not kept)."""

    scenario: Scenario
    file: str

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
            if " " in str(loc[-1]):
                hint = "a comma inside {…} starts a new field; quote a value that holds a comma"
        elif kind == "missing":
            message = f"missing required field {loc[-1]!r}"
        else:
            found = e.get("input")
            hint = _yaml_hint(loc, found, kind)
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


def _yaml_hint(loc: tuple[Any, ...], found: Any, kind: str) -> str | None:
    """Hints for YAML 1.1's surprises: NO is a boolean, 14:00 is a number."""
    if isinstance(found, bool) and kind == "string_type":
        word = "NO" if loc and loc[-1] == "country" and found is False else str(found).lower()
        return f"YAML reads some bare words (yes, no, on, off, NO) as booleans; quote it: '{word}'"
    if isinstance(found, int) and loc and loc[-1] in ("start", "end"):
        clock = f"{found // 60:02d}:{found % 60:02d}"
        return f"YAML reads an unquoted clock time as a number of minutes; quote it: '{clock}'"
    return None


def _field_hint(loc: tuple[Any, ...], data: Any) -> str | None:
    """Suggest the known field closest to an unknown one."""
    import difflib

    from pydantic import BaseModel

    model: Any = Scenario
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        fields = getattr(model, "model_fields", None)
        field = fields.get(part) if isinstance(fields, dict) else None
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


def _prune(
    data: Any, locs: list[tuple[Any, ...]]
) -> tuple[Any, dict[tuple[Any, ...], list[int]], set[str]]:
    """Drop the innermost list items that hold a schema error, so the rest can still be checked.

    Returns the pruned data, for each pruned list (by its path in the original) the
    original indices kept, and the ids declared inside the dropped items.
    """
    doomed: dict[tuple[Any, ...], set[int]] = {}
    for loc in locs:
        last = max((i for i, part in enumerate(loc) if isinstance(part, int)), default=None)
        if last is not None:
            doomed.setdefault(tuple(loc[:last]), set()).add(loc[last])
    kept: dict[tuple[Any, ...], list[int]] = {}
    removed_ids: set[str] = set()

    def collect_ids(obj: Any) -> None:
        if isinstance(obj, dict):
            if isinstance(obj.get("id"), str):
                removed_ids.add(obj["id"])
            for value in obj.values():
                collect_ids(value)
        elif isinstance(obj, list):
            for value in obj:
                collect_ids(value)

    def walk(obj: Any, path: tuple[Any, ...]) -> Any:
        if isinstance(obj, dict):
            return {k: walk(v, (*path, k)) for k, v in obj.items()}
        if isinstance(obj, list):
            drop = doomed.get(path, set())
            if drop:
                kept[path] = [i for i in range(len(obj)) if i not in drop]
                for i in drop:
                    if i < len(obj):
                        collect_ids(obj[i])
            return [walk(v, (*path, i)) for i, v in enumerate(obj) if i not in drop]
        return obj

    return walk(data, ()), kept, removed_ids


def _original_loc(loc: tuple[Any, ...], kept: dict[tuple[Any, ...], list[int]]) -> tuple[Any, ...]:
    out: list[Any] = []
    for part in loc:
        if isinstance(part, int) and tuple(out) in kept:
            part = kept[tuple(out)][part]
        out.append(part)
    return tuple(out)


def _partial_checks(document: Document, err: ValidationError) -> list[Issue]:
    """Whole-document checks over the items that passed the schema, located in the original file."""
    pruned, kept, removed_ids = _prune(document.data, [tuple(e["loc"]) for e in err.errors()])
    try:
        partial = Scenario.model_validate(pruned)
    except ValidationError:
        return []  # an error outside any list item (or a list left too short): nothing to check
    issues: list[Issue] = []
    for issue, loc in check_scenario(partial):
        if issue.code == "unknown-reference" and any(
            f"'{i}'" in issue.message for i in removed_ids
        ):
            continue  # it names an entity whose declaration has a schema error of its own
        original = _original_loc(loc, kept)
        issues.append(document.locate(replace(issue, path=format_path(original)), original))
    return issues


def validate_document(document: Document) -> tuple[Scenario | None, list[Issue]]:
    """Validate parsed data; returns the scenario (None when the schema fails) and every issue.

    When some items fail the schema, the whole-document checks still run over the
    others, so one pass reports both kinds of problem.
    """
    if not isinstance(document.data, dict):
        got = type(document.data).__name__
        return None, [
            Issue(
                "wrong-type",
                "",
                f"a scenario is a mapping with 'twinverse', 'enterprise' "
                f"and 'sites' at the top, got a {got}",
                "start from examples/line.yaml",
                document.file,
                1,
                1,
            )
        ]
    try:
        scenario = Scenario.model_validate(document.data)
    except ValidationError as err:
        return None, _ordered([*_pydantic_issues(err, document), *_partial_checks(document, err)])
    issues = [document.locate(issue, loc) for issue, loc in check_scenario(scenario)]
    return scenario, _ordered(issues)


@cache
def _item_models() -> tuple[tuple[str, type[BaseModel]], ...]:
    """The top-level lists whose items validate on their own: (key in the file, item model).

    A list qualifies when nothing at the scenario level validates it as a
    whole, so its items may be handed to the scenario already validated.
    """
    decorators = Scenario.__pydantic_decorators__
    if decorators.model_validators:
        return ()
    checked = {name for d in decorators.field_validators.values() for name in d.info.fields}
    found = []
    for name, field in Scenario.model_fields.items():
        if get_origin(field.annotation) is not list or name in checked:
            continue
        (item,) = get_args(field.annotation)
        if isinstance(item, type) and issubclass(item, BaseModel):
            found.append((field.alias or name, item))
    return tuple(found)


def _validate_owned(document: Document) -> tuple[Scenario | None, list[Issue]]:
    """:func:`validate_document` for a document nobody else uses; its data is consumed.

    Each top-level list item (a site, a product …) that passes its schema is
    replaced by its model as soon as it is validated, so the parsed form is
    freed while the models are built instead of both being held at once (for
    100k entities that is most of the peak memory). The scenario then takes
    the models as they are; items that fail stay as parsed, so every issue is
    reported exactly as :func:`validate_document` reports it.
    """
    data = document.data
    # YAML puts one object in two places only through an anchor (&); with one,
    # replacing a list item could change what another place of the file sees.
    if isinstance(data, dict) and "&" not in document.text:
        for key, model in _item_models():
            items = data.get(key)
            if type(items) is not list:
                continue
            for index, raw in enumerate(items):
                try:
                    items[index] = model.model_validate(raw)
                except ValidationError:
                    continue  # reported in place by the whole-document validation
    # The models are kept; what the checks make next is short-lived (and holds
    # cycles), so it stays young for the collection when the pause ends.
    mark_long_lived()
    return validate_document(document)


def _ordered(issues: list[Issue]) -> list[Issue]:
    return sorted(issues, key=lambda i: (i.line or 0, i.column or 0))


def load_scenario(path: str | Path, *, max_bytes: int = MAX_BYTES) -> LoadedScenario:
    """Read and fully validate a scenario file. Raises ScenarioError listing every issue."""
    with paused_gc():
        document = read_document(path, max_bytes=max_bytes)
        scenario, issues = _validate_owned(document)
        file = document.file
        # Freed while the collector still waits, so it never scans the parsed data.
        del document
    if issues or scenario is None:
        raise ScenarioError(issues)
    return LoadedScenario(scenario, file)


def validate_file(path: str | Path, *, max_bytes: int = MAX_BYTES) -> list[Issue]:
    """Every problem of a scenario file (an empty list when it is valid)."""
    with paused_gc():
        try:
            document = read_document(path, max_bytes=max_bytes)
        except ScenarioError as err:
            return err.issues
        return _validate_owned(document)[1]


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
