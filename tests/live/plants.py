"""The example line as a plant and its tag map, for the OPC UA tests and the benchmark."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from twinverse.live.plant import PlantServer, PlantSettings, PlantThread, plant_tag_rows
from twinverse.live.tagmap import TagMap, tag_map_from_dict
from twinverse.scenario import LoadedScenario, load_scenario
from twinverse.sim.line import LineModel, line_model_from_scenario
from twinverse.twin.model import EntityKind

ROOT = Path(__file__).resolve().parents[2]
LINE_YAML = ROOT / "examples" / "line.yaml"
NODESETS = ROOT.parent / "shared" / "data" / "opcua-nodesets"
JINFENG = "86.1001.jinfeng"
LINE = f"{JINFENG}/changzhou/hall-2/ie3-line"


@cache
def loaded() -> LoadedScenario:
    return load_scenario(LINE_YAML)


def line_model() -> LineModel:
    return line_model_from_scenario(loaded().scenario, "ie3-line")


def machines() -> dict[str, str]:
    graph = loaded().graph()
    return {e.id.rsplit("/", 1)[-1]: e.id for e in graph.entities(EntityKind.MACHINE)}


def plant_tag_map() -> TagMap:
    return tag_map_from_dict(
        {"twin": JINFENG, "source": "plant", "tags": plant_tag_rows(JINFENG, LINE, machines())}
    )


def plant_thread(port: int, *, speed_factor: float = 600.0, security=None) -> PlantThread:
    """The example line served on ``port`` from a thread (``with plant_thread(p) as t:``)."""
    server = PlantServer(
        line_model(),
        "ie3-line",
        PlantSettings(
            port=port,
            speed_factor=speed_factor,
            tick_s=0.05,
            nodeset_dir=NODESETS if NODESETS.is_dir() else None,
            security=security,
        ),
    )
    return PlantThread(server)
