"""Capacity sold in a settled trade is taken out of the seller's lines in a study from the twin."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twinverse.scenario import load_scenario
from twinverse.sim.network.model import compile_network
from twinverse.sim.network.state import read_state
from twinverse.sim.study import run_study
from twinverse.store.memory import MemoryStore
from twinverse.trust.trades import CapacityChange, ResourceKind
from twinverse.twin.events import PropertySet
from twinverse.twin.ids import EntityId
from twinverse.twin.instant import NS_PER_S, format_instant
from twinverse.workspace import Workspace

CHAIN = Path(__file__).parent / "fixtures" / "chain.yaml"
NOW = 1_790_000_000 * NS_PER_S
DAY_NS = 86_400 * NS_PER_S


def _twin(path: Path) -> tuple[Workspace, str]:
    ws = Workspace(MemoryStore(), clock=lambda: NOW)
    loaded = load_scenario(path)
    ws.import_scenario(loaded, tenant="chainco", actor="test")
    return ws, loaded.scenario.enterprise.prefix


def _sell(
    ws: Workspace, prefix: str, resource: ResourceKind, quantity: float, days: tuple[int, int]
) -> None:
    ws.record_capacity_trade(
        CapacityChange(
            trade=f"t{len(ws.graph(prefix).entity(EntityId(prefix + '/fab')).properties)}",
            site=f"{prefix}/fab",
            resource=resource,
            quantity=quantity,
            unit="h" if resource is ResourceKind.MACHINE_HOURS else "pcs",
            start=format_instant(NOW + days[0] * DAY_NS),
            end=format_instant(NOW + days[1] * DAY_NS),
            seller="did:key:seller",
            buyer="did:key:buyer",
        )
    )


@pytest.fixture
def steady_chain(tmp_path: Path) -> Path:
    """The chain with steady demand (600 pcs/day against a press that makes 720 a day)."""
    text = CHAIN.read_text(encoding="utf-8").replace("cv: 0.3", "cv: 0").replace("cv: 0.4", "cv: 0")
    path = tmp_path / "chain.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_machine_hours_and_units_become_cuts_over_the_period(steady_chain: Path) -> None:
    ws, prefix = _twin(steady_chain)
    model = compile_network(ws.scenario(prefix).scenario)
    # The press: one machine, no calendar: 24 machine-hours a day, 120 s a piece.
    _sell(ws, prefix, ResourceKind.MACHINE_HOURS, 240, (10, 30))  # 12 h/day of 24
    _sell(ws, prefix, ResourceKind.UNITS, 1800, (40, 50))  # 180 pcs/day of 720
    _sell(ws, prefix, ResourceKind.MACHINE_HOURS, 100, (-30, -5))  # over before now
    state = read_state(model, ws.graph(prefix), NOW)
    assert [(c.sale.resource, c.start, c.end) for c in state.sold] == [
        ("machine-hours", 10, 30),
        ("units", 40, 50),
    ]
    assert state.sold[0].shares == pytest.approx((0.5,))
    assert state.sold[1].shares == pytest.approx((0.25,))
    assert state.sold[0].names == ("fab/press-line/press",)
    assert any("ended before the simulated period" in n for n in state.notes)
    summary = state.summary()["sold_capacity"]
    assert summary[0]["cut"] == {"fab/press-line/press": pytest.approx(0.5)}


def test_a_sale_takes_exactly_its_share_of_production(steady_chain: Path) -> None:
    """Demand 600/day, press 720/day; selling half the press for the last 50 days makes
    it the bottleneck at 360/day there: production falls by 240 × 50 = 12,000 pieces."""
    ws, prefix = _twin(steady_chain)
    scenario = ws.scenario(prefix).scenario
    model = compile_network(scenario)
    unit_cost = model.production[0].unit_cost
    before = read_state(model, ws.graph(prefix), NOW)
    _sell(ws, prefix, ResourceKind.MACHINE_HOURS, 600, (150, 200))
    after = read_state(model, ws.graph(prefix), NOW)
    results = [
        run_study(scenario, [], replications=8, seed=5, start=start).results[0]
        for start in (before, after)
    ]
    made = [r.kpis["cost_production"] / unit_cost for r in results]
    assert made[0] - made[1] == pytest.approx(np.full(8, 12_000.0), rel=0.01)
    assert results[1].kpis["fill_rate"].mean() < results[0].kpis["fill_rate"].mean()
    # Sold capacity is planned, not a disruption: no recovery clock starts.
    assert np.isnan(results[1].time_to_recover).all()


def test_unreadable_entries_are_named_and_skipped(steady_chain: Path) -> None:
    ws, prefix = _twin(steady_chain)
    model = compile_network(ws.scenario(prefix).scenario)
    site = EntityId(f"{prefix}/fab")
    bad = [
        {"trade": "a", "resource": "machine-hours", "quantity": "lots", "start": "x", "end": "y"},
        {"trade": "b", "resource": "kilowatts", "quantity": 5},
        {
            "trade": "c",
            "resource": "units",
            "quantity": 5,
            "start": "2026-12-02",
            "end": "2026-12-01",
        },
        {"trade": "d", "resource": "asset", "quantity": 1},
        "not a mapping",
    ]
    ws.apply_changes(
        prefix, [PropertySet(site, "capacity_commitments", bad)], principal=None, reason="test"
    )
    state = read_state(model, ws.graph(prefix), NOW)
    assert state.sold == []
    joined = "\n".join(state.notes)
    for text in ("[0]: quantity must be a number", "[1]: resource must be", "[2]: the period"):
        assert text in joined
    assert "[3]" not in joined  # an asset sale takes no capacity
    assert "[4]: is not a mapping" in joined


def test_selling_more_than_the_site_has_closes_its_lines(steady_chain: Path) -> None:
    ws, prefix = _twin(steady_chain)
    model = compile_network(ws.scenario(prefix).scenario)
    _sell(ws, prefix, ResourceKind.MACHINE_HOURS, 30 * 24 * 2, (0, 30))
    state = read_state(model, ws.graph(prefix), NOW)
    assert state.sold[0].shares == (1.0,)
    assert any("more than site 'fab' can make" in n for n in state.notes)
