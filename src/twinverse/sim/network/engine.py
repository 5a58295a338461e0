"""The supply-network simulator: one day at a time, all replications at once.

Every state variable is a numpy array with one row per replication, so a day
of a thousand replications costs about what one day of one replication costs
in plain Python. The order of the steps within a day, and what each means, is
the contract of ``docs/simulation-network.md``; the SimPy reference model in
``benchmarks/reference/network_simpy.py`` implements the same contract one
replication at a time, and the tests compare the two.

:func:`run_block` runs one block of replications of one plan and returns
plain arrays (:class:`BlockResult`), so blocks can run in other processes (or
on Ray) and be concatenated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from twinverse.sim.disruptions import Effect, Plan
from twinverse.sim.dist import Dist, DistBatch
from twinverse.sim.network.model import NetworkModel, PointKind

# Failing a customer: the node's customer backlog exceeds this many days of its mean demand.
FAIL_DAYS = 0.5


@dataclass(slots=True)
class Compiled:
    """Index arrays of a network model, built once and shared by every block."""

    model: NetworkModel
    P: int
    E: int
    D: int
    L: int
    edge_src: np.ndarray
    edge_dst: np.ndarray
    edge_to_point: sparse.csr_array  # (E, P) incidence of targets
    edge_from_point: sparse.csr_array  # (E, P) incidence of sources
    dem_point: np.ndarray
    dem_to_point: sparse.csr_array  # (D, P)
    dem_mean: np.ndarray
    dem_sd: np.ndarray
    dem_price: np.ndarray
    dem_cost: np.ndarray
    dem_co2e: np.ndarray
    levels: list[np.ndarray]  # production row indices by BOM depth
    prod_point: np.ndarray
    prod_lines: np.ndarray  # (M, K) line index, L = none
    prod_inv_cap: np.ndarray  # (M, L+1) 1/capacity per line (0 where unused)
    prod_bom: np.ndarray  # (M, B) point index, P = none
    bom_matrix: np.ndarray  # (M, P) quantity per unit
    prod_cost: np.ndarray
    prod_co2e: np.ndarray
    prod_site_lines: np.ndarray  # production row → lines (for overtime premium), via prod_lines
    sup_point: np.ndarray
    sup_cap: np.ndarray
    sup_lead: list[Dist]
    sup_of_point: np.ndarray  # (P,) supply row or -1
    bought: np.ndarray  # bool (P,)
    made_or_bought: np.ndarray  # bool (P,)
    S: np.ndarray
    s: np.ndarray  # reorder point, +inf for base-stock
    initial: np.ndarray
    holding: np.ndarray
    mean_demand: np.ndarray
    nodes: list[str]
    dem_node: np.ndarray  # demand row → index into nodes
    dem_to_node: sparse.csr_array  # (D, nodes)
    node_mean: np.ndarray
    ring: int
    edge_cost: np.ndarray
    edge_co2e: np.ndarray
    edge_from_supply: np.ndarray  # bool (E,)
    edge_lead: DistBatch
    supply_lead: DistBatch  # one column per edge: the source supplier's lead time, else 0
    warm_days: np.ndarray  # (E,) days of demand in transit at the start (primary edges)


def compile_arrays(model: NetworkModel) -> Compiled:
    P, E, D, L = len(model.points), len(model.edges), len(model.demand), len(model.lines)
    edge_src = np.array([e.source for e in model.edges], dtype=np.intp)
    edge_dst = np.array([e.target for e in model.edges], dtype=np.intp)
    e_to = _incidence(edge_dst, P)
    e_from = _incidence(edge_src, P)
    dem_point = np.array([d.point for d in model.demand], dtype=np.intp)
    d_to = _incidence(dem_point, P)
    M = len(model.production)
    K = max((len(r.lines) for r in model.production), default=1) or 1
    B = max((len(r.bom) for r in model.production), default=1) or 1
    prod_lines = np.full((M, K), L, dtype=np.intp)
    inv_cap = np.zeros((M, L + 1))
    prod_bom = np.full((M, B), P, dtype=np.intp)
    bom_matrix = np.zeros((M, P))
    for m, row in enumerate(model.production):
        for k, (line, cap) in enumerate(row.lines):
            prod_lines[m, k] = line
            inv_cap[m, line] = 1 / cap if cap > 0 else np.inf
        for b, (point, qty) in enumerate(row.bom):
            prod_bom[m, b] = point
            bom_matrix[m, point] += qty
    levels = _levels(model)
    sup_of_point = np.full(P, -1, dtype=np.intp)
    for u, sup in enumerate(model.supply):
        sup_of_point[sup.point] = u
    kinds = [p.kind for p in model.points]
    S = np.array([p.policy.S if p.policy else 0.0 for p in model.points])
    s = np.array(
        # base-stock orders whenever below S: its reorder point is +inf
        [p.policy.s if p.policy and p.policy.s is not None else np.inf for p in model.points]
    )
    nodes = sorted({model.points[d.point].node for d in model.demand})
    node_of = {n: i for i, n in enumerate(nodes)}
    dem_node = np.array([node_of[model.points[d.point].node] for d in model.demand], dtype=np.intp)
    dem_mean = np.array([d.mean for d in model.demand])
    node_mean = np.bincount(dem_node, weights=dem_mean, minlength=len(nodes))
    longest = max(
        [_high(e.lead_time) for e in model.edges]
        + [_high(d.lead_time) for d in model.demand]
        + [0.0]
    ) + max([_high(s.lead_time) for s in model.supply] + [0.0])
    horizon_ring = int(min(model.horizon, np.ceil(longest * 1.5) + 2)) + 1
    return Compiled(
        model=model,
        P=P,
        E=E,
        D=D,
        L=L,
        edge_src=edge_src,
        edge_dst=edge_dst,
        edge_to_point=e_to,
        edge_from_point=e_from,
        dem_point=dem_point,
        dem_to_point=d_to,
        dem_mean=dem_mean,
        dem_sd=np.array([d.mean * d.cv for d in model.demand]),
        dem_price=np.array([d.price for d in model.demand]),
        dem_cost=np.array([d.cost_per_unit for d in model.demand]),
        dem_co2e=np.array([d.co2e_per_unit for d in model.demand]),
        levels=levels,
        prod_point=np.array([r.point for r in model.production], dtype=np.intp),
        prod_lines=prod_lines,
        prod_inv_cap=inv_cap,
        prod_bom=prod_bom,
        bom_matrix=bom_matrix,
        prod_cost=np.array([r.unit_cost for r in model.production]),
        prod_co2e=np.array([r.co2e_per_unit for r in model.production]),
        prod_site_lines=prod_lines,
        sup_point=np.array([s.point for s in model.supply], dtype=np.intp),
        sup_cap=np.array([s.capacity for s in model.supply]),
        sup_lead=[s.lead_time for s in model.supply],
        sup_of_point=sup_of_point,
        bought=np.array([k is PointKind.BOUGHT for k in kinds]),
        made_or_bought=np.array([k is not PointKind.SUPPLY for k in kinds]),
        S=S,
        s=s,
        initial=np.array([p.initial for p in model.points]),
        holding=np.array([p.holding_per_day for p in model.points]),
        mean_demand=np.array([p.mean_demand for p in model.points]),
        nodes=nodes,
        dem_node=dem_node,
        node_mean=node_mean,
        dem_to_node=_incidence(dem_node, len(nodes)),
        ring=horizon_ring,
        edge_cost=np.array([e.cost_per_unit for e in model.edges]),
        edge_co2e=np.array([e.co2e_per_unit for e in model.edges]),
        edge_from_supply=sup_of_point[edge_src] >= 0 if E else np.zeros(0, dtype=bool),
        edge_lead=DistBatch([e.lead_time for e in model.edges]),
        warm_days=np.array(
            [min(model.warm_days(e), horizon_ring - 1) for e in model.edges], dtype=np.intp
        ),
        supply_lead=DistBatch(
            [
                model.supply[sup_of_point[e.source]].lead_time
                if sup_of_point[e.source] >= 0
                else Dist.constant(0.0)
                for e in model.edges
            ]
        ),
    )


def _incidence(index: np.ndarray, columns: int) -> sparse.csr_array:
    """Row ``i`` has a one in column ``index[i]``: ``x @ incidence`` sums x's columns by index."""
    rows = np.arange(index.size)
    return sparse.csr_array((np.ones(index.size), (rows, index)), shape=(index.size, columns))


def _share(on_hand: np.ndarray, owed: np.ndarray) -> np.ndarray:
    """The share of what is owed that on-hand stock covers, 1 where nothing is owed."""
    return np.where(owed > on_hand, on_hand / np.maximum(owed, 1e-300), 1.0)


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
        np.array([m for m, d in depth.items() if d == k], dtype=np.intp) for k in range(top + 1)
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


def _factors(plan: Plan, c: Compiled, day: int, R: int) -> dict[Effect, np.ndarray]:
    out = {
        Effect.LINE_CAPACITY: np.ones((R, c.L + 1)),
        Effect.SUPPLY_CAPACITY: np.ones((R, len(c.sup_point))),
        Effect.EDGE_CLOSED: np.ones((R, c.E)),
        Effect.DEMAND_BLOCKED: np.ones((R, c.D)),
        Effect.EDGE_LEAD: np.ones((R, c.E)),
        Effect.DEMAND: np.ones((R, c.D)),
        Effect.ENERGY_COST: np.ones((R, len(c.prod_point))),
    }
    for w in plan.windows:
        f = w.factor(day)
        for effect, idx in w.targets.items():
            out[effect][:, idx] *= f[:, None]
    return out


def run_block(c: Compiled, plan: Plan, replications: int, rng: np.random.Generator) -> BlockResult:
    """Simulate ``replications`` runs of ``plan`` (drawn for as many) over the model's horizon."""
    R = replications
    T, P, E, D = c.model.horizon, c.P, c.E, c.D
    S, initial = c.S.copy(), c.initial.copy()
    if plan.extra_cover_days is not None:
        # Safety stock is a standing decision: it is on the shelf when the disruptions come.
        S += plan.extra_cover_days * c.mean_demand
        initial += plan.extra_cover_days * c.mean_demand
    on_hand = np.tile(np.where(c.made_or_bought, initial, 0.0), (R, 1))
    pipeline = np.zeros((c.ring, R, E))  # arrivals by day slot, per edge
    # Start in steady state: a primary edge has a day of its target's demand arriving each day.
    for e in np.flatnonzero(c.warm_days):
        pipeline[1 : c.warm_days[e] + 1, :, e] = c.mean_demand[c.edge_dst[e]]
    in_transit = np.tile(c.warm_days * c.mean_demand[c.edge_dst] @ c.edge_to_point, (R, 1))
    open_orders = np.zeros((R, E))  # ordered, not yet shipped by the source
    backlog = np.zeros((R, D))  # customer backorders
    base_share = (
        plan.shares if plan.shares is not None else np.array([e.share for e in c.model.edges])
    )
    rows = np.arange(R)[:, None]

    k = {
        name: np.zeros(R)
        for name in (
            "demand",
            "served_on_time",
            "shipped",
            "lost_sales",
            "revenue",
            "cost_production",
            "cost_transport",
            "cost_holding",
            "cost_material",
            "co2e_transport",
            "co2e_production",
        )
    }
    daily_fill = np.zeros((R, T))
    daily_backlog = np.zeros((R, T, len(c.nodes)))
    daily_value = np.zeros((R, T))
    unit_value = np.array([p.unit_value for p in c.model.points])
    lost = c.model.unmet == "lost-sales"
    overtime = plan.overtime

    for t in range(T):
        f = _factors(plan, c, t, R)
        slot = t % c.ring
        # 1. arrivals
        arriving = pipeline[slot]
        if arriving.any():
            into = arriving @ c.edge_to_point
            on_hand += into
            in_transit -= into
            arriving[:] = 0.0
        edge_open = f[Effect.EDGE_CLOSED] > 0
        shares = np.broadcast_to(base_share, (R, E)).copy()
        for primary, alts in plan.fallback.items():
            closed = ~edge_open[:, primary]
            if closed.any():
                moved = shares[:, primary] * closed
                shares[:, primary] -= moved
                shares[:, alts] += (moved / len(alts))[:, None]
        open_owed = open_orders * edge_open  # a closed edge's orders wait: not shipped today
        # Production makes for everything the point owes, a closed edge's orders included
        # (they are still owed, they only wait); only shipping skips them (steps 3 and 5).
        owed_by_point = backlog @ c.dem_to_point + open_orders @ c.edge_from_point
        # 2. production, by BOM depth
        line_cap = f[Effect.LINE_CAPACITY]
        if overtime is not None:
            crisis = plan.any_active(t, R)
            line_cap[:, :-1] *= 1 + np.outer(crisis, overtime)
        left = np.ones((R, c.L + 1))
        for level in c.levels:
            pts = c.prod_point[level]
            wanted = np.maximum(S[pts] + owed_by_point[:, pts] - on_hand[:, pts], 0.0)
            inv_cap = c.prod_inv_cap[level]  # (m, L+1)
            load = (wanted @ inv_cap) / np.maximum(line_cap, 1e-12)
            scale_line = np.where(load > left, left / np.maximum(load, 1e-300), 1.0)
            scale_line[:, -1] = 1.0
            planned = wanted * scale_line[:, c.prod_lines[level]].min(axis=2)
            need = planned @ c.bom_matrix[level]
            ratio = np.ones((R, P + 1))
            ratio[:, :P] = np.where(need > on_hand, on_hand / np.maximum(need, 1e-300), 1.0)
            made = planned * ratio[:, c.prod_bom[level]].min(axis=2)
            on_hand -= made @ c.bom_matrix[level]
            np.maximum(on_hand, 0.0, out=on_hand)  # rounding only
            on_hand[:, pts] += made
            # What was planned uses the line, even if materials then cut it (the contract's rule).
            used = (planned @ inv_cap) / np.maximum(line_cap, 1e-12)
            left = np.maximum(left - used, 0.0)
            cost_factor = f[Effect.ENERGY_COST][:, level]
            if overtime is not None and plan.overtime_premium is not None:
                lines_here = c.prod_lines[level]
                prem = np.zeros(c.L + 1)
                prem[:-1] = plan.overtime_premium * overtime / (1 + overtime)
                cost_factor = cost_factor * (1 + crisis[:, None] * prem[lines_here].max(axis=1))
            k["cost_production"] += (made * c.prod_cost[level] * cost_factor).sum(axis=1)
            k["co2e_production"] += (made * c.prod_co2e[level]).sum(axis=1)
        # 3. supply ships its order backlog within capacity
        ship = np.zeros((R, E))
        if c.sup_point.size:
            owed_sup = (open_owed @ c.edge_from_point)[:, c.sup_point]
            cap = c.sup_cap * f[Effect.SUPPLY_CAPACITY]
            ratio_sup = np.where(owed_sup > cap, cap / np.maximum(owed_sup, 1e-300), 1.0)
            ratio_pt = np.ones((R, P))
            ratio_pt[:, c.sup_point] = ratio_sup
            from_supply = c.edge_from_supply
            ship[:, from_supply] = (open_owed * ratio_pt[:, c.edge_src])[:, from_supply]
            k["cost_material"] += (ship[:, from_supply] * unit_value[c.edge_src[from_supply]]).sum(
                axis=1
            )
        # 4. demand
        demand = np.maximum(rng.normal(c.dem_mean, c.dem_sd, (R, D)), 0.0) * f[Effect.DEMAND]
        # 5. fulfilment at stocking points: what is owed from earlier days first, then today's demand
        reachable = f[Effect.DEMAND_BLOCKED] > 0
        stock_edges = ~c.edge_from_supply
        old_cust = backlog * reachable
        old_edges = open_owed * stock_edges
        owed_old = old_cust @ c.dem_to_point + old_edges @ c.edge_from_point
        ratio_old = _share(on_hand, owed_old)
        served_old = old_cust * ratio_old[:, c.dem_point]
        ship[:, stock_edges] = (old_edges * ratio_old[:, c.edge_src])[:, stock_edges]
        on_hand -= served_old @ c.dem_to_point + (ship * stock_edges) @ c.edge_from_point
        np.maximum(on_hand, 0.0, out=on_hand)
        new_cust = demand * reachable
        ratio_new = _share(on_hand, new_cust @ c.dem_to_point)
        on_time = new_cust * ratio_new[:, c.dem_point]
        on_hand -= on_time @ c.dem_to_point
        np.maximum(on_hand, 0.0, out=on_hand)
        served = served_old + on_time
        if lost:
            k["lost_sales"] += (demand - on_time).sum(axis=1)
        else:
            backlog = np.maximum(backlog + demand - served, 0.0)
        open_orders -= ship
        total_demand = demand.sum(axis=1)
        k["demand"] += total_demand
        k["served_on_time"] += on_time.sum(axis=1)
        k["shipped"] += served.sum(axis=1)
        k["revenue"] += served @ c.dem_price
        k["cost_transport"] += served @ c.dem_cost + ship @ c.edge_cost
        k["co2e_transport"] += served @ c.dem_co2e + ship @ c.edge_co2e
        daily_fill[:, t] = np.divide(
            on_time.sum(axis=1), total_demand, out=np.ones(R), where=total_demand > 0
        )
        # shipments leave: lead time per edge and replication
        if ship.any():
            lead = c.edge_lead.sample(rng, R) * f[Effect.EDGE_LEAD] + c.supply_lead.sample(rng, R)
            lead = np.clip(np.rint(lead), 1, c.ring - 1).astype(np.intp)
            slots = (t + lead) % c.ring
            cols = np.broadcast_to(np.arange(E), (R, E))
            pipeline[slots, rows, cols] += ship
            in_transit += ship @ c.edge_to_point
        # 6. ordering at bought points
        open_into = open_orders @ c.edge_to_point
        owed_now = backlog @ c.dem_to_point + open_orders @ c.edge_from_point
        position = on_hand + in_transit + open_into - owed_now
        order = np.where(position <= c.s, np.maximum(S - position, 0.0), 0.0)
        order *= c.bought
        open_orders += order[:, c.edge_dst] * shares
        # end of day
        k["cost_holding"] += on_hand @ c.holding
        daily_value[:, t] = on_hand @ unit_value
        daily_backlog[:, t, :] = (backlog @ c.dem_to_node) / np.maximum(c.node_mean, 1e-12)

    k["fill_rate"] = np.divide(
        k["served_on_time"], k["demand"], out=np.ones(R), where=k["demand"] > 0
    )
    k["backorders_end"] = backlog.sum(axis=1)
    k["cost_total"] = (
        k["cost_production"] + k["cost_transport"] + k["cost_holding"] + k["cost_material"]
    )
    k["co2e_total"] = k["co2e_transport"] + k["co2e_production"]
    first = np.full(R, -1)
    for w in plan.windows:
        starts = np.where(w.occurs, w.start, np.iinfo(np.int64).max)
        first = np.where((first < 0) | (starts < first), np.where(w.occurs, w.start, first), first)
    return BlockResult(
        k, daily_fill, daily_backlog, daily_value, first, on_hand, backlog, open_orders
    )
