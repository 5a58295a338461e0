"""The industrial AI on the live twin: what the ingest stores goes to the models, findings to the twin.

The live package and the AI package do not know each other; this module binds
them. :class:`LiveAi` listens to the ingest pipeline (after each durable
flush), hands the readings to a worker thread through a bounded queue — a slow
model never delays the ingest — and commits the
:class:`~twinverse.ai.telemetry.TelemetryMonitor`'s findings (``health``,
``rul``, ``rul_low``, ``rul_high``, ``maintenance_due``, ``anomaly``) as twin
events, which the live hub streams on ``/live`` like any property change.

The engine test stand: :func:`stand_machines` turns C-MAPSS test engines into
recorded machines for the simulated plant (one cycle per ``period_s`` of plant
time) and :func:`stand_tag_map` maps their OPC UA variables onto the engines of
``examples/live/engine-test-stand.yaml``.

Lifecycle: build (nothing starts), :meth:`LiveAi.start` with the pipeline,
:meth:`LiveAi.stop`.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from twinverse.ai.cmapss import Subset
from twinverse.ai.errors import DataFormatError
from twinverse.ai.telemetry import (
    CYCLE,
    ENGINE_CHANNELS,
    STATE,
    Findings,
    Reading,
    TelemetryMonitor,
)
from twinverse.errors import TwinverseError
from twinverse.live.pipeline import IngestPipeline, StoredSamples
from twinverse.live.plant import RecordedMachine, recorded_tag_rows
from twinverse.live.tagmap import TagMap, tag_map_from_dict
from twinverse.workspace import Workspace

_log = logging.getLogger(__name__)

ENGINE_STAND: Final = Path("live") / "engine-test-stand.yaml"
"""The engine test stand's scenario, under ``examples/``."""
STAND_TWIN: Final = "86.1001.jinfeng-aero"
STAND_LINE: Final = "changzhou-test/cell-1/stand-1"
ACTOR: Final = "ai"


@dataclass(frozen=True, slots=True)
class StandEngine:
    """An engine on the test stand: its machine (local id under the stand) and the test unit."""

    machine: str
    unit: int


STAND_ENGINES: Final = (
    StandEngine("esn-41", 41),
    StandEngine("esn-56", 56),
    StandEngine("esn-82", 82),
)
"""FD001 test engines that end 9–18 cycles from failure: each reaches its alert in the demo."""


def stand_machines(
    subset: Subset, engines: Sequence[StandEngine] = STAND_ENGINES, *, period_s: float
) -> list[RecordedMachine]:
    """Recorded machines replaying the test trajectories of ``engines`` from ``subset``.

    Raises DataFormatError when the subset has no such test unit.
    """
    test = subset.test
    units = np.unique(test.units)
    out: list[RecordedMachine] = []
    for engine in engines:
        positions = np.flatnonzero(units == engine.unit)
        if positions.size == 0:
            raise DataFormatError(
                f"test_{subset.name}.txt",
                f"no test engine {engine.unit} for {engine.machine} (units 1…{len(units)})",
            )
        trajectory = test.select(positions)
        rows = np.hstack([trajectory.settings, trajectory.sensors])
        out.append(RecordedMachine(engine.machine, ENGINE_CHANNELS, rows, period_s))
    return out


def stand_tag_map(
    machines: list[RecordedMachine], *, twin: str = STAND_TWIN, line: str = STAND_LINE
) -> TagMap:
    """The tag map from the recorded engines' OPC UA variables to the stand twin's engines."""
    entities = {m.id: f"{twin}/{line}/{m.id}" for m in machines}
    rows = recorded_tag_rows(twin, entities, machines)
    return tag_map_from_dict({"twin": twin, "source": "engine-stand", "tags": rows})


class LiveAi:
    """Stored readings → :class:`TelemetryMonitor` → twin events (see the module docstring)."""

    def __init__(
        self,
        workspace: Workspace,
        monitor: TelemetryMonitor,
        *,
        queue_flushes: int = 1_000,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.workspace = workspace
        self.monitor = monitor
        self.notify = notify
        self._queue: queue.Queue[StoredSamples] = queue.Queue(maxsize=queue_flushes)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._remove: Callable[[], None] | None = None
        props = {CYCLE, STATE, *ENGINE_CHANNELS, *monitor.settings.anomaly_properties}
        self._wanted = frozenset(props)
        self.dropped = 0
        self.refused = 0
        self.committed = 0
        self.alerts: list[str] = []

    def start(self, pipeline: IngestPipeline) -> LiveAi:
        if self._thread is not None:
            return self
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="live-ai", daemon=True)
        self._thread.start()
        self._remove = pipeline.add_listener(self._offer)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop listening, finish what is queued (within ``timeout``), stop the worker."""
        if self._remove is not None:
            self._remove()
            self._remove = None
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _offer(self, stored: StoredSamples) -> None:
        """The pipeline's listener: queue the flush, never wait (drops are counted)."""
        try:
            self._queue.put_nowait(stored)
        except queue.Full:
            self.dropped += len(stored.ts)
            _log.warning("live AI behind: %d readings dropped so far", self.dropped)

    def _run(self) -> None:
        while True:
            try:
                stored = self._queue.get(timeout=0.05)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            try:
                self._commit(self.monitor.observe(self.readings(stored)))
            except Exception:  # the models must keep watching; the cause goes to the log
                _log.exception("live AI failed on a flush of %d readings", len(stored.ts))

    def readings(self, stored: StoredSamples) -> list[Reading]:
        """The readings of a flush that some model watches."""
        wanted = np.fromiter((k.prop in self._wanted for k in stored.keys), bool, len(stored.keys))
        out: list[Reading] = []
        if len(stored.index) and wanted.any():
            pick = np.flatnonzero(wanted[stored.index])
            keys = stored.keys
            out = [
                Reading(keys[i].entity, keys[i].prop, t, v)
                for i, t, v in zip(
                    stored.index[pick].tolist(),
                    stored.ts[pick].tolist(),
                    stored.values[pick].tolist(),
                    strict=True,
                )
            ]
        out.extend(Reading(e, p, t, text) for e, p, t, text in stored.states if p == STATE)
        return out

    def _commit(self, found: Findings) -> None:
        for twin, changes in found.changes.items():
            try:
                self.workspace.apply_changes(
                    twin,
                    changes,
                    principal=None,
                    actor=ACTOR,
                    reason="live RUL and anomaly detection",
                )
                self.committed += len(changes)
            except TwinverseError as err:
                self.refused += len(changes)
                _log.warning("live AI findings refused by twin %s: %s", twin, err)
        for alert in found.alerts:
            self.alerts.append(alert.message)
            _log.warning("maintenance alert: %s", alert.message)
            if self.notify is not None:
                self.notify(f"maintenance alert: {alert.message}")
        for shown in found.anomalies:
            _log.info("anomaly on %s: %s", shown.machine, shown.to_value())
