"""The simulated plant over OPC UA and the OPC UA ingest: structure, following, restart."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from asyncua import Client

from tests.live.plants import LINE, NODESETS, line_model, plant_tag_map
from twinverse.live.broker import free_port
from twinverse.live.opcua import InsecureEndpointError, OpcUaIngest, OpcUaSettings, ReadMode
from twinverse.live.pipeline import IngestPipeline
from twinverse.live.plant import PLANT_NS, PlantServer, PlantSettings
from twinverse.live.report import Cause, IngestReport
from twinverse.store import SeriesKey
from twinverse.store.sqlite import SqliteStore

OP010 = f"{LINE}/op010"


def settings(port: int, **kw) -> PlantSettings:
    if not NODESETS.is_dir():
        pytest.skip(f"the OPC UA nodesets are not in {NODESETS}")
    return PlantSettings(port=port, speed_factor=600.0, tick_s=0.05, nodeset_dir=NODESETS, **kw)


async def until(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


def run(coro: Awaitable[None]) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


def test_the_plant_follows_the_machinery_companion_spec() -> None:
    async def scenario() -> None:
        port = free_port()
        async with (
            PlantServer(line_model(), "ie3-line", settings(port)),
            Client(f"opc.tcp://127.0.0.1:{port}/twinverse/plant") as client,
        ):
            machinery = await client.get_namespace_index("http://opcfoundation.org/UA/Machinery/")
            ns = await client.get_namespace_index(PLANT_NS)
            folder = await client.nodes.objects.get_child(f"{machinery}:Machines")
            names = {(await n.read_browse_name()).Name for n in await folder.get_children()}
            assert {"ie3-line", "op010", "op130"} <= names
            state = await folder.get_child(
                [
                    f"{ns}:op010",
                    "0:MachineryBuildingBlocks",
                    f"{machinery}:MachineryItemState",
                    "0:CurrentState",
                ]
            )
            await asyncio.sleep(0.3)
            assert (await state.read_value()).Text in {"Executing", "NotExecuting"}
            ident = await folder.get_child([f"{ns}:op010", f"{machinery}:Identification"])
            children = {(await c.read_browse_name()).Name: c for c in await ident.get_children()}
            assert await children["SerialNumber"].read_value() == "SIM-OP010"
            assert (await children["Manufacturer"].read_value()).Text == "twinverse"
            temperature = client.get_node(f"ns={ns};s=op010/Temperature")
            assert 15 < await temperature.read_value() < 100

    run(scenario())


def test_the_insecure_endpoint_is_refused_outside_dev_mode() -> None:
    with pytest.raises(InsecureEndpointError, match="--dev"):
        OpcUaSettings("opc.tcp://127.0.0.1:4840/x").check()


@pytest.mark.parametrize("mode", [ReadMode.SUBSCRIBE, ReadMode.POLL])
def test_the_ingest_follows_the_plant(tmp_path: Path, mode: ReadMode) -> None:
    async def scenario() -> None:
        port = free_port()
        store = SqliteStore(tmp_path / "s.db").open()
        report = IngestReport()
        pipeline = IngestPipeline(store, report).start()
        ingest = OpcUaIngest(
            OpcUaSettings(
                f"opc.tcp://127.0.0.1:{port}/twinverse/plant",
                dev_mode=True,
                mode=mode,
                publishing_interval_ms=50,
            ),
            plant_tag_map(),
            pipeline,
            report,
        )
        stop = asyncio.Event()
        async with PlantServer(line_model(), "ie3-line", settings(port)):
            task = asyncio.create_task(ingest.run(stop))
            key = SeriesKey(OP010, "temperature")
            await until(lambda: len(store.samples(key, 0, 2**62).ts) >= 5)
            stop.set()
            await task
        pipeline.stop()
        assert report.counts[Cause.UNKNOWN_TAG] == 0
        parts = store.samples(SeriesKey(OP010, "parts"), 0, 2**62).values
        assert parts[-1] >= parts[0]
        store.close()

    run(scenario())


def test_the_ingest_resumes_by_itself_after_a_server_restart(tmp_path: Path) -> None:
    async def scenario() -> None:
        port = free_port()
        store = SqliteStore(tmp_path / "s.db").open()
        report = IngestReport()
        pipeline = IngestPipeline(store, report).start()
        ingest = OpcUaIngest(
            OpcUaSettings(
                f"opc.tcp://127.0.0.1:{port}/twinverse/plant",
                dev_mode=True,
                publishing_interval_ms=50,
                reconnect_min_s=0.2,
                reconnect_max_s=0.5,
            ),
            plant_tag_map(),
            pipeline,
            report,
        )
        stop = asyncio.Event()
        key = SeriesKey(OP010, "vibration")
        count = lambda: len(store.samples(key, 0, 2**62).ts)  # noqa: E731
        async with PlantServer(line_model(), "ie3-line", settings(port)):
            task = asyncio.create_task(ingest.run(stop))
            await until(lambda: ingest.connections == 1 and count() >= 3)
        await until(lambda: report.counts[Cause.SOURCE_LOST] >= 1)
        before = count()
        async with PlantServer(line_model(), "ie3-line", settings(port, seed=2)):
            await until(lambda: ingest.connections == 2 and count() > before + 3)
        stop.set()
        await task
        pipeline.stop()
        assert report.counts[Cause.GAP] == 1
        store.close()

    run(scenario())
