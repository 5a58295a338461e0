"""The vectorised network engine against the independent SimPy reference model.

Both implement ``docs/simulation-network.md``; the engine runs the compiled
:class:`~twinverse.sim.network.model.NetworkModel`, the reference its wire form
(``NetworkModel.to_dict()``), with disruptions as a :class:`Plan` for the one
and as the equivalent ``schedules`` for the other. Two kinds of check:

* with nothing random (constant demand and lead times) the two must agree
  exactly, day by day: any difference is a difference of semantics (plus one
  hand-built day where the numbers are known);
* with the scenario's randomness, the mean of every compared KPI must agree:
  a two-sample Welch test at the 99 % level per KPI, many engine replications
  against a few reference ones. Seeds are fixed, so the outcome is
  reproducible; with six KPIs in each of six cases, a change that only moves
  the random streams has about a 30 % chance of flagging one chance
  difference somewhere, so look at the p-values before suspecting semantics
  (the exact checks are the ones that pin semantics down).
"""

from __future__ import annotations

import copy
import dataclasses
import importlib.util
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from twinverse.scenario import load_scenario
from twinverse.scenario.schema import DisruptionKind, PolicyKind, Scenario
from twinverse.sim.disruptions import Effect, Plan, Profile, Window, make_plan
from twinverse.sim.dist import Dist
from twinverse.sim.network.engine import compile_arrays, run_block
from twinverse.sim.network.model import (
    Demand,
    LineRef,
    NetworkModel,
    Point,
    PointKind,
    Policy,
    Production,
    compile_network,
)

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).parent / "fixtures"
GLOBAL_NETWORK = ROOT / "examples" / "global-network.yaml"

# The KPIs compared; the others follow from these (revenue = shipped × price …).
KPIS = (
    "fill_rate",
    "shipped",
    "backorders_end",
    "cost_transport",
    "cost_holding",
    "co2e_transport",
)
LEVEL = 0.99


def _load_reference() -> Any:
    """benchmarks/ is not a package on sys.path: load the reference from its file."""
    name = "network_simpy_reference"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, ROOT / "benchmarks" / "reference" / "network_simpy.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


ns = _load_reference()


def compile_file(path: Path) -> tuple[Scenario, NetworkModel]:
    scenario = load_scenario(path).scenario
    return scenario, compile_network(scenario)


def run_engine(
    model: NetworkModel, replications: int, seed: int, plan: Plan | None = None
) -> dict[str, np.ndarray]:
    block = run_block(
        compile_arrays(model),
        plan or Plan("baseline"),
        replications,
        np.random.default_rng(seed),
    )
    return block.kpis


def run_reference(wire: dict[str, Any], replications: int, seed: int) -> dict[str, np.ndarray]:
    runs = ns.replicate(wire, replications, seed=seed)
    return {k: np.array([r[k] for r in runs]) for k in KPIS}


def welch_p(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided p-value of Welch's test that ``a`` and ``b`` have the same mean.

    Without spread on either side (both all zero, say) the means must be equal
    up to rounding: p is 1 if they are, 0 if not.
    """
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    diff = float(a.mean() - b.mean())
    if va + vb <= (1e-12 * max(1.0, abs(float(a.mean())))) ** 2:
        return 1.0 if abs(diff) <= 1e-9 * max(1.0, abs(float(a.mean()))) else 0.0
    t = diff / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    return float(2 * stats.t.sf(abs(t), df))


def assert_agree(engine: dict[str, np.ndarray], reference: dict[str, np.ndarray]) -> None:
    """Every KPI's mean agrees at the 99 % level; the failure lists them all."""
    rows, bad = [], []
    for k in KPIS:
        a, b = engine[k], reference[k]
        p = welch_p(a, b)
        rows.append(f"{k:15s} engine {a.mean():.6g} reference {b.mean():.6g} p={p:.4f}")
        if p < 1 - LEVEL:
            bad.append(k)
    assert not bad, "engine and reference disagree on " + ", ".join(bad) + "\n" + "\n".join(rows)


def window(
    effect: Effect, profile: Profile, index: int, start: int, end: int, replications: int, **kw: Any
) -> Window:
    """A disruption on one target in every replication, days ``start`` ≤ t < ``end``."""
    return Window(
        id=f"{effect.value}-{index}",
        kind=kw.pop("kind", DisruptionKind.LANE_CLOSURE),
        profile=profile,
        severity=kw.pop("severity", 1.0),
        targets={effect: np.array([index], dtype=np.intp)},
        occurs=np.ones(replications, dtype=bool),
        start=np.full(replications, start),
        end=np.full(replications, end),
    )


def chain_disruptions(replications: int) -> tuple[Plan, dict[str, Any]]:
    """On chain.yaml: the factory → warehouse lane (edge 1) closed on days 30–44,
    the press (line 0) at half capacity on days 60–89, and customer b's demand
    (row 1) blocked on days 100–109; as a Plan and as the reference's schedules."""
    plan = Plan(
        "disrupted",
        windows=[
            window(Effect.EDGE_CLOSED, Profile.CLOSE, 1, 30, 45, replications),
            window(
                Effect.LINE_CAPACITY,
                Profile.CUT,
                0,
                60,
                90,
                replications,
                kind=DisruptionKind.STRIKE,
                severity=0.5,
            ),
            window(Effect.DEMAND_BLOCKED, Profile.CLOSE, 1, 100, 110, replications),
        ],
    )
    schedules = {
        "edge_closed": {"1": [[30, 45]]},
        "line_capacity": {"0": [[60, 90, 0.5]]},
        "demand_blocked": {"1": [[100, 110]]},
    }
    return plan, schedules


def dual_plan(scenario: Scenario, model: NetworkModel, replications: int) -> Plan:
    """dual-lanes.yaml's named scenario: orders split over both lanes of each pair."""
    named = next(s for s in scenario.scenarios if s.id == "dual")
    return make_plan(scenario, model, named, replications, np.random.default_rng(0))


def with_shares(wire: dict[str, Any], plan: Plan) -> dict[str, Any]:
    """The reference's model with the plan's standing order shares on its edges."""
    out = copy.deepcopy(wire)
    if plan.shares is not None:
        for edge, share in zip(out["edges"], plan.shares, strict=True):
            edge["share"] = float(share)
    return out


def without_randomness(model: NetworkModel) -> NetworkModel:
    """The same network with constant demand and lead times (their means).

    Both round a lead time half up, so means that add up to half a day (ties)
    must land on the same day in both.
    """
    model = copy.deepcopy(model)
    for d in model.demand:
        d.cv = 0.0
    for e in model.edges:
        e.lead_time = Dist.constant(e.lead_time.mean)
    for s in model.supply:
        s.lead_time = Dist.constant(s.lead_time.mean)
    return model


def test_half_day_lead_times_round_up_in_both() -> None:
    _, model = compile_file(FIXTURES / "chain.yaml")
    model = without_randomness(model)
    for e in model.edges:
        e.lead_time = Dist.constant(math.floor(e.lead_time.mean) + 0.5)
    block = run_block(compile_arrays(model), Plan("baseline"), 1, np.random.default_rng(0))
    assert_same_run(block, ns.run(model.to_dict(), seed=0))


def assert_same_run(block: Any, ref: dict[str, Any]) -> None:
    """One engine replication and one reference run are the same, day by day."""
    for k in (*KPIS, "demand", "revenue", "cost_production", "cost_material", "co2e_production"):
        assert block.kpis[k][0] == pytest.approx(ref[k], rel=1e-9, abs=1e-6), k
    assert block.daily_fill[0] == pytest.approx(ref["daily_fill_rate"], abs=1e-9)


# ------------------------------------------------------ nothing random: exact


@pytest.mark.parametrize("disrupted", [False, True], ids=["baseline", "disrupted"])
@pytest.mark.parametrize("fixture", ["chain", "shared-line", "dual-lanes"])
def test_without_randomness_engine_and_reference_agree_exactly(
    fixture: str, disrupted: bool
) -> None:
    scenario, model = compile_file(FIXTURES / f"{fixture}.yaml")
    model = without_randomness(model)
    plan = dual_plan(scenario, model, 1) if fixture == "dual-lanes" else Plan("baseline")
    wire = with_shares(model.to_dict(), plan)
    if disrupted:
        # Close edge 1, halve line 0, block demand row 1, as on chain.yaml.
        disruption, wire["schedules"] = chain_disruptions(1)
        plan = dataclasses.replace(plan, windows=disruption.windows)
    block = run_block(compile_arrays(model), plan, 1, np.random.default_rng(0))
    ref = ns.run(wire, seed=0)
    assert_same_run(block, ref)
    if disrupted:
        assert ref["fill_rate"] < 0.99  # the disruptions did bite


def test_without_randomness_the_global_network_runs_the_same() -> None:
    _, model = compile_file(GLOBAL_NETWORK)
    model = without_randomness(model)
    block = run_block(compile_arrays(model), Plan("baseline"), 1, np.random.default_rng(0))
    assert_same_run(block, ns.run(model.to_dict(), seed=0))


def two_depths_on_one_press(coil: float) -> NetworkModel:
    """a (depth 0, 50 a day) and b made from a (depth 1, 100 a day) share one press.

    a holds 1000 and wants 20 more (S = 1020); b wants 1000, more than the
    press can make. One day, no demand.
    """

    def made(item: str, initial: float, S: float) -> Point:
        return Point(
            f"fab:{item}",
            "fab",
            item,
            PointKind.MADE,
            initial,
            policy=Policy(PolicyKind.BASE_STOCK, S),
        )

    return NetworkModel(
        horizon=1,
        unmet="backorder",
        points=[
            Point(
                "fab:coil",
                "fab",
                "coil",
                PointKind.BOUGHT,
                coil,
                policy=Policy(PolicyKind.BASE_STOCK, 0),
            ),
            made("a", 1000.0, 1020.0),
            made("b", 0.0, 1000.0),
        ],
        production=[
            Production(1, [(0, 1.0)], [(0, 50.0)]),
            Production(2, [(1, 1.0)], [(0, 100.0)]),
        ],
        lines=[LineRef("fab/press", "fab", "press")],
        demand=[Demand("cust:b", "cust", "b", "road", 2, 0.0, 0.0, 1.0, Dist.constant(1.0), 0, 0)],
    )


@pytest.mark.parametrize(("coil", "made_a"), [(1e6, 20.0), (10.0, 10.0)])
def test_line_share_is_used_by_what_a_depth_plans(coil: float, made_a: float) -> None:
    # Depth 0 plans 20 a: 0.4 of the press's day. Depth 1 gets the 0.6 left,
    # 60 b, also when only 10 coil let a make 10 of the 20 it planned: the
    # contract charges the line for what was planned.
    model = two_depths_on_one_press(coil)
    on_hand = run_block(
        compile_arrays(model), Plan("baseline"), 1, np.random.default_rng(0)
    ).on_hand
    assert on_hand is not None
    assert on_hand[0, 2] == pytest.approx(60.0)
    assert on_hand[0, 1] == pytest.approx(1000.0 + made_a - 60.0)
    produced = ns.run(model.to_dict(), seed=0, trace=True)["trace"]["produced"]
    assert [produced[1][0], produced[2][0]] == pytest.approx([made_a, 60.0])


# ---------------------------------------------------- random: means agree


@pytest.mark.parametrize("fixture", ["chain", "shared-line", "dual-lanes"])
def test_kpi_means_agree_on_small_networks(fixture: str) -> None:
    scenario, model = compile_file(FIXTURES / f"{fixture}.yaml")
    plan = dual_plan(scenario, model, 400) if fixture == "dual-lanes" else None
    engine = run_engine(model, 400, seed=1, plan=plan)
    wire = with_shares(model.to_dict(), plan) if plan is not None else model.to_dict()
    reference = run_reference(wire, 40, seed=2)
    assert_agree(engine, reference)


def test_kpi_means_agree_under_disruption() -> None:
    _, model = compile_file(FIXTURES / "chain.yaml")
    plan, schedules = chain_disruptions(400)
    engine = run_engine(model, 400, seed=3, plan=plan)
    reference = run_reference({**model.to_dict(), "schedules": schedules}, 40, seed=4)
    assert engine["fill_rate"].mean() < 0.9  # the disruptions did bite
    assert_agree(engine, reference)


def test_kpi_means_agree_on_the_global_network_example() -> None:
    # 135 stock points, 85 edges, 29 demand rows, 100 line resources: the
    # reference takes about 1 s a replication over the full 365-day horizon.
    _, model = compile_file(GLOBAL_NETWORK)
    assert model.horizon == 365
    engine = run_engine(model, 200, seed=5)
    reference = run_reference(model.to_dict(), 8, seed=6)
    assert_agree(engine, reference)
