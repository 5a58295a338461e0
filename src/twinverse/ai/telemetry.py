"""Models watching live telemetry: engines' remaining life and machines' anomalies.

A :class:`TelemetryMonitor` is fed what the ingest stored — numeric samples
and state readings, in any grouping — and answers with :class:`Findings`:
twin property changes to commit, maintenance alerts and anomalies. It holds no
thread, clock or I/O; the caller decides where samples come from and where
findings go.

**Remaining useful life.** A machine that reports C-MAPSS channels
(``setting1``…``setting3``, ``s1``…``s21``) and a ``cycle`` number is an engine:
when its ``cycle`` moves on, the latest value of every channel makes one cycle
for a :class:`~twinverse.ai.stream.RulMonitor`, and the estimate becomes the
properties ``health``, ``rul``, ``rul_low`` and ``rul_high``. The first time the
interval's lower bound reaches the threshold, ``maintenance_due`` turns true and
``maintenance_alert`` says why. A ``cycle`` that goes back means a new (or
overhauled) engine: its history starts again and the alert re-arms. Channels
whose value did not change are not sent by a data-change subscription; the
last value stands for them.

**Anomalies.** The properties in :attr:`WatchSettings.anomaly_properties` of
every machine go to a :class:`~twinverse.ai.anomaly.MachineDetector`, but only
while the machine's ``state`` is the running state: vibration and power follow
the state, and a machine going idle is not a fault. A finding becomes the
property ``anomaly`` (kind, property, score, time and how many were held back);
per machine at most one per :attr:`WatchSettings.anomaly_gap_s` seconds of
sample time, so a noisy sensor cannot flood the twin's log.

Within one call, readings are taken in time order; at the same time a state
comes before a measurement and a measurement before ``cycle`` (the plant writes
a row's values, then its cycle, with one timestamp).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from twinverse.ai.anomaly import Anomaly, DetectorSettings, MachineDetector
from twinverse.ai.rul import RulModel
from twinverse.ai.stream import MaintenanceAlert, RulEstimate, RulMonitor, property_changes
from twinverse.twin.events import PropertySet
from twinverse.twin.ids import EntityId, prefix_of

CYCLE: Final = "cycle"
STATE: Final = "state"
SETTING_CHANNELS: Final = ("setting1", "setting2", "setting3")
SENSOR_CHANNELS: Final = tuple(f"s{j}" for j in range(1, 22))
ENGINE_CHANNELS: Final = (*SETTING_CHANNELS, *SENSOR_CHANNELS)
"""The twin properties of an engine, in C-MAPSS column order."""

_CHANNEL_INDEX: Final = {name: i for i, name in enumerate(ENGINE_CHANNELS)}
_NS: Final = 1_000_000_000


@dataclass(frozen=True, slots=True)
class WatchSettings:
    """What the monitor watches and how loudly it may speak."""

    alert_below: float = 30.0
    """Cycles: a maintenance alert when the RUL interval's lower bound reaches this."""
    anomaly_properties: frozenset[str] = frozenset({"vibration"})
    """Properties with an anomaly detector. Temperature and power follow the machine's
    state (they drift after every stop), so they are left out by default."""
    running_state: str = "running"
    """Detectors learn and judge only while a machine reports this state."""
    anomaly_gap_s: float = 30.0
    """At most one anomaly event per machine in this many seconds (sample time)."""
    detector: DetectorSettings = field(default_factory=DetectorSettings)


@dataclass(frozen=True, slots=True)
class Reading:
    """One stored value: ``entity``'s ``prop`` was ``value`` at ``ts`` (ns since the epoch)."""

    entity: str
    prop: str
    ts: int
    value: float | str


@dataclass(frozen=True, slots=True)
class MachineAnomaly:
    """An anomaly found on a machine, with the number held back since the last one shown."""

    machine: str
    anomaly: Anomaly
    held_back: int

    @property
    def prop(self) -> str:
        source = self.anomaly.source
        return source.rsplit("/", 1)[-1] if source != self.machine else "*"

    def to_value(self) -> dict[str, object]:
        """The ``anomaly`` property's value (plain JSON)."""
        return {
            "kind": self.anomaly.kind.value,
            "property": self.prop,
            "score": round(float(self.anomaly.score), 2),
            "at": self.anomaly.ts,
            "held_back": self.held_back,
        }


@dataclass(slots=True)
class Findings:
    """What one call to :meth:`TelemetryMonitor.observe` found."""

    changes: dict[str, list[PropertySet]] = field(default_factory=dict)
    """Twin prefix -> property changes to commit."""
    estimates: dict[str, RulEstimate] = field(default_factory=dict)
    alerts: list[MaintenanceAlert] = field(default_factory=list)
    anomalies: list[MachineAnomaly] = field(default_factory=list)
    held_back: int = 0

    def add(self, entity: str, prop: str, value: object) -> None:
        self.changes.setdefault(prefix_of(entity), []).append(
            PropertySet(EntityId(entity), prop, value)
        )


@dataclass(slots=True)
class _Engine:
    channels: np.ndarray = field(default_factory=lambda: np.full(len(ENGINE_CHANNELS), np.nan))
    cycle: int = 0


@dataclass(slots=True)
class _Gate:
    last_shown: int | None = None
    held_back: int = 0


class TelemetryMonitor:
    """RUL for engines and anomaly detection for machines, from stored readings.

    ``model`` may be None: then only anomalies are watched. Lifecycle: build,
    :meth:`observe` as readings arrive, in time order across calls.
    """

    def __init__(self, model: RulModel | None, settings: WatchSettings | None = None) -> None:
        self.settings = settings or WatchSettings()
        self.model = model
        self.rul = RulMonitor(model, alert_below=self.settings.alert_below) if model else None
        self._engines: dict[str, _Engine] = {}
        self._states: dict[str, str] = {}
        self._detectors: dict[str, MachineDetector] = {}
        self._gates: dict[str, _Gate] = {}
        self._watched: dict[str, int] = {}
        self.cycles_seen = 0

    def samples_watched(self, machine: str) -> int:
        """Samples of ``machine`` its anomaly detector has seen (while running)."""
        return self._watched.get(machine, 0)

    def observe(self, readings: Iterable[Reading]) -> Findings:
        """Take readings (any order within the call) and return what they show."""
        found = Findings()
        ordered = sorted(readings, key=_order)
        watched = self.settings.anomaly_properties
        pending: dict[tuple[str, int], dict[str, float]] = {}
        for r in ordered:
            if r.prop == STATE:
                self._states[r.entity] = str(r.value)
            elif isinstance(r.value, str):
                continue
            elif r.prop == CYCLE:
                self._cycle(r.entity, int(r.value), found)
            elif r.prop in _CHANNEL_INDEX:
                engine = self._engines.setdefault(r.entity, _Engine())
                engine.channels[_CHANNEL_INDEX[r.prop]] = r.value
            elif r.prop in watched:
                state = self._states.get(r.entity)
                if state is None or state == self.settings.running_state:
                    pending.setdefault((r.entity, r.ts), {})[r.prop] = r.value
        for (machine, ts), values in pending.items():
            self._detect(machine, ts, values, found)
        return found

    # ------------------------------------------------------------------ RUL
    def _cycle(self, entity: str, cycle: int, found: Findings) -> None:
        engine = self._engines.setdefault(entity, _Engine())
        if cycle == engine.cycle or self.rul is None:
            engine.cycle = cycle
            return
        if cycle < engine.cycle:
            # a new engine on the stand (or this one overhauled): start again
            self.rul.maintained(entity)
            found.add(entity, "maintenance_due", False)
            found.add(entity, "maintenance_alert", "")
        engine.cycle = cycle
        if np.isnan(engine.channels).any():
            return  # not every channel seen yet
        self.cycles_seen += 1
        settings = engine.channels[: len(SETTING_CHANNELS)]
        sensors = engine.channels[len(SETTING_CHANNELS) :]
        estimate, alert = self.rul.update(entity, settings, sensors)
        found.estimates[entity] = estimate
        for change in property_changes(EntityId(entity), estimate):
            found.add(entity, change.name, change.value)
        if alert is not None:
            found.alerts.append(alert)
            found.add(entity, "maintenance_due", True)
            found.add(entity, "maintenance_alert", alert.message)

    # ------------------------------------------------------------ anomalies
    def _detect(self, machine: str, ts: int, values: dict[str, float], found: Findings) -> None:
        detector = self._detectors.get(machine)
        if detector is None:
            detector = self._detectors[machine] = MachineDetector(machine, self.settings.detector)
        self._watched[machine] = self._watched.get(machine, 0) + 1
        hits = detector.update(ts / _NS, values)
        if not hits:
            return
        gate = self._gates.setdefault(machine, _Gate())
        gap_ns = int(self.settings.anomaly_gap_s * _NS)
        if gate.last_shown is not None and ts - gate.last_shown < gap_ns:
            gate.held_back += len(hits)
            found.held_back += len(hits)
            return
        strongest = max(hits, key=lambda a: a.score)
        shown = MachineAnomaly(machine, strongest, gate.held_back + len(hits) - 1)
        gate.last_shown, gate.held_back = ts, 0
        found.anomalies.append(shown)
        found.add(machine, "anomaly", shown.to_value())


def _order(r: Reading) -> tuple[int, int]:
    rank = 0 if r.prop == STATE else 2 if r.prop == CYCLE else 1
    return (r.ts, rank)
