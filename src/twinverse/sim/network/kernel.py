"""The day loop of the supply-network simulator, compiled with numba.

One call runs replications ``lo … hi − 1`` of a block from start to end, so
threads can share a block (the kernel releases the GIL). Demand noise is
drawn beforehand by :mod:`twinverse.sim.network.engine` with numpy; lead-time
uniforms are made here from a counter-based stream (SplitMix64 at a position
given by replication, day and edge, see :func:`_uniform`), so a run depends
on the seed and never on how the block is split across threads or lanes.

Replications run side by side in *lanes*: the state is laid out
``[item, lane]`` (stock of point ``p`` in lane ``b`` is ``on_hand[p, b]``), and
every step of the day is a loop over the items with an inner loop over the
lanes, contiguous in memory, which the compiler turns into vector
instructions. A lane does exactly the arithmetic one replication would do on
its own, in the same order (no fast-math), so a replication's result does not
depend on its lane, the lane width or the thread count. Where a step applies
only to some lanes (an edge closed in one replication, open in another), the
lanes compute both and select, rather than branch.

In-transit stock is a ring of future days per edge, as long as that edge's
longest possible lead time (drawn lead, port congestion and the supplier's
lead together; the engine works it out per block), so the pipeline of a lane
is small enough to stay in cache.

The steps of a day, their order and their rules are the contract of
``docs/simulation-network.md``; the SimPy reference model
(``benchmarks/reference/network_simpy.py``) implements the same contract one
replication at a time, and the tests hold the two together.

Per-row lists (the lines a production row runs on, the points it consumes)
are in compressed form: row ``m``'s entries are ``ptr[m] … ptr[m + 1] − 1``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# Profile codes.
CUT, RAISE, CLOSE, LEARNING = range(4)
# Lead-time draw codes: the draw is the value itself, or a uniform turned into one.
DRAWN, CONSTANT, UNIFORM, TRIANGULAR, EXPONENTIAL, WEIBULL = range(6)
# Replications run side by side, this many at a time per thread (measured best of 16, 32, 64, 128).
LANES = 64
# KPI columns.
KPI_NAMES = (
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
(
    K_DEMAND,
    K_ON_TIME,
    K_SHIPPED,
    K_LOST,
    K_REVENUE,
    K_PRODUCTION,
    K_TRANSPORT,
    K_HOLDING,
    K_MATERIAL,
    K_CO2E_TRANSPORT,
    K_CO2E_PRODUCTION,
) = range(len(KPI_NAMES))


@njit(cache=True, nogil=True, inline="always")
def _lead(code: int, p: np.ndarray, draw: float) -> float:
    """One lead time in days from one draw (a uniform, or the value for ``DRAWN``)."""
    if code == DRAWN:
        return draw
    if code == CONSTANT:
        return p[0]
    if code == UNIFORM:
        return p[0] + draw * (p[1] - p[0])
    if code == TRIANGULAR:
        low, mode, high = p[0], p[1], p[2]
        if high <= low:
            return low
        if draw < (mode - low) / (high - low):
            return low + math.sqrt(draw * (high - low) * (mode - low))
        return high - math.sqrt((1.0 - draw) * (high - low) * (high - mode))
    if code == EXPONENTIAL:
        return -p[0] * math.log(1.0 - draw)
    # WEIBULL
    return p[0] * (-math.log(1.0 - draw)) ** (1.0 / p[1])


@njit(cache=True, nogil=True, inline="always")
def _uniform(seed: np.uint64, counter: np.uint64) -> float:
    """The ``counter``-th uniform of a stream: SplitMix64's output for that position.

    ``(z >> 40) · 2⁻²⁴`` lies on the same grid as numpy's float32 uniforms, in [0, 1).
    """
    z = seed + counter * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return np.float64(z >> np.uint64(40)) * 5.9604644775390625e-08


@njit(cache=True, nogil=True, inline="always")
def _lead_lanes(
    code: int,
    p: np.ndarray,
    draws: np.ndarray,
    col: int,
    seed: np.uint64,
    counters: np.ndarray,
    out: np.ndarray,
) -> None:
    """Today's lead time of one edge in every lane: ``_lead`` with the kind decided once.

    Kinds numpy draws come from column ``col`` of ``draws`` (``(T, columns, lanes)``
    today's rows for this group of lanes); the others turn the lane's uniform,
    ``_uniform(seed, counters[b])``, into days. In the triangular case, the
    common one, the lanes pick the branch's argument and take one square root,
    so they run as vector instructions.
    """
    B = out.size
    if code == CONSTANT:
        for b in range(B):
            out[b] = p[0]
    elif code == DRAWN:
        for b in range(B):
            out[b] = np.float64(draws[col, b])
    elif code == TRIANGULAR and p[2] > p[0]:
        low, mode, high = p[0], p[1], p[2]
        width, rise, fall = high - low, mode - low, high - mode
        cut = rise / width
        for b in range(B):
            u = _uniform(seed, counters[b])
            below = u < cut
            root = math.sqrt(u * width * rise if below else (1.0 - u) * width * fall)
            out[b] = low + root if below else high - root
    else:
        for b in range(B):
            out[b] = _lead(code, p, _uniform(seed, counters[b]))


@njit(cache=True, nogil=True, error_model="numpy")
def run_replications(
    lo: int,
    hi: int,
    B: int,  # lanes: replications run side by side
    T: int,
    lost_sales: bool,
    # points
    S: np.ndarray,
    s: np.ndarray,
    initial: np.ndarray,
    bought: np.ndarray,
    holding: np.ndarray,
    unit_value: np.ndarray,
    mean_demand: np.ndarray,
    # edges
    edge_src: np.ndarray,
    edge_dst: np.ndarray,
    edge_from_supply: np.ndarray,
    edge_cost: np.ndarray,
    edge_co2e: np.ndarray,
    warm_days: np.ndarray,
    edge_ring: np.ndarray,  # (E,) days in edge e's ring of future arrivals
    edge_off: np.ndarray,  # (E,) first row of edge e's ring in the pipeline
    shares_base: np.ndarray,
    lead_code: np.ndarray,
    lead_p: np.ndarray,
    lead_col: np.ndarray,  # column of a numpy-drawn kind in lead_draws, else -1
    sup_lead_code: np.ndarray,
    sup_lead_p: np.ndarray,
    sup_lead_col: np.ndarray,
    lead_draws: np.ndarray,  # (T, columns, R) float32, numpy-drawn kinds only
    sup_lead_draws: np.ndarray,  # (T, columns, R) float32, numpy-drawn kinds only
    seed: np.uint64,  # of the lead-time uniforms made here: one per (replication, day, stream)
    # demand
    dem_point: np.ndarray,
    dem_mean: np.ndarray,
    dem_sd: np.ndarray,
    dem_price: np.ndarray,
    dem_cost: np.ndarray,
    dem_co2e: np.ndarray,
    dem_node: np.ndarray,
    node_mean: np.ndarray,
    noise: np.ndarray,  # (T, D, R) float32 standard normals, or (0, 0, R) without noise
    # production, rows in order of BOM depth
    level_ptr: np.ndarray,  # rows level_ptr[k] … level_ptr[k + 1] − 1 have BOM depth k
    level_line_ptr: np.ndarray,  # the lines each depth uses: level_line[level_line_ptr[k] …]
    level_line: np.ndarray,
    level_bom_ptr: np.ndarray,  # the points each depth consumes
    level_bom: np.ndarray,
    prod_point: np.ndarray,
    line_ptr: np.ndarray,  # row m runs on lines row_line[line_ptr[m] … line_ptr[m + 1] − 1]
    row_line: np.ndarray,
    row_inv_cap: np.ndarray,
    bom_ptr: np.ndarray,  # row m consumes row_bom[bom_ptr[m] …] at row_qty[…] per unit
    row_bom: np.ndarray,
    row_qty: np.ndarray,
    prod_cost: np.ndarray,
    prod_co2e: np.ndarray,
    # supply
    sup_point: np.ndarray,
    sup_cap: np.ndarray,
    sup_of_point: np.ndarray,
    # the plan
    w_occurs: np.ndarray,  # (W, R) bool
    w_start: np.ndarray,  # (W, R)
    w_end: np.ndarray,  # (W, R)
    w_profile: np.ndarray,
    w_severity: np.ndarray,
    t_ptr: np.ndarray,  # (W + 1,) into t_row
    t_row: np.ndarray,  # row of the factor table each window target scales
    fb_primary: np.ndarray,
    fb_ptr: np.ndarray,
    fb_alt: np.ndarray,
    overtime: np.ndarray,  # (L,) zeros when no overtime
    premium: np.ndarray,  # (L,) cost premium share per line while on overtime
    # outputs
    kpis: np.ndarray,  # (R, len(KPI_NAMES))
    daily_fill: np.ndarray,  # (R, T)
    daily_backlog: np.ndarray,  # (R, T, nodes)
    daily_value: np.ndarray,  # (R, T)
    end_on_hand: np.ndarray,  # (R, P)
    end_backlog: np.ndarray,  # (R, D)
    end_open: np.ndarray,  # (R, E)
) -> None:
    P = S.size
    E = edge_src.size
    D = dem_point.size
    M = prod_point.size
    L = overtime.size
    U = sup_point.size
    W = w_profile.size
    N = node_mean.size
    B = max(1, min(B, hi - lo))
    has_noise = noise.shape[0] > 0
    has_overtime = False
    for line in range(L):
        if overtime[line] != 0.0:
            has_overtime = True
    pipe_rows = 0
    for e in range(E):
        pipe_rows = max(pipe_rows, edge_off[e] + edge_ring[e])

    # ---- state, one column per lane
    on_hand = np.empty((P, B))
    in_transit = np.empty((P, B))
    pipeline = np.empty((pipe_rows, B))
    open_orders = np.empty((E, B))
    backlog = np.empty((D, B))
    k = np.empty((kpis.shape[1], B))
    # today's factors: lines, supply points, edges closed, demand blocked, edge lead
    # times, demand, energy cost (production rows), in that order; rows 1 unless disrupted
    fac = np.ones((L + U + E + D + E + D + M, B))
    f_line = fac[:L]
    f_sup = fac[L : L + U]
    f_edge = fac[L + U : L + U + E]
    f_block = fac[L + U + E : L + U + E + D]
    f_lead = fac[L + U + E + D : L + U + 2 * E + D]
    f_dem = fac[L + U + 2 * E + D : L + U + 2 * E + 2 * D]
    f_energy = fac[L + U + 2 * E + 2 * D :]
    cap_f = np.ones((L, B)) if has_overtime else f_line
    # ---- scratch
    crisis = np.zeros(B, dtype=np.bool_)
    shares = np.empty((E, B))
    owed = np.empty((P, B))
    left = np.empty((L, B))
    load = np.empty((L, B))
    scale = np.empty((L, B))
    wanted = np.empty((M, B))
    planned = np.empty((M, B))
    need = np.zeros((P, B))
    ratio = np.ones((P, B))
    ship = np.empty((E, B))
    owed_sup = np.empty((U, B))
    demand = np.empty((D, B))
    served_old = np.empty((D, B))
    node_backlog = np.empty((N, B))
    least = np.empty(B)
    made = np.empty(B)
    extra = np.empty(B)
    days = np.empty(B)
    sup_days = np.empty(B)
    rows = np.empty(B, dtype=np.uint64)
    today = np.empty(B, dtype=np.uint64)
    counters = np.empty(B, dtype=np.uint64)  # (replication · T + day) · 2E
    streams = np.uint64(2 * E)  # edge e's lead time is stream e, its supplier's E + e
    drawn = np.empty((lead_draws.shape[1], B), dtype=np.float32)
    sup_drawn = np.empty((sup_lead_draws.shape[1], B), dtype=np.float32)
    total_demand = np.empty(B)
    total_on_time = np.empty(B)
    value = np.empty(B)

    for r0 in range(lo, hi, B):
        # The last group ends at hi: it may run some replications again, to the same result.
        r0 = min(r0, hi - B)
        # unsigned, so that reads of the lanes' draws compile to plain vector loads
        lane0 = np.uint64(r0)
        # ---- start: initial stock, a full pipeline on primary edges, nothing owed
        for p in range(P):
            for b in range(B):
                on_hand[p, b] = initial[p]
        in_transit[:, :] = 0.0
        pipeline[:, :] = 0.0
        open_orders[:, :] = 0.0
        backlog[:, :] = 0.0
        k[:, :] = 0.0
        for e in range(E):
            amount = mean_demand[edge_dst[e]]
            for day in range(1, warm_days[e] + 1):
                for b in range(B):
                    pipeline[edge_off[e] + day, b] = amount
            for b in range(B):
                in_transit[edge_dst[e], b] += warm_days[e] * amount

        for t in range(T):
            # ---- today's disruption factors
            if W > 0:
                for j in range(t_row.size):
                    for b in range(B):
                        fac[t_row[j], b] = 1.0
                for b in range(B):
                    crisis[b] = False
                for w in range(W):
                    profile = w_profile[w]
                    for b in range(B):
                        r = r0 + b
                        if not (w_occurs[w, r] and w_start[w, r] <= t < w_end[w, r]):
                            continue
                        crisis[b] = True
                        if profile == CUT:
                            f = max(0.0, 1.0 - w_severity[w])
                        elif profile == RAISE:
                            f = 1.0 + w_severity[w]
                        elif profile == CLOSE:
                            f = 0.0
                        else:
                            length = max(w_end[w, r] - w_start[w, r], 1)
                            f = 1.0 - min(w_severity[w], 1.0) * math.exp(
                                -3.0 * (t - w_start[w, r]) / length
                            )
                        for j in range(t_ptr[w], t_ptr[w + 1]):
                            fac[t_row[j], b] = fac[t_row[j], b] * f
            # today's capacity share of each line, with overtime while anything is disrupted
            if has_overtime:
                for line in range(L):
                    grow = 1.0 + overtime[line]
                    for b in range(B):
                        c = f_line[line, b]
                        cap_f[line, b] = c * grow if crisis[b] else c

            # ---- 1. arrivals
            for e in range(E):
                row = edge_off[e] + t % edge_ring[e]
                dst = edge_dst[e]
                for b in range(B):
                    a = pipeline[row, b]
                    on_hand[dst, b] += a
                    in_transit[dst, b] -= a
                    pipeline[row, b] = 0.0
            # orders move from closed primaries to their alternates
            for e in range(E):
                for b in range(B):
                    shares[e, b] = shares_base[e]
            for j in range(fb_primary.size):
                e = fb_primary[j]
                n_alt = fb_ptr[j + 1] - fb_ptr[j]
                for b in range(B):
                    if f_edge[e, b] <= 0.0:
                        moved = shares[e, b]
                        shares[e, b] -= moved
                        for a_i in range(fb_ptr[j], fb_ptr[j + 1]):
                            shares[fb_alt[a_i], b] += moved / n_alt
            # what each point owes: customers' backorders and every edge's orders, closed or not
            owed[:, :] = 0.0
            for d in range(D):
                pt = dem_point[d]
                for b in range(B):
                    owed[pt, b] += backlog[d, b]
            for e in range(E):
                src = edge_src[e]
                for b in range(B):
                    owed[src, b] += open_orders[e, b]

            # ---- 2. production, by BOM depth
            left[:, :] = 1.0
            for level in range(level_ptr.size - 1):
                first, last = level_ptr[level], level_ptr[level + 1]
                lines_lo, lines_hi = level_line_ptr[level], level_line_ptr[level + 1]
                for j in range(lines_lo, lines_hi):
                    for b in range(B):
                        load[level_line[j], b] = 0.0
                for m in range(first, last):
                    pt = prod_point[m]
                    for b in range(B):
                        wanted[m, b] = max(S[pt] + owed[pt, b] - on_hand[pt, b], 0.0)
                    for j in range(line_ptr[m], line_ptr[m + 1]):
                        line, inv_cap = row_line[j], row_inv_cap[j]
                        for b in range(B):
                            x = wanted[m, b]
                            load[line, b] += x * inv_cap if x > 0.0 else 0.0
                for j in range(lines_lo, lines_hi):
                    line = level_line[j]
                    for b in range(B):
                        x = load[line, b] / max(cap_f[line, b], 1e-12)
                        load[line, b] = x
                        scale[line, b] = left[line, b] / x if x > left[line, b] else 1.0
                for j in range(level_bom_ptr[level], level_bom_ptr[level + 1]):
                    for b in range(B):
                        need[level_bom[j], b] = 0.0
                for m in range(first, last):
                    least[:] = 1.0
                    for j in range(line_ptr[m], line_ptr[m + 1]):
                        line = row_line[j]
                        for b in range(B):
                            least[b] = min(least[b], scale[line, b])
                    for b in range(B):
                        planned[m, b] = wanted[m, b] * least[b]
                    for j in range(bom_ptr[m], bom_ptr[m + 1]):
                        p, qty = row_bom[j], row_qty[j]
                        for b in range(B):
                            need[p, b] += planned[m, b] * qty
                for j in range(level_bom_ptr[level], level_bom_ptr[level + 1]):
                    p = level_bom[j]
                    for b in range(B):
                        h, x = on_hand[p, b], need[p, b]
                        ratio[p, b] = h / x if x > h else 1.0
                for m in range(first, last):
                    least[:] = 1.0
                    for j in range(bom_ptr[m], bom_ptr[m + 1]):
                        p = row_bom[j]
                        for b in range(B):
                            least[b] = min(least[b], ratio[p, b])
                    for b in range(B):
                        made[b] = planned[m, b] * least[b]
                    for j in range(bom_ptr[m], bom_ptr[m + 1]):
                        p, qty = row_bom[j], row_qty[j]
                        for b in range(B):
                            on_hand[p, b] = max(on_hand[p, b] - made[b] * qty, 0.0)
                    pt = prod_point[m]
                    for b in range(B):
                        on_hand[pt, b] += made[b]
                    # what was planned uses the line, even if materials then cut it
                    extra[:] = 0.0
                    for j in range(line_ptr[m], line_ptr[m + 1]):
                        line, inv_cap = row_line[j], row_inv_cap[j]
                        for b in range(B):
                            x = planned[m, b]
                            rest = left[line, b]
                            used = x * inv_cap / max(cap_f[line, b], 1e-12)
                            left[line, b] = rest - used if x > 0.0 else rest
                        charge = premium[line]
                        if charge > 0.0:
                            for b in range(B):
                                extra[b] = max(extra[b], charge) if crisis[b] else extra[b]
                    cost, co2e = prod_cost[m], prod_co2e[m]
                    for b in range(B):
                        x = made[b]
                        k[K_PRODUCTION, b] += x * cost * f_energy[m, b] * (1.0 + extra[b])
                        k[K_CO2E_PRODUCTION, b] += x * co2e
                for j in range(lines_lo, lines_hi):
                    line = level_line[j]
                    for b in range(B):
                        left[line, b] = max(left[line, b], 0.0)

            # ---- 3. suppliers ship their open orders within capacity
            ship[:, :] = 0.0
            if U > 0:
                owed_sup[:, :] = 0.0
                for e in range(E):
                    if edge_from_supply[e]:
                        u = sup_of_point[edge_src[e]]
                        for b in range(B):
                            x = open_orders[e, b]
                            owed_sup[u, b] += x if f_edge[e, b] > 0.0 else 0.0
                for e in range(E):
                    if edge_from_supply[e]:
                        u = sup_of_point[edge_src[e]]
                        cap_u, worth = sup_cap[u], unit_value[edge_src[e]]
                        for b in range(B):
                            cap = cap_u * f_sup[u, b]
                            x = owed_sup[u, b]
                            share = cap / x if x > cap else 1.0
                            amount = open_orders[e, b] * share if f_edge[e, b] > 0.0 else 0.0
                            ship[e, b] = amount
                            k[K_MATERIAL, b] += amount * worth

            # ---- 4. demand
            for d in range(D):
                mean, sd = dem_mean[d], dem_sd[d]
                for b in range(B):
                    z = np.float64(noise[t, d, lane0 + np.uint64(b)]) if has_noise else 0.0
                    demand[d, b] = max(mean + sd * z, 0.0) * f_dem[d, b]

            # ---- 5. fulfilment: what is owed from earlier days first, then today's demand
            owed[:, :] = 0.0
            for d in range(D):
                pt = dem_point[d]
                for b in range(B):
                    x = backlog[d, b]
                    owed[pt, b] += x if f_block[d, b] > 0.0 else 0.0
            for e in range(E):
                if not edge_from_supply[e]:
                    src = edge_src[e]
                    for b in range(B):
                        x = open_orders[e, b]
                        owed[src, b] += x if f_edge[e, b] > 0.0 else 0.0
            for p in range(P):
                for b in range(B):
                    h, x = on_hand[p, b], owed[p, b]
                    ratio[p, b] = h / x if x > h else 1.0
            for d in range(D):
                pt = dem_point[d]
                for b in range(B):
                    x = backlog[d, b] * ratio[pt, b] if f_block[d, b] > 0.0 else 0.0
                    served_old[d, b] = x
                    on_hand[pt, b] -= x
            for e in range(E):
                if not edge_from_supply[e]:
                    src = edge_src[e]
                    for b in range(B):
                        x = open_orders[e, b] * ratio[src, b] if f_edge[e, b] > 0.0 else 0.0
                        ship[e, b] = x
                        on_hand[src, b] -= x
            owed[:, :] = 0.0
            for p in range(P):
                for b in range(B):
                    on_hand[p, b] = max(on_hand[p, b], 0.0)
            for d in range(D):
                pt = dem_point[d]
                for b in range(B):
                    x = demand[d, b]
                    owed[pt, b] += x if f_block[d, b] > 0.0 else 0.0
            for p in range(P):
                for b in range(B):
                    h, x = on_hand[p, b], owed[p, b]
                    ratio[p, b] = h / x if x > h else 1.0
            total_demand[:] = 0.0
            total_on_time[:] = 0.0
            for d in range(D):
                pt = dem_point[d]
                price, cost, co2e = dem_price[d], dem_cost[d], dem_co2e[d]
                for b in range(B):
                    x = demand[d, b]
                    on_time = x * ratio[pt, b] if f_block[d, b] > 0.0 else 0.0
                    on_hand[pt, b] = max(on_hand[pt, b] - on_time, 0.0)
                    served = served_old[d, b] + on_time
                    if lost_sales:
                        k[K_LOST, b] += x - on_time
                    else:
                        backlog[d, b] = max(backlog[d, b] + x - served, 0.0)
                    total_demand[b] += x
                    total_on_time[b] += on_time
                    k[K_SHIPPED, b] += served
                    k[K_REVENUE, b] += served * price
                    k[K_TRANSPORT, b] += served * cost
                    k[K_CO2E_TRANSPORT, b] += served * co2e
            for b in range(B):
                x = total_demand[b]
                k[K_DEMAND, b] += x
                k[K_ON_TIME, b] += total_on_time[b]
                daily_fill[r0 + b, t] = total_on_time[b] / x if x > 0.0 else 1.0

            # ---- shipments leave: each lands after its lead time, rounded half up, at least a day
            for b in range(B):
                today[b] = ((lane0 + np.uint64(b)) * np.uint64(T) + np.uint64(t)) * streams
            for j in range(drawn.shape[0]):
                for b in range(B):
                    drawn[j, b] = lead_draws[t, j, lane0 + np.uint64(b)]
            for j in range(sup_drawn.shape[0]):
                for b in range(B):
                    sup_drawn[j, b] = sup_lead_draws[t, j, lane0 + np.uint64(b)]
            for e in range(E):
                any_shipped = False
                for b in range(B):
                    if ship[e, b] != 0.0:
                        any_shipped = True
                        break
                if not any_shipped:
                    continue
                # few arrays per loop, so that each compiles to vector instructions
                dst = edge_dst[e]
                for b in range(B):
                    open_orders[e, b] -= ship[e, b]
                for b in range(B):
                    in_transit[dst, b] += ship[e, b]
                cost, co2e = edge_cost[e], edge_co2e[e]
                for b in range(B):
                    k[K_TRANSPORT, b] += ship[e, b] * cost
                for b in range(B):
                    k[K_CO2E_TRANSPORT, b] += ship[e, b] * co2e
                for b in range(B):
                    counters[b] = today[b] + np.uint64(e)
                _lead_lanes(lead_code[e], lead_p[e], drawn, lead_col[e], seed, counters, days)
                for b in range(B):
                    counters[b] = today[b] + np.uint64(E + e)
                _lead_lanes(
                    sup_lead_code[e],
                    sup_lead_p[e],
                    sup_drawn,
                    sup_lead_col[e],
                    seed,
                    counters,
                    sup_days,
                )
                base, size = edge_off[e], edge_ring[e]
                now = t % size
                for b in range(B):
                    whole = min(
                        max(math.floor(days[b] * f_lead[e, b] + sup_days[b] + 0.5), 1.0),
                        size - 1.0,
                    )
                    slot = now + int(whole)
                    rows[b] = np.uint64(base + (slot - size if slot >= size else slot))
                for b in range(B):
                    pipeline[rows[b], b] += ship[e, b]

            # ---- 6. ordering at bought points
            for p in range(P):
                for b in range(B):
                    owed[p, b] = on_hand[p, b] + in_transit[p, b]  # the position, built up below
            for d in range(D):
                pt = dem_point[d]
                for b in range(B):
                    owed[pt, b] -= backlog[d, b]
            for e in range(E):
                src, dst = edge_src[e], edge_dst[e]
                for b in range(B):
                    x = open_orders[e, b]
                    owed[dst, b] += x
                    owed[src, b] -= x
            for e in range(E):
                p = edge_dst[e]
                if bought[p]:
                    top, reorder = S[p], s[p]
                    for b in range(B):
                        x = owed[p, b]
                        more = max(top - x, 0.0) * shares[e, b]
                        open_orders[e, b] += more if x <= reorder else 0.0

            # ---- end of day
            value[:] = 0.0
            for p in range(P):
                cost, worth = holding[p], unit_value[p]
                for b in range(B):
                    x = on_hand[p, b]
                    k[K_HOLDING, b] += x * cost
                    value[b] += x * worth
            node_backlog[:, :] = 0.0
            for d in range(D):
                node = dem_node[d]
                for b in range(B):
                    node_backlog[node, b] += backlog[d, b]
            for b in range(B):
                daily_value[r0 + b, t] = value[b]
                for i in range(N):
                    daily_backlog[r0 + b, t, i] = node_backlog[i, b] / max(node_mean[i], 1e-12)

        for b in range(B):
            r = r0 + b
            kpis[r, :] = k[:, b]
            end_on_hand[r, :] = on_hand[:, b]
            end_backlog[r, :] = backlog[:, b]
            end_open[r, :] = open_orders[:, b]
