"""The live twin in one process: ingest sources, the pipeline, the hub and commands.

:class:`LiveRuntime` is what ``twinverse ingest`` and ``twinverse demo`` run,
and what the API's live router reads (``app.state.live_runtime``): the ingest
report for ``/health/ingest`` and the commander for control write-back.
Lifecycle: build (nothing starts), ``start()`` — the pipeline's writer thread,
the MQTT client, and a thread with an event loop for the OPC UA sessions —
then ``stop()``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from twinverse.live.commands import AuditLog, Commander
from twinverse.live.hub import LiveHub
from twinverse.live.mqtt import BrokerSettings, MqttIngest, TopicRow
from twinverse.live.opcua import OpcUaError, OpcUaIngest, OpcUaSettings
from twinverse.live.pipeline import IngestPipeline, PipelineSettings
from twinverse.live.report import IngestReport
from twinverse.live.tagmap import TagMap
from twinverse.workspace import Workspace

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OpcUaSource:
    settings: OpcUaSettings
    tag_map: TagMap


@dataclass(frozen=True, slots=True)
class MqttSource:
    broker: BrokerSettings
    tag_map: TagMap
    topics: tuple[TopicRow, ...]


class LiveRuntime:
    """Sources → pipeline → store, events and hub; commands back (module docstring)."""

    def __init__(
        self,
        workspace: Workspace,
        hub: LiveHub,
        *,
        opcua: tuple[OpcUaSource, ...] = (),
        mqtt: tuple[MqttSource, ...] = (),
        audit_path: Path | None = None,
        pipeline_settings: PipelineSettings = PipelineSettings(),
    ) -> None:
        self.workspace = workspace
        self.hub = hub
        self.report = IngestReport()
        self.pipeline = IngestPipeline(
            workspace.store, self.report, hub=hub, workspace=workspace, settings=pipeline_settings
        )
        self._opcua_sources = opcua
        self._mqtt_sources = mqtt
        self.opcua: list[OpcUaIngest] = []
        self.mqtt: list[MqttIngest] = []
        self.commander: Commander | None = None
        self._audit_path = audit_path
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._remove_listener: object = None

    def start(self) -> LiveRuntime:
        self.pipeline.start()
        for source in self._mqtt_sources:
            ingest = MqttIngest(
                source.broker, source.tag_map, source.topics, self.pipeline, self.report
            )
            self.mqtt.append(ingest.start())
        self.opcua = [
            OpcUaIngest(s.settings, s.tag_map, self.pipeline, self.report)
            for s in self._opcua_sources
        ]
        if self.opcua:
            ready = threading.Event()
            self._thread = threading.Thread(
                target=self._run_loop, args=(ready,), name="opcua-ingest", daemon=True
            )
            self._thread.start()
            ready.wait(5)
            first = self.opcua[0]
            if self._audit_path is not None:
                self.commander = Commander(
                    first.tag_map,
                    first.write_threadsafe,
                    AuditLog(self._audit_path),
                    tenant_of=lambda prefix: self.workspace.twin_info(prefix).tenant,
                )
        return self

    def _run_loop(self, ready: threading.Event) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            ready.set()
            tasks = [asyncio.create_task(i.run(self._stop)) for i in self.opcua]
            for task in asyncio.as_completed(tasks):
                try:
                    await task
                except OpcUaError as err:
                    _log.error("OPC UA ingest stopped: %s", err)

        asyncio.run(main())

    def wait_connected(self, timeout: float = 15.0) -> bool:
        """True once every OPC UA source is connected (for start-up messages and tests)."""
        if self._loop is None:
            return not self.opcua

        async def all_up() -> None:
            await asyncio.gather(*(i.connected.wait() for i in self.opcua))

        future = asyncio.run_coroutine_threadsafe(all_up(), self._loop)
        try:
            future.result(timeout)
            return True
        except TimeoutError:
            future.cancel()
            return False

    def stop(self) -> None:
        for ingest in self.mqtt:
            ingest.stop()
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)
        self.pipeline.stop()


def freeze_startup_objects() -> None:
    """Move every object alive now out of the collector's reach (``gc.freeze``).

    A server that holds a twin graph and the imported libraries has a large,
    long-lived heap; without this, each full collection walks all of it and
    stalls every thread — the live feed's tail latency showed ~150 ms pauses
    every few seconds. Call once, after start-up, before serving.
    """
    gc.collect()
    gc.freeze()
