"""A small query language over the twin graph, shared by the CLI and the API.

    machine where power.busy > 10 kW and kind = press
    machine in (site where country = DE)
    machine in (line -feeds-> l2) in (site where country = DE)
    supplier near 31.23,121.47 within 1500 km
    site bbox 35,-10,60,30
    person -operates-> press-1
    material <-supplies- (supplier where country = AU)

Grammar::

    query  := KIND ["where" cond ("and" cond)*] clause*
    cond   := PATH OP VALUE | "has" PATH          OP: = != < <= > >= ~ (substring)
    clause := "in" target                           contained, at any depth, in target
            | "-" REL "->" target                   has a relation REL to target
            | "<-" REL "-" target                   target has a relation REL to it
            | "near" LAT,LON "within" DISTANCE      its own or its nearest container's location
            | "bbox" LAT1,LON1,LAT2,LON2
    target := ID | LOCAL_ID | "(" query ")"

KIND is an entity kind or ``*``. In conditions ``id``, ``name`` and ``kind``
name the entity's own fields unless it has a property of that name. A VALUE with a unit (``10 kW``) compares as a
quantity, in any unit of the same dimension. Parsing raises QuerySyntaxError
pointing at the offending token; evaluation never raises for missing properties
(they simply do not match).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from twinverse.twin.errors import QuerySyntaxError, UnitError
from twinverse.twin.graph import TwinGraph
from twinverse.twin.ids import local_id
from twinverse.twin.model import Entity, EntityKind, GeoPoint, RelationKind
from twinverse.twin.quantity import LENGTH, Quantity, parse_quantity


class Op(StrEnum):
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    CONTAINS = "~"
    HAS = "has"


_COMPARE: dict[Op, Callable[[Any, Any], bool]] = {
    Op.EQ: operator.eq,
    Op.NE: operator.ne,
    Op.LT: operator.lt,
    Op.LE: operator.le,
    Op.GT: operator.gt,
    Op.GE: operator.ge,
}


@dataclass(frozen=True)
class Condition:
    path: tuple[str, ...]
    op: Op
    value: Any = None


@dataclass(frozen=True)
class Target:
    """An entity named by id, or every entity a sub-query selects."""

    ident: str | None = None
    query: Query | None = None


@dataclass(frozen=True)
class Within:
    target: Target


@dataclass(frozen=True)
class Related:
    relation: RelationKind
    outgoing: bool
    target: Target


@dataclass(frozen=True)
class Near:
    lat: float
    lon: float
    radius_km: float


@dataclass(frozen=True)
class BBox:
    lat_min: float
    lon_min: float
    lat_max: float
    lon_max: float


Clause = Within | Related | Near | BBox


@dataclass(frozen=True)
class Query:
    kind: EntityKind | None
    conditions: tuple[Condition, ...] = ()
    clauses: tuple[Clause, ...] = field(default_factory=tuple)


# ---------------------------------------------------------------- parsing
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<out>-(?P<orel>[a-z]+(?:-[a-z]+)*)->)
  | (?P<inc><-(?P<irel>[a-z]+(?:-[a-z]+)*)-)
  | (?P<punct>[(),])
  | (?P<op><=|>=|!=|=|<|>|~)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<word>[^\s(),=<>!~"']+)
    """,
    re.VERBOSE,
)
_KEYWORDS = frozenset({"where", "and", "in", "near", "within", "bbox", "has"})


@dataclass
class _Tok:
    kind: str
    text: str
    pos: int
    rel: str | None = None


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise QuerySyntaxError(f"unexpected character {text[pos]!r}", query=text, position=pos)
        kind = m.lastgroup or ""
        if kind == "orel" or kind == "irel":
            kind = "out" if m.group("out") else "inc"
        if kind != "ws":
            rel = m.group("orel") or m.group("irel")
            tokens.append(_Tok(kind, m.group(0), pos, rel))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0

    def error(self, message: str, tok: _Tok | None = None) -> QuerySyntaxError:
        pos = tok.pos if tok else len(self.text)
        return QuerySyntaxError(message, query=self.text, position=pos)

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise self.error("the query ends too early")
        self.i += 1
        return tok

    def word(self, expected: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == "word" and tok.text.lower() == expected:
            self.i += 1
            return True
        return False

    def query(self) -> Query:
        tok = self.take()
        if tok.text == "*":
            kind = None
        else:
            try:
                kind = EntityKind(
                    tok.text.lower().rstrip("s") if tok.text.lower() != "people" else "person"
                )
            except ValueError:
                kinds = ", ".join(k.value for k in EntityKind)
                raise self.error(
                    f"expected an entity kind ({kinds}) or *, got {tok.text!r}", tok
                ) from None
        conditions: list[Condition] = []
        if self.word("where"):
            conditions.append(self.condition())
            while self.word("and"):
                conditions.append(self.condition())
        clauses: list[Clause] = []
        while (nxt := self.peek()) is not None and nxt.text != ")":
            clauses.append(self.clause())
        return Query(kind, tuple(conditions), tuple(clauses))

    def condition(self) -> Condition:
        if self.word("has"):
            return Condition(self.path(), Op.HAS)
        path = self.path()
        tok = self.take()
        if tok.kind != "op":
            raise self.error(
                f"expected a comparison (= != < <= > >= ~) after {'.'.join(path)!r}", tok
            )
        return Condition(path, Op(tok.text), self.value())

    def path(self) -> tuple[str, ...]:
        tok = self.take()
        if tok.kind != "word" or tok.text.lower() in _KEYWORDS:
            raise self.error(f"expected a property name, got {tok.text!r}", tok)
        return tuple(tok.text.split("."))

    def value(self) -> Any:
        first = self.take()
        if first.kind == "str":
            return first.text[1:-1].encode().decode("unicode_escape")
        if first.kind != "word":
            raise self.error(f"expected a value, got {first.text!r}", first)
        parts = [first.text]
        while (
            (tok := self.peek()) is not None
            and tok.kind == "word"
            and tok.text.lower() not in _KEYWORDS
        ):
            parts.append(tok.text)
            self.i += 1
        return _literal(" ".join(parts), self, first)

    def target(self) -> Target:
        tok = self.take()
        if tok.text == "(":
            sub = self.query()
            close = self.take()
            if close.text != ")":
                raise self.error("expected ')'", close)
            return Target(query=sub)
        if tok.kind not in ("word", "str"):
            raise self.error(f"expected an id or '(' query ')', got {tok.text!r}", tok)
        return Target(ident=tok.text.strip("'\""))

    def numbers(self, count: int) -> list[float]:
        out: list[float] = []
        for k in range(count):
            tok = self.take()
            try:
                out.append(float(tok.text))
            except ValueError:
                raise self.error(f"expected a number, got {tok.text!r}", tok) from None
            if k < count - 1:
                comma = self.take()
                if comma.text != ",":
                    raise self.error("expected ',' between coordinates", comma)
        return out

    def clause(self) -> Clause:
        tok = self.peek()
        assert tok is not None
        if self.word("in"):
            return Within(self.target())
        if tok.kind in ("out", "inc"):
            self.i += 1
            try:
                rel = RelationKind(tok.rel or "")
            except ValueError:
                kinds = ", ".join(k.value for k in RelationKind)
                raise self.error(
                    f"unknown relation {tok.rel!r}; relations are {kinds}", tok
                ) from None
            return Related(rel, tok.kind == "out", self.target())
        if self.word("near"):
            lat, lon = self.numbers(2)
            if not self.word("within"):
                raise self.error("expected 'within DISTANCE' after near LAT,LON", self.peek())
            start = self.peek()
            radius = self.value()
            if not isinstance(radius, Quantity) or radius.dimension != LENGTH:
                raise self.error("expected a distance such as '500 km'", start)
            return Near(lat, lon, radius.to("km"))
        if self.word("bbox"):
            a, b, c, d = self.numbers(4)
            return BBox(min(a, c), min(b, d), max(a, c), max(b, d))
        raise self.error(
            f"expected 'in', '-relation->', '<-relation-', 'near' or 'bbox', got {tok.text!r}", tok
        )


def _literal(text: str, parser: _Parser, tok: _Tok) -> Any:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return float(text)
    except ValueError:
        pass
    if re.match(r"^[-+]?(\d|\.\d)", text):
        try:
            return parse_quantity(text)
        except UnitError as err:
            raise parser.error(err.message, tok) from None
    return text


def parse_query(text: str) -> Query:
    """Parse query text; raises QuerySyntaxError pointing at the problem."""
    parser = _Parser(text.strip())
    if not parser.toks:
        raise parser.error("the query is empty; start with a kind, e.g. 'machine'")
    query = parser.query()
    if parser.peek() is not None:
        raise parser.error(f"unexpected {parser.peek().text!r}", parser.peek())  # type: ignore[union-attr]
    return query


# -------------------------------------------------------------- evaluating
def _lookup(entity: Entity, path: tuple[str, ...]) -> Any:
    head = path[0]
    value: Any = entity.properties.get(head)
    # id, name and kind name the entity's own fields unless a property of that name exists
    # (a machine's 'kind' property, press or cnc, is more useful than 'machine').
    if value is None:
        if head == "id":
            value = entity.id
        elif head == "name":
            value = entity.name
        elif head == "kind":
            value = entity.kind.value
    for part in path[1:]:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _matches(entity: Entity, cond: Condition) -> bool:
    value = _lookup(entity, cond.path)
    if cond.op is Op.HAS:
        return value is not None
    if value is None:
        return cond.op is Op.NE
    want = cond.value
    if cond.op is Op.CONTAINS:
        return str(want).lower() in str(value).lower()
    if isinstance(value, Quantity) or isinstance(want, Quantity):
        if not (isinstance(value, Quantity) and isinstance(want, Quantity)):
            return False
        if value.dimension != want.dimension:
            return False
        value, want = value.magnitude, want.magnitude
    elif isinstance(value, dict | list):
        return cond.op is Op.NE
    if isinstance(want, float) and isinstance(value, int | float) and not isinstance(value, bool):
        return _COMPARE[cond.op](float(value), want)
    if isinstance(want, float) or isinstance(value, int | float):
        return cond.op is Op.NE
    if cond.op in (Op.EQ, Op.NE):
        return _COMPARE[cond.op](
            str(value).lower() if isinstance(value, str) else value,
            want.lower() if isinstance(want, str) else want,
        )
    try:
        return _COMPARE[cond.op](value, want)
    except TypeError:
        return False


def location_of(graph: TwinGraph, entity: Entity) -> GeoPoint | None:
    """The entity's own location, else that of its nearest container that has one."""
    loc = entity.properties.get("location")
    if isinstance(loc, GeoPoint):
        return loc
    for ancestor in graph.ancestors(entity.id):
        loc = ancestor.properties.get("location")
        if isinstance(loc, GeoPoint):
            return loc
    return None


def _haversine_km(a: GeoPoint, lat: float, lon: float) -> float:
    p1, p2 = math.radians(a.lat), math.radians(lat)
    dp, dl = p2 - p1, math.radians(lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def _resolve_target(graph: TwinGraph, target: Target) -> set[str]:
    if target.query is not None:
        return {e.id for e in run_query(graph, target.query)}
    ident = target.ident or ""
    if ident in graph:
        return {ident}
    return {e.id for e in graph.entities() if local_id(e.id) == ident}


def _keep(graph: TwinGraph, entity: Entity, clause: Clause, targets: set[str]) -> bool:
    if isinstance(clause, Within):
        return any(a.id in targets for a in graph.ancestors(entity.id))
    if isinstance(clause, Related):
        if clause.outgoing:
            return any(r.target in targets for r in graph.outgoing(entity.id, clause.relation))
        return any(r.source in targets for r in graph.incoming(entity.id, clause.relation))
    loc = location_of(graph, entity)
    if loc is None:
        return False
    if isinstance(clause, Near):
        return _haversine_km(loc, clause.lat, clause.lon) <= clause.radius_km
    return (
        clause.lat_min <= loc.lat <= clause.lat_max and clause.lon_min <= loc.lon <= clause.lon_max
    )


def run_query(
    graph: TwinGraph, query: Query, *, scope: Callable[[str], bool] | None = None
) -> list[Entity]:
    """The entities that match, sorted by id. ``scope`` (an access filter) hides the rest."""
    candidates: Iterable[Entity] = graph.entities(query.kind)
    if scope is not None:
        candidates = (e for e in candidates if scope(e.id))
    if query.conditions:
        conds = query.conditions
        candidates = (e for e in candidates if all(_matches(e, c) for c in conds))
    result = list(candidates)
    for clause in query.clauses:
        targets: set[str] = set()
        if isinstance(clause, Within | Related):
            targets = _resolve_target(graph, clause.target)
        result = [e for e in result if _keep(graph, e, clause, targets)]
    result.sort(key=lambda e: e.id)
    return result


def query(
    graph: TwinGraph, text: str, *, scope: Callable[[str], bool] | None = None
) -> list[Entity]:
    """Parse and run query text; raises QuerySyntaxError."""
    return run_query(graph, parse_query(text), scope=scope)
