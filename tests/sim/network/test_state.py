"""Starting a study from the twin's state: stock on hand and machines that are down now."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twinverse.scenario import load_scenario
from twinverse.sim.network.model import DAY, PointKind, compile_network
from twinverse.sim.network.state import read_state
from twinverse.sim.study import run_study
from twinverse.store.memory import MemoryStore
from twinverse.twin.events import PropertySet
from twinverse.twin.ids import EntityId
from twinverse.twin.instant import NS_PER_S, format_instant
from twinverse.workspace import Workspace

EXAMPLE = Path(__file__).parents[3] / "examples" / "global-network.yaml"


class Clock:
    def __init__(self) -> None:
        self.now = 1_790_000_000 * NS_PER_S

    def __call__(self) -> int:
        return self.now


@pytest.fixture(scope="module")
def twin() -> tuple[Workspace, Clock, str]:
    clock = Clock()
    ws = Workspace(MemoryStore(), clock=clock)
    loaded = load_scenario(EXAMPLE)
    ws.import_scenario(loaded, tenant="huaxin", actor="test")
    return ws, clock, loaded.scenario.enterprise.prefix


def _busiest_line(model) -> int:  # type: ignore[no-untyped-def]
    load = np.zeros(len(model.lines))
    for row in model.production:
        for line, cap in row.lines:
            load[line] += model.points[row.point].mean_demand / cap
    return int(np.argmax(load))


def test_stock_and_down_machines_are_read_as_of_a_time(twin: tuple[Workspace, Clock, str]) -> None:
    ws, clock, prefix = twin
    scenario = ws.scenario(prefix).scenario
    model = compile_network(scenario)
    line = model.lines[_busiest_line(model)]
    machines = line.id.split("/", 2)[2].split("+")
    held = next(
        p
        for p in model.points
        if p.kind is PointKind.BOUGHT and p.node in {w.id for w in scenario.warehouses}
    )
    before = clock.now
    clock.now += 3600 * NS_PER_S
    machine_ids = [
        e.id
        for e in ws.graph(prefix).entities()
        if e.id.startswith(f"{prefix}/{line.site}/") and e.id.rsplit("/", 1)[-1] in machines
    ]
    assert len(machine_ids) == len(machines)
    until = format_instant(clock.now + int(40 * DAY) * NS_PER_S)
    changes = [PropertySet(EntityId(m), "state", "down") for m in machine_ids]
    changes += [PropertySet(EntityId(m), "down_until", until) for m in machine_ids]
    warehouse = next(e.id for e in ws.graph(prefix).entities() if e.id.endswith("/" + held.node))
    changes.append(PropertySet(EntityId(warehouse), "stock", {held.item: 12345, "no-such-item": 5}))
    ws.apply_changes(prefix, changes, principal=None, reason="line stopped")

    now = read_state(model, ws.graph(prefix), clock.now)
    point = next(i for i, p in enumerate(model.points) if p is held)
    assert now.stock == {point: 12345.0}
    assert [(model.lines[o.line].id, o.share_down, o.days) for o in now.outages] == [
        (line.id, 1.0, 40)
    ]
    assert any("no-such-item" in n for n in now.notes)

    earlier = read_state(model, ws.graph(prefix, as_of=before), before)
    assert earlier.stock == {} and earlier.outages == []


def test_a_study_from_now_feels_the_outage(twin: tuple[Workspace, Clock, str]) -> None:
    ws, clock, prefix = twin
    scenario = ws.scenario(prefix).scenario
    model = compile_network(scenario)
    start = read_state(model, ws.graph(prefix), clock.now)
    assert start.outages, "the previous test stops a line"
    steady = run_study(scenario, [], replications=12, seed=3).results[0]
    forked = run_study(scenario, [], replications=12, seed=3, start=start).results[0]
    assert forked.kpis["fill_rate"].mean() < steady.kpis["fill_rate"].mean()
    assert forked.kpis["backorders_end"].mean() >= steady.kpis["backorders_end"].mean()


def test_a_twin_without_a_kept_scenario_says_how_to_get_one() -> None:
    from twinverse.store import TwinInfo
    from twinverse.workspace import ScenarioNotKeptError

    ws = Workspace(MemoryStore())
    ws.store.register_twin(TwinInfo("86.1.x", "x", "t", 0))
    with pytest.raises(ScenarioNotKeptError, match="twinverse load"):
        ws.scenario("86.1.x")
