"""The flow-line fast path: departure-time recursion for a serial line with blocking after service.

For a line with one server per station, no operators, no shifts and no scrap,
parts leave every station in the order they entered, and the whole run follows
from a recursion over part ``n`` and station ``i`` (``b_i`` the buffer after
station ``i``, ``D`` departure times, ``S`` starts, ``C`` completions)::

    S[n, i] = max(D[n, i-1], D[n-1, i])          (D[n, -1] = arrival of n; saturated: D[n-1, 0])
    C[n, i] = S[n, i] + effective processing time
    D[n, i] = max(C[n, i], D[n - b_i - 1, i+1])   (D = C after the last station or an unlimited buffer)

The effective processing time folds in operation-dependent failures: each
station carries its remaining time-to-failure from part to part, and every
failure that falls inside the processing adds a repair. The recursion keeps
``b + 2`` departures per station in a ring, and accumulates the same
statistics the event engine does: busy, down and blocked stretches of every
part clipped to the measured period, WIP as the overlap of each part's stay
with it, and lead times.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from twinverse.sim.line.engine import BLOCKED, BUSY, DOWN, STARVED
from twinverse.sim.line.model import LineModel
from twinverse.sim.line.sampling import draw, draw_inline, percentiles_50_90


def flow_line_obstacles(model: LineModel) -> tuple[str, ...]:
    """Why the recursion cannot run ``model`` (empty when it can)."""
    reasons = [f"station {s.id!r} has {s.servers} servers" for s in model.stations if s.servers > 1]
    if model.operators_needed:
        reasons.append("stations that need operators")
    if model.shifts is not None:
        reasons.append("shifts")
    reasons += [
        f"station {s.id!r} scraps {s.scrap:g} of its parts" for s in model.stations if s.scrap > 0
    ]
    return tuple(reasons)


@njit(cache=True, nogil=True)
def _overlap(a, b, lo, hi):  # type: ignore[no-untyped-def]
    return max(0.0, min(b, hi) - max(a, lo))


@njit(cache=True, nogil=True)
def flowline_replication(  # type: ignore[no-untyped-def]
    rng,
    buffer_cap,
    proc_kind,
    proc_par,
    fails,
    mtbf_kind,
    mtbf_par,
    mttr_kind,
    mttr_par,
    arrival_kind,
    arrival_par,
    parts,
    warmup,
    horizon,
    state_time,
    processed,
):
    """One replication; the same outputs as :func:`twinverse.sim.line.engine.des_replication`.

    ``events`` counts station visits plus repairs computed.
    """
    n_st = proc_kind.size
    saturated = arrival_kind[0] < 0
    ring = 2  # a power of two >= every finite buffer + 2: positions wrap with a mask
    for i in range(n_st - 1):
        while ring < buffer_cap[i] + 2:
            ring *= 2
    mask = ring - 1
    dep = np.zeros((n_st, ring))
    ttf = np.full(n_st, np.inf)
    for i in range(n_st):
        if fails[i]:
            ttf[i] = draw(rng, mtbf_kind, mtbf_par, i)

    # Accumulated in arrays of the kernel's own, copied out at the end: LLVM then need not
    # assume they alias the departure ring, which keeps the loop's loads in registers.
    busy = np.zeros(n_st)
    down = np.zeros(n_st)
    blocked = np.zeros(n_st)
    done = np.zeros(n_st, np.int64)
    lead = np.empty(min(parts - warmup, 1 << 20))  # grown when a horizon run outlasts it
    n_lead = 0
    lead_sum = 0.0
    wip_area = 0.0
    t_warm = 0.0 if warmup == 0 else np.nan
    hi = horizon  # statistics are clipped to [t_warm, hi]; hi becomes the end once known
    end = np.inf
    ended = False
    good = 0
    events = 0
    t_arrival = 0.0
    n = 0
    while True:
        n += 1
        prev = (n - 1) & mask
        if saturated:
            entry = dep[0, prev]
        else:
            t_arrival += draw(rng, arrival_kind, arrival_par, 0)
            entry = t_arrival
        if ended and (entry >= end or math.isnan(t_warm)):
            break
        counted = n > warmup
        lo = t_warm
        d = entry
        for i in range(n_st):
            s = max(d, dep[i, prev])
            # Before the end is known (no horizon) a visit starting after warm-up lies wholly
            # in the measured period: its times are added as they are, without clipping.
            whole = counted and s >= lo and hi == np.inf
            clip = counted and not whole
            p = draw_inline(rng, proc_kind, proc_par, i)
            if whole:
                busy[i] += p
            c = s
            if fails[i]:
                while ttf[i] < p:
                    if clip:
                        busy[i] += _overlap(c, c + ttf[i], lo, hi)
                    c += ttf[i]
                    p -= ttf[i]
                    r = draw(rng, mttr_kind, mttr_par, i)
                    if whole:
                        down[i] += r
                    elif clip:
                        down[i] += _overlap(c, c + r, lo, hi)
                    c += r
                    ttf[i] = draw(rng, mtbf_kind, mtbf_par, i)
                    events += 1
                ttf[i] -= p
            if clip:
                busy[i] += _overlap(c, c + p, lo, hi)
            c += p
            d = c
            if i < n_st - 1 and buffer_cap[i] >= 0:
                back = n - buffer_cap[i] - 1
                if back >= 1:
                    d = max(c, dep[i + 1, back & mask])
            if whole:
                blocked[i] += d - c
                done[i] += 1
            elif clip:
                blocked[i] += _overlap(c, d, lo, hi)
                if lo < c <= hi:
                    done[i] += 1
            dep[i, n & mask] = d
            events += 1
        if not ended:
            if d > horizon:
                ended = True
                end = horizon
            else:
                good = n
                if n == warmup:
                    t_warm = d
                elif counted:
                    if n_lead == lead.size:
                        lead = np.concatenate((lead, np.empty(lead.size)))
                    lead[n_lead] = d - entry
                    lead_sum += d - entry
                    n_lead += 1
                if n == parts:
                    ended = True
                    end = d
                    hi = d
        if counted:
            wip_area += _overlap(entry, d, lo, hi)

    if math.isnan(t_warm):
        state_time[:, :] = np.nan
        processed[:] = 0
        return 0, 0, end, np.nan, np.nan, np.nan, np.nan, np.nan, events
    duration = end - t_warm
    state_time[:, :] = 0.0
    for i in range(n_st):
        state_time[i, BUSY] = busy[i]
        state_time[i, DOWN] = down[i]
        state_time[i, BLOCKED] = blocked[i]
        state_time[i, STARVED] = max(0.0, duration - busy[i] - down[i] - blocked[i])
        processed[i] = done[i]
    lead_mean = lead_sum / n_lead if n_lead > 0 else np.nan
    p50, p90 = percentiles_50_90(lead[:n_lead])
    return good - warmup, 0, end, t_warm, wip_area, lead_mean, p50, p90, events
