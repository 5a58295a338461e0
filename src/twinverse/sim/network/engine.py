"""The supply-network simulator: a block of replications, compiled and run on threads.

:func:`compile_arrays` turns a :class:`NetworkModel` into flat arrays once;
:func:`run_block` draws a block's demand noise (and lead times of kinds
without a closed-form inverse) with numpy and the seed of the kernel's
lead-time stream, flattens the block's :class:`Plan`, sizes each edge's ring
of arrival days (:func:`edge_rings`), and runs the compiled day loop of
:mod:`twinverse.sim.network.kernel` over the replications, split across
threads (the kernel releases the GIL). The order of the steps within a
day and what each means is the contract of ``docs/simulation-network.md``; the
SimPy reference model in ``benchmarks/reference/network_simpy.py`` implements
the same contract one replication at a time, and the tests compare the two.

A block returns plain arrays (:class:`BlockResult`), so blocks can run in
other processes (or on Ray) and be concatenated.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from twinverse.sim.disruptions import SALE, Effect, Plan, Profile
from twinverse.sim.dist import Dist
from twinverse.sim.network import kernel
from twinverse.sim.network.model import NetworkModel, PointKind
from twinverse.twin.distribution import DistKind

# Failing a customer: the node's customer backlog exceeds this many days of its mean demand.
FAIL_DAYS = 0.5

_PROFILE_CODE = {
    Profile.CUT: kernel.CUT,
    Profile.RAISE: kernel.RAISE,
    Profile.CLOSE: kernel.CLOSE,
    Profile.LEARNING: kernel.LEARNING,
}
# Kinds the kernel turns a uniform into (inverse CDF), with their parameters in order.
_INVERSE = {
    DistKind.CONSTANT: (kernel.CONSTANT, ("value",)),
    DistKind.UNIFORM: (kernel.UNIFORM, ("low", "high")),
    DistKind.TRIANGULAR: (kernel.TRIANGULAR, ("low", "mode", "high")),
    DistKind.EXPONENTIAL: (kernel.EXPONENTIAL, ("mean",)),
    DistKind.WEIBULL: (kernel.WEIBULL, ("scale", "shape")),
}
# Kinds with a largest value, and the parameter that holds it.
_BOUNDED = {DistKind.CONSTANT: "value", DistKind.UNIFORM: "high", DistKind.TRIANGULAR: "high"}


@dataclass(slots=True)
class LeadTable:
    """Per-edge lead-time distributions in the kernel's form.

    ``code``/``params`` say how a uniform becomes days (the kernel makes the
    uniforms). Kinds without a closed-form inverse (normal, lognormal, gamma)
    are drawn with numpy and handed over as values (:data:`kernel.DRAWN`):
    ``column`` is such an edge's column in the block's draw array, else -1.
    """

    dists: list[Dist]
    code: np.ndarray
    params: np.ndarray  # (E, 3)
    column: np.ndarray
    longest: np.ndarray  # (E,) the longest lead time a draw can give, +inf if unbounded

    @classmethod
    def of(cls, dists: list[Dist]) -> LeadTable:
        code = np.zeros(len(dists), dtype=np.int64)
        params = np.zeros((len(dists), 3))
        column = np.full(len(dists), -1, dtype=np.int64)
        longest = np.full(len(dists), np.inf)
        drawn = 0
        for i, d in enumerate(dists):
            named = dict(d.params)
            if d.kind in _INVERSE:
                code[i], names = _INVERSE[d.kind]
                params[i, : len(names)] = [named[n] for n in names]
            else:
                code[i] = kernel.DRAWN
                column[i] = drawn
                drawn += 1
            if d.kind in _BOUNDED:
                longest[i] = named[_BOUNDED[d.kind]]
        return cls(dists, code, params, column, longest)

    def draw(self, rng: np.random.Generator, R: int, T: int) -> np.ndarray:
        """A ``(T, columns, R)`` float32 array of lead times of the numpy-drawn kinds.

        Replications are the last axis, so the kernel's lanes read them side by side.
        """
        cols = np.flatnonzero(self.column >= 0)
        out = np.empty((T, cols.size, R), dtype=np.float32)
        for j, e in enumerate(cols):
            out[:, j, :] = self.dists[e].sample(rng, (T, R))
        return out


@dataclass(slots=True)
class Compiled:
    """Flat arrays of a network model, built once and shared by every block."""

    model: NetworkModel
    P: int
    E: int
    D: int
    L: int
    edge_src: np.ndarray
    edge_dst: np.ndarray
    edge_from_supply: np.ndarray  # bool (E,)
    edge_cost: np.ndarray
    edge_co2e: np.ndarray
    warm_days: np.ndarray  # (E,) days of demand in transit at the start (primary edges)
    edge_lead: LeadTable
    supply_lead: LeadTable  # per edge: the source supplier's lead time, else constant 0
    dem_point: np.ndarray
    dem_mean: np.ndarray
    dem_sd: np.ndarray
    dem_price: np.ndarray
    dem_cost: np.ndarray
    dem_co2e: np.ndarray
    dem_node: np.ndarray  # demand row → index into nodes
    nodes: list[str]
    node_mean: np.ndarray
    # production rows in order of BOM depth: rows level_ptr[k] … level_ptr[k+1]−1 are depth k
    row_order: np.ndarray  # kernel row → model production row
    level_ptr: np.ndarray
    level_lines: tuple[np.ndarray, np.ndarray]  # (ptr, lines) used at each depth
    level_bom: tuple[np.ndarray, np.ndarray]  # (ptr, points) consumed at each depth
    prod_point: np.ndarray
    row_lines: tuple[np.ndarray, np.ndarray]  # (ptr, line) per row, each line once
    row_inv_cap: np.ndarray  # 1/capacity, aligned with row_lines
    row_bom: tuple[np.ndarray, np.ndarray]  # (ptr, point) per row
    row_qty: np.ndarray  # quantity per unit, aligned with row_bom
    prod_cost: np.ndarray
    prod_co2e: np.ndarray
    sup_point: np.ndarray
    sup_cap: np.ndarray
    sup_of_point: np.ndarray  # (P,) supply row or -1
    bought: np.ndarray  # bool (P,)
    made_or_bought: np.ndarray  # bool (P,)
    S: np.ndarray
    s: np.ndarray  # reorder point, +inf for base-stock
    initial: np.ndarray
    holding: np.ndarray
    unit_value: np.ndarray
    mean_demand: np.ndarray
    ring: int  # days the start's pipeline may span (warm_days < ring)
    shares: np.ndarray  # (E,) standing shares without mitigations


def compile_arrays(model: NetworkModel) -> Compiled:
    P, E, D, L = len(model.points), len(model.edges), len(model.demand), len(model.lines)
    edge_src = np.array([e.source for e in model.edges], dtype=np.int64)
    edge_dst = np.array([e.target for e in model.edges], dtype=np.int64)
    levels = _levels(model)
    row_order = np.concatenate(levels) if levels else np.zeros(0, dtype=np.int64)
    level_ptr = np.cumsum([0] + [len(level) for level in levels]).astype(np.int64)
    rows = [model.production[m] for m in row_order]
    row_lines = [_unique(line for line, _ in r.lines) for r in rows]
    inv_cap = [{line: (1 / cap if cap > 0 else np.inf) for line, cap in r.lines} for r in rows]
    level_rows = [range(level_ptr[k], level_ptr[k + 1]) for k in range(len(levels))]
    sup_of_point = np.full(P, -1, dtype=np.int64)
    for u, sup in enumerate(model.supply):
        sup_of_point[sup.point] = u
    kinds = [p.kind for p in model.points]
    nodes = sorted({model.points[d.point].node for d in model.demand})
    node_of = {n: i for i, n in enumerate(nodes)}
    dem_node = np.array([node_of[model.points[d.point].node] for d in model.demand], dtype=np.int64)
    dem_mean = np.array([d.mean for d in model.demand])
    longest = max(
        [_high(e.lead_time) for e in model.edges]
        + [_high(d.lead_time) for d in model.demand]
        + [0.0]
    ) + max([_high(s.lead_time) for s in model.supply] + [0.0])
    ring = int(min(model.horizon, np.ceil(longest * 1.5) + 2)) + 1
    return Compiled(
        model=model,
        P=P,
        E=E,
        D=D,
        L=L,
        edge_src=edge_src,
        edge_dst=edge_dst,
        edge_from_supply=(sup_of_point[edge_src] >= 0) if E else np.zeros(0, dtype=bool),
        edge_cost=np.array([e.cost_per_unit for e in model.edges]),
        edge_co2e=np.array([e.co2e_per_unit for e in model.edges]),
        warm_days=np.array(
            [min(model.warm_days(e), ring - 1) for e in model.edges], dtype=np.int64
        ),
        edge_lead=LeadTable.of([e.lead_time for e in model.edges]),
        supply_lead=LeadTable.of(
            [
                model.supply[sup_of_point[e.source]].lead_time
                if sup_of_point[e.source] >= 0
                else Dist.constant(0.0)
                for e in model.edges
            ]
        ),
        dem_point=np.array([d.point for d in model.demand], dtype=np.int64),
        dem_mean=dem_mean,
        dem_sd=np.array([d.mean * d.cv for d in model.demand]),
        dem_price=np.array([d.price for d in model.demand]),
        dem_cost=np.array([d.cost_per_unit for d in model.demand]),
        dem_co2e=np.array([d.co2e_per_unit for d in model.demand]),
        dem_node=dem_node,
        nodes=nodes,
        node_mean=np.bincount(dem_node, weights=dem_mean, minlength=len(nodes)),
        row_order=row_order.astype(np.int64),
        level_ptr=level_ptr,
        level_lines=_ragged([_unique(x for m in ms for x in row_lines[m]) for ms in level_rows]),
        level_bom=_ragged([_unique(p for m in ms for p, _ in rows[m].bom) for ms in level_rows]),
        prod_point=np.array([r.point for r in rows], dtype=np.int64),
        row_lines=_ragged(row_lines),
        row_inv_cap=np.array(
            [inv_cap[m][line] for m in range(len(rows)) for line in row_lines[m]], dtype=np.float64
        ),
        row_bom=_ragged([[p for p, _ in r.bom] for r in rows]),
        row_qty=np.array([q for r in rows for _, q in r.bom], dtype=np.float64),
        prod_cost=np.array([r.unit_cost for r in rows]),
        prod_co2e=np.array([r.co2e_per_unit for r in rows]),
        sup_point=np.array([s.point for s in model.supply], dtype=np.int64),
        sup_cap=np.array([s.capacity for s in model.supply]),
        sup_of_point=sup_of_point,
        bought=np.array([k is PointKind.BOUGHT for k in kinds]),
        made_or_bought=np.array([k is not PointKind.SUPPLY for k in kinds]),
        S=np.array([p.policy.S if p.policy else 0.0 for p in model.points]),
        # base-stock orders whenever below S: its reorder point is +inf
        s=np.array(
            [p.policy.s if p.policy and p.policy.s is not None else np.inf for p in model.points]
        ),
        initial=np.array([p.initial for p in model.points]),
        holding=np.array([p.holding_per_day for p in model.points]),
        unit_value=np.array([p.unit_value for p in model.points]),
        mean_demand=np.array([p.mean_demand for p in model.points]),
        ring=ring,
        shares=np.array([e.share for e in model.edges]),
    )


def _unique(values: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(values))


def _ragged(lists: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Lists of indices in compressed form: ``(ptr, flat)`` with list i at flat[ptr[i]:ptr[i+1]]."""
    ptr = np.cumsum([0] + [len(x) for x in lists]).astype(np.int64)
    flat = np.array([v for x in lists for v in x], dtype=np.int64)
    return ptr, flat


def _high(d: Dist) -> float:
    p = dict(d.params)
    return p.get("high", p.get("value", 4 * d.mean))


def _levels(model: NetworkModel) -> list[np.ndarray]:
    """Production rows grouped by BOM depth: rows using only bought items first."""
    row_of = {r.point: m for m, r in enumerate(model.production)}
    depth: dict[int, int] = {}

    def visit(m: int, path: frozenset[int]) -> int:
        if m in depth:
            return depth[m]
        deps = [row_of[p] for p, _ in model.production[m].bom if p in row_of]
        if any(d in path for d in deps):
            raise ValueError("bill of materials cycle")  # scenario checks refuse these first
        depth[m] = 1 + max((visit(d, path | {m}) for d in deps), default=-1)
        return depth[m]

    for m in range(len(model.production)):
        visit(m, frozenset())
    top = max(depth.values(), default=-1)
    return [
        np.array([m for m, d in depth.items() if d == k], dtype=np.int64) for k in range(top + 1)
    ]


@dataclass(slots=True)
class BlockResult:
    """Per-replication KPIs and daily trajectories of one block."""

    kpis: dict[str, np.ndarray] = field(default_factory=dict)  # name → (R,)
    daily_fill: np.ndarray | None = None  # (R, T)
    daily_backlog: np.ndarray | None = None  # (R, T, nodes) in days of demand
    daily_inventory_value: np.ndarray | None = None  # (R, T)
    first_start: np.ndarray | None = None  # (R,) first disruption day, -1 if none
    on_hand: np.ndarray | None = None  # (R, P) at the end
    backlog: np.ndarray | None = None  # (R, D) customer backorders at the end
    open_orders: np.ndarray | None = None  # (R, E) at the end


@dataclass(slots=True)
class _FlatPlan:
    occurs: np.ndarray
    start: np.ndarray
    end: np.ndarray
    profile: np.ndarray
    severity: np.ndarray
    t_ptr: np.ndarray
    t_row: np.ndarray  # row of the kernel's factor table each target scales
    lead_factor: np.ndarray  # (E,) the largest factor the plan can put on an edge's lead time
    fb_primary: np.ndarray
    fb_ptr: np.ndarray
    fb_alt: np.ndarray
    overtime: np.ndarray
    premium: np.ndarray


def _flatten(plan: Plan, c: Compiled, R: int) -> _FlatPlan:
    W = len(plan.windows)
    t_ptr: list[int] = [0]
    t_row: list[int] = []
    # Energy targets are model production rows; the kernel holds rows in depth order.
    kernel_row = np.empty(len(c.row_order), dtype=np.int64)
    kernel_row[c.row_order] = np.arange(len(c.row_order))
    # The kernel's factor table: one block of rows per effect, in the order of Effect.
    sizes = [c.L, len(c.sup_point), c.E, c.D, c.E, c.D, len(c.row_order)]
    first_row = dict(zip(Effect, np.cumsum([0, *sizes[:-1]]).tolist(), strict=True))
    lead_factor = np.ones(c.E)
    for w in plan.windows:
        for effect, idx in w.targets.items():
            idx = kernel_row[idx] if effect is Effect.ENERGY_COST else idx
            t_row.extend(first_row[effect] + int(i) for i in idx)
            if effect is Effect.EDGE_LEAD and w.profile is not Profile.CLOSE:
                # no profile's factor exceeds 1 + |severity|; overlapping windows multiply
                lead_factor[idx] *= 1.0 + abs(w.severity)
        t_ptr.append(len(t_row))
    primaries = list(plan.fallback)
    fb_ptr = np.cumsum([0] + [len(plan.fallback[p]) for p in primaries]).astype(np.int64)
    overtime = plan.overtime if plan.overtime is not None else np.zeros(c.L)
    premium = np.zeros(c.L)
    if plan.overtime is not None and plan.overtime_premium is not None:
        premium[:] = plan.overtime_premium * plan.overtime / (1 + plan.overtime)

    def rows(attr: str, dtype: type) -> np.ndarray:
        if not W:
            return np.zeros((0, R), dtype=dtype)
        return np.ascontiguousarray(np.stack([getattr(w, attr) for w in plan.windows]), dtype=dtype)

    return _FlatPlan(
        occurs=rows("occurs", np.bool_),
        start=rows("start", np.int64),
        end=rows("end", np.int64),
        profile=np.array([_PROFILE_CODE[w.profile] for w in plan.windows], dtype=np.int64),
        severity=np.array([w.severity for w in plan.windows], dtype=np.float64),
        t_ptr=np.array(t_ptr, dtype=np.int64),
        t_row=np.array(t_row, dtype=np.int64),
        lead_factor=lead_factor,
        fb_primary=np.array(primaries, dtype=np.int64),
        fb_ptr=fb_ptr,
        fb_alt=np.array([a for p in primaries for a in plan.fallback[p]], dtype=np.int64),
        overtime=np.asarray(overtime, dtype=np.float64),
        premium=premium,
    )


def edge_rings(c: Compiled, lead_factor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each edge's ring of future arrival days: ``(days, first row)`` in the kernel's pipeline.

    A shipment lands at most its edge's longest lead time (times the largest
    factor the plan can put on it) plus its supplier's longest lead time after
    it leaves, rounded half up; the ring holds that many days and the current
    one. Unbounded kinds, and anything longer than the horizon, get a ring of
    the horizon: the kernel holds a shipment due later than that at the
    horizon's end, which no run reaches.
    """
    horizon = c.model.horizon + 1
    longest = c.edge_lead.longest * lead_factor + c.supply_lead.longest + 0.5
    bounded = np.isfinite(longest) & (longest < horizon)
    days = np.full(c.E, horizon, dtype=np.int64)
    days[bounded] = np.floor(longest[bounded]).astype(np.int64) + 2  # one day spare for rounding
    days = np.clip(np.maximum(days, c.warm_days + 1), 2, horizon)
    first = np.concatenate([[0], np.cumsum(days)[:-1]]).astype(np.int64)
    return days, first


def run_block(
    c: Compiled,
    plan: Plan,
    replications: int,
    rng: np.random.Generator,
    *,
    workers: int | None = None,
) -> BlockResult:
    """Simulate ``replications`` runs of ``plan`` (drawn for as many) over the model's horizon.

    The result depends on ``rng`` only: numpy's draws and the seed of the
    kernel's lead-time stream are taken before the replications are shared out
    to ``workers`` threads (default: one per CPU), and the stream is indexed
    by replication and day, so neither the thread count nor the lane width
    (:data:`kernel.LANES` replications side by side) changes a run.
    """
    R, T = replications, c.model.horizon
    S, initial = c.S.copy(), c.initial.copy()
    if plan.extra_cover_days is not None:
        # Safety stock is a standing decision: it is on the shelf when the disruptions come.
        S += plan.extra_cover_days * c.mean_demand
        initial += plan.extra_cover_days * c.mean_demand
    initial = np.where(c.made_or_bought, initial, 0.0)
    shares = plan.shares if plan.shares is not None else c.shares
    # Replications last, so that the kernel's lanes read them side by side.
    noise = (
        rng.standard_normal((T, c.D, R), dtype=np.float32)
        if np.any(c.dem_sd > 0)
        else np.zeros((0, 0, R), dtype=np.float32)
    )
    lead_draws = c.edge_lead.draw(rng, R, T)
    sup_draws = c.supply_lead.draw(rng, R, T)
    lead_seed = np.uint64(rng.integers(2**64, dtype=np.uint64))
    f = _flatten(plan, c, R)
    ring_days, ring_first = edge_rings(c, f.lead_factor)

    kpis = np.zeros((R, len(kernel.KPI_NAMES)))
    daily_fill = np.zeros((R, T))
    daily_backlog = np.zeros((R, T, len(c.nodes)))
    daily_value = np.zeros((R, T))
    on_hand = np.zeros((R, c.P))
    backlog = np.zeros((R, c.D))
    open_orders = np.zeros((R, c.E))

    def run(lo: int, hi: int) -> None:
        kernel.run_replications(
            lo, hi, kernel.LANES, T, c.model.unmet == "lost-sales",
            S, c.s, initial, c.bought, c.holding, c.unit_value, c.mean_demand,
            c.edge_src, c.edge_dst, c.edge_from_supply, c.edge_cost, c.edge_co2e, c.warm_days,
            ring_days, ring_first,
            np.asarray(shares, dtype=np.float64),
            c.edge_lead.code, c.edge_lead.params, c.edge_lead.column,
            c.supply_lead.code, c.supply_lead.params, c.supply_lead.column,
            lead_draws, sup_draws, lead_seed,
            c.dem_point, c.dem_mean, c.dem_sd, c.dem_price, c.dem_cost, c.dem_co2e,
            c.dem_node, c.node_mean, noise,
            c.level_ptr, *c.level_lines, *c.level_bom,
            c.prod_point, *c.row_lines, c.row_inv_cap, *c.row_bom, c.row_qty,
            c.prod_cost, c.prod_co2e,
            c.sup_point, c.sup_cap, c.sup_of_point,
            f.occurs, f.start, f.end, f.profile, f.severity, f.t_ptr, f.t_row,
            f.fb_primary, f.fb_ptr, f.fb_alt, f.overtime, f.premium,
            kpis, daily_fill, daily_backlog, daily_value, on_hand, backlog, open_orders,
        )  # fmt: skip

    workers = max(1, min(workers or os.cpu_count() or 1, R))
    if workers == 1:
        run(0, R)
    else:
        bounds = np.linspace(0, R, workers + 1).astype(int)
        with ThreadPoolExecutor(workers) as pool:
            for future in [pool.submit(run, a, b) for a, b in itertools.pairwise(bounds)]:
                future.result()

    k = {name: kpis[:, i].copy() for i, name in enumerate(kernel.KPI_NAMES)}
    k["fill_rate"] = np.divide(
        k["served_on_time"], k["demand"], out=np.ones(R), where=k["demand"] > 0
    )
    k["backorders_end"] = backlog.sum(axis=1)
    k["cost_total"] = (
        k["cost_production"] + k["cost_transport"] + k["cost_holding"] + k["cost_material"]
    )
    k["co2e_total"] = k["co2e_transport"] + k["co2e_production"]
    first = np.full(R, -1, dtype=np.int64)
    for w in plan.windows:
        if w.kind == SALE:
            continue  # sold capacity is planned, not a disruption to recover from
        starts = np.where(w.occurs, w.start, -1)
        first = np.where((first < 0) | ((starts >= 0) & (starts < first)), starts, first)
    return BlockResult(
        k, daily_fill, daily_backlog, daily_value, first, on_hand, backlog, open_orders
    )
