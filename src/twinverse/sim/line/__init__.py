"""The factory-line simulator: a serial line of stations, buffers, failures, operators and shifts.

The model and its exact semantics are ``docs/simulation-line.md``.

>>> model = LineModel.from_dict(data)                       # or line_model_from_scenario(...)
>>> results = simulate_line(model, parts=20_000, warmup=1_000, replications=30, seed=1)
>>> results.estimate(Kpi.THROUGHPUT_PER_H)                 # mean with a 95 % interval

Two engines run it: a compiled discrete-event simulation of the whole contract
(:mod:`~twinverse.sim.line.engine`) and, for lines with one server per station
and no operators, shifts or scrap, the much faster departure-time recursion
(:mod:`~twinverse.sim.line.flowline`). ``simulate_line`` picks the recursion when
the model allows it.
"""

from twinverse.sim.line.errors import (
    FlowLineError,
    LineModelError,
    LineNotFoundError,
    Problem,
    RunSettingsError,
)
from twinverse.sim.line.flowline import flow_line_obstacles
from twinverse.sim.line.from_scenario import SKILL_LEVEL_FACTORS, line_model_from_scenario
from twinverse.sim.line.model import Dist, LineModel, Operator, PowerKw, Shifts, Station
from twinverse.sim.line.results import (
    Estimate,
    Kpi,
    LineResults,
    Method,
    RunSettings,
    ServerState,
    confidence_interval,
)
from twinverse.sim.line.simulate import choose_method, simulate_line

__all__ = [
    "SKILL_LEVEL_FACTORS",
    "Dist",
    "Estimate",
    "FlowLineError",
    "Kpi",
    "LineModel",
    "LineModelError",
    "LineNotFoundError",
    "LineResults",
    "Method",
    "Operator",
    "PowerKw",
    "Problem",
    "RunSettings",
    "RunSettingsError",
    "ServerState",
    "Shifts",
    "Station",
    "choose_method",
    "confidence_interval",
    "flow_line_obstacles",
    "line_model_from_scenario",
    "simulate_line",
]
