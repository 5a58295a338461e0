"""The compiled core of the tabu search: the disjunctive graph as arrays, moves, estimates.

A solution is, per operation ``o``: its machine ``mach[o]``, its duration there
``dur[o]``, and its neighbours in the machine's sequence ``mp[o]``/``ms[o]``
(-1 at either end), with ``first[m]`` the head of machine ``m``'s sequence.
Jobs are fixed chains ``jp``/``js``; ``rel[o]`` is the earliest start of the
job's first operation (release, *now*). Heads ``r`` (earliest start) and tails
``q`` (longest path from ``o``'s end to the sink) are computed in one
topological sweep; the makespan is ``max(r + dur)``.

Neighbourhood (Nowicki–Smutnicki N5 extended to Zhang et al.'s N7): on one
critical path split into machine blocks, move an operation of a block to its
first or last position, or the first/last operation into the block. Moves are
ranked by the Balas–Vazacopoulos estimate (new heads and tails of the moved
stretch only, O(block) per move) and are kept cycle-free by their feasibility
conditions. For flexible problems a critical operation may also move to
another eligible machine at any position that cannot create a cycle
(Mastrolilli–Gambardella style), ranked by the longest path through it there.
The best-ranked move is made and evaluated exactly; with ``params[EXACT] > 1``
that many candidates are evaluated and the best taken (slower per move, and no
better per second on the Brandimarte instances).

Tabu attributes: after a move, the precedences it reversed (operation pairs)
and the machine an operation left are forbidden for a random tenure; a tabu
move is still taken if its estimate beats the best makespan (aspiration).
After ``stall`` moves without a new best the search restarts from the best
solution with a few random critical swaps.

Everything is plain int64 arrays so the kernels compile once (``cache=True``)
and release the GIL (``nogil=True``): one search per thread.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numba import njit

FORWARD: Final = 0  # move u right after v (u before v in one block)
BACKWARD: Final = 1  # move v right before u
REASSIGN: Final = 2  # move o to option b's machine, right after c (-1: at the front)

# counters[] slots, kept between calls so a search runs in slices
IT: Final = 0
SINCE_BEST: Final = 1
CURRENT: Final = 2
BEST: Final = 3
SINCE_RESTART: Final = 4
DONE: Final = 5
N_COUNTERS: Final = 6

# params[] slots
TENURE_MIN: Final = 0
TENURE_SPAN: Final = 1
STALL: Final = 2
KICKS: Final = 3
EXACT: Final = 4
TARGET: Final = 5
N_PARAMS: Final = 6

# sol rows
MACH: Final = 0
DUR: Final = 1
MP: Final = 2
MS: Final = 3


@njit(cache=True, nogil=True, inline="always")
def _next(rng):  # type: ignore[no-untyped-def]
    """java.util.Random's 48-bit generator: small, seedable, identical on every platform."""
    s = (rng[0] * 0x5DEECE66D + 0xB) & 0xFFFFFFFFFFFF
    rng[0] = s
    return s >> 17


@njit(cache=True, nogil=True, inline="always")
def _below(rng, n):  # type: ignore[no-untyped-def]
    return _next(rng) % n


@njit(cache=True, nogil=True)
def evaluate(jp, js, rel, sol, r, q, order, indeg):  # type: ignore[no-untyped-def]
    """Heads, tails and the makespan; -1 if the machine sequences make a cycle."""
    n = jp.shape[0]
    dur = sol[DUR]
    mp = sol[MP]
    ms = sol[MS]
    tail = 0
    for o in range(n):
        d = 0
        if jp[o] >= 0:
            d += 1
        if mp[o] >= 0:
            d += 1
        indeg[o] = d
        if d == 0:
            order[tail] = o
            tail += 1
    head = 0
    while head < tail:
        o = order[head]
        head += 1
        s = js[o]
        if s >= 0:
            indeg[s] -= 1
            if indeg[s] == 0:
                order[tail] = s
                tail += 1
        s = ms[o]
        if s >= 0:
            indeg[s] -= 1
            if indeg[s] == 0:
                order[tail] = s
                tail += 1
    if tail < n:
        return -1
    cmax = 0
    for i in range(n):
        o = order[i]
        a = rel[o]
        p = jp[o]
        if p >= 0 and r[p] + dur[p] > a:
            a = r[p] + dur[p]
        p = mp[o]
        if p >= 0 and r[p] + dur[p] > a:
            a = r[p] + dur[p]
        r[o] = a
        if a + dur[o] > cmax:
            cmax = a + dur[o]
    for i in range(n - 1, -1, -1):
        o = order[i]
        b = 0
        s = js[o]
        if s >= 0 and q[s] + dur[s] > b:
            b = q[s] + dur[s]
        s = ms[o]
        if s >= 0 and q[s] + dur[s] > b:
            b = q[s] + dur[s]
        q[o] = b
    return cmax


@njit(cache=True, nogil=True, inline="always")
def _job_head(o, jp, rel, r, dur):  # type: ignore[no-untyped-def]
    p = jp[o]
    if p >= 0 and r[p] + dur[p] > rel[o]:
        return r[p] + dur[p]
    return rel[o]


@njit(cache=True, nogil=True, inline="always")
def _job_tail(o, js, q, dur):  # type: ignore[no-untyped-def]
    s = js[o]
    if s >= 0:
        return q[s] + dur[s]
    return 0


@njit(cache=True, nogil=True)
def _remove(o, sol, first):  # type: ignore[no-untyped-def]
    a = sol[MP, o]
    b = sol[MS, o]
    if a >= 0:
        sol[MS, a] = b
    else:
        first[sol[MACH, o]] = b
    if b >= 0:
        sol[MP, b] = a
    sol[MP, o] = -1
    sol[MS, o] = -1


@njit(cache=True, nogil=True)
def _insert_after(o, m, x, sol, first):  # type: ignore[no-untyped-def]
    sol[MACH, o] = m
    if x < 0:
        y = first[m]
        first[m] = o
    else:
        y = sol[MS, x]
        sol[MS, x] = o
    sol[MP, o] = x
    sol[MS, o] = y
    if y >= 0:
        sol[MP, y] = o


@njit(cache=True, nogil=True)
def _estimate_forward(u, v, jp, js, rel, sol, r, q, rn):  # type: ignore[no-untyped-def]
    """Makespan estimate after moving ``u`` right after ``v`` (same machine, u before v)."""
    dur = sol[DUR]
    mp = sol[MP]
    ms = sol[MS]
    prev_end = 0
    if mp[u] >= 0:
        prev_end = r[mp[u]] + dur[mp[u]]
    x = ms[u]
    while True:
        a = _job_head(x, jp, rel, r, dur)
        if prev_end > a:
            a = prev_end
        rn[x] = a
        prev_end = a + dur[x]
        if x == v:
            break
        x = ms[x]
    ru = _job_head(u, jp, rel, r, dur)
    if prev_end > ru:
        ru = prev_end
    next_tail = 0
    if ms[v] >= 0:
        next_tail = q[ms[v]] + dur[ms[v]]
    qu = _job_tail(u, js, q, dur)
    if next_tail > qu:
        qu = next_tail
    est = ru + dur[u] + qu
    next_tail = qu + dur[u]
    x = v
    while x != u:
        b = _job_tail(x, js, q, dur)
        if next_tail > b:
            b = next_tail
        if rn[x] + dur[x] + b > est:
            est = rn[x] + dur[x] + b
        next_tail = b + dur[x]
        x = mp[x]
    return est


@njit(cache=True, nogil=True)
def _estimate_backward(u, v, jp, js, rel, sol, r, q, rn):  # type: ignore[no-untyped-def]
    """Makespan estimate after moving ``v`` right before ``u`` (same machine, u before v)."""
    dur = sol[DUR]
    mp = sol[MP]
    ms = sol[MS]
    prev_end = 0
    if mp[u] >= 0:
        prev_end = r[mp[u]] + dur[mp[u]]
    rv = _job_head(v, jp, rel, r, dur)
    if prev_end > rv:
        rv = prev_end
    prev_end = rv + dur[v]
    x = u
    while x != v:
        a = _job_head(x, jp, rel, r, dur)
        if prev_end > a:
            a = prev_end
        rn[x] = a
        prev_end = a + dur[x]
        x = ms[x]
    next_tail = 0
    if ms[v] >= 0:
        next_tail = q[ms[v]] + dur[ms[v]]
    est = 0
    x = mp[v]
    while True:
        b = _job_tail(x, js, q, dur)
        if next_tail > b:
            b = next_tail
        if rn[x] + dur[x] + b > est:
            est = rn[x] + dur[x] + b
        next_tail = b + dur[x]
        if x == u:
            break
        x = mp[x]
    qv = _job_tail(v, js, q, dur)
    if next_tail > qv:
        qv = next_tail
    if rv + dur[v] + qv > est:
        est = rv + dur[v] + qv
    return est


@njit(cache=True, nogil=True)
def _critical_path(jp, sol, r, q, cmax, path, rng):  # type: ignore[no-untyped-def]
    """One critical path, source to sink, ties broken at random; returns its length."""
    n = jp.shape[0]
    dur = sol[DUR]
    mp = sol[MP]
    seen = 0
    end = -1
    for o in range(n):
        if q[o] == 0 and r[o] + dur[o] == cmax:
            seen += 1
            if _below(rng, seen) == 0:
                end = o
    length = 0
    cur = end
    while cur >= 0:
        path[length] = cur
        length += 1
        a = jp[cur]
        b = mp[cur]
        ok_a = a >= 0 and r[a] + dur[a] == r[cur]
        ok_b = b >= 0 and r[b] + dur[b] == r[cur]
        if ok_a and ok_b:
            cur = b if _below(rng, 2) == 0 else a
        elif ok_b:
            cur = b
        elif ok_a:
            cur = a
        else:
            cur = -1
    for i in range(length // 2):
        t = path[i]
        path[i] = path[length - 1 - i]
        path[length - 1 - i] = t
    return length


@njit(cache=True, nogil=True)
def _is_tabu(kind, a, b, m2, sol, tabu, tabu_m, it):  # type: ignore[no-untyped-def]
    ms = sol[MS]
    if kind == FORWARD:
        x = ms[a]
        while True:
            if tabu[x, a] > it:
                return True
            if x == b:
                return False
            x = ms[x]
    if kind == BACKWARD:
        x = a
        while x != b:
            if tabu[b, x] > it:
                return True
            x = ms[x]
        return False
    return tabu_m[a, m2] > it


@njit(cache=True, nogil=True)
def _offer(kind, a, b, c, est, key, slots, size):  # type: ignore[no-untyped-def]
    """Keep the ``slots.shape[0]`` candidates of smallest key (slots rows: kind, a, b, c, est, key)."""
    k = slots.shape[0]
    if size < k:
        at = size
        size += 1
    else:
        at = 0
        for i in range(1, k):
            if slots[i, 5] > slots[at, 5]:
                at = i
        if key >= slots[at, 5]:
            return size
    slots[at, 0] = kind
    slots[at, 1] = a
    slots[at, 2] = b
    slots[at, 3] = c
    slots[at, 4] = est
    slots[at, 5] = key
    return size


@njit(cache=True, nogil=True)
def _apply(kind, a, b, c, sol, first, opt_m, opt_p, undo):  # type: ignore[no-untyped-def]
    """Make a move; ``undo`` gets (operation, machine, duration, machine predecessor) to revert it."""
    if kind == FORWARD:
        o = a
    elif kind == BACKWARD:
        o = b
    else:
        o = a
    undo[0] = o
    undo[1] = sol[MACH, o]
    undo[2] = sol[DUR, o]
    undo[3] = sol[MP, o]
    _remove(o, sol, first)
    if kind == FORWARD:
        _insert_after(o, sol[MACH, b], b, sol, first)
    elif kind == BACKWARD:
        _insert_after(o, sol[MACH, a], sol[MP, a], sol, first)
    else:
        sol[DUR, o] = opt_p[b]
        _insert_after(o, opt_m[b], c, sol, first)


@njit(cache=True, nogil=True)
def _revert(sol, first, undo):  # type: ignore[no-untyped-def]
    o = undo[0]
    _remove(o, sol, first)
    sol[DUR, o] = undo[2]
    _insert_after(o, undo[1], undo[3], sol, first)


@njit(cache=True, nogil=True)
def _mark_tabu(kind, a, b, undo, sol, tabu, tabu_m, until):  # type: ignore[no-untyped-def]
    """After a move: forbid restoring the precedences it reversed (or the machine it left).

    ``tabu[x, y]`` is the iteration until which putting ``x`` before ``y`` is tabu.
    """
    if kind == FORWARD:
        # now l1..lk a, where a came right after undo[3]: forbid a before any l again
        x = sol[MP, a]
        while x >= 0 and x != undo[3]:
            tabu[a, x] = until
            x = sol[MP, x]
    elif kind == BACKWARD:
        # now b l1..lk, where lk was b's machine predecessor: forbid any l before b again
        x = sol[MS, b]
        while x >= 0:
            tabu[x, b] = until
            if x == undo[3]:
                break
            x = sol[MS, x]
    else:
        tabu_m[a, undo[1]] = until


@njit(cache=True, nogil=True)
def _offer_move(  # type: ignore[no-untyped-def]
    kind, a, b, c, m2, est, best, it, sol, tabu, tabu_m, rng, slots, size, fallback, fsize
):
    key = est * 4096 + _below(rng, 4096)
    if est < best or not _is_tabu(kind, a, b, m2, sol, tabu, tabu_m, it):
        size = _offer(kind, a, b, c, est, key, slots, size)
    else:
        fsize = _offer(kind, a, b, c, est, key, fallback, fsize)
    return size, fsize


@njit(cache=True, nogil=True)
def _collect(  # type: ignore[no-untyped-def]
    jp,
    js,
    rel,
    opt_ptr,
    opt_m,
    opt_p,
    sol,
    first,
    r,
    q,
    rn,
    path,
    length,
    tabu,
    tabu_m,
    it,
    best,
    slots,
    fallback,
    rng,
):
    """Rank every move of the neighbourhood; returns (candidates kept, tabu fallback kept)."""
    mach = sol[MACH]
    dur = sol[DUR]
    ms = sol[MS]
    size = 0
    fsize = 0
    start = 0
    while start < length:
        stop = start
        while stop + 1 < length and ms[path[stop]] == path[stop + 1]:
            stop += 1
        if stop > start:
            # forward: any of the block to its end, and its first operation inward
            for i in range(start, stop):
                for j in range(i + 1, stop + 1):
                    if j != stop and i != start:
                        continue
                    u = path[i]
                    v = path[j]
                    # u right after v is cycle-free if L(v, n) >= L(js[u], n) (always when adjacent)
                    if js[u] == v:
                        continue  # consecutive operations of one job on one machine
                    if j > i + 1 and js[u] >= 0 and dur[v] + q[v] < dur[js[u]] + q[js[u]]:
                        continue
                    est = _estimate_forward(u, v, jp, js, rel, sol, r, q, rn)
                    size, fsize = _offer_move(
                        FORWARD,
                        u,
                        v,
                        -1,
                        -1,
                        est,
                        best,
                        it,
                        sol,
                        tabu,
                        tabu_m,
                        rng,
                        slots,
                        size,
                        fallback,
                        fsize,
                    )
            # backward: any of the block to its front, and its last operation inward
            for i in range(start, stop - 1):
                for j in range(i + 2, stop + 1):
                    if i != start and j != stop:
                        continue
                    u = path[i]
                    v = path[j]
                    # v right before u is cycle-free if r(u) + p(u) >= r(jp[v]) + p(jp[v])
                    if jp[v] == u or (jp[v] >= 0 and r[u] + dur[u] < r[jp[v]] + dur[jp[v]]):
                        continue
                    est = _estimate_backward(u, v, jp, js, rel, sol, r, q, rn)
                    size, fsize = _offer_move(
                        BACKWARD,
                        u,
                        v,
                        -1,
                        -1,
                        est,
                        best,
                        it,
                        sol,
                        tabu,
                        tabu_m,
                        rng,
                        slots,
                        size,
                        fallback,
                        fsize,
                    )
        start = stop + 1
    # flexible: a critical operation to another eligible machine, anywhere without a cycle
    for i in range(length):
        o = path[i]
        if opt_ptr[o + 1] - opt_ptr[o] < 2:
            continue
        head = _job_head(o, jp, rel, r, dur)
        tail = _job_tail(o, js, q, dur)
        ro = r[o]
        qo = q[o]
        po = dur[o]
        for t in range(opt_ptr[o], opt_ptr[o + 1]):
            m2 = opt_m[t]
            if m2 == mach[o]:
                continue
            p2 = opt_p[t]
            x = -1
            y = first[m2]
            while True:
                # x must not be reachable from o (else neither is any later one) nor y reach o
                if x >= 0 and not (r[x] < ro + po or q[x] + dur[x] > qo):
                    break
                if y < 0 or r[y] + dur[y] > ro or q[y] < qo + po:
                    a = head
                    if x >= 0 and r[x] + dur[x] > a:
                        a = r[x] + dur[x]
                    b = tail
                    if y >= 0 and q[y] + dur[y] > b:
                        b = q[y] + dur[y]
                    size, fsize = _offer_move(
                        REASSIGN,
                        o,
                        t,
                        x,
                        m2,
                        a + p2 + b,
                        best,
                        it,
                        sol,
                        tabu,
                        tabu_m,
                        rng,
                        slots,
                        size,
                        fallback,
                        fsize,
                    )
                if y < 0:
                    break
                x = y
                y = ms[y]
    return size, fsize


@njit(cache=True, nogil=True)
def _kick(jp, js, rel, sol, first, r, q, order, indeg, path, rng, kicks):  # type: ignore[no-untyped-def]
    """A few random swaps of adjacent critical operations (always cycle-free); the new makespan."""
    cmax = evaluate(jp, js, rel, sol, r, q, order, indeg)
    for _ in range(kicks):
        length = _critical_path(jp, sol, r, q, cmax, path, rng)
        pairs = 0
        for i in range(length - 1):
            if sol[MS, path[i]] == path[i + 1] and js[path[i]] != path[i + 1]:
                pairs += 1
        u = -1
        v = -1
        if pairs > 0:
            pick = _below(rng, pairs)
            for i in range(length - 1):
                if sol[MS, path[i]] == path[i + 1] and js[path[i]] != path[i + 1]:
                    if pick == 0:
                        u = path[i]
                        v = path[i + 1]
                        break
                    pick -= 1
        else:
            # no block on this path: any pair of neighbours on a machine (checked below)
            n = jp.shape[0]
            at = _below(rng, n)
            for k in range(n):
                o = (at + k) % n
                if sol[MS, o] >= 0 and js[o] != sol[MS, o]:
                    u = o
                    v = sol[MS, o]
                    break
        if u < 0:
            break
        _remove(u, sol, first)
        _insert_after(u, sol[MACH, v], v, sol, first)
        value = evaluate(jp, js, rel, sol, r, q, order, indeg)
        if value < 0:  # only possible with zero durations; undo the swap
            _remove(u, sol, first)
            _insert_after(u, sol[MACH, v], sol[MP, v], sol, first)
            evaluate(jp, js, rel, sol, r, q, order, indeg)
            break
        cmax = value
    return cmax


@njit(cache=True, nogil=True)
def search(  # type: ignore[no-untyped-def]
    jp,
    js,
    rel,
    opt_ptr,
    opt_m,
    opt_p,
    sol,
    first,
    best_sol,
    best_first,
    tabu,
    tabu_m,
    params,
    counters,
    rng,
    steps,
):
    """Run ``steps`` tabu moves from the current solution; keeps the best in ``best_sol``.

    ``counters`` carries the state between calls (iteration, moves since the best,
    current and best makespan, done flag), so the caller can slice a search by
    time. Returns the best makespan.
    """
    n = jp.shape[0]
    r = np.zeros(n, np.int64)
    q = np.zeros(n, np.int64)
    rn = np.zeros(n, np.int64)
    order = np.zeros(n, np.int64)
    indeg = np.zeros(n, np.int64)
    path = np.zeros(n, np.int64)
    exact = max(1, params[EXACT])
    slots = np.zeros((exact, 6), np.int64)
    fallback = np.zeros((1, 6), np.int64)
    undo = np.zeros(4, np.int64)
    cmax = evaluate(jp, js, rel, sol, r, q, order, indeg)
    counters[CURRENT] = cmax
    if counters[BEST] < 0 or cmax < counters[BEST]:
        counters[BEST] = cmax
        best_sol[:, :] = sol
        best_first[:] = first
    for _ in range(steps):
        if counters[BEST] <= params[TARGET]:
            counters[DONE] = 1
            break
        it = counters[IT]
        best = counters[BEST]
        length = _critical_path(jp, sol, r, q, cmax, path, rng)
        size, fsize = _collect(
            jp, js, rel, opt_ptr, opt_m, opt_p, sol, first, r, q, rn, path, length, tabu, tabu_m,
            it, best, slots, fallback, rng,
        )  # fmt: skip
        if size == 0 and fsize == 0:
            fixed = True
            for i in range(length):
                if opt_ptr[path[i] + 1] - opt_ptr[path[i]] > 1 or (
                    i > 0 and jp[path[i]] != path[i - 1]
                ):
                    fixed = False
            if fixed:
                # one job's chain of single-machine operations sets the makespan: optimal
                counters[DONE] = 1
                break
        # candidates by key; with exact > 1 the best few are tried for real
        chosen = -1
        chosen_value = 0
        use_fallback = size == 0
        pool = fallback if use_fallback else slots
        count = fsize if use_fallback else size
        applied = False
        for _k in range(count):
            at = -1
            for i in range(count):
                if pool[i, 5] >= 0 and (at < 0 or pool[i, 5] < pool[at, 5]):
                    at = i
            if at < 0:
                break
            _apply(
                pool[at, 0], pool[at, 1], pool[at, 2], pool[at, 3], sol, first, opt_m, opt_p, undo
            )
            value = evaluate(jp, js, rel, sol, r, q, order, indeg)
            if exact == 1 and value >= 0:
                chosen = at
                chosen_value = value
                applied = True
                break
            _revert(sol, first, undo)
            if value >= 0 and (chosen < 0 or value < chosen_value):
                chosen = at
                chosen_value = value
            pool[at, 5] = -1
        if chosen < 0:
            cmax = _kick(jp, js, rel, sol, first, r, q, order, indeg, path, rng, 1)
        else:
            kind = pool[chosen, 0]
            a = pool[chosen, 1]
            b = pool[chosen, 2]
            if not applied:
                _apply(kind, a, b, pool[chosen, 3], sol, first, opt_m, opt_p, undo)
            until = it + params[TENURE_MIN] + _below(rng, params[TENURE_SPAN] + 1)
            _mark_tabu(kind, a, b, undo, sol, tabu, tabu_m, until)
            # r and q are those of the applied move when it was evaluated last
            cmax = chosen_value if applied else evaluate(jp, js, rel, sol, r, q, order, indeg)
        counters[IT] = it + 1
        counters[CURRENT] = cmax
        if cmax < counters[BEST]:
            counters[BEST] = cmax
            counters[SINCE_BEST] = 0
            best_sol[:, :] = sol
            best_first[:] = first
        else:
            counters[SINCE_BEST] += 1
            if counters[SINCE_BEST] >= params[STALL]:
                sol[:, :] = best_sol
                first[:] = best_first
                cmax = _kick(
                    jp,
                    js,
                    rel,
                    sol,
                    first,
                    r,
                    q,
                    order,
                    indeg,
                    path,
                    rng,
                    1 + _below(rng, params[KICKS]),
                )
                counters[SINCE_BEST] = 0
                counters[SINCE_RESTART] += 1
    return counters[BEST]
