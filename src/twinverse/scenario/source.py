"""Reading scenario files safely: size, encoding, YAML bombs, nesting, duplicate keys.

The fast path parses without recording positions. Positions (line, column)
are only needed when something is wrong, so :class:`SourceMap` re-reads the text
with PyYAML's composer on demand and maps document paths to places. YAML is a
superset of JSON, so the same map serves JSON files.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from twinverse.scenario.errors import Issue, ScenarioError

MAX_BYTES = 128 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 20_000_000

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_Loader):  # type: ignore[misc, valid-type]
    """A safe loader that records duplicate keys instead of silently keeping the last."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[str, yaml.Mark]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
            if key in seen:
                self.duplicates.append((str(key), key_node.start_mark))
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


_StrictLoader.add_constructor(
    "tag:yaml.org,2002:map",
    lambda loader, node: loader.construct_mapping(node, deep=True),
)


@dataclass
class Document:
    """A parsed scenario file: the data and where it came from."""

    data: Any
    text: str
    file: str
    source_map: SourceMap = field(init=False)

    def __post_init__(self) -> None:
        self.source_map = SourceMap(self.text)

    def locate(self, issue: Issue, loc: tuple[str | int, ...]) -> Issue:
        line, column = self.source_map.position(loc)
        return issue.located(self.file, line, column)


class SourceMap:
    """Document path → (line, column), built on first use."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._root: yaml.Node | None = None
        self._built = False

    def position(self, loc: tuple[str | int, ...]) -> tuple[int | None, int | None]:
        if not self._built:
            self._built = True
            try:
                with _recursion_limit(MAX_DEPTH * 4 + 200):
                    self._root = yaml.compose(self._text, Loader=_Loader)
            except (yaml.YAMLError, RecursionError):
                self._root = None
        node = self._root
        if node is None:
            return None, None
        best = node
        for part in loc:
            child = _child(node, part)
            if child is None:
                break
            node = child
            best = node
        return best.start_mark.line + 1, best.start_mark.column + 1


def _child(node: yaml.Node, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                return value_node  # type: ignore[no-any-return]
    elif (
        isinstance(node, yaml.SequenceNode)
        and isinstance(part, int)
        and 0 <= part < len(node.value)
    ):
        return node.value[part]  # type: ignore[no-any-return]
    return None


@contextmanager
def _recursion_limit(limit: int) -> Iterator[None]:
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def _fail(
    file: str,
    code: str,
    message: str,
    hint: str | None = None,
    line: int | None = None,
    column: int | None = None,
) -> ScenarioError:
    return ScenarioError([Issue(code, "", message, hint, file, line, column)])


def _size(n: int) -> str:
    for unit, factor in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= factor:
            return f"{n / factor:.4g} {unit}"
    return f"{n} bytes"


def read_document(path: str | Path, *, max_bytes: int = MAX_BYTES) -> Document:
    """Read and parse a scenario file (YAML, or JSON for ``.json``).

    Raises ScenarioError for a missing or unreadable file, one over ``max_bytes``,
    text that is not UTF-8, a syntax error, duplicate keys, nesting deeper than
    MAX_DEPTH, or aliases that expand past MAX_NODES (a "billion laughs" bomb).
    """
    file = str(path)
    p = Path(path)
    try:
        size = p.stat().st_size
        if not p.is_file():
            raise _fail(file, "not-a-file", f"{file} is not a regular file")
        if size > max_bytes:
            raise _fail(
                file,
                "file-too-large",
                f"the file is {_size(size)}; scenario files may be at most {_size(max_bytes)}",
                "split the enterprise into several files, or raise TWINVERSE_MAX_SCENARIO_MB",
            )
        raw = p.read_bytes()
    except FileNotFoundError:
        raise _fail(file, "file-not-found", f"no such file: {file}") from None
    except OSError as err:
        raise _fail(file, "unreadable-file", f"cannot read {file}: {err.strerror}") from None
    except ValueError as err:  # e.g. a NUL byte in the path
        raise _fail(file, "unreadable-file", f"cannot read {file!r}: {err}") from None
    return parse_text(raw, file, json_syntax=p.suffix.lower() == ".json")


def parse_text(raw: bytes, file: str, *, json_syntax: bool = False) -> Document:
    """Parse scenario text already in memory; see :func:`read_document`."""
    if b"\x00" in raw:
        offset = raw.index(b"\x00")
        raise _fail(
            file,
            "binary-file",
            f"the file holds binary data (a NUL byte at offset {offset})",
            "a scenario is a YAML or JSON text file",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise _fail(
            file,
            "not-utf8",
            f"the file is not UTF-8 text (bad byte at offset {err.start})",
            "save the file as UTF-8",
        ) from None
    if not text.strip():
        raise _fail(file, "empty-file", "the file is empty", "start from examples/line.yaml")
    depth = _nesting_depth(raw, text)
    if depth > MAX_DEPTH:
        raise _fail(
            file,
            "too-deep",
            f"the document nests {depth} levels deep; at most {MAX_DEPTH} are allowed",
        )
    data = _parse_json(text, file) if json_syntax else _parse_yaml(text, file)
    document = Document(data, text, file)
    return document


_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = np.zeros(256, dtype=np.int64)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1


def _nesting_depth(raw: bytes, text: str) -> int:
    """The deepest nesting of flow collections ([ and {) or indented blocks.

    Deep nesting would exhaust the parser's recursion (libyaml's composer has no
    limit of its own); checking first keeps the error clean. Brackets inside
    quoted strings count too, which can only overestimate.
    """
    brackets = raw.translate(None, _NOT_BRACKETS)
    codes = np.frombuffer(brackets, dtype=np.uint8)
    running = np.cumsum(_STEP[codes], dtype=np.int64)
    # Depth never goes below zero: subtract the lowest point reached so far.
    depth = running - np.minimum.accumulate(np.minimum(running, 0)) if running.size else running
    flow = int(depth.max()) if depth.size else 0
    indents = re.findall(r"(?m)^[ -]+", text)
    if not indents or max(map(len, indents)) < MAX_DEPTH:
        return flow  # every block level indents at least one column
    stack = [0]
    block = 1
    for line in text.splitlines():
        stripped = line.lstrip(" -")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        while len(stack) > 1 and stack[-1] > indent:
            stack.pop()
        if indent > stack[-1]:
            stack.append(indent)
        # "- - - x" opens a sequence per dash on one line.
        block = max(block, len(stack) + line[:indent].count("-"))
    return max(flow, block)


def _parse_json(text: str, file: str) -> Any:
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(items)
        if len(out) != len(items):
            seen: set[str] = set()
            duplicates.extend(k for k, _ in items if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        return out

    def reject_constant(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON number")

    try:
        data = json.loads(text, object_pairs_hook=pairs, parse_constant=reject_constant)
    except json.JSONDecodeError as err:
        raise _fail(
            file, "syntax-error", f"invalid JSON: {err.msg}", None, err.lineno, err.colno
        ) from None
    except ValueError as err:
        raise _fail(file, "syntax-error", f"invalid JSON: {err}") from None
    except RecursionError:
        raise _fail(file, "too-deep", "the document nests too deeply") from None
    if duplicates:
        raise _fail(
            file,
            "duplicate-key",
            f"duplicate key {duplicates[0]!r}",
            "each key may appear once in an object",
        )
    return data


def _parse_yaml(text: str, file: str) -> Any:
    try:
        loader = _StrictLoader(text)
    except yaml.reader.ReaderError as err:
        raise _reader_error(err, text, file) from None
    try:
        with _recursion_limit(MAX_DEPTH * 4 + 200):
            data = loader.get_single_data()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = err.problem or err.context or "invalid YAML"
        hint = None
        if "tag" in problem or "constructor" in str(err):
            hint = "scenario files use plain YAML: no !tags"
        raise _fail(
            file,
            "syntax-error",
            f"invalid YAML: {problem}",
            hint,
            mark.line + 1 if mark else None,
            mark.column + 1 if mark else None,
        ) from None
    except yaml.reader.ReaderError as err:
        raise _reader_error(err, text, file) from None
    except yaml.YAMLError as err:
        raise _fail(file, "syntax-error", "invalid YAML: " + " ".join(str(err).split())) from None
    except RecursionError:
        raise _fail(file, "too-deep", "the document nests too deeply") from None
    except (ValueError, OverflowError) as err:  # e.g. an integer of thousands of digits
        raise _fail(file, "syntax-error", f"invalid YAML value: {str(err)[:120]}") from None
    finally:
        loader.dispose()
    if loader.duplicates:
        key, mark = loader.duplicates[0]
        raise _fail(
            file,
            "duplicate-key",
            f"duplicate key {key!r}",
            "each key may appear once in a mapping",
            mark.line + 1,
            mark.column + 1,
        )
    _check_expansion(data, file)
    return data


def _reader_error(err: yaml.reader.ReaderError, text: str, file: str) -> ScenarioError:
    before = text[: err.position]
    line = before.count("\n") + 1
    column = err.position - (before.rfind("\n") + 1) + 1
    char = err.character if isinstance(err.character, str) else chr(err.character)
    return _fail(
        file,
        "syntax-error",
        f"the text holds a control character {char!r} (U+{ord(char):04X})",
        "remove it; scenario files are plain text",
        line,
        column,
    )


def _check_expansion(data: Any, file: str) -> None:
    """Count nodes as a reader would see them, sharing work between aliases."""
    sizes: dict[int, int] = {}

    def size(obj: Any) -> int:
        if isinstance(obj, dict | list):
            key = id(obj)
            cached = sizes.get(key)
            if cached is not None:
                return cached
            sizes[key] = 1  # a self-reference counts once
            items = obj.values() if isinstance(obj, dict) else obj
            total = 1
            for item in items:
                total += size(item)
                if total > MAX_NODES:
                    break
            sizes[key] = total
            return total
        return 1

    try:
        with _recursion_limit(MAX_DEPTH * 4 + 200):
            total = size(data)
    except RecursionError:
        raise _fail(
            file, "too-deep", f"the document nests more than {MAX_DEPTH} levels deep"
        ) from None
    if total > MAX_NODES:
        raise _fail(
            file,
            "alias-bomb",
            f"the document expands to more than {MAX_NODES:,} values through YAML aliases",
            "remove the nested anchors (&) and aliases (*)",
        )
