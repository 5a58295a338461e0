"""The compiled day loop's own machinery: lanes, per-edge rings, the lead-time stream.

The engine runs replications side by side in lanes, keeps in-transit stock
in a ring per edge sized from the longest lead time the plan allows, and
makes its lead-time uniforms from a counter-based stream. None of that may
change what a replication computes; these tests pin that down.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from tests.sim.network.test_engine_vs_reference import (
    FIXTURES,
    assert_same_run,
    compile_file,
    ns,
    window,
    without_randomness,
)
from twinverse.scenario import load_scenario
from twinverse.scenario.schema import DisruptionKind
from twinverse.sim.disruptions import Effect, Plan, Profile, make_plan
from twinverse.sim.network import kernel
from twinverse.sim.network.engine import compile_arrays, edge_rings, run_block
from twinverse.sim.network.model import compile_network


def test_a_replication_does_not_depend_on_the_lane_width(monkeypatch: pytest.MonkeyPatch) -> None:
    # 70 replications: with 64 lanes the last group overlaps the first and
    # runs six replications again; with 7 lanes the groups tile exactly.
    scenario, model = compile_file(FIXTURES / "chain.yaml")
    named = next(iter(scenario.scenarios), None)
    plan = make_plan(scenario, model, named, 70, np.random.default_rng(1))
    arrays = compile_arrays(model)
    runs = []
    for lanes in (64, 7, 1):
        monkeypatch.setattr(kernel, "LANES", lanes)
        runs.append(run_block(arrays, plan, 70, np.random.default_rng(2), workers=1))
    for other in runs[1:]:
        for key in runs[0].kpis:
            np.testing.assert_array_equal(runs[0].kpis[key], other.kpis[key])
        np.testing.assert_array_equal(runs[0].daily_fill, other.daily_fill)
        np.testing.assert_array_equal(runs[0].open_orders, other.open_orders)


def test_congested_lane_lands_on_the_day_the_reference_says() -> None:
    # The factory → warehouse lane (edge 1) takes five times as long on days
    # 30–59: shipments then travel 12 days instead of 2, beyond the lane's
    # own ring unless the plan's factor sizes it.
    _, model = compile_file(FIXTURES / "chain.yaml")
    model = without_randomness(model)
    congestion = window(
        Effect.EDGE_LEAD,
        Profile.RAISE,
        1,
        30,
        60,
        1,
        severity=4.0,
        kind=DisruptionKind.PORT_CONGESTION,
    )
    plan = Plan("congested", windows=[congestion])
    arrays = compile_arrays(model)
    plain, _ = edge_rings(arrays, np.ones(arrays.E))
    sized, _ = edge_rings(arrays, np.array([5.0 if e == 1 else 1.0 for e in range(arrays.E)]))
    assert plain[1] <= 12 < sized[1]  # the ring did have to grow
    wire = model.to_dict()
    wire["schedules"] = {"edge_lead_factor": {"1": [[30, 60, 5.0]]}}
    block = run_block(arrays, plan, 1, np.random.default_rng(0))
    ref = ns.run(wire, seed=0)
    assert_same_run(block, ref)
    unhurt = ns.run(model.to_dict(), seed=0)
    assert ref["fill_rate"] < unhurt["fill_rate"]  # the congestion did bite


def test_every_edge_ring_holds_its_longest_lead_time() -> None:
    scenario = load_scenario(FIXTURES.parents[3] / "examples" / "global-network.yaml").scenario
    c = compile_arrays(compile_network(scenario))
    days, first = edge_rings(c, np.ones(c.E))
    longest = c.edge_lead.longest + c.supply_lead.longest
    whole = np.floor(longest + 0.5)
    assert np.all(days >= whole + 1)
    assert np.all(days <= c.model.horizon + 1)
    assert np.array_equal(first[1:], np.cumsum(days)[:-1])
    assert days.sum() < c.E * c.ring / 4  # the point: far smaller than a ring of the horizon


@njit(cache=True)
def _uniforms(seed: int, n: int) -> np.ndarray:
    out = np.empty(n)
    for i in range(n):
        out[i] = kernel._uniform(np.uint64(seed), np.uint64(i))
    return out


def _splitmix64(seed: int, i: int) -> float:
    """SplitMix64 (Steele, Lea and Flood 2014) at position i, written out in Python."""
    mask = 2**64 - 1
    z = (seed + i * 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    z ^= z >> 31
    return (z >> 40) / 2**24


def test_lead_time_uniforms_are_splitmix64_on_the_float32_grid() -> None:
    u = _uniforms(2026, 8)
    assert list(u) == [_splitmix64(2026, i) for i in range(8)]


@pytest.mark.parametrize("seed", [1, 2**40 + 7])
def test_lead_time_uniforms_are_uniform_and_uncorrelated(seed: int) -> None:
    n = 400_000
    u = _uniforms(seed, n)
    assert u.min() >= 0.0 and u.max() < 1.0
    # 99.9 % bounds: mean, variance, lag-1 correlation, and 50 equal bins
    assert abs(u.mean() - 0.5) < 3.3 * np.sqrt(1 / 12 / n)
    assert abs(u.var() - 1 / 12) < 3.3 * np.sqrt(1 / 180 / n)
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 3.3 / np.sqrt(n)
    counts = np.histogram(u, bins=50, range=(0, 1))[0]
    chi2 = float(((counts - n / 50) ** 2 / (n / 50)).sum())
    assert chi2 < 85.4  # 99.9 % point of chi-square with 49 degrees of freedom
