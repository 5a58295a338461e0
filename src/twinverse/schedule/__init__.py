"""Production scheduling: flexible job shop, dispatch rules, CP-SAT, dynamic re-scheduling.

>>> problem = problem_from_scenario(scenario, read_orders("examples/orders.csv"))
>>> result = solve(problem, SolverSettings(time_limit=30, workers=2, seed=1))
>>> validate(result.schedule, problem)          # [] — checked independently of the solver
>>> replan(problem, result.schedule, now=600, events=[Breakdown("op040", 600, 780)])

Only :mod:`twinverse.schedule.cpsat` imports OR-Tools. The problem's constraints
are listed in :mod:`twinverse.schedule.problem`; docs/scheduling.md has the rest.
"""

from twinverse.schedule.cpsat import solve
from twinverse.schedule.dispatch import DispatchRule, best_dispatch, dispatch
from twinverse.schedule.errors import (
    InfeasibleError,
    InputFileError,
    ProblemError,
    UnknownReferenceError,
)
from twinverse.schedule.from_scenario import problem_from_scenario
from twinverse.schedule.instances import job_shop, parse_fjsp, read_fjsp
from twinverse.schedule.orders import LotPolicy, Order, parse_orders, read_orders
from twinverse.schedule.problem import (
    Assignment,
    Job,
    Machine,
    Operation,
    Operator,
    OpRef,
    Option,
    Problem,
    Setups,
)
from twinverse.schedule.report import gantt_html, gantt_png, machine_rows, order_rows
from twinverse.schedule.reschedule import (
    Breakdown,
    Change,
    ChangeKind,
    LateOperation,
    Replan,
    RushOrder,
    diff,
    replan,
    replan_problem,
)
from twinverse.schedule.settings import (
    Phase,
    Progress,
    SolveResult,
    SolverSettings,
    SolveStatus,
    Strategy,
)
from twinverse.schedule.solution import Figures, Objective, ObjectiveKind, Schedule, measure
from twinverse.schedule.validate import Violation, ViolationKind, validate

__all__ = [
    "Assignment",
    "Breakdown",
    "Change",
    "ChangeKind",
    "DispatchRule",
    "Figures",
    "InfeasibleError",
    "InputFileError",
    "Job",
    "LateOperation",
    "LotPolicy",
    "Machine",
    "Objective",
    "ObjectiveKind",
    "OpRef",
    "Operation",
    "Operator",
    "Option",
    "Order",
    "Phase",
    "Problem",
    "ProblemError",
    "Progress",
    "Replan",
    "RushOrder",
    "Schedule",
    "Setups",
    "SolveResult",
    "SolveStatus",
    "SolverSettings",
    "Strategy",
    "UnknownReferenceError",
    "Violation",
    "ViolationKind",
    "best_dispatch",
    "diff",
    "dispatch",
    "gantt_html",
    "gantt_png",
    "job_shop",
    "machine_rows",
    "measure",
    "order_rows",
    "parse_fjsp",
    "parse_orders",
    "problem_from_scenario",
    "read_fjsp",
    "read_orders",
    "replan",
    "replan_problem",
    "solve",
    "validate",
]
