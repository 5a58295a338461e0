"""The AI on the live twin, end to end over OPC UA: plant → ingest → store → models → twin events.

The simulated plant serves the line and the engine test stand (C-MAPSS FD001
test engines, about 30 cycles a second here); the real ingest stores what it
reads; the live AI turns the stored readings into twin events.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.ai.conftest import SMALL_PLAN
from tests.live.plants import line_model, plant_tag_map
from twinverse.ai.anomaly import DetectorSettings
from twinverse.ai.telemetry import TelemetryMonitor, WatchSettings
from twinverse.api.live_ai import STAND_ENGINES, LiveAi
from twinverse.cli.ai_demo import model_path, prepare_live_ai, show_ai
from twinverse.cli.render import console
from twinverse.config import Settings
from twinverse.live.broker import free_port
from twinverse.live.hub import LiveHub
from twinverse.live.opcua import OpcUaSettings
from twinverse.live.plant import PlantServer, PlantSettings, PlantThread
from twinverse.live.runtime import LiveRuntime, OpcUaSource
from twinverse.scenario import load_scenario
from twinverse.store import SeriesKey
from twinverse.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
STAND = "86.1001.jinfeng-aero/changzhou-test/cell-1/stand-1"
JINFENG = "86.1001.jinfeng"
OP010 = f"{JINFENG}/changzhou/hall-2/ie3-line/op010"


@pytest.fixture(scope="module")
def demo_settings(tmp_path_factory: pytest.TempPathFactory, cmapss_dir: Path) -> Settings:
    """A data directory where the demo's FD001 model is trained once for this module."""
    return Settings(data_dir=tmp_path_factory.mktemp("demo"))


@pytest.fixture
def workspace(demo_settings: Settings) -> Iterator[Workspace]:
    with Workspace.open(demo_settings) as ws:
        for name in ("line.yaml", "global-network.yaml"):
            ws.import_scenario(load_scenario(EXAMPLES / name), tenant="jinfeng", actor="test")
        yield ws


def until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def plant(port: int) -> PlantServer:
    return PlantServer(
        line_model(), "ie3-line", PlantSettings(port=port, speed_factor=600.0, tick_s=0.05)
    )


def test_the_demo_trains_once_reports_and_answers_in_both_languages(
    demo_settings: Settings, workspace: Workspace, cmapss_dir: Path
) -> None:
    with console.capture() as first:
        show_ai(demo_settings, EXAMPLES, cmapss=cmapss_dir, plan=SMALL_PLAN)
    text = first.get()
    assert model_path(demo_settings).is_file()
    assert "RUL model trained" in text
    assert "RUL FD001: RMSE" in text
    assert "13 machines" in text  # How many machines are in the Stuttgart plant?
    assert "Nagoya precision bearings" in text and "碳足迹" in text
    assert "evidence: machine in 86.1000.huaxin/stuttgart" in text
    with console.capture() as again:
        show_ai(demo_settings, EXAMPLES, cmapss=cmapss_dir, plan=SMALL_PLAN)
    assert "RUL model trained" not in again.get()  # reused from the data directory
    assert "RUL FD001: RMSE" in again.get()


def test_the_demo_goes_on_without_the_data(
    demo_settings: Settings, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("twinverse.cli.ai_demo.cmapss_dir", lambda: None)
    with console.capture() as out:
        show_ai(Settings(data_dir=demo_settings.data_dir / "fresh"), EXAMPLES)
    lines = [line for line in out.get().splitlines() if "C-MAPSS" in line]
    assert len(lines) == 1 and "not found" in lines[0]
    assert "13 machines" in out.get()


def test_engines_on_the_stand_get_live_rul_and_the_alert_fires(
    demo_settings: Settings, workspace: Workspace, cmapss_dir: Path
) -> None:
    port = free_port()
    server = plant(port)
    endpoint = f"opc.tcp://127.0.0.1:{port}/twinverse/plant"
    ai = prepare_live_ai(
        demo_settings,
        EXAMPLES,
        workspace,
        server,
        tenant="jinfeng",
        endpoint=endpoint,
        cycle_wall_s=1 / 30,
        cmapss=cmapss_dir,
        plan=SMALL_PLAN,
    )
    hub = LiveHub()
    workspace.add_listener(hub.publish_events)
    runtime = LiveRuntime(workspace, hub, opcua=ai.sources)
    engine = f"{STAND}/{STAND_ENGINES[-1].machine}"  # test unit 82: 162 cycles, 9 from failure
    with PlantThread(server):
        runtime.start()
        ai.live_ai.start(runtime.pipeline)
        try:
            assert runtime.wait_connected(20)
            # every engine's full run, then the stand starts the recordings again (overhaul)
            until(
                lambda: ai.live_ai.monitor.cycles_seen > 165 * 3,
                60,
                "the engines to run to the end of their recordings and start again",
            )
        finally:
            runtime.stop()
            ai.live_ai.stop()
    assert ai.live_ai.dropped == 0 and ai.live_ai.refused == 0
    # the sensor channels are stored as time series like any machine property
    stored = workspace.store.samples(SeriesKey(engine, "s11"), 0, 2**62)
    assert len(stored.ts) > 100
    # the estimates are twin events (an unchanged value makes no event)
    events = workspace.history(engine, limit=10_000)
    assert {e.actor for e in events if hasattr(e.change, "name")} == {"ai"}
    named = [(e.change.name, e.change.value) for e in events if hasattr(e.change, "name")]
    restart = named.index(("maintenance_due", False))  # the recording started again
    first_run = [v for n, v in named[:restart] if n == "rul"]
    assert len(first_run) > 50
    assert sum(first_run[:10]) / 10 > sum(first_run[-10:]) / 10 + 60
    assert min(first_run[-10:]) < 40
    assert ("maintenance_due", True) in named[:restart]  # the alert fired in the first run
    assert any(a.startswith(f"{engine}: RUL") for a in ai.live_ai.alerts)
    # ... and on the live feed
    latest = hub.latest("86.1001.jinfeng-aero", [engine])[engine]
    assert {"health", "rul", "rul_low", "rul_high"} <= set(latest)
    assert workspace.graph("86.1001.jinfeng-aero").get(engine).get("rul") is not None  # type: ignore[union-attr]


def test_an_injected_vibration_fault_becomes_an_anomaly_event(workspace: Workspace) -> None:
    port = free_port()
    server = plant(port)
    endpoint = f"opc.tcp://127.0.0.1:{port}/twinverse/plant"
    hub = LiveHub()
    workspace.add_listener(hub.publish_events)
    source = OpcUaSource(
        OpcUaSettings(endpoint, dev_mode=True, publishing_interval_ms=50), plant_tag_map()
    )
    runtime = LiveRuntime(workspace, hub, opcua=(source,))
    watch = WatchSettings(detector=DetectorSettings(warmup=60), anomaly_gap_s=3600.0)
    live_ai = LiveAi(workspace, TelemetryMonitor(None, watch))
    vibration = SeriesKey(OP010, "vibration")
    with PlantThread(server):
        runtime.start()
        live_ai.start(runtime.pipeline)
        try:
            assert runtime.wait_connected(20)
            until(
                lambda: live_ai.monitor.samples_watched(OP010) > 100,
                60,
                "op010's vibration baseline",
            )
            before = {
                e.id: e.get("anomaly")
                for e in workspace.graph(JINFENG).entities()
                if e.get("anomaly") is not None
            }
            server.line.machines[0].fault_vibration_mm_s = 2.0  # a bearing starts to fail
            until(
                lambda: workspace.graph(JINFENG).get(OP010).get("anomaly") is not None,  # type: ignore[union-attr]
                30,
                "the anomaly on op010",
            )
        finally:
            runtime.stop()
            live_ai.stop()
    assert before == {}  # nothing flagged on the healthy line
    assert len(workspace.store.samples(vibration, 0, 2**62).ts) > 100
    anomaly = workspace.graph(JINFENG).get(OP010).get("anomaly")  # type: ignore[union-attr]
    assert anomaly["property"] == "vibration"
    assert anomaly["kind"] in ("spike", "shift")
    assert hub.latest("86.1001.jinfeng", [OP010])[OP010]["anomaly"].value["kind"] == anomaly["kind"]
    events = workspace.history(OP010, limit=10_000)
    assert sum(getattr(e.change, "name", None) == "anomaly" for e in events) == 1
