"""The day loop of the supply-network simulator, compiled with numba.

One call runs replications ``lo … hi − 1`` of a block from start to end, each
with its own state, so threads can share a block (the kernel releases the
GIL). Every random number is drawn beforehand by :mod:`twinverse.sim.network.engine`
with numpy, so a run depends on the seed and never on how the block is split
across threads.

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

# Effect codes of the flattened disruption targets (the order of ``Effect``).
LINE_CAPACITY, SUPPLY_CAPACITY, EDGE_CLOSED, DEMAND_BLOCKED, EDGE_LEAD, DEMAND, ENERGY_COST = range(
    7
)
# Profile codes.
CUT, RAISE, CLOSE, LEARNING = range(4)
# Lead-time draw codes: the draw is the value itself, or a uniform turned into one.
DRAWN, CONSTANT, UNIFORM, TRIANGULAR, EXPONENTIAL, WEIBULL = range(6)
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
def _set(
    effect: int,
    i: int,
    f: float,
    f_line: np.ndarray,
    f_sup: np.ndarray,
    f_edge: np.ndarray,
    f_block: np.ndarray,
    f_lead: np.ndarray,
    f_dem: np.ndarray,
    f_energy: np.ndarray,
    multiply: bool = False,
) -> None:
    """Set (or multiply) today's factor ``i`` of ``effect``."""
    if effect == LINE_CAPACITY:
        f_line[i] = f_line[i] * f if multiply else f
    elif effect == SUPPLY_CAPACITY:
        f_sup[i] = f_sup[i] * f if multiply else f
    elif effect == EDGE_CLOSED:
        f_edge[i] = f_edge[i] * f if multiply else f
    elif effect == DEMAND_BLOCKED:
        f_block[i] = f_block[i] * f if multiply else f
    elif effect == EDGE_LEAD:
        f_lead[i] = f_lead[i] * f if multiply else f
    elif effect == DEMAND:
        f_dem[i] = f_dem[i] * f if multiply else f
    else:
        f_energy[i] = f_energy[i] * f if multiply else f


@njit(cache=True, nogil=True, error_model="numpy")
def run_replications(
    lo: int,
    hi: int,
    T: int,
    ring: int,
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
    shares_base: np.ndarray,
    lead_code: np.ndarray,
    lead_p: np.ndarray,
    lead_col: np.ndarray,
    sup_lead_code: np.ndarray,
    sup_lead_p: np.ndarray,
    sup_lead_col: np.ndarray,
    lead_draws: np.ndarray,  # (R, T, columns) float32
    sup_lead_draws: np.ndarray,  # (R, T, columns) float32
    # demand
    dem_point: np.ndarray,
    dem_mean: np.ndarray,
    dem_sd: np.ndarray,
    dem_price: np.ndarray,
    dem_cost: np.ndarray,
    dem_co2e: np.ndarray,
    dem_node: np.ndarray,
    node_mean: np.ndarray,
    noise: np.ndarray,  # (R, T, D) float32 standard normals, or (R, 0, 0) without noise
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
    t_ptr: np.ndarray,  # (W + 1,) into t_effect / t_index
    t_effect: np.ndarray,
    t_index: np.ndarray,
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
    has_noise = noise.shape[1] > 0
    has_overtime = False
    for line in range(L):
        if overtime[line] != 0.0:
            has_overtime = True

    for r in range(lo, hi):
        # ---- state
        on_hand = np.zeros(P)
        in_transit = np.zeros(P)
        pipeline = np.zeros((ring, E))
        open_orders = np.zeros(E)
        backlog = np.zeros(D)
        for p in range(P):
            on_hand[p] = initial[p]
        for e in range(E):
            amount = mean_demand[edge_dst[e]]
            for day in range(1, warm_days[e] + 1):
                pipeline[day, e] = amount
            in_transit[edge_dst[e]] += warm_days[e] * amount
        # ---- scratch
        f_line = np.ones(L)
        cap_f = np.ones(L)
        f_sup = np.ones(U)
        f_edge = np.ones(E)
        f_block = np.ones(D)
        f_lead = np.ones(E)
        f_dem = np.ones(D)
        f_energy = np.ones(M)
        shares = np.empty(E)
        owed = np.empty(P)
        left = np.empty(L)
        load = np.empty(L)
        scale = np.empty(L)
        wanted = np.empty(M)
        planned = np.empty(M)
        need = np.zeros(P)
        ratio = np.ones(P)
        ship = np.empty(E)
        owed_sup = np.empty(U)
        demand = np.empty(D)
        served_old = np.empty(D)
        on_time = np.empty(D)
        node_backlog = np.empty(N)
        k = np.zeros(kpis.shape[1])

        for t in range(T):
            # ---- today's disruption factors
            crisis = False
            if W > 0:
                for j in range(t_index.size):
                    _set(
                        t_effect[j],
                        t_index[j],
                        1.0,
                        f_line,
                        f_sup,
                        f_edge,
                        f_block,
                        f_lead,
                        f_dem,
                        f_energy,
                    )
                for w in range(W):
                    if not (w_occurs[w, r] and w_start[w, r] <= t < w_end[w, r]):
                        continue
                    crisis = True
                    profile = w_profile[w]
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
                        _set(
                            t_effect[j],
                            t_index[j],
                            f,
                            f_line,
                            f_sup,
                            f_edge,
                            f_block,
                            f_lead,
                            f_dem,
                            f_energy,
                            True,
                        )
            # today's capacity share of each line, with overtime while anything is disrupted
            if has_overtime:
                for line in range(L):
                    cap_f[line] = f_line[line] * (1.0 + overtime[line]) if crisis else f_line[line]
            elif W > 0:
                for j in range(t_index.size):
                    if t_effect[j] == LINE_CAPACITY:
                        cap_f[t_index[j]] = f_line[t_index[j]]
            slot = t % ring

            # ---- 1. arrivals
            for e in range(E):
                a = pipeline[slot, e]
                if a != 0.0:
                    on_hand[edge_dst[e]] += a
                    in_transit[edge_dst[e]] -= a
                    pipeline[slot, e] = 0.0
            # orders move from closed primaries to their alternates
            for e in range(E):
                shares[e] = shares_base[e]
            for j in range(fb_primary.size):
                e = fb_primary[j]
                if f_edge[e] <= 0.0:
                    moved = shares[e]
                    shares[e] -= moved
                    n_alt = fb_ptr[j + 1] - fb_ptr[j]
                    for a_i in range(fb_ptr[j], fb_ptr[j + 1]):
                        shares[fb_alt[a_i]] += moved / n_alt
            # what each point owes: customers' backorders and every edge's orders, closed or not
            owed[:] = 0.0
            for d in range(D):
                owed[dem_point[d]] += backlog[d]
            for e in range(E):
                owed[edge_src[e]] += open_orders[e]

            # ---- 2. production, by BOM depth
            for line in range(L):
                left[line] = 1.0
            for level in range(level_ptr.size - 1):
                first, last = level_ptr[level], level_ptr[level + 1]
                lines_lo, lines_hi = level_line_ptr[level], level_line_ptr[level + 1]
                for j in range(lines_lo, lines_hi):
                    load[level_line[j]] = 0.0
                for m in range(first, last):
                    pt = prod_point[m]
                    wanted[m] = max(S[pt] + owed[pt] - on_hand[pt], 0.0)
                    if wanted[m] > 0.0:
                        for j in range(line_ptr[m], line_ptr[m + 1]):
                            load[row_line[j]] += wanted[m] * row_inv_cap[j]
                for j in range(lines_lo, lines_hi):
                    line = level_line[j]
                    load[line] /= max(cap_f[line], 1e-12)
                    scale[line] = left[line] / load[line] if load[line] > left[line] else 1.0
                for j in range(level_bom_ptr[level], level_bom_ptr[level + 1]):
                    need[level_bom[j]] = 0.0
                for m in range(first, last):
                    least = 1.0
                    for j in range(line_ptr[m], line_ptr[m + 1]):
                        least = min(least, scale[row_line[j]])
                    planned[m] = wanted[m] * least
                    for j in range(bom_ptr[m], bom_ptr[m + 1]):
                        need[row_bom[j]] += planned[m] * row_qty[j]
                for j in range(level_bom_ptr[level], level_bom_ptr[level + 1]):
                    p = level_bom[j]
                    ratio[p] = on_hand[p] / need[p] if need[p] > on_hand[p] else 1.0
                for m in range(first, last):
                    least = 1.0
                    for j in range(bom_ptr[m], bom_ptr[m + 1]):
                        least = min(least, ratio[row_bom[j]])
                    made = planned[m] * least
                    for j in range(bom_ptr[m], bom_ptr[m + 1]):
                        p = row_bom[j]
                        on_hand[p] = max(on_hand[p] - made * row_qty[j], 0.0)
                    on_hand[prod_point[m]] += made
                    # what was planned uses the line, even if materials then cut it
                    extra = 0.0
                    for j in range(line_ptr[m], line_ptr[m + 1]):
                        line = row_line[j]
                        if planned[m] > 0.0:
                            left[line] -= planned[m] * row_inv_cap[j] / max(cap_f[line], 1e-12)
                        if crisis:
                            extra = max(extra, premium[line])
                    k[K_PRODUCTION] += made * prod_cost[m] * f_energy[m] * (1.0 + extra)
                    k[K_CO2E_PRODUCTION] += made * prod_co2e[m]
                for j in range(lines_lo, lines_hi):
                    line = level_line[j]
                    left[line] = max(left[line], 0.0)

            # ---- 3. suppliers ship their open orders within capacity
            for e in range(E):
                ship[e] = 0.0
            if U > 0:
                owed_sup[:] = 0.0
                for e in range(E):
                    if edge_from_supply[e] and f_edge[e] > 0.0:
                        owed_sup[sup_of_point[edge_src[e]]] += open_orders[e]
                for e in range(E):
                    if edge_from_supply[e] and f_edge[e] > 0.0:
                        u = sup_of_point[edge_src[e]]
                        cap = sup_cap[u] * f_sup[u]
                        share = cap / owed_sup[u] if owed_sup[u] > cap else 1.0
                        ship[e] = open_orders[e] * share
                        k[K_MATERIAL] += ship[e] * unit_value[edge_src[e]]

            # ---- 4. demand
            for d in range(D):
                z = noise[r, t, d] if has_noise else 0.0
                demand[d] = max(dem_mean[d] + dem_sd[d] * z, 0.0) * f_dem[d]

            # ---- 5. fulfilment: what is owed from earlier days first, then today's demand
            owed[:] = 0.0
            for d in range(D):
                if f_block[d] > 0.0:
                    owed[dem_point[d]] += backlog[d]
            for e in range(E):
                if not edge_from_supply[e] and f_edge[e] > 0.0:
                    owed[edge_src[e]] += open_orders[e]
            for p in range(P):
                ratio[p] = on_hand[p] / owed[p] if owed[p] > on_hand[p] else 1.0
            for d in range(D):
                served_old[d] = backlog[d] * ratio[dem_point[d]] if f_block[d] > 0.0 else 0.0
                on_hand[dem_point[d]] -= served_old[d]
            for e in range(E):
                if not edge_from_supply[e] and f_edge[e] > 0.0:
                    ship[e] = open_orders[e] * ratio[edge_src[e]]
                    on_hand[edge_src[e]] -= ship[e]
            owed[:] = 0.0
            for p in range(P):
                on_hand[p] = max(on_hand[p], 0.0)
            for d in range(D):
                if f_block[d] > 0.0:
                    owed[dem_point[d]] += demand[d]
            for p in range(P):
                ratio[p] = on_hand[p] / owed[p] if owed[p] > on_hand[p] else 1.0
            total_demand = 0.0
            total_on_time = 0.0
            for d in range(D):
                on_time[d] = demand[d] * ratio[dem_point[d]] if f_block[d] > 0.0 else 0.0
                on_hand[dem_point[d]] = max(on_hand[dem_point[d]] - on_time[d], 0.0)
                served = served_old[d] + on_time[d]
                if lost_sales:
                    k[K_LOST] += demand[d] - on_time[d]
                else:
                    backlog[d] = max(backlog[d] + demand[d] - served, 0.0)
                total_demand += demand[d]
                total_on_time += on_time[d]
                k[K_SHIPPED] += served
                k[K_REVENUE] += served * dem_price[d]
                k[K_TRANSPORT] += served * dem_cost[d]
                k[K_CO2E_TRANSPORT] += served * dem_co2e[d]
            k[K_DEMAND] += total_demand
            k[K_ON_TIME] += total_on_time
            daily_fill[r, t] = total_on_time / total_demand if total_demand > 0.0 else 1.0

            # ---- shipments leave: each lands after its lead time, rounded half up, at least a day
            for e in range(E):
                amount = ship[e]
                if amount == 0.0:
                    continue
                open_orders[e] -= amount
                k[K_TRANSPORT] += amount * edge_cost[e]
                k[K_CO2E_TRANSPORT] += amount * edge_co2e[e]
                col = lead_col[e]
                days = _lead(lead_code[e], lead_p[e], lead_draws[r, t, col] if col >= 0 else 0.0)
                days *= f_lead[e]
                col = sup_lead_col[e]
                days += _lead(
                    sup_lead_code[e], sup_lead_p[e], sup_lead_draws[r, t, col] if col >= 0 else 0.0
                )
                whole = min(max(math.floor(days + 0.5), 1.0), ring - 1.0)
                pipeline[(t + int(whole)) % ring, e] += amount
                in_transit[edge_dst[e]] += amount

            # ---- 6. ordering at bought points
            for p in range(P):
                owed[p] = on_hand[p] + in_transit[p]  # the inventory position, built up below
            for d in range(D):
                owed[dem_point[d]] -= backlog[d]
            for e in range(E):
                owed[edge_dst[e]] += open_orders[e]
                owed[edge_src[e]] -= open_orders[e]
            for e in range(E):
                p = edge_dst[e]
                if bought[p] and owed[p] <= s[p]:
                    open_orders[e] += max(S[p] - owed[p], 0.0) * shares[e]

            # ---- end of day
            value = 0.0
            for p in range(P):
                k[K_HOLDING] += on_hand[p] * holding[p]
                value += on_hand[p] * unit_value[p]
            daily_value[r, t] = value
            node_backlog[:] = 0.0
            for d in range(D):
                node_backlog[dem_node[d]] += backlog[d]
            for n in range(N):
                daily_backlog[r, t, n] = node_backlog[n] / max(node_mean[n], 1e-12)

        kpis[r, :] = k
        end_on_hand[r, :] = on_hand
        end_backlog[r, :] = backlog
        end_open[r, :] = open_orders
