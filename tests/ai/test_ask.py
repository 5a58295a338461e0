from __future__ import annotations

from pathlib import Path

import pytest

from tests.ai.questions import CHINESE, ENGLISH, Count, Expect, Ids, Top, Unanswered
from twinverse.ai.ask import Answer, Language, ask
from twinverse.ai.lexicon import number, supplied_footprint
from twinverse.scenario import load_scenario
from twinverse.twin.events import PropertySet
from twinverse.twin.graph import TwinGraph
from twinverse.twin.ids import EntityId
from twinverse.twin.model import EntityKind
from twinverse.twin.query import query

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "global-network.yaml"


@pytest.fixture(scope="module")
def graph() -> TwinGraph:
    """The example enterprise, with OEE on its lines and RUL on a few machines."""
    g = load_scenario(EXAMPLE).graph()
    for i, line in enumerate(sorted(g.entities(EntityKind.LINE), key=lambda e: e.id)):
        g.apply(PropertySet(line.id, "oee", round(0.55 + 0.025 * i, 3)))
    machines = sorted(g.entities(EntityKind.MACHINE), key=lambda e: e.id)
    for i, machine in enumerate(machines[::9]):
        rul = 10.0 + 17.0 * i
        g.apply(PropertySet(EntityId(machine.id), "rul", rul))
        g.apply(PropertySet(EntityId(machine.id), "rul_low", max(rul - 15.0, 0.0)))
        g.apply(PropertySet(EntityId(machine.id), "health", min(rul / 125.0, 1.0)))
    return g


def _value(graph: TwinGraph, entity_id: str, prop: str) -> float | None:
    entity = graph.entity(entity_id)
    if prop == "@footprint":
        return number(supplied_footprint(graph, entity))
    raw: object = entity.properties
    for part in prop.split("."):
        raw = raw.get(part) if isinstance(raw, dict) else None
    return number(raw)


def correct(graph: TwinGraph, answer: Answer, expect: Expect) -> bool:
    if isinstance(expect, Unanswered):
        return not answer.answered and bool(answer.suggestions)
    if not answer.answered:
        return False
    if isinstance(expect, Count):
        return str(len(query(graph, expect.query))) in answer.text and len(answer.rows) == len(
            query(graph, expect.query)
        )
    if isinstance(expect, Ids):
        wanted = [e.id for e in query(graph, expect.query)]
        if expect.where is not None:
            prop, op, limit = expect.where
            values = {i: _value(graph, i, prop) for i in wanted}
            wanted = [
                i
                for i, v in values.items()
                if v is not None and (v < limit if op == "<" else v > limit)
            ]
        return sorted(answer.entities) == sorted(wanted)
    assert isinstance(expect, Top)
    values = {
        e.id: v
        for e in graph.entities(EntityKind(expect.kind))
        if (v := _value(graph, e.id, expect.prop)) is not None
    }
    best = (max if expect.highest else min)(values.values())
    return bool(answer.rows) and values.get(answer.rows[0].id) == best


@pytest.mark.parametrize(
    ("language", "cases"), [(Language.EN, ENGLISH), (Language.ZH, CHINESE)], ids=["en", "zh"]
)
def test_question_set_accuracy(
    graph: TwinGraph, language: Language, cases: list[tuple[str, Expect]]
) -> None:
    assert len(cases) >= 60
    wrong = []
    for question, expect in cases:
        answer = ask(graph, question)
        assert answer.language is language
        if not correct(graph, answer, expect):
            wrong.append(f"{question} -> {answer.query!r}: {answer.text}")
    accuracy = 1 - len(wrong) / len(cases)
    print(f"{language.value}: {accuracy:.1%} of {len(cases)} questions")
    print("\n".join(wrong))
    assert accuracy >= 0.95, "\n".join(wrong)


def test_answer_carries_its_evidence(graph: TwinGraph) -> None:
    answer = ask(graph, "How many machines are in Germany?")
    assert answer.query == "machine in (site where country = DE)"
    assert len(answer.entities) == len(query(graph, answer.query))
    assert answer.to_dict()["query"] == answer.query


def test_an_unknown_question_says_so_and_suggests(graph: TwinGraph) -> None:
    answer = ask(graph, "Tell me a joke")
    assert not answer.answered
    assert "could not" in answer.text
    assert answer.suggestions


def test_a_metric_the_kind_lacks_names_the_kinds_that_have_it(graph: TwinGraph) -> None:
    answer = ask(graph, "Which customer has the highest OEE?")
    assert not answer.answered
    assert "line" in answer.text
    assert any("line" in s for s in answer.suggestions)


def test_missing_figures_are_reported_not_invented() -> None:
    bare = load_scenario(EXAMPLE).graph()
    answer = ask(bare, "Which lines in Europe are below 80% OEE?")
    assert not answer.answered
    assert "no line" in answer.text.lower()


def test_chinese_reply_is_in_chinese(graph: TwinGraph) -> None:
    answer = ask(graph, "德国有多少台机器?")
    assert answer.language is Language.ZH
    assert "机器" in answer.text
