"""Tag maps are checked row by row with located errors; the package's public names are pinned."""

from __future__ import annotations

from pathlib import Path

import pytest

import twinverse.live
from twinverse.live import sparkplug
from twinverse.live.tagmap import TagMapError, load_tag_map, tag_map_from_dict

ROOT = Path(__file__).resolve().parents[2]


def test_public_names() -> None:
    assert twinverse.live.__all__ == [
        "AuditLog",
        "Batch",
        "Command",
        "CommandError",
        "Commander",
        "IngestPipeline",
        "IngestReport",
        "LiveChange",
        "LiveFeed",
        "LiveHub",
        "LiveRuntime",
        "MqttIngest",
        "OpcUaIngest",
        "PlantLine",
        "PlantServer",
        "TagMap",
        "TagMapError",
        "load_tag_map",
    ]
    for name in twinverse.live.__all__:
        assert getattr(twinverse.live, name).__name__ == name


@pytest.mark.parametrize("name", ["line-opcua.tags.yaml", "line-mqtt.tags.yaml"])
def test_the_example_tag_maps_load(name: str) -> None:
    tags = load_tag_map(ROOT / "examples" / "live" / name)
    assert tags.twin == "86.1001.jinfeng" and tags.rows


GOOD = {"twin": "86.1000.x", "source": "s", "tags": [{"tag": "a", "entity": "e", "property": "p"}]}


@pytest.mark.parametrize(
    ("change", "where", "says"),
    [
        ({"twin": "no/pe"}, "twin", "twin prefix"),
        ({"tags": []}, "tags", "non-empty list"),
        ({"tags": [{"tag": "a", "entity": "e"}]}, "tags[0].property", "non-empty text"),
        ({"tags": [{**GOOD["tags"][0], "scale": "x"}]}, "tags[0].scale", "finite number"),
        ({"tags": [{**GOOD["tags"][0], "kind": "vector"}]}, "tags[0].kind", "number or state"),
        ({"tags": [{**GOOD["tags"][0], "colour": 1}]}, "tags[0].colour", "unknown field"),
        (
            {"tags": [{**GOOD["tags"][0], "writable": {"min": 5, "max": 1}}]},
            "tags[0].writable",
            "min <= max",
        ),
        ({"tags": [GOOD["tags"][0], GOOD["tags"][0]]}, "tags[1].tag", "mapped already"),
    ],
)
def test_a_bad_tag_map_names_the_row_and_field(change: dict, where: str, says: str) -> None:
    with pytest.raises(TagMapError) as raised:
        tag_map_from_dict({**GOOD, **change}, "map.yaml")
    assert raised.value.where == f"map.yaml: {where}" and says in raised.value.message


def test_a_broken_yaml_file_is_located(tmp_path: Path) -> None:
    bad = tmp_path / "t.yaml"
    bad.write_text("twin: [unclosed\n")
    with pytest.raises(TagMapError, match=r"t\.yaml:\d+:\d+: not valid YAML"):
        load_tag_map(bad)


def test_local_entity_ids_get_the_twin_prefix() -> None:
    assert tag_map_from_dict(GOOD).rows[0].entity == "86.1000.x/e"


@pytest.mark.parametrize("topic", ["spBv1.0/g", "spAv1.0/g/NDATA/e", "spBv1.0/g/NOPE/e"])
def test_bad_sparkplug_topics_are_refused(topic: str) -> None:
    with pytest.raises(sparkplug.SparkplugError):
        sparkplug.parse_topic(topic)


def test_garbage_is_not_a_sparkplug_payload() -> None:
    with pytest.raises(sparkplug.SparkplugError):
        sparkplug.decode(b"\xff\xff\xff\xff")
