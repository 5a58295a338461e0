"""How to solve: time limit, workers, seed, objective, search strategy; and what progress looks like."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from twinverse.schedule.dispatch import DispatchRule
from twinverse.schedule.solution import Figures, Objective, Schedule


class Strategy(StrEnum):
    """How the solver spends its time after the dispatch heuristics."""

    AUTO = "auto"
    """the portfolio: tabu search where it applies (small problems then hand over to one
    CP-SAT model to prove or improve), else one CP-SAT model on part of the time and
    large-neighbourhood search if not proven"""
    CPSAT = "cpsat"
    """one CP-SAT model on all of the time (the textbook approach)"""
    LNS = "lns"
    """large-neighbourhood search from the start"""
    TABU = "tabu"
    """the tabu search all the time (problems it does not model are solved as by AUTO)"""
    DISPATCH = "dispatch"
    """the best dispatch rule only"""


@dataclass(frozen=True, slots=True)
class Stability:
    """Penalty on departing from a previous plan: per time unit moved and per machine changed."""

    previous: tuple[tuple[str, int, str, int], ...] = ()
    """(job, index, machine, start) of the previous plan"""
    per_unit_moved: float = 1.0
    per_machine_change: float = 100.0


@dataclass(frozen=True, slots=True)
class SolverSettings:
    """Solver settings, injected: same settings and seed, same result (up to the time limit)."""

    time_limit: float = 30.0
    workers: int = 2
    seed: int = 0
    objective: Objective = field(default_factory=Objective)
    strategy: Strategy = Strategy.AUTO
    rules: tuple[DispatchRule, ...] = tuple(DispatchRule)
    full_share: float = 0.35
    """AUTO: share of the time given to the one-model phase"""
    lns_step: float = 2.0
    """seconds per neighbourhood solve"""
    lns_above: int = 400
    """AUTO: problems with at most this many operations get the one model all the time"""
    tabu_share: float = 0.3
    """AUTO: share of the time the tabu search gets on problems of at most ``prove_up_to``
    operations before one CP-SAT model, hinted with its best, tries to prove it optimal"""
    prove_up_to: int = 150
    """AUTO: larger problems the tabu search models get all the time"""
    circuit_limit: int = 160
    """machines with setups and more operations than this keep the warm start's sequence"""
    stability: Stability | None = None
    target: float | None = None
    """stop the heuristic phases as soon as the objective reaches this value (benchmarks: a
    best-known bound); a small problem's one CP-SAT model still runs to prove it optimal"""


class Phase(StrEnum):
    DISPATCH = "dispatch"
    TABU = "tabu"
    CPSAT = "cpsat"
    LNS = "lns"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Progress:
    """One report while solving: the best objective so far, the proven bound, the gap."""

    seconds: float
    phase: Phase
    objective: float
    bound: float | None

    @property
    def gap(self) -> float | None:
        if self.bound is None or self.objective == 0:
            return None
        return max(0.0, (self.objective - self.bound) / abs(self.objective))

    def to_dict(self) -> dict[str, object]:
        return {
            "seconds": round(self.seconds, 3),
            "phase": self.phase.value,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
        }


class SolveStatus(StrEnum):
    OPTIMAL = "optimal"
    """proven optimal by CP-SAT, or equal to the makespan's lower bound"""
    FEASIBLE = "feasible"
    """improved by the tabu search or improved or confirmed by CP-SAT, not proven optimal"""
    HEURISTIC = "heuristic"
    """the dispatch rule's schedule (CP-SAT found nothing better in time, or was not asked)"""


@dataclass(frozen=True)
class SolveResult:
    """A solved problem: the schedule, its figures, the proof state and the progress history."""

    schedule: Schedule
    figures: Figures
    status: SolveStatus
    bound: float | None
    seconds: float
    rule: DispatchRule
    history: tuple[Progress, ...]

    @property
    def gap(self) -> float | None:
        if self.bound is None or self.figures.value == 0:
            return None
        return max(0.0, (self.figures.value - self.bound) / abs(self.figures.value))

    def to_dict(self) -> dict[str, object]:
        return {
            "status": self.status.value,
            "figures": self.figures.to_dict(),
            "bound": self.bound,
            "gap": self.gap,
            "seconds": round(self.seconds, 3),
            "rule": self.rule.value,
            "history": [p.to_dict() for p in self.history],
            "assignments": self.schedule.to_dict(),
        }
