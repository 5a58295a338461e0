"""The simulated plant's line, stepped in real time from the simulation's line model.

The factory simulation (:mod:`twinverse.sim.line`) computes KPIs of whole runs;
a PLC needs the line's *current* state instead. :class:`PlantLine` advances a
:class:`~twinverse.sim.line.LineModel` — its stations' cycle-time, failure and
repair distributions, buffer capacities, scrap rates and power draw — by a
step of simulated time, with the same blocking-after-service and
operation-dependent failure rules as the simulation contract
(``docs/simulation-line.md``, rules 1–5; operators and shifts are left out:
the plant runs around the clock). On top it models what a PLC shows and a
simulator does not need: temperature, vibration, alarms, and the operator's
controls (line speed, stop/start, reset, alarm acknowledgement).

Randomness comes from an injected ``numpy.random.Generator``; time from the
caller (``advance(dt)``): same seed and steps, same plant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

import numpy as np

from twinverse.sim.line import LineModel, Station

_STEP_S: Final = 0.5  # the longest simulated step taken at once
AMBIENT_C: Final = 24.0


class MachineState(StrEnum):
    """The twin's vocabulary for a machine's state."""

    RUNNING = "running"
    IDLE = "idle"  # starved: no part to work on
    BLOCKED = "blocked"  # done, but the next buffer is full
    DOWN = "down"  # failed, under repair
    STOPPED = "stopped"  # stopped by the operator


# The Machinery companion spec's MachineryItemState for each twin state.
MACHINERY_ITEM_STATE: Final = {
    MachineState.RUNNING: "Executing",
    MachineState.IDLE: "NotExecuting",
    MachineState.BLOCKED: "NotExecuting",
    MachineState.DOWN: "OutOfService",
    MachineState.STOPPED: "NotAvailable",
}


@dataclass(slots=True)
class MachineStatus:
    """What the PLC of one station shows."""

    station: Station
    state: MachineState = MachineState.IDLE
    holding: bool = False
    remaining_s: float = 0.0
    cycle_time_s: float = 0.0
    ttf_s: float = float("inf")
    repair_s: float = 0.0
    enabled: bool = True
    parts: int = 0
    scrap: int = 0
    temperature_c: float = AMBIENT_C
    vibration_mm_s: float = 0.0
    power_kw: float = 0.0
    alarm: str = ""
    alarm_acknowledged: bool = True
    fault_vibration_mm_s: float = 0.0
    """Extra vibration while running (an injected bearing fault, for tests and drills)."""


@dataclass(slots=True)
class PlantLine:
    """A line of machines and buffers in motion (see the module docstring)."""

    model: LineModel
    rng: np.random.Generator
    speed_pct: float = 100.0
    clock_s: float = 0.0
    machines: list[MachineStatus] = field(init=False)
    buffers: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.machines = [MachineStatus(s) for s in self.model.stations]
        self.buffers = [0] * len(self.model.buffers)
        for m in self.machines:
            m.ttf_s = self._draw_ttf(m.station)

    @property
    def good_parts(self) -> int:
        return self.machines[-1].parts if self.machines else 0

    def _draw_ttf(self, station: Station) -> float:
        return float(station.mtbf.sample(self.rng)) if station.mtbf is not None else float("inf")

    # ------------------------------------------------------------- controls
    def set_enabled(self, index: int, enabled: bool) -> None:
        self.machines[index].enabled = enabled

    def reset(self, index: int) -> None:
        """End a repair now (the technician is done) and clear the alarm."""
        m = self.machines[index]
        if m.state is MachineState.DOWN:
            m.repair_s = 0.0
        m.alarm = ""
        m.alarm_acknowledged = True

    def acknowledge_alarm(self, index: int) -> None:
        self.machines[index].alarm_acknowledged = True

    # ------------------------------------------------------------- dynamics
    def advance(self, dt_s: float) -> None:
        """Move the line ``dt_s`` simulated seconds on."""
        left = dt_s
        while left > 1e-9:
            h = min(left, _STEP_S)
            self._step(h)
            left -= h
        self.clock_s += dt_s
        self._physics(dt_s)

    def _capacity(self, i: int) -> float:
        cap = self.model.buffers[i]
        return float("inf") if cap is None else float(cap)

    def _step(self, h: float) -> None:
        rate = self.speed_pct / 100.0
        last = len(self.machines) - 1
        # Downstream first, so a part leaving frees room for the one behind it in this step.
        for i in range(last, -1, -1):
            m = self.machines[i]
            if m.state is MachineState.DOWN:
                m.repair_s -= h
                if m.repair_s > 0:
                    continue
                m.state = MachineState.RUNNING if m.holding else MachineState.IDLE
                m.ttf_s = self._draw_ttf(m.station)
            if m.holding and m.remaining_s > 0:
                if not m.enabled:
                    m.state = MachineState.STOPPED
                    continue
                m.state = MachineState.RUNNING
                work = h * rate
                m.remaining_s -= work
                m.ttf_s -= work
                if m.ttf_s <= 0 and m.station.mttr is not None:
                    m.state = MachineState.DOWN
                    m.repair_s = float(m.station.mttr.sample(self.rng))
                    m.alarm = f"{m.station.id}: machine fault, repair under way"
                    m.alarm_acknowledged = False
                    continue
            if m.holding and m.remaining_s <= 0:
                if self.rng.random() < m.station.scrap:
                    m.scrap += 1
                    m.holding = False
                elif i == last:
                    m.parts += 1
                    m.holding = False
                elif self.buffers[i] < self._capacity(i):
                    self.buffers[i] += 1
                    m.parts += 1
                    m.holding = False
                else:
                    m.state = MachineState.BLOCKED
                    continue
            if not m.holding:
                if not m.enabled:
                    m.state = MachineState.STOPPED
                    continue
                if i == 0 or self.buffers[i - 1] > 0:
                    if i > 0:
                        self.buffers[i - 1] -= 1
                    m.holding = True
                    m.cycle_time_s = float(m.station.process.sample(self.rng))
                    m.remaining_s = m.cycle_time_s
                    m.state = MachineState.RUNNING
                else:
                    m.state = MachineState.IDLE

    def _physics(self, dt_s: float) -> None:
        """Temperature, vibration and power follow the state (first-order lag, noise)."""
        for m in self.machines:
            busy = m.state is MachineState.RUNNING
            kw = m.station.power_kw
            m.power_kw = {
                MachineState.RUNNING: kw.busy,
                MachineState.BLOCKED: kw.blocked,
                MachineState.DOWN: kw.down,
                MachineState.STOPPED: kw.down,
            }.get(m.state, kw.idle)
            target = AMBIENT_C + (0.9 * kw.busy if busy else 0.2 * kw.idle)
            alpha = 1.0 - float(np.exp(-dt_s / 600.0))
            m.temperature_c += alpha * (target - m.temperature_c) + float(self.rng.normal(0, 0.05))
            m.vibration_mm_s = max(
                0.0,
                (2.5 + m.fault_vibration_mm_s if busy else 0.3)
                + float(self.rng.normal(0, 0.15 if busy else 0.03)),
            )
