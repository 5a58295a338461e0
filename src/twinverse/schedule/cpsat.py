"""The CP-SAT model of a flexible job shop, and the search that uses it (the only OR-Tools import).

The model: one interval per operation (fixed size per machine option, optional
intervals for alternatives sharing the operation's start and end), job chains
as precedences, ``NoOverlap`` per machine with its closed windows as fixed
intervals, a ``Circuit`` per machine with sequence-dependent setups (arc
literals imply ``end_i + setup(i, j) <= start_j``), optional intervals per
qualified operator with a ``NoOverlap`` per operator (their absences as fixed
intervals), and the objective as a weighted sum of makespan, weighted
tardiness, setup time and, when re-scheduling, the stability penalty.

A *neighbourhood* relaxes a set of operations: those outside it keep their
machine, operator and order relative to each other on each machine (as
precedences), but may move in time. The full model relaxes everything.
Machines with setups and more than ``circuit_limit`` operations keep the
incumbent's sequence in every model (they are only re-timed).

:func:`solve` runs the portfolio :class:`SolverSettings` asks for — dispatch, then
on problems the tabu search models (:func:`twinverse.schedule.tabu.unsupported`)
the tabu search and, on small ones, one model to prove its result optimal;
otherwise one model and LNS — and reports :class:`Progress` through a callback.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from twinverse.schedule.dispatch import best_dispatch
from twinverse.schedule.problem import Assignment, OpRef, Problem
from twinverse.schedule.settings import (
    Phase,
    Progress,
    SolveResult,
    SolverSettings,
    SolveStatus,
    Strategy,
)
from twinverse.schedule.solution import Schedule, measure
from twinverse.schedule.tabu import (
    TabuSettings,
    makespan_lower_bound,
    tabu_search,
    unsupported,
    warm_up,
)

ProgressCallback = Callable[[Progress], None]
SCALE = 100  # objective weights are kept to two decimals


@dataclass(frozen=True, slots=True)
class _Op:
    ref: OpRef
    job: int
    options: tuple[tuple[int, int], ...]  # (machine index, duration)
    skill: frozenset[str]
    family: str
    frozen: Assignment | None


class _Index:
    """The problem as flat tables the model builder walks."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.machine_ids = [m.id for m in problem.machines]
        self.machine_of = {m: n for n, m in enumerate(self.machine_ids)}
        frozen = problem.frozen_map()
        self.ops: list[_Op] = []
        self.chains: list[list[int]] = []
        for j, job in enumerate(problem.jobs):
            chain = []
            for k, op in enumerate(job.operations):
                ref = OpRef(job.id, k)
                chain.append(len(self.ops))
                self.ops.append(
                    _Op(
                        ref,
                        j,
                        tuple((self.machine_of[o.machine], o.duration) for o in op.options),
                        op.skill,
                        job.family,
                        frozen.get(ref),
                    )
                )
            self.chains.append(chain)
        self.of_ref = {op.ref: n for n, op in enumerate(self.ops)}
        self.on_machine: list[list[int]] = [[] for _ in self.machine_ids]
        for n, item in enumerate(self.ops):
            if item.frozen is not None:
                self.on_machine[self.machine_of[item.frozen.machine]].append(n)
            else:
                for m, _ in item.options:
                    self.on_machine[m].append(n)
        self.qualified: dict[frozenset[str], list[str]] = {}
        for item in self.ops:
            if item.skill and item.skill not in self.qualified:
                self.qualified[item.skill] = [
                    o.id for o in problem.operators if item.skill <= o.skills
                ]


@dataclass
class _Built:
    model: cp_model.CpModel
    start: list[cp_model.IntVar]
    end: list[cp_model.IntVar]
    presence: list[dict[int, cp_model.IntVar | int]]  # op -> machine -> literal (or 1)
    worker: list[dict[str, cp_model.IntVar]]  # op -> operator -> literal
    objective: cp_model.LinearExpr


def _minus(windows: list[tuple[int, int]], cut: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Windows less the spans frozen operations hold (an interrupted one runs into a breakdown)."""
    out = windows
    for c0, c1 in cut:
        out = [
            piece
            for a, b in out
            for piece in ((a, min(b, c0)), (max(a, c1), b))
            if piece[1] > piece[0]
        ]
    return out


def _setup(problem: Problem, m: int, before: str, after: str) -> int:
    return problem.machines[m].setups.time(before, after)


def _build(
    index: _Index,
    settings: SolverSettings,
    horizon: int,
    incumbent: dict[OpRef, Assignment] | None,
    relaxed: set[int] | None,
    cap: int | None,
    *,
    compact: bool = False,
) -> _Built:
    """The model; ``relaxed`` None relaxes every operation (the full model)."""
    problem = index.problem
    model = cp_model.CpModel()
    starts: list[cp_model.IntVar] = []
    ends: list[cp_model.IntVar] = []
    presence: list[dict[int, cp_model.IntVar | int]] = []
    worker: list[dict[str, cp_model.IntVar]] = []
    sequenced = {
        m
        for m, machine in enumerate(problem.machines)
        if machine.setups.any and len(index.on_machine[m]) > settings.circuit_limit
    }

    def free(n: int) -> bool:
        op = index.ops[n]
        if op.frozen is not None:
            return False
        if incumbent is None:
            return True
        placed = incumbent[op.ref]
        if index.machine_of[placed.machine] in sequenced:
            return False
        return relaxed is None or n in relaxed

    intervals: list[list[cp_model.IntervalVar]] = [[] for _ in index.machine_ids]
    people: dict[str, list[cp_model.IntervalVar]] = {o.id: [] for o in problem.operators}
    for n, op in enumerate(index.ops):
        name = str(op.ref)
        if op.frozen is not None:
            f = op.frozen
            s = model.new_constant(f.start)
            e = model.new_constant(f.end)
            m = index.machine_of[f.machine]
            intervals[m].append(model.new_fixed_size_interval_var(f.start, f.end - f.start, name))
            presence.append({m: 1})
            if f.operator is not None:
                people[f.operator].append(
                    model.new_fixed_size_interval_var(f.start, f.end - f.start, name)
                )
            worker.append({})
            starts.append(s)
            ends.append(e)
            continue
        job = problem.jobs[op.job]
        lo = max(job.release, problem.not_before)
        shortest = min(d for _, d in op.options)
        s = model.new_int_var(lo, max(lo, horizon - shortest), f"s{name}")
        e = model.new_int_var(lo + shortest, max(lo + shortest, horizon), f"e{name}")
        starts.append(s)
        ends.append(e)
        options = op.options
        placed = incumbent[op.ref] if incumbent is not None else None
        is_free = free(n)
        if not is_free and placed is not None:
            m = index.machine_of[placed.machine]
            options = tuple(o for o in op.options if o[0] == m)
        lits: dict[int, cp_model.IntVar | int] = {}
        if len(options) == 1:
            m, d = options[0]
            intervals[m].append(model.new_interval_var(s, d, e, f"i{name}"))
            lits[m] = 1
        else:
            chosen = []
            for m, d in options:
                lit = model.new_bool_var(f"p{name}@{m}")
                intervals[m].append(model.new_optional_interval_var(s, d, e, lit, f"i{name}@{m}"))
                lits[m] = lit
                chosen.append(lit)
            model.add_exactly_one(chosen)
        presence.append(lits)
        crew: dict[str, cp_model.IntVar] = {}
        if op.skill:
            lengths = sorted({d for m, d in options})
            size: cp_model.IntVar | int = lengths[0]
            if len(lengths) > 1:
                size = model.new_int_var_from_domain(
                    cp_model.Domain.from_values(lengths), f"d{name}"
                )
                model.add(e == s + size)
            names = index.qualified[op.skill]
            if not is_free and placed is not None and placed.operator is not None:
                names = [placed.operator]
            for who in names:
                lit = model.new_bool_var(f"w{name}@{who}")
                people[who].append(
                    model.new_optional_interval_var(s, size, e, lit, f"o{name}@{who}")
                )
                crew[who] = lit
            model.add_exactly_one(crew.values())
        worker.append(crew)

    for chain in index.chains:
        for a, b in itertools.pairwise(chain):
            model.add(starts[b] >= ends[a])

    held: dict[str, list[tuple[int, int]]] = {}
    for op in index.ops:
        if op.frozen is not None:
            held.setdefault(op.frozen.machine, []).append((op.frozen.start, op.frozen.end))
            if op.frozen.operator is not None:
                held.setdefault("@" + op.frozen.operator, []).append(
                    (op.frozen.start, op.frozen.end)
                )
    for m, machine in enumerate(problem.machines):
        closed = [
            model.new_fixed_size_interval_var(a, b - a, f"closed{m}.{a}")
            for a, b in _minus(list(machine.closed), held.get(machine.id, []))
            if a < horizon
        ]
        model.add_no_overlap(intervals[m] + closed)
    for operator in problem.operators:
        gaps = []
        if operator.available is not None:
            t = 0
            for a, b in operator.available:
                if a > t:
                    gaps.append((t, a))
                t = b
            gaps.append((t, max(t + 1, horizon + 1)))
        absent = [
            model.new_fixed_size_interval_var(a, b - a, f"absent{operator.id}.{a}")
            for a, b in _minus(gaps, held.get("@" + operator.id, []))
            if a < horizon
        ]
        model.add_no_overlap(people[operator.id] + absent)

    setup_terms: list[cp_model.LinearExpr] = []
    for m, machine in enumerate(problem.machines):
        nodes = index.on_machine[m]
        if not machine.setups.any or not nodes:
            continue
        if m in sequenced:
            assert incumbent is not None
            order = sorted(nodes, key=lambda n: incumbent[index.ops[n].ref].start)
            for a, b in itertools.pairwise(order):
                if index.ops[a].frozen is None or index.ops[b].frozen is None:
                    gap = _setup(problem, m, index.ops[a].family, index.ops[b].family)
                    model.add(starts[b] >= ends[a] + gap)
            first = order[0]
            if machine.initial_family is not None and index.ops[first].frozen is None:
                model.add(
                    starts[first]
                    >= _setup(problem, m, machine.initial_family, index.ops[first].family)
                )
            continue
        arcs: list[tuple[int, int, cp_model.LiteralT]] = []
        for i, a in enumerate(nodes, 1):
            present_a = presence[a].get(m, 0)
            if isinstance(present_a, int):
                if present_a == 0:
                    continue
            else:
                arcs.append((i, i, present_a.Not()))
            start_arc = model.new_bool_var(f"first{m}.{a}")
            arcs.append((0, i, start_arc))
            if machine.initial_family is not None and index.ops[a].frozen is None:
                need = _setup(problem, m, machine.initial_family, index.ops[a].family)
                if need:
                    model.add(starts[a] >= need).only_enforce_if(start_arc)
                    setup_terms.append(need * start_arc)
            arcs.append((i, 0, model.new_bool_var(f"last{m}.{a}")))
            for k, b in enumerate(nodes, 1):
                if a == b or (isinstance(presence[b].get(m, 0), int) and presence[b].get(m) != 1):
                    continue
                lit = model.new_bool_var(f"arc{m}.{a}.{b}")
                arcs.append((i, k, lit))
                gap = _setup(problem, m, index.ops[a].family, index.ops[b].family)
                both_frozen = index.ops[a].frozen is not None and index.ops[b].frozen is not None
                model.add(starts[b] >= ends[a] + (0 if both_frozen else gap)).only_enforce_if(lit)
                if gap and not both_frozen:
                    setup_terms.append(gap * lit)
        if arcs:
            arcs.append((0, 0, model.new_bool_var(f"idle{m}")))
            model.add_circuit(arcs)

    if incumbent is not None and relaxed is not None:
        # Operations outside the neighbourhood keep their order on each machine.
        for m in range(len(index.machine_ids)):
            kept = sorted(
                (
                    n
                    for n in index.on_machine[m]
                    if not free(n) and index.machine_of[incumbent[index.ops[n].ref].machine] == m
                ),
                key=lambda n: (incumbent[index.ops[n].ref].start, n),
            )
            setups = problem.machines[m].setups
            for a, b in itertools.pairwise(kept):
                gap = setups.time(index.ops[a].family, index.ops[b].family)
                model.add(starts[b] >= ends[a] + gap)

    objective = settings.objective
    terms: list[cp_model.LinearExpr] = []
    if objective.makespan:
        makespan = model.new_int_var(0, horizon, "makespan")
        model.add_max_equality(makespan, [ends[c[-1]] for c in index.chains])
        if incumbent is not None:
            model.add_hint(makespan, max(a.end for a in incumbent.values()))
        terms.append(round(SCALE * objective.makespan) * makespan)
    if objective.tardiness:
        for j, job in enumerate(problem.jobs):
            if job.due is None or not job.weight:
                continue
            late = model.new_int_var(0, horizon, f"late{job.id}")
            last = index.chains[j][-1]
            model.add(late >= ends[last] - job.due)
            if incumbent is not None:
                model.add_hint(late, max(0, incumbent[index.ops[last].ref].end - job.due))
            terms.append(round(SCALE * objective.tardiness * job.weight) * late)
    if objective.setup and setup_terms:
        terms.append(round(SCALE * objective.setup) * cp_model.LinearExpr.sum(setup_terms))
    if settings.stability is not None:
        terms += _stability(model, index, settings, starts, presence, horizon)
    total = sum(terms) if terms else model.new_constant(0)
    assert not isinstance(total, int)
    if cap is not None:
        model.add(total <= cap)
    if compact:
        # Lexicographic: the objective first, then the sum of job completions, so a
        # neighbourhood that cannot shorten the plan still compacts it and the next
        # one starts from a schedule with more slack (plain makespan has wide plateaus).
        weight = len(index.chains) * (horizon + 1)
        model.minimize(weight * total + sum(ends[c[-1]] for c in index.chains))
    else:
        model.minimize(total)

    if incumbent is not None:
        for n, op in enumerate(index.ops):
            if op.frozen is not None:
                continue
            placed = incumbent[op.ref]
            model.add_hint(starts[n], placed.start)
            model.add_hint(ends[n], placed.end)
            for m, picked in presence[n].items():
                if not isinstance(picked, int):
                    model.add_hint(picked, index.machine_of[placed.machine] == m)
            for who, lit in worker[n].items():
                model.add_hint(lit, placed.operator == who)
    return _Built(model, starts, ends, presence, worker, total)


def _stability(
    model: cp_model.CpModel,
    index: _Index,
    settings: SolverSettings,
    starts: list[cp_model.IntVar],
    presence: list[dict[int, cp_model.IntVar | int]],
    horizon: int,
) -> list[cp_model.LinearExpr]:
    assert settings.stability is not None
    terms: list[cp_model.LinearExpr] = []
    moved_w = round(SCALE * settings.stability.per_unit_moved)
    change_w = round(SCALE * settings.stability.per_machine_change)
    for job, k, machine, start in settings.stability.previous:
        n = index.of_ref.get(OpRef(job, k))
        if n is None or index.ops[n].frozen is not None:
            continue
        if moved_w:
            shift = model.new_int_var(0, horizon, f"moved{n}")
            model.add_abs_equality(shift, starts[n] - start)
            terms.append(moved_w * shift)
        m = index.machine_of.get(machine)
        lit = presence[n].get(m, 0) if m is not None else 0
        if change_w:
            if isinstance(lit, int):
                terms.append(model.new_constant(change_w * (1 - lit)))
            else:
                terms.append(change_w * (1 - lit))
    return terms


def _read(index: _Index, built: _Built, solver: cp_model.CpSolver) -> Schedule:
    out = []
    for n, op in enumerate(index.ops):
        if op.frozen is not None:
            out.append(op.frozen)
            continue
        machine = next(
            m for m, lit in built.presence[n].items() if isinstance(lit, int) or solver.value(lit)
        )
        who = next((w for w, lit in built.worker[n].items() if solver.value(lit)), None)
        out.append(
            Assignment(
                op.ref.job,
                op.ref.index,
                index.machine_ids[machine],
                solver.value(built.start[n]),
                solver.value(built.end[n]),
                operator=who,
            )
        )
    return Schedule.of(out)


class _Reporter(cp_model.CpSolverSolutionCallback):
    def __init__(self, clock: Callable[[], float], emit: Callable[[float, float], None]) -> None:
        super().__init__()
        self._clock = clock
        self._emit = emit

    def on_solution_callback(self) -> None:
        self._emit(self.objective_value / SCALE, self.best_objective_bound / SCALE)


def _solver(
    settings: SolverSettings, limit: float, seed: int, workers: int | None = None
) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, limit)
    solver.parameters.num_workers = workers or settings.workers
    solver.parameters.random_seed = seed
    return solver


def solve(
    problem: Problem,
    settings: SolverSettings | None = None,
    *,
    on_progress: ProgressCallback | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> SolveResult:
    """The best schedule found within the time limit; always at least the dispatch schedule.

    Raises :class:`~twinverse.schedule.errors.InfeasibleError` only when even the
    dispatch heuristic cannot place an operation.
    """
    settings = settings or SolverSettings()
    small = problem.operation_count <= settings.prove_up_to
    modelled = (
        unsupported(problem, settings.objective, stability=settings.stability is not None) is None
    )
    strategy = settings.strategy
    if strategy is Strategy.TABU and not modelled:
        strategy = Strategy.AUTO
    tabu_fits = modelled and strategy in (Strategy.AUTO, Strategy.TABU)
    if tabu_fits:
        # Compiling the kernels (once per install, 15–20 s; a cache load otherwise) cannot be
        # interrupted, so it would overrun the limit anyway: it is not counted as search time.
        warm_up()
    t0 = clock()
    history: list[Progress] = []
    bound: float | None = None

    def report(phase: Phase, value: float, proven: float | None) -> None:
        event = Progress(clock() - t0, phase, value, proven)
        history.append(event)
        if on_progress is not None:
            on_progress(event)

    incumbent, rule = best_dispatch(problem, settings.objective, settings.rules)
    best = _score(incumbent, problem, settings)
    report(Phase.DISPATCH, best, None)
    status = SolveStatus.HEURISTIC

    def reached(value: float) -> bool:
        return settings.target is not None and value <= settings.target + 1e-9

    def remaining() -> float:
        return settings.time_limit - (clock() - t0)

    if tabu_fits:
        share = settings.tabu_share if small and strategy is Strategy.AUTO else 1.0
        weight = settings.objective.makespan
        target = None if settings.target is None else int(settings.target / weight)
        bound = weight * makespan_lower_bound(problem)

        def on_tabu(seconds: float, makespan: int) -> None:
            report(Phase.TABU, weight * makespan, bound)

        searched = tabu_search(
            problem,
            incumbent,
            TabuSettings(
                time_limit=max(0.0, remaining() * share),
                seed=settings.seed,
                workers=settings.workers,
                target=target,
            ),
            on_improve=on_tabu,
            clock=clock,
        )
        value = _score(searched.schedule, problem, settings)
        if value < best - 1e-9:
            incumbent, best = searched.schedule, value
            status = SolveStatus.FEASIBLE
        if best <= bound + 1e-9:
            status = SolveStatus.OPTIMAL

    index = _Index(problem)
    if settings.objective.makespan > 0:
        # objective >= weight × makespan, so a better plan ends before best / weight
        horizon = int(best / settings.objective.makespan) + 1
    else:
        # a restriction, not a proof: tardiness-only plans may end at most twice as late
        horizon = 2 * max(incumbent.makespan, problem.not_before) + 1
    horizon = max(horizon, max((a.end for a in incumbent.assignments), default=0) + 1)

    one_model = strategy is Strategy.CPSAT or (
        strategy is Strategy.AUTO and (not tabu_fits or small)
    )
    # a small problem's model runs even when the target is reached: it may prove it optimal
    if (
        one_model
        and status is not SolveStatus.OPTIMAL
        and (not reached(best) or (tabu_fits and small))
    ):
        # Operators and calendars make the one model much harder to get going; those
        # problems keep time for the neighbourhood search whatever their size.
        plain = not problem.operators and not any(m.closed for m in problem.machines)
        whole = (
            strategy is Strategy.CPSAT
            or (plain and len(index.ops) <= settings.lns_above)
            or tabu_fits
        )
        share = 1.0 if whole else settings.full_share
        limit = remaining() * share if share < 1 else remaining()
        if limit > 0.05:
            by_ref = incumbent.by_ref()
            built = _build(index, settings, horizon, by_ref, None, None)
            solver = _solver(settings, limit, settings.seed)
            if tabu_fits and settings.workers == 2:
                # The tabu search brought the upper bound; both workers go after the lower one
                # (on ft10 this proves optimality in 30 s where the default pair does not).
                solver.parameters.subsolvers.extend(["max_lp", "lb_tree_search"])

            def emit(value: float, proven: float) -> None:
                report(Phase.CPSAT, value, proven)

            code = solver.solve(built.model, _Reporter(clock, emit))
            if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                found = _read(index, built, solver)
                value = _score(found, problem, settings)
                bound = max(bound or 0.0, solver.best_objective_bound / SCALE)
                if value <= best + 1e-9:
                    incumbent, best = found, value
                    status = SolveStatus.FEASIBLE
                if code == cp_model.OPTIMAL:
                    status = SolveStatus.OPTIMAL
    if (
        (strategy is Strategy.LNS or (strategy is Strategy.AUTO and not tabu_fits))
        and status is not SolveStatus.OPTIMAL
        and not (bound is not None and best <= bound + 1e-9)
    ):
        incumbent, best, improved = _lns(
            index, settings, horizon, incumbent, best, bound, remaining, report, reached
        )
        if improved and status is SolveStatus.HEURISTIC:
            status = SolveStatus.FEASIBLE
        if bound is not None and best <= bound + 1e-9:
            status = SolveStatus.OPTIMAL
    figures = measure(incumbent, problem, settings.objective)
    report(Phase.DONE, best, bound)
    return SolveResult(incumbent, figures, status, bound, clock() - t0, rule, tuple(history))


def _score(schedule: Schedule, problem: Problem, settings: SolverSettings) -> float:
    """The objective as the planner sees it: the figures' value plus the stability penalty."""
    return measure(schedule, problem, settings.objective).value + _stability_cost(
        schedule, settings
    )


def _stability_cost(schedule: Schedule, settings: SolverSettings) -> float:
    if settings.stability is None:
        return 0.0
    placed = schedule.by_ref()
    cost = 0.0
    for job, k, machine, start in settings.stability.previous:
        a = placed.get(OpRef(job, k))
        if a is None:
            continue
        cost += settings.stability.per_unit_moved * abs(a.start - start)
        cost += settings.stability.per_machine_change * (a.machine != machine)
    return cost


def _lns(
    index: _Index,
    settings: SolverSettings,
    horizon: int,
    incumbent: Schedule,
    best: float,
    bound: float | None,
    remaining: Callable[[], float],
    report: Callable[[Phase, float, float | None], None],
    reached: Callable[[float], bool],
) -> tuple[Schedule, float, bool]:
    rng = random.Random(settings.seed)
    candidates = [n for n, op in enumerate(index.ops) if op.frozen is None]
    if not candidates:
        return incumbent, best, False
    size = min(len(candidates), max(20, min(120, len(candidates) // 4)))
    improved = False
    iteration = 0
    while remaining() > 0.1:
        iteration += 1
        by_ref = incumbent.by_ref()
        relaxed = _neighbourhood(index, by_ref, candidates, size, rng)
        built = _build(index, settings, horizon, by_ref, relaxed, None, compact=True)
        limit = min(settings.lns_step, remaining())
        solver = _solver(settings, limit, settings.seed + iteration, workers=1)
        solver.parameters.linearization_level = 0  # no LP: the sub-solve must start fast
        code = solver.solve(built.model)
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            found = _read(index, built, solver)
            value = _score(found, index.problem, settings)
            if value < best - 1e-9:
                improved = True
                report(Phase.LNS, value, bound)
            if value <= best + 1e-9:
                incumbent, best = found, value
            size = (
                min(len(candidates), int(size * 1.15) + 1)
                if code == cp_model.OPTIMAL
                else max(10, int(size / 1.1))
            )
        else:
            size = max(10, int(size / 1.25))
        if (bound is not None and best <= bound + 1e-9) or reached(best):
            break
    return incumbent, best, improved


def _neighbourhood(
    index: _Index,
    placed: dict[OpRef, Assignment],
    candidates: list[int],
    size: int,
    rng: random.Random,
) -> set[int]:
    """A set of operations to relax: a time window, a few machines or a few jobs."""
    kind = rng.random()
    if kind < 0.45:
        by_start = sorted(candidates, key=lambda n: placed[index.ops[n].ref].start)
        at = rng.randrange(len(by_start))
        lo = max(0, at - size // 2)
        return set(by_start[lo : lo + size])
    if kind < 0.8:
        machines = list(range(len(index.machine_ids)))
        rng.shuffle(machines)
        chosen: set[int] = set()
        allowed = set(candidates)
        for m in machines:
            on = [
                n
                for n in index.on_machine[m]
                if n in allowed and index.machine_of[placed[index.ops[n].ref].machine] == m
            ]
            if chosen and len(chosen) + len(on) > size:
                break
            chosen.update(on)
        if len(chosen) > size:
            # one busy machine: a contiguous stretch of its sequence
            on = sorted(chosen, key=lambda n: placed[index.ops[n].ref].start)
            at = rng.randrange(max(1, len(on) - size))
            chosen = set(on[at : at + size])
        return chosen
    jobs = list(range(len(index.chains)))
    rng.shuffle(jobs)
    allowed = set(candidates)
    chosen = set()
    for j in jobs:
        chosen.update(n for n in index.chains[j] if n in allowed)
        if len(chosen) >= size:
            break
    return chosen
