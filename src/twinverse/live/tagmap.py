"""Tag maps: which source tag feeds which twin property, as rows of a table.

A tag map is a YAML file (see ``examples/live/line-opcua.tags.yaml`` and
``examples/live/line-mqtt.tags.yaml``)::

    twin: 86.1001.jinfeng
    source: plant                 # names the source in the ingest report and dedup marks
    tags:
      - tag: "ns=2;s=op010/Temperature"   # OPC UA node id, or an MQTT/Sparkplug tag name
        entity: changzhou/hall-2/ie3-line/op010   # local id (the twin's prefix is added) or full id
        property: temperature
        unit: degC
        scale: 1.0                 # stored = raw * scale + offset
        offset: 0.0
        deadband: 0.0              # OPC UA: absolute data-change deadband
        kind: number               # number -> time series; state -> event on change
        writable: {min: 0, max: 100}   # commands may write this tag, within the range

:func:`load_tag_map` raises :class:`TagMapError` naming the file, the row and the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from twinverse.errors import TwinverseError
from twinverse.store import SeriesKey
from twinverse.twin.ids import is_prefix


class TagMapError(TwinverseError):
    """A tag map that cannot be used: says which file, which row, which field, and the fix."""

    code = "invalid-tag-map"

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where


class ValueKind(StrEnum):
    NUMBER = "number"  # a measurement: kept as a time series
    STATE = "state"  # a discrete state: an event in the log when it changes


@dataclass(frozen=True, slots=True)
class Range:
    """The values a command may write to a tag (inclusive)."""

    low: float
    high: float

    def admits(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True, slots=True)
class TagRow:
    """One tag of a source and the twin property it feeds."""

    tag: str
    entity: str
    prop: str
    unit: str = ""
    scale: float = 1.0
    offset: float = 0.0
    deadband: float = 0.0
    kind: ValueKind = ValueKind.NUMBER
    writable: Range | None = None

    @property
    def key(self) -> SeriesKey:
        return SeriesKey(self.entity, self.prop)


@dataclass(frozen=True, slots=True)
class TagMap:
    """The rows of one source, indexed by tag; ``index[tag]`` is the row's position."""

    twin: str
    source: str
    rows: tuple[TagRow, ...]
    index: Mapping[str, int] = field(init=False)
    by_target: Mapping[tuple[str, str], int] = field(init=False)
    scale: npt.NDArray[np.float64] = field(init=False)
    offset: npt.NDArray[np.float64] = field(init=False)
    numeric: npt.NDArray[np.bool_] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {row.tag: i for i, row in enumerate(self.rows)})
        object.__setattr__(
            self, "by_target", {(row.entity, row.prop): i for i, row in enumerate(self.rows)}
        )
        object.__setattr__(self, "scale", np.array([r.scale for r in self.rows], dtype=np.float64))
        object.__setattr__(
            self, "offset", np.array([r.offset for r in self.rows], dtype=np.float64)
        )
        object.__setattr__(
            self, "numeric", np.array([r.kind is ValueKind.NUMBER for r in self.rows], dtype=bool)
        )

    @property
    def keys(self) -> list[SeriesKey]:
        return [row.key for row in self.rows]

    def target(self, entity: str, prop: str) -> TagRow | None:
        """The row that feeds ``entity``'s ``prop`` (commands write through it)."""
        i = self.by_target.get((entity, prop))
        return self.rows[i] if i is not None else None


_FIELDS = {"tag", "entity", "property", "unit", "scale", "offset", "deadband", "kind", "writable"}


def load_tag_map(path: Path) -> TagMap:
    """Read and check a tag map file; raises TagMapError with file, row and field."""
    return tag_map_from_dict(read_yaml(path), str(path))


def read_yaml(path: Path) -> Any:
    """A YAML file's document; raises TagMapError with the file (and line) when unreadable."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise TagMapError(str(path), f"cannot read the file: {err.strerror}") from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        raise TagMapError(where, f"not valid YAML: {getattr(err, 'problem', err)}") from err
    return doc


def tag_map_from_dict(doc: Any, where: str = "tag map") -> TagMap:
    """A tag map from its parsed form; raises TagMapError naming the row and field."""
    if not isinstance(doc, dict):
        raise TagMapError(where, f"expected a mapping with twin, source and tags, got {doc!r:.80}")
    twin = doc.get("twin")
    if not isinstance(twin, str) or not is_prefix(twin):
        raise TagMapError(
            f"{where}: twin", f"expected a twin prefix such as 86.1001.jinfeng, got {twin!r}"
        )
    source = doc.get("source")
    if not isinstance(source, str) or not source.strip():
        raise TagMapError(f"{where}: source", f"expected a name for the source, got {source!r}")
    tags = doc.get("tags")
    if not isinstance(tags, list) or not tags:
        raise TagMapError(f"{where}: tags", "expected a non-empty list of tag rows")
    rows = [_row(item, twin, f"{where}: tags[{i}]") for i, item in enumerate(tags)]
    seen: dict[str, int] = {}
    for i, row in enumerate(rows):
        if row.tag in seen:
            raise TagMapError(
                f"{where}: tags[{i}].tag", f"{row.tag!r} is mapped already by tags[{seen[row.tag]}]"
            )
        seen[row.tag] = i
    return TagMap(twin=twin, source=source.strip(), rows=tuple(rows))


def _row(item: Any, twin: str, where: str) -> TagRow:
    if not isinstance(item, dict):
        raise TagMapError(where, f"expected a mapping (tag, entity, property, …), got {item!r:.80}")
    unknown = set(item) - _FIELDS
    if unknown:
        raise TagMapError(
            f"{where}.{sorted(unknown)[0]}",
            f"unknown field; expected some of {', '.join(sorted(_FIELDS))}",
        )
    for name in ("tag", "entity", "property"):
        if not isinstance(item.get(name), str) or not item[name].strip():
            raise TagMapError(
                f"{where}.{name}", f"expected a non-empty text, got {item.get(name)!r}"
            )
    entity = item["entity"].strip()
    if not entity.startswith(twin + "/") and entity != twin:
        entity = f"{twin}/{entity.strip('/')}"
    numbers = {n: _number(item, n, default, where) for n, default in _DEFAULTS.items()}
    if numbers["scale"] == 0:
        raise TagMapError(f"{where}.scale", "expected a scale other than 0")
    if numbers["deadband"] < 0:
        raise TagMapError(
            f"{where}.deadband", f"expected a deadband >= 0, got {numbers['deadband']}"
        )
    try:
        kind = ValueKind(item.get("kind", "number"))
    except ValueError:
        raise TagMapError(
            f"{where}.kind", f"expected number or state, got {item.get('kind')!r}"
        ) from None
    return TagRow(
        tag=item["tag"].strip(),
        entity=entity,
        prop=item["property"].strip(),
        unit=str(item.get("unit", "")),
        kind=kind,
        writable=_range(item.get("writable"), f"{where}.writable"),
        **numbers,
    )


_DEFAULTS = {"scale": 1.0, "offset": 0.0, "deadband": 0.0}


def _number(item: dict[str, Any], name: str, default: float, where: str) -> float:
    value = item.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TagMapError(f"{where}.{name}", f"expected a finite number, got {value!r}")
    return float(value)


def _range(value: Any, where: str) -> Range | None:
    if value is None:
        return None
    if value is True:
        return Range(-math.inf, math.inf)
    if not isinstance(value, dict) or set(value) - {"min", "max"}:
        raise TagMapError(where, f"expected true or {{min: …, max: …}}, got {value!r}")
    low = value.get("min", -math.inf)
    high = value.get("max", math.inf)
    for name, v in (("min", low), ("max", high)):
        if isinstance(v, bool) or not isinstance(v, int | float) or math.isnan(v):
            raise TagMapError(f"{where}.{name}", f"expected a number, got {v!r}")
    if low > high:
        raise TagMapError(where, f"expected min <= max, got {low} > {high}")
    return Range(float(low), float(high))


def rows_of(tag_map: TagMap, tags: Sequence[str]) -> tuple[npt.NDArray[np.intp], list[int]]:
    """Row positions of known tags, and the positions (in ``tags``) of unknown ones."""
    index = tag_map.index
    found = [index.get(t, -1) for t in tags]
    rows = np.fromiter(found, dtype=np.intp, count=len(found))
    unknown = np.flatnonzero(rows < 0).tolist()
    return rows, unknown
