"""The general engine: a compiled discrete-event simulation of the whole line contract.

One replication is one call of :func:`des_replication`, a numba kernel over fixed
arrays of server, queue and operator state. The next event is found by a scan
over the servers' next event times (faster than a heap for the 10–20 servers of
a line), then the shift boundary and the next arrival. Ties go to a shift
boundary first (so a part is never started at the instant its window ends),
then to the arrival, then to the lowest server.

A server is in one of the six states of :class:`~twinverse.sim.line.results.ServerState`
(the integer codes below); time in each is accumulated from the end of warm-up.
When a server is emptied (its part moved on, left the line or was scrapped) the
station takes the next part from its queue; the room that makes lets the
upstream server blocked longest move its part in, which empties that server, and
so on up the line. The queue in front of station 0 is the input queue when
parts arrive; with a saturated source an empty station-0 server takes a new raw
part at once, and the part *enters the line* (for lead time and WIP) when it
starts processing.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numba import njit

from twinverse.sim.line.sampling import draw, draw_inline, percentiles_50_90

# Server states; the order is that of ServerState and of the state_time columns.
BUSY: Final = 0
STARVED: Final = 1
BLOCKED: Final = 2
DOWN: Final = 3
WAITING_OPERATOR: Final = 4
OFF_SHIFT: Final = 5
N_STATES: Final = 6

# What the next event is.
_SERVER: Final = 0
_ARRIVAL: Final = 1
_SHIFT: Final = 2


@njit(cache=True, nogil=True, inline="always")
def _set_state(j, s, t, state, last, acc):  # type: ignore[no-untyped-def]
    acc[j, state[j]] += t - last[j]
    last[j] = t
    state[j] = s


@njit(cache=True, nogil=True, inline="always")
def _add_wip(wip, t, delta):  # type: ignore[no-untyped-def]
    """``wip`` holds [parts in the line, integral of that over time, time of the last change]."""
    wip[1] += wip[0] * (t - wip[2])
    wip[2] = t
    wip[0] += delta


@njit(cache=True, nogil=True, inline="always")
def _schedule(j, t, fails, rem, ttf, tnext, failing):  # type: ignore[no-untyped-def]
    """Set the end of the processing stretch that begins now: a failure or the completion."""
    if fails and ttf[j] < rem[j]:
        tnext[j] = t + ttf[j]
        failing[j] = True
    else:
        tnext[j] = t + rem[j]
        failing[j] = False


# The helpers below take the kernel's arrays in three bundles (tuples of arrays, unpacked
# inside; inlined, so they cost nothing):
#   srv: state, entry, rem, ttf, tnext, failing, op_of, last, acc   (per server)
#   law: station_of, skill, proc_kind, proc_par, fails              (the line)
#   ops: op_busy, op_qual, op_time                                  (operators)


@njit(cache=True, nogil=True, inline="always")
def _begin(rng, j, t, factor, srv, law, wip):  # type: ignore[no-untyped-def]
    """Start processing the part server ``j`` holds."""
    state, entry, rem, ttf, tnext, failing, _, last, acc = srv
    station_of, _, proc_kind, proc_par, fails = law
    i = station_of[j]
    if math.isnan(entry[j]):  # a raw part from the saturated source enters the line now
        entry[j] = t
        _add_wip(wip, t, 1.0)
    rem[j] = draw_inline(rng, proc_kind, proc_par, i) * factor
    _set_state(j, BUSY, t, state, last, acc)
    _schedule(j, t, fails[i], rem, ttf, tnext, failing)


@njit(cache=True, nogil=True, inline="always")
def _try_start(rng, j, t, working, srv, law, ops, wip):  # type: ignore[no-untyped-def]
    """Server ``j`` holds a part it has not started: start it, or wait for the shift or an operator."""
    state, _, _, _, _, _, op_of, last, acc = srv
    station_of, skill, _, _, _ = law
    op_busy, op_qual, op_time = ops
    i = station_of[j]
    if not working:
        _set_state(j, OFF_SHIFT, t, state, last, acc)
        return
    factor = 1.0
    if skill[i] >= 0:
        o = -1
        for q in range(op_busy.size):  # the first listed free operator having the skill
            if not op_busy[q] and op_qual[q, skill[i]]:
                o = q
                break
        if o < 0:
            _set_state(j, WAITING_OPERATOR, t, state, last, acc)
            return
        op_busy[o] = True
        op_of[j] = o
        factor = op_time[o]
    _begin(rng, j, t, factor, srv, law, wip)


@njit(cache=True, nogil=True, inline="always")
def _release_operator(rng, o, t, ready, srv, law, ops, wip):  # type: ignore[no-untyped-def]
    """Operator ``o`` is free: hand them to the qualified server that has waited longest."""
    state, _, _, _, _, _, op_of, _, _ = srv
    station_of, skill, _, _, _ = law
    op_busy, op_qual, op_time = ops
    best = _longest_waiting(o, state, ready, op_qual, skill, station_of)
    if best < 0:
        op_busy[o] = False
        return
    op_of[best] = o
    _begin(rng, best, t, op_time[o], srv, law, wip)


@njit(cache=True, nogil=True, inline="always")
def _earliest_blocked(first, stop, state, blocked_seq):  # type: ignore[no-untyped-def]
    best = -1
    for j in range(first, stop):
        if state[j] == BLOCKED and (best < 0 or blocked_seq[j] < blocked_seq[best]):
            best = j
    return best


@njit(cache=True, nogil=True)
def _first_empty(first, stop, holding):  # type: ignore[no-untyped-def]
    """The lowest server of first:stop holding no part, or -1."""
    for j in range(first, stop):
        if not holding[j]:
            return j
    return -1


@njit(cache=True, nogil=True)
def _longest_waiting(o, state, ready, op_qual, skill, station_of):  # type: ignore[no-untyped-def]
    """The server waiting for an operator that operator ``o`` can serve and that got its part
    first (ties: the lowest server, hence the lowest station), or -1."""
    best = -1
    for j in range(state.size):
        if (
            state[j] == WAITING_OPERATOR
            and op_qual[o, skill[station_of[j]]]
            and (best < 0 or ready[j] < ready[best])
        ):
            best = j
    return best


@njit(cache=True, nogil=True)
def _grow(qbuf, qhead, qlen):  # type: ignore[no-untyped-def]
    """Double the ring buffers of all queues (an unlimited queue outgrew them)."""
    size = qbuf.shape[1]
    grown = np.empty((qbuf.shape[0], 2 * size))
    for k in range(qbuf.shape[0]):
        for m in range(qlen[k]):
            grown[k, m] = qbuf[k, (qhead[k] + m) & (size - 1)]
        qhead[k] = 0
    return grown


@njit(cache=True, nogil=True)
def des_replication(  # type: ignore[no-untyped-def]
    rng,
    station_of,
    first_server,
    queue_cap,
    proc_kind,
    proc_par,
    fails,
    mtbf_kind,
    mtbf_par,
    mttr_kind,
    mttr_par,
    scrap,
    skill,
    arrival_kind,
    arrival_par,
    op_qual,
    op_time,
    op_scrap,
    shift_period,
    shift_bounds,
    parts,
    warmup,
    horizon,
    state_time,
    processed,
):
    """Simulate one replication; fill ``state_time`` [station, state] (s) and ``processed`` [station].

    Returns (good, scrap, end, warm-up end, WIP time integral, lead-time mean, p50, p90,
    events), all over the measured period; NaN for the measured figures when the run
    ended (at ``horizon``) before warm-up did.
    """
    n_st = first_server.size - 1
    n_srv = station_of.size
    saturated = arrival_kind[0] < 0
    inf = np.inf

    state = np.full(n_srv, STARVED, np.int64)
    holding = np.zeros(n_srv, np.bool_)
    entry = np.zeros(n_srv)
    rem = np.zeros(n_srv)
    ttf = np.full(n_srv, inf)
    tnext = np.full(n_srv, inf)
    failing = np.zeros(n_srv, np.bool_)
    op_of = np.full(n_srv, -1, np.int64)
    ready = np.zeros(n_srv)  # when the server got the part it holds (operator priority)
    blocked_seq = np.zeros(n_srv, np.int64)
    last = np.zeros(n_srv)
    acc = np.zeros((n_srv, N_STATES))
    for j in range(n_srv):
        if fails[station_of[j]]:
            ttf[j] = draw(rng, mtbf_kind, mtbf_par, station_of[j])
    op_busy = np.zeros(op_time.size, np.bool_)
    srv = (state, entry, rem, ttf, tnext, failing, op_of, last, acc)
    law = (station_of, skill, proc_kind, proc_par, fails)
    ops = (op_busy, op_qual, op_time)

    qsize = 16  # a power of two: positions wrap with a mask
    for k in range(n_st):
        while qsize < queue_cap[k]:
            qsize *= 2
    qbuf = np.empty((n_st, qsize))
    qhead = np.zeros(n_st, np.int64)
    qlen = np.zeros(n_st, np.int64)

    n_bounds = shift_bounds.size
    working = n_bounds == 0
    b_idx = 0
    b_base = 0.0
    t_shift = inf
    if n_bounds > 0:
        while b_base + shift_bounds[b_idx] <= 0.0:  # boundaries at time 0
            working = b_idx % 2 == 0
            b_idx += 1
            if b_idx == n_bounds:
                b_idx = 0
                b_base += shift_period
        t_shift = b_base + shift_bounds[b_idx]

    t_arrival = inf if saturated else draw(rng, arrival_kind, arrival_par, 0)
    wip = np.zeros(3)
    lead = np.empty(min(parts - warmup, 1 << 20))  # grown when a horizon run outlasts it
    n_lead = 0
    lead_sum = 0.0
    measuring = warmup == 0
    t_warm = 0.0
    good = 0
    scrapped = 0
    seq = 0
    events = 0
    t = 0.0

    pending = np.empty(n_srv, np.int64)  # servers that got a part at this instant, in order
    n_pending = 0
    if saturated:
        for j in range(first_server[0], first_server[1]):
            holding[j] = True
            entry[j] = np.nan
            pending[n_pending] = j
            n_pending += 1

    while True:
        # The servers that got a part at this instant try to start it, in the order they got it.
        for q in range(n_pending):
            _try_start(rng, pending[q], t, working, srv, law, ops, wip)
        n_pending = 0

        t_srv = inf
        j = -1
        for m in range(n_srv):
            if tnext[m] < t_srv:
                t_srv = tnext[m]
                j = m
        if t_shift <= t_srv and t_shift <= t_arrival:
            kind, t_next = _SHIFT, t_shift
        elif t_arrival <= t_srv:
            kind, t_next = _ARRIVAL, t_arrival
        else:
            kind, t_next = _SERVER, t_srv
        if t_next > horizon:
            t = horizon
            break
        if t_next == inf:
            break  # nothing can happen any more
        t = t_next
        events += 1

        if kind == _SHIFT:
            opening = b_idx % 2 == 0
            b_idx += 1
            if b_idx == n_bounds:
                b_idx = 0
                b_base += shift_period
            t_shift = b_base + shift_bounds[b_idx]
            working = opening
            for m in range(n_srv):
                if opening and state[m] == OFF_SHIFT:
                    # Queue it to start, those that got their part first first (stable: ties
                    # keep the lowest server first).
                    q = n_pending
                    while q > 0 and ready[pending[q - 1]] > ready[m]:
                        pending[q] = pending[q - 1]
                        q -= 1
                    pending[q] = m
                    n_pending += 1
                elif not opening and state[m] == WAITING_OPERATOR:
                    _set_state(m, OFF_SHIFT, t, state, last, acc)
            continue

        if kind == _ARRIVAL:
            t_arrival = t + draw(rng, arrival_kind, arrival_par, 0)
            _add_wip(wip, t, 1.0)
            e = _first_empty(first_server[0], first_server[1], holding)
            if e >= 0:
                holding[e] = True
                entry[e] = t
                ready[e] = t
                pending[n_pending] = e
                n_pending += 1
            else:
                if qlen[0] == qbuf.shape[1]:
                    qbuf = _grow(qbuf, qhead, qlen)
                qbuf[0, (qhead[0] + qlen[0]) & (qbuf.shape[1] - 1)] = t
                qlen[0] += 1
            continue

        i = station_of[j]
        if state[j] == DOWN:  # repaired: resume the interrupted part
            ttf[j] = draw(rng, mtbf_kind, mtbf_par, i)
            _set_state(j, BUSY, t, state, last, acc)
            _schedule(j, t, True, rem, ttf, tnext, failing)
            continue
        if failing[j]:
            rem[j] -= ttf[j]
            ttf[j] = 0.0
            _set_state(j, DOWN, t, state, last, acc)
            tnext[j] = t + draw(rng, mttr_kind, mttr_par, i)
            continue

        # Processing ends.
        if fails[i]:
            ttf[j] -= rem[j]
        rem[j] = 0.0
        tnext[j] = inf
        processed[i] += 1
        scrap_factor = 1.0
        o = op_of[j]
        if o >= 0:
            scrap_factor = op_scrap[o]
            op_of[j] = -1
            _release_operator(rng, o, t, ready, srv, law, ops, wip)
        if scrap[i] > 0.0 and rng.random() < scrap[i] * scrap_factor:
            scrapped += 1
            holding[j] = False
            _add_wip(wip, t, -1.0)
        elif i == n_st - 1:
            good += 1
            holding[j] = False
            _add_wip(wip, t, -1.0)
            if good > warmup:
                if n_lead == lead.size:
                    lead = np.concatenate((lead, np.empty(lead.size)))
                lead[n_lead] = t - entry[j]
                lead_sum += lead[n_lead]
                n_lead += 1
            elif good == warmup:  # statistics start now
                measuring = True
                t_warm = t
                acc[:, :] = 0.0
                last[:] = t
                wip[1] = 0.0
                wip[2] = t
                processed[:] = 0
                scrapped = 0
            if good == parts:
                break
        else:
            k = i + 1
            e = _first_empty(first_server[k], first_server[k + 1], holding)
            if e >= 0:  # an empty server downstream takes the part
                holding[e] = True
                entry[e] = entry[j]
                ready[e] = t
                holding[j] = False
                pending[n_pending] = e
                n_pending += 1
            elif queue_cap[k] < 0 or qlen[k] < queue_cap[k]:
                if qlen[k] == qbuf.shape[1]:
                    qbuf = _grow(qbuf, qhead, qlen)
                qbuf[k, (qhead[k] + qlen[k]) & (qbuf.shape[1] - 1)] = entry[j]
                qlen[k] += 1
                holding[j] = False
            else:
                seq += 1
                blocked_seq[j] = seq
                _set_state(j, BLOCKED, t, state, last, acc)
                continue

        # Server j is empty: refill its station, and the stations upstream as room appears.
        mask = qbuf.shape[1] - 1
        k = i
        while k >= 0:
            freed = False
            for e in range(first_server[k], first_server[k + 1]):
                if holding[e]:
                    continue
                if qlen[k] > 0:
                    part = qbuf[k, qhead[k]]
                    qhead[k] = (qhead[k] + 1) & mask
                    qlen[k] -= 1
                    if k > 0:
                        b = _earliest_blocked(
                            first_server[k - 1], first_server[k], state, blocked_seq
                        )
                        if b >= 0:
                            qbuf[k, (qhead[k] + qlen[k]) & mask] = entry[b]
                            qlen[k] += 1
                            holding[b] = False
                            _set_state(b, STARVED, t, state, last, acc)  # refilled below
                            freed = True
                elif k > 0:
                    b = _earliest_blocked(first_server[k - 1], first_server[k], state, blocked_seq)
                    if b < 0:
                        _set_state(e, STARVED, t, state, last, acc)
                        continue
                    part = entry[b]
                    holding[b] = False
                    _set_state(b, STARVED, t, state, last, acc)  # refilled below
                    freed = True
                elif saturated:
                    part = np.nan
                else:
                    _set_state(e, STARVED, t, state, last, acc)
                    continue
                holding[e] = True
                entry[e] = part
                ready[e] = t
                pending[n_pending] = e
                n_pending += 1
            if not freed:
                break
            k -= 1

    if not measuring:
        state_time[:, :] = np.nan
        processed[:] = 0
        return 0, 0, t, np.nan, np.nan, np.nan, np.nan, np.nan, events
    for m in range(n_srv):
        acc[m, state[m]] += t - last[m]
    _add_wip(wip, t, 0.0)
    state_time[:, :] = 0.0
    for m in range(n_srv):
        for s in range(N_STATES):
            state_time[station_of[m], s] += acc[m, s]
    lead_mean = lead_sum / n_lead if n_lead > 0 else np.nan
    p50, p90 = percentiles_50_90(lead[:n_lead])
    return good - warmup, scrapped, t, t_warm, wip[1], lead_mean, p50, p90, events
