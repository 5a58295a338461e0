"""Ask the twin: questions in English or Chinese turned into twin queries, answered with evidence.

No language model is involved: the question is matched against the tables of
:mod:`twinverse.ai.lexicon` (kinds, places, metrics, orderings, comparisons),
the result is compiled into the twin's query language (:mod:`twinverse.twin.query`),
and the answer carries that query and the entities it touched, so a reader can
check it. A question it cannot map is answered as such, with close questions
it can answer. Everything runs offline and is deterministic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from twinverse.ai.lexicon import (
    CITY_ZH,
    COMPARE_WORDS,
    COUNT_WORDS,
    COUNTRIES,
    KINDS,
    MAINTENANCE_WORDS,
    METRICS,
    ORDER_WORDS,
    REGIONS,
    UNIT_CASE,
    UNIT_ZH,
    WHAT_IF_WORDS,
    Metric,
    Order,
    Reader,
    number,
)
from twinverse.errors import TwinverseError
from twinverse.twin.graph import TwinGraph
from twinverse.twin.model import Entity, EntityKind
from twinverse.twin.quantity import Quantity, parse_quantity
from twinverse.twin.query import query as run_query

MAINTENANCE_BELOW = 30.0
"""Cycles: a machine whose RUL lower bound is at most this needs maintenance."""

_CJK = re.compile(r"[\u4e00-\u9fff]")
_NUMBER = re.compile(
    r"(\d+(?:\.\d+)?)\s*(%|percent|per cent|个百分点|"
    + "|".join(UNIT_ZH)
    + r"|[a-zA-Z][a-zA-Z0-9/]*)?"
)
_LOCATED = frozenset(
    {EntityKind.SITE, EntityKind.SUPPLIER, EntityKind.CUSTOMER, EntityKind.WAREHOUSE}
)
_CONTAINED = frozenset({EntityKind.MACHINE, EntityKind.LINE, EntityKind.AREA, EntityKind.BUFFER})


class Language(StrEnum):
    EN = "en"
    ZH = "zh"


class Intent(StrEnum):
    LIST = "list"
    COUNT = "count"
    RANK = "rank"
    MAINTENANCE = "maintenance"
    WHAT_IF = "what-if"


@dataclass(frozen=True, slots=True)
class Limit:
    """A comparison's bound: its SI magnitude and how the question wrote it."""

    value: float
    text: str


@dataclass(frozen=True, slots=True)
class Place:
    """Where: a continent box, a country code or one site."""

    label: str
    bbox: tuple[float, float, float, float] | None = None
    country: str | None = None
    site: Entity | None = None


@dataclass(frozen=True, slots=True)
class Understanding:
    """What the parser made of a question."""

    language: Language
    intent: Intent
    kind: EntityKind | None
    place: Place | None = None
    metric: Metric | None = None
    order: Order | None = None
    compare: tuple[str, Limit] | None = None


@dataclass(frozen=True, slots=True)
class Row:
    """An entity the answer touched, with the metric value read from it (if any)."""

    id: str
    name: str
    value: float | None = None
    shown: str = ""


@dataclass(frozen=True, slots=True)
class Answer:
    """The reply, and the evidence: the query that ran and the entities it touched."""

    question: str
    language: Language
    answered: bool
    text: str
    intent: Intent | None = None
    query: str | None = None
    condition: str | None = None
    rows: tuple[Row, ...] = ()
    suggestions: tuple[str, ...] = field(default_factory=tuple)

    @property
    def entities(self) -> list[str]:
        return [r.id for r in self.rows]

    def to_dict(self) -> dict[str, object]:
        return {
            "question": self.question,
            "language": self.language.value,
            "answered": self.answered,
            "text": self.text,
            "intent": self.intent.value if self.intent else None,
            "query": self.query,
            "condition": self.condition,
            "rows": [
                {"id": r.id, "name": r.name, "value": r.value, "shown": r.shown} for r in self.rows
            ],
            "suggestions": list(self.suggestions),
        }


SUGGESTIONS = {
    Language.EN: (
        "Which machines in Stuttgart need maintenance?",
        "Which supplier has the highest carbon footprint?",
        "How many machines are in Germany?",
        "Which lines in Europe are below 80% OEE?",
    ),
    Language.ZH: (
        "斯图加特工厂哪些机器需要维护?",
        "哪个供应商的碳足迹最高?",
        "德国有多少台机器?",
        "欧洲哪些产线的OEE低于80%?",
    ),
}


class _Text:
    """The question, lower-cased, with matched phrases blanked out as they are consumed."""

    def __init__(self, question: str, language: Language) -> None:
        self.text = " " + question.lower().replace("？", "?").replace("，", ",") + " "
        self.language = language

    def find(self, en: tuple[str, ...], zh: tuple[str, ...]) -> tuple[int, str] | None:
        """The earliest match of any word (longest first at a position); None if absent."""
        best: tuple[int, str] | None = None
        for word in sorted((*en, *zh), key=len, reverse=True):
            if _CJK.search(word) or not word.isascii():
                at = self.text.find(word)
            else:
                m = re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", self.text)
                at = m.start() if m else -1
            if at >= 0 and (best is None or at < best[0]):
                best = (at, word)
        return best

    def take(self, en: tuple[str, ...], zh: tuple[str, ...]) -> tuple[int, str] | None:
        found = self.find(en, zh)
        if found is not None:
            at, word = found
            self.text = self.text[:at] + " " * len(word) + self.text[at + len(word) :]
        return found


def understand(question: str, graph: TwinGraph) -> Understanding:
    """Map a question onto intent, kind, place, metric, ordering and comparison."""
    language = Language.ZH if _CJK.search(question) else Language.EN
    text = _Text(question, language)
    place = _place(text, graph)
    what_if = text.find(*WHAT_IF_WORDS) is not None
    order = next((o for o, en, zh in ORDER_WORDS if text.find(en, zh)), None)
    metric = None
    metric_at = None
    for candidate in sorted(METRICS, key=lambda m: -max(len(w) for w in (*m.en, *m.zh))):
        found = text.find(candidate.en, candidate.zh)
        if found is not None and (metric_at is None or len(found[1]) > metric_at[1]):
            metric, metric_at = candidate, (found[0], len(found[1]))
    if metric is not None:
        text.take(metric.en, metric.zh)
    maintenance = text.take(*MAINTENANCE_WORDS) is not None
    kinds = sorted(
        ((hit[0], row.kind) for row in KINDS if (hit := text.take(row.en, row.zh))),
        key=lambda pair: pair[0],
    )
    kind = kinds[0][1] if kinds else None
    if kind is None and maintenance:
        kind = EntityKind.MACHINE
    if kind is None and metric is not None and len(metric.readers) == 1:
        kind = metric.readers[0][0]
    compare = None
    for op, en, zh in COMPARE_WORDS:
        hit = text.find(en, zh)
        if hit is not None:
            number = _NUMBER.search(text.text, hit[0]) or _NUMBER.search(text.text)
            if number is not None:
                compare = (op, _limit(number, metric))
            break
    if what_if and not (order or compare):
        intent = Intent.WHAT_IF
    elif maintenance:
        intent = Intent.MAINTENANCE
    elif order is not None and metric is not None:
        intent = Intent.RANK
    elif text.find(*COUNT_WORDS) is not None:
        intent = Intent.COUNT
    else:
        intent = Intent.LIST
    return Understanding(language, intent, kind, place, metric, order, compare)


def _limit(number: re.Match[str], metric: Metric | None) -> Limit:
    value = float(number.group(1))
    typed = number.group(2) or ""
    unit = UNIT_ZH.get(typed) or UNIT_CASE.get(typed, typed)
    if unit in ("%", "percent", "per cent", "个百分点") or (
        metric is not None and metric.percent and value > 1 and not unit
    ):
        return Limit(value / 100.0, f"{value:g}%")
    if unit:
        try:
            quantity = parse_quantity(f"{value:g} {unit}")
        except TwinverseError:
            return Limit(value, f"{value:g}")
        return Limit(quantity.magnitude, f"{value:g} {unit}")
    return Limit(value, f"{value:g}")


def _place(text: _Text, graph: TwinGraph) -> Place | None:
    site_words = next(r for r in KINDS if r.kind is EntityKind.SITE)
    sites = list(graph.entities(EntityKind.SITE))
    for site in sites:
        local = site.id.rsplit("/", 1)[-1].lower()
        city = str(site.properties.get("city", "")).lower()
        zh = tuple(k for k, v in CITY_ZH.items() if v == local)
        en = tuple(w for w in {local, city.split(",")[0].strip()} if w)
        if text.take(en, zh) is not None:
            text.take((), site_words.zh)  # "斯图加特工厂": the plant word belongs to the place
            return Place(site.name, site=site)
    for region in REGIONS:
        if text.take(region.en, region.zh) is not None:
            return Place(region.key, bbox=region.bbox)
    for country in COUNTRIES:
        if text.take(country.en, country.zh) is not None:
            return Place(country.code, country=country.code)
    return None


def compile_query(found: Understanding, *, maintenance_below: float = MAINTENANCE_BELOW) -> str:
    """The twin query that selects the entities the question is about."""
    assert found.kind is not None
    conditions: list[str] = []
    if found.intent is Intent.MAINTENANCE:
        conditions.append(f"rul_low <= {maintenance_below:g}")
    path = _metric_path(found.metric, found.kind)
    if path and (found.compare is not None or found.intent is Intent.RANK):
        # the comparison itself runs on the values read (quantities, distributions' means)
        conditions.append(f"has {path}")
    text = found.kind.value
    if found.place is not None and found.place.country and found.kind in _LOCATED:
        conditions.insert(0, f"country = {found.place.country}")
    if conditions:
        text += " where " + " and ".join(conditions)
    place = found.place
    if place is None:
        return text
    if found.kind in _LOCATED:
        if place.bbox is not None:
            text += " bbox " + ",".join(f"{v:g}" for v in place.bbox)
        elif place.site is not None and found.kind is EntityKind.SITE:
            text += (
                f" where id = {place.site.id}" if not conditions else f" and id = {place.site.id}"
            )
        elif place.site is not None:
            loc = place.site.properties.get("location")
            lat, lon = getattr(loc, "lat", 0.0), getattr(loc, "lon", 0.0)
            text += f" near {lat:g},{lon:g} within 100 km"
        return text
    target = (
        place.site.id
        if place.site is not None
        else "(site bbox " + ",".join(f"{v:g}" for v in place.bbox) + ")"
        if place.bbox is not None
        else f"(site where country = {place.country})"
    )
    if found.kind is EntityKind.PERSON:
        return f"{text} -works-at-> {target}"
    return f"{text} in {target}"


def _metric_path(metric: Metric | None, kind: EntityKind) -> str | None:
    if metric is None:
        return None
    return next((path for k, path, _ in metric.readers if k is kind), None)


def ask(graph: TwinGraph, question: str, *, maintenance_below: float = MAINTENANCE_BELOW) -> Answer:
    """Answer a question about ``graph``; never raises for a question it does not understand."""
    found = understand(question, graph)
    lang = found.language
    say = _PHRASES[lang]
    if found.intent is Intent.WHAT_IF:
        return Answer(
            question, lang, False, say["what-if"], found.intent, suggestions=SUGGESTIONS[lang]
        )
    if found.kind is None:
        return Answer(question, lang, False, say["unknown"], suggestions=SUGGESTIONS[lang])
    kind_name = _kind_name(found.kind, lang)
    if found.metric is not None and _metric_path(found.metric, found.kind) is None:
        has = sorted({_kind_name(k, lang) for k, _, _ in found.metric.readers})
        return Answer(
            question,
            lang,
            False,
            say["no-metric"].format(
                metric=_metric_name(found.metric, lang), kind=kind_name, has=", ".join(has)
            ),
            found.intent,
            suggestions=_close_questions(found, lang),
        )
    text = compile_query(found, maintenance_below=maintenance_below)
    entities = run_query(graph, text)
    metric = found.metric
    reader = next((r for k, _, r in (metric.readers if metric else ()) if k is found.kind), None)
    rows = [_row(graph, e, reader) for e in entities]
    condition = None
    if metric is not None and reader is not None:
        if not any(number(reader(graph, e)) is not None for e in graph.entities(found.kind)):
            return Answer(
                question,
                lang,
                False,
                say["no-data"].format(metric=_metric_name(metric, lang), kind=found.kind.value),
                found.intent,
                text,
                suggestions=_close_questions(found, lang),
            )
        rows = [r for r in rows if r.value is not None]
        if found.compare is not None:
            op, limit = found.compare
            condition = f"{_metric_path(metric, found.kind) or metric.key} {op} {limit.text}"
            rows = [r for r in rows if r.value is not None and _holds(r.value, op, limit.value)]
        if found.intent is Intent.RANK and rows:
            rows.sort(key=lambda r: r.value or 0.0, reverse=found.order is Order.HIGHEST)
            best = rows[0]
            reply = say["rank"].format(
                name=best.name, metric=_metric_name(metric, lang), value=best.shown
            )
            return Answer(question, lang, True, reply, found.intent, text, condition, tuple(rows))
    if found.intent is Intent.COUNT:
        reply = say["count"].format(n=len(rows), kind=kind_name)
    elif found.intent is Intent.MAINTENANCE and not rows:
        reply = say["no-maintenance"].format(limit=f"{maintenance_below:g}")
    elif not rows:
        reply = say["none"].format(kind=kind_name)
    else:
        shown = [f"{r.name} ({r.shown})" if r.shown else r.name for r in rows[:10]]
        names = ", ".join(shown) + (" …" if len(rows) > 10 else "")
        reply = say["list"].format(n=len(rows), kind=kind_name, names=names)
    return Answer(question, lang, True, reply, found.intent, text, condition, tuple(rows))


def _row(graph: TwinGraph, entity: Entity, reader: Reader | None) -> Row:
    if reader is None:
        return Row(entity.id, entity.name)
    raw = reader(graph, entity)
    return Row(entity.id, entity.name, number(raw), _display(raw))


def _holds(value: float, op: str, limit: float) -> bool:
    return value < limit if op == "<" else value > limit


def _display(raw: object) -> str:
    if isinstance(raw, dict) and "dist" in raw:
        raw = raw.get("mean", raw.get("mode"))
    if isinstance(raw, Quantity):
        return str(raw)
    if isinstance(raw, float):
        return f"{raw:.4g}"
    return "" if raw is None else str(raw)


def _metric_name(metric: Metric, lang: Language) -> str:
    return metric.zh[0] if lang is Language.ZH else metric.en[0]


def _kind_name(kind: EntityKind, lang: Language) -> str:
    row = next((r for r in KINDS if r.kind is kind), None)
    if row is None:
        return kind.value
    return row.zh[0] if lang is Language.ZH else row.en[0]


def _close_questions(found: Understanding, lang: Language) -> tuple[str, ...]:
    """Questions about the same metric for kinds that have it, or the general examples."""
    if found.metric is None:
        return SUGGESTIONS[lang]
    out = []
    for kind, _, _ in found.metric.readers:
        name = _kind_name(kind, lang)
        word = found.metric.zh[0] if lang is Language.ZH else found.metric.en[0]
        out.append(
            f"哪个{name}的{word}最高?"
            if lang is Language.ZH
            else f"Which {name} has the highest {word}?"
        )
    return tuple(out) or SUGGESTIONS[lang]


_PHRASES: dict[Language, dict[str, str]] = {
    Language.EN: {
        "unknown": "I could not tell what this question is about. Try one of these:",
        "what-if": (
            "What-if questions need a simulation study; run `twinverse simulate` with a "
            "named scenario of the network. Questions I can answer from the twin:"
        ),
        "no-metric": "The twin has no {metric} figure for {kind}; it has one for: {has}.",
        "no-data": "No {kind} in the twin has figures for {metric} yet.",
        "rank": "{name} ({metric}: {value}).",
        "count": "{n} {kind}.",
        "none": "No {kind} matches.",
        "no-maintenance": "No machine's RUL lower bound is at or below {limit} cycles.",
        "list": "{n} {kind}: {names}",
    },
    Language.ZH: {
        "unknown": "无法理解这个问题。可以试试这些问题:",
        "what-if": "假设分析需要仿真研究:请用 `twinverse simulate` 运行网络的命名场景。可以直接回答的问题:",
        "no-metric": "数字孪生中{kind}没有{metric}数据;有该数据的是:{has}。",
        "no-data": "数字孪生中还没有{kind}带有{metric}数据。",
        "rank": "{name}({metric}:{value})。",
        "count": "共 {n} 个{kind}。",
        "none": "没有符合条件的{kind}。",
        "no-maintenance": "没有机器的剩余寿命下限低于或等于 {limit} 个周期。",
        "list": "{n} 个{kind}:{names}",
    },
}
