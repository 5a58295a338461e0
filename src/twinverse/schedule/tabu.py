"""Tabu search on the disjunctive graph: short makespans for job shops and flexible job shops.

The local search of the solver portfolio (see :mod:`twinverse.schedule.cpsat`):
it starts from a valid schedule (the dispatch warm start), moves critical
operations within and across machines (:mod:`twinverse.schedule.tabu_kernel`
has the neighbourhood, the move estimates and the tabu rules) and returns the
semi-active schedule of the best sequence found, which the caller checks with
the independent validator like any other.

It models makespan with job chains, releases, *now*, and alternative
machines. It does not model setups, machine calendars, operators, frozen
operations, tardiness or the stability penalty: :func:`unsupported` names the
first such feature of a problem, and the solver leaves those problems to
CP-SAT.

Each worker is one search (its own seed) in its own thread; the kernels release
the GIL, so ``workers`` searches run on as many cores. A search runs in slices
of moves between which the clock is read, so the time limit is kept to a few
hundredths of a second. With ``max_iterations`` instead of a time limit the
result depends on the seed alone.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from twinverse.schedule import tabu_kernel as kernel
from twinverse.schedule.problem import Assignment, Job, Machine, Operation, Option, Problem
from twinverse.schedule.solution import Objective, Schedule

IntArray = NDArray[np.int64]
MAX_OPERATIONS = 4000
"""above this the tabu matrix (operations², 4 bytes each) is too large; CP-SAT alone then"""

Improvement = Callable[[float, int], None]
"""called with (seconds since the start, new best makespan)"""


@dataclass(frozen=True, slots=True)
class TabuSettings:
    """How long and how to search; ``None`` fields take defaults sized to the problem."""

    time_limit: float = 10.0
    seed: int = 0
    workers: int = 1
    max_iterations: int | None = None
    """stop after this many moves per worker (the result then depends on the seed alone)"""
    target: int | None = None
    """stop when the makespan reaches this (a lower bound is always used as well)"""
    stall: int | None = None
    """moves without a new best before restarting from the best (default 20 000)"""
    exact: int | None = None
    """candidates evaluated exactly per move (1: trust the estimate)"""


@dataclass(frozen=True, slots=True)
class TabuResult:
    schedule: Schedule
    makespan: int
    lower_bound: int
    iterations: int
    restarts: int
    seconds: float


def unsupported(problem: Problem, objective: Objective, *, stability: bool = False) -> str | None:
    """The first feature of the problem the tabu search does not model, or None."""
    if objective.makespan <= 0:
        return "an objective without makespan"
    if objective.tardiness > 0 and any(j.due is not None and j.weight > 0 for j in problem.jobs):
        return "tardiness in the objective"
    if problem.has_setups:
        return "sequence-dependent setups"
    if any(m.closed for m in problem.machines):
        return "machine calendars"
    if problem.operators:
        return "operators"
    if problem.frozen:
        return "frozen operations"
    if stability:
        return "a stability penalty"
    if problem.operation_count > MAX_OPERATIONS:
        return f"more than {MAX_OPERATIONS} operations"
    return None


def makespan_lower_bound(problem: Problem) -> int:
    """The longest job (from its release) and the busiest machine, on shortest options."""
    start = problem.not_before
    bound = 0
    total = 0
    load: dict[str, int] = {}
    for job in problem.jobs:
        length = max(job.release, start)
        for op in job.operations:
            shortest = min(o.duration for o in op.options)
            length += shortest
            total += shortest
            if len(op.options) == 1:
                m = op.options[0].machine
                load[m] = load.get(m, 0) + shortest
        bound = max(bound, length)
    bound = max(bound, start + max(load.values(), default=0))
    if problem.machines:
        bound = max(bound, start + math.ceil(total / len(problem.machines)))
    return bound


class _Graph:
    """The problem as the kernel's arrays: job chains, releases, options."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.machine_ids = [m.id for m in problem.machines]
        machine_of = {m: n for n, m in enumerate(self.machine_ids)}
        refs: list[tuple[str, int]] = []
        jp: list[int] = []
        js: list[int] = []
        rel: list[int] = []
        ptr = [0]
        opt_m: list[int] = []
        opt_p: list[int] = []
        for job in problem.jobs:
            base = len(refs)
            count = len(job.operations)
            for k, op in enumerate(job.operations):
                refs.append((job.id, k))
                jp.append(base + k - 1 if k > 0 else -1)
                js.append(base + k + 1 if k + 1 < count else -1)
                rel.append(max(job.release, problem.not_before) if k == 0 else 0)
                for option in op.options:
                    opt_m.append(machine_of[option.machine])
                    opt_p.append(option.duration)
                ptr.append(len(opt_m))
        self.refs = refs
        self.index = {ref: n for n, ref in enumerate(refs)}
        self.jp = np.array(jp, np.int64)
        self.js = np.array(js, np.int64)
        self.rel = np.array(rel, np.int64)
        self.opt_ptr = np.array(ptr, np.int64)
        self.opt_m = np.array(opt_m, np.int64)
        self.opt_p = np.array(opt_p, np.int64)
        self.flexible = problem.is_flexible

    def encode(self, schedule: Schedule) -> tuple[IntArray, IntArray]:
        """Machine sequences of a schedule as (sol, first)."""
        n = len(self.refs)
        sol = np.full((4, n), -1, np.int64)
        first = np.full(len(self.machine_ids), -1, np.int64)
        machine_of = {m: k for k, m in enumerate(self.machine_ids)}
        # (start, end, position in the job) grows along every job arc, so sequences sorted by
        # it cannot make a cycle even where zero-length operations share an instant
        lines: dict[int, list[tuple[int, int, int, int]]] = {}
        for a in schedule.assignments:
            o = self.index[(a.job, a.index)]
            m = machine_of[a.machine]
            sol[kernel.MACH, o] = m
            options = range(int(self.opt_ptr[o]), int(self.opt_ptr[o + 1]))
            sol[kernel.DUR, o] = next(int(self.opt_p[t]) for t in options if self.opt_m[t] == m)
            lines.setdefault(m, []).append((a.start, a.end, a.index, o))
        for m, line in lines.items():
            line.sort()
            previous = -1
            for *_, o in line:
                sol[kernel.MP, o] = previous
                if previous >= 0:
                    sol[kernel.MS, previous] = o
                else:
                    first[m] = o
                previous = o
        return sol, first

    def decode(self, sol: IntArray) -> tuple[Schedule, int]:
        """The semi-active schedule of a sequence: every operation as early as it can go."""
        n = len(self.refs)
        r = np.zeros(n, np.int64)
        q = np.zeros(n, np.int64)
        cmax = kernel.evaluate(
            self.jp, self.js, self.rel, sol, r, q, np.zeros(n, np.int64), np.zeros(n, np.int64)
        )
        if cmax < 0:  # the kernel only accepts acyclic sequences; this is a bug if reached
            raise RuntimeError("tabu search produced cyclic machine sequences")
        out = [
            Assignment(
                job,
                k,
                self.machine_ids[int(sol[kernel.MACH, o])],
                int(r[o]),
                int(r[o] + sol[kernel.DUR, o]),
            )
            for o, (job, k) in enumerate(self.refs)
        ]
        return Schedule.of(out), int(cmax)


@dataclass
class _Shared:
    """What the workers publish: the best makespan, its sequence and the moves done."""

    lock: threading.Lock
    best: int = -1
    sol: IntArray | None = None
    iterations: int = 0
    restarts: int = 0
    stop: bool = False


def _seed(seed: int, worker: int) -> int:
    return ((seed * 1_000_003 + worker * 7919) ^ 0x5DEECE66D) & ((1 << 48) - 1)


def _params(graph: _Graph, settings: TabuSettings, target: int) -> IntArray:
    problem = graph.problem
    n_jobs = len(problem.jobs)
    n_machines = max(1, len(problem.machines))
    low = 10 + n_jobs // n_machines
    span = max(2, (low * (4 if n_jobs <= 2 * n_machines else 5)) // 10)
    ops = len(graph.refs)
    params = np.zeros(kernel.N_PARAMS, np.int64)
    params[kernel.TENURE_MIN] = low
    params[kernel.TENURE_SPAN] = span
    params[kernel.STALL] = settings.stall or max(20_000, 10 * ops)
    params[kernel.KICKS] = 3
    params[kernel.EXACT] = settings.exact or 1
    params[kernel.TARGET] = target
    return params


def _worker(
    graph: _Graph,
    settings: TabuSettings,
    start: tuple[IntArray, IntArray],
    params: IntArray,
    worker: int,
    deadline: float,
    shared: _Shared,
    clock: Callable[[], float],
) -> tuple[int, int, IntArray]:
    sol, first = start[0].copy(), start[1].copy()
    best_sol, best_first = sol.copy(), first.copy()
    n = len(graph.refs)
    tabu = np.zeros((n, n), np.int32)
    tabu_m = np.zeros((n, len(graph.machine_ids)), np.int32)
    counters = np.zeros(kernel.N_COUNTERS, np.int64)
    counters[kernel.BEST] = -1
    rng = np.array([_seed(settings.seed, worker)], np.int64)
    steps = 64
    limit = settings.max_iterations
    while not shared.stop:
        todo = steps if limit is None else min(steps, limit - int(counters[kernel.IT]))
        if todo <= 0:
            break
        t0 = clock()
        best = kernel.search(
            graph.jp, graph.js, graph.rel, graph.opt_ptr, graph.opt_m, graph.opt_p, sol, first,
            best_sol, best_first, tabu, tabu_m, params, counters, rng, todo,
        )  # fmt: skip
        spent = clock() - t0
        with shared.lock:
            if shared.best < 0 or best < shared.best:
                shared.best = int(best)
                shared.sol = best_sol.copy()
        if counters[kernel.DONE]:
            with shared.lock:
                shared.stop = True
            break
        if limit is None:
            if clock() >= deadline:
                break
            # slices of about 50 ms: the deadline is kept without the clock in the kernel
            steps = int(min(max(steps * (0.05 / max(spent, 1e-4)), 16), steps * 4))
    with shared.lock:
        shared.iterations += int(counters[kernel.IT])
        shared.restarts += int(counters[kernel.SINCE_RESTART])
    return int(counters[kernel.BEST]), worker, best_sol


def warm_up() -> float:
    """Compile (or load from numba's disk cache) the kernels; returns the seconds it took.

    The first search in a process pays this otherwise, inside its time limit: about
    15–20 s when the cache is cold (after an install or an edit of the kernels).
    """
    t0 = time.perf_counter()
    problem = Problem(
        tuple(
            Job(
                f"j{j}", tuple(Operation((Option(f"m{(j + k) % 2}", 1 + j + k),)) for k in range(2))
            )
            for j in range(2)
        ),
        (Machine("m0"), Machine("m1")),
        name="warm-up",
    )
    start = Schedule.of(
        [
            Assignment("j0", 0, "m0", 0, 1),
            Assignment("j1", 0, "m1", 0, 2),
            Assignment("j0", 1, "m1", 2, 4),
            Assignment("j1", 1, "m0", 2, 5),
        ]
    )
    tabu_search(problem, start, TabuSettings(time_limit=60, max_iterations=5))
    return time.perf_counter() - t0


def tabu_search(
    problem: Problem,
    start: Schedule,
    settings: TabuSettings | None = None,
    *,
    on_improve: Improvement | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> TabuResult:
    """The best schedule found from ``start`` (a valid schedule of ``problem``).

    Raises :class:`ValueError` if the problem has a feature the search does not
    model (see :func:`unsupported`) — the caller decides before calling.
    """
    settings = settings or TabuSettings()
    reason = unsupported(problem, Objective())
    if reason is not None:
        raise ValueError(f"tabu search does not model {reason} (problem {problem.name!r})")
    t0 = clock()
    graph = _Graph(problem)
    bound = makespan_lower_bound(problem)
    target = max(bound, settings.target if settings.target is not None else 0)
    encoded = graph.encode(start)
    params = _params(graph, settings, target)
    shared = _Shared(threading.Lock())
    deadline = t0 + settings.time_limit
    workers = max(1, settings.workers)
    reported = -1
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tabu") as pool:
        futures = [
            pool.submit(_worker, graph, settings, encoded, params, w, deadline, shared, clock)
            for w in range(workers)
        ]
        while not all(f.done() for f in futures):
            wait(futures, timeout=0.05)
            with shared.lock:
                value = shared.best
            if on_improve is not None and value >= 0 and (reported < 0 or value < reported):
                reported = value
                on_improve(clock() - t0, value)
        results = [f.result() for f in futures]
    # a worker stopped before its first slice (another reached the bound) reports -1
    ran = [item for item in results if item[0] >= 0]
    sol = min(ran, key=lambda item: (item[0], item[1]))[2] if ran else encoded[0]
    schedule, makespan = graph.decode(sol)
    if on_improve is not None and (reported < 0 or makespan < reported):
        on_improve(clock() - t0, makespan)
    return TabuResult(
        schedule=schedule,
        makespan=makespan,
        lower_bound=bound,
        iterations=shared.iterations,
        restarts=shared.restarts,
        seconds=clock() - t0,
    )
