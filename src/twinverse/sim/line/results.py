"""What a line simulation reports: per-replication KPI arrays and their confidence intervals.

The KPIs are those of ``docs/simulation-line.md`` (:class:`Kpi`), each an array
with one value per replication, over the measured period (after warm-up).
:meth:`LineResults.estimate` gives the mean over replications with a Student-t
confidence interval; replications are independent, so this is the classical
independent-replications interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

import numpy as np

from twinverse.sim.line.model import LineModel, PowerKw
from twinverse.sim.stats import Estimate, confidence_interval


class ServerState(StrEnum):
    """What a server is doing; the order is that of the ``state_fraction`` axis."""

    BUSY = "busy"
    STARVED = "starved"
    BLOCKED = "blocked"
    DOWN = "down"
    WAITING_OPERATOR = "waiting_operator"
    OFF_SHIFT = "off_shift"

    @property
    def position(self) -> int:
        """Where the state sits on the ``state_fraction`` axis (and in the kernels' codes)."""
        return _STATE_ORDER.index(self)


_STATE_ORDER: Final = tuple(ServerState)

# The power figure each state draws: starved, waiting and off-shift servers stand idle.
POWER_OF_STATE: Final[MappingProxyType[ServerState, str]] = MappingProxyType(
    {
        ServerState.BUSY: "busy",
        ServerState.STARVED: "idle",
        ServerState.BLOCKED: "blocked",
        ServerState.DOWN: "down",
        ServerState.WAITING_OPERATOR: "idle",
        ServerState.OFF_SHIFT: "idle",
    }
)


class Kpi(StrEnum):
    """The scalar KPIs every engine reports (keys of the contract)."""

    GOOD = "good"
    SCRAP = "scrap"
    MAKESPAN = "makespan"
    THROUGHPUT_PER_H = "throughput_per_h"
    WIP_MEAN = "wip_mean"
    LEAD_TIME_MEAN = "lead_time_mean"
    LEAD_TIME_P50 = "lead_time_p50"
    LEAD_TIME_P90 = "lead_time_p90"
    ENERGY_KWH = "energy_kwh"


class Method(StrEnum):
    """Which engine runs a simulation: ``auto`` takes the recursion whenever the model allows it."""

    AUTO = "auto"
    DES = "des"
    RECURSION = "recursion"


@dataclass(frozen=True, slots=True)
class RunSettings:
    """How a simulation was run. ``parts=None``: until ``horizon`` only."""

    parts: int | None
    warmup: int
    horizon: float | None
    replications: int
    seed: int


@dataclass(frozen=True, slots=True, eq=False)
class LineResults:
    """KPI arrays of a run, one entry per replication (``state_fraction`` is [replication, station, state])."""

    model: LineModel
    method: Method
    settings: RunSettings
    good: np.ndarray
    scrap: np.ndarray
    makespan: np.ndarray
    throughput_per_h: np.ndarray
    wip_mean: np.ndarray
    lead_time_mean: np.ndarray
    lead_time_p50: np.ndarray
    lead_time_p90: np.ndarray
    energy_kwh: np.ndarray
    state_fraction: np.ndarray
    processed: np.ndarray  # [replication, station]: parts that finished processing (good and scrap)
    warmup_end: np.ndarray  # when statistics started, per replication
    events: np.ndarray  # events handled (recursion: station visits and repairs computed)
    wall_s: float

    @property
    def replications(self) -> int:
        return int(self.good.size)

    def values(self, kpi: Kpi | str) -> np.ndarray:
        return np.asarray(getattr(self, Kpi(kpi).value))

    def estimate(self, kpi: Kpi | str, confidence: float = 0.95) -> Estimate:
        return confidence_interval(self.values(kpi), confidence)

    def state_estimate(
        self, station: str, state: ServerState | str, confidence: float = 0.95
    ) -> Estimate:
        i = self.model.station_index(station)
        return confidence_interval(
            self.state_fraction[:, i, ServerState(state).position], confidence
        )

    def summary(self, confidence: float = 0.95) -> dict[Kpi, Estimate]:
        return {kpi: self.estimate(kpi, confidence) for kpi in Kpi}

    def replication(self, r: int) -> dict[str, Any]:
        """Replication ``r`` in the contract's KPI form (state fractions by station id and state)."""
        out: dict[str, Any] = {kpi.value: float(self.values(kpi)[r]) for kpi in Kpi}
        out["good"] = int(self.good[r])
        out["scrap"] = int(self.scrap[r])
        out["state_fraction"] = {
            station.id: {
                state.value: float(self.state_fraction[r, i, state.position])
                for state in ServerState
            }
            for i, station in enumerate(self.model.stations)
        }
        return out


def power_matrix(model: LineModel) -> np.ndarray:
    """kW drawn by one server of each station in each state: [station, state]."""
    out = np.zeros((len(model.stations), len(ServerState)))
    for i, station in enumerate(model.stations):
        power: PowerKw = station.power_kw
        for state in ServerState:
            out[i, state.position] = getattr(power, POWER_OF_STATE[state])
    return out


def assemble(
    model: LineModel,
    method: Method,
    settings: RunSettings,
    scalars: np.ndarray,
    state_time: np.ndarray,
    processed: np.ndarray,
    wall_s: float,
) -> LineResults:
    """Derive the KPIs from the kernels' raw figures (shared by both engines).

    ``scalars`` rows are the kernels' return tuples: good, scrap, end, warm-up end,
    WIP integral, lead mean, p50, p90, events. ``state_time`` is server-seconds per
    [replication, station, state].
    """
    good, scrap, end, t_warm, wip_area, lead_mean, p50, p90, events = scalars.T
    duration = end - t_warm
    with np.errstate(invalid="ignore", divide="ignore"):
        servers = np.array([s.servers for s in model.stations], np.float64)
        fraction = state_time / (duration[:, None, None] * servers[None, :, None])
        energy = np.einsum("rij,ij->r", state_time, power_matrix(model)) / 3600.0
        throughput = np.where(duration > 0, good / duration * 3600.0, np.nan)
        wip_mean = np.where(duration > 0, wip_area / duration, np.nan)
    return LineResults(
        model=model,
        method=method,
        settings=settings,
        good=good.astype(np.int64),
        scrap=scrap.astype(np.int64),
        makespan=end,
        throughput_per_h=throughput,
        wip_mean=wip_mean,
        lead_time_mean=lead_mean,
        lead_time_p50=p50,
        lead_time_p90=p90,
        energy_kwh=energy,
        state_fraction=fraction,
        processed=processed,
        warmup_end=t_warm,
        events=events.astype(np.int64),
        wall_s=wall_s,
    )
