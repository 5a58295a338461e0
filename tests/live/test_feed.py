"""The live feed and hub: batching, filters, bounded buffers, resync, dropping slow clients."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import orjson
import pytest

from twinverse.live.feed import ClientTooSlowError, FeedSettings, LiveFeed, LiveFilter
from twinverse.live.hub import LiveChange, LiveHub
from twinverse.scenario import load_scenario
from twinverse.twin.graph import TwinGraph

GLOBEX = "86.1000.globex"
PRESS = f"{GLOBEX}/shanghai/l1/press-1"
WELD = f"{GLOBEX}/shanghai/l1/weld-1"


@pytest.fixture
def graph(fixtures: Path) -> TwinGraph:
    return load_scenario(fixtures / "globex.yaml").graph()


def changes(n: int, start: int = 0) -> list[LiveChange]:
    return [
        LiveChange(PRESS, "temperature", float(i), 10**18 + i, "test")
        for i in range(start, start + n)
    ]


class Client:
    """A subscriber that records messages and can be made to stall on send."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.stalled = asyncio.Event()
        self.stalled.set()
        self.inbox: asyncio.Queue[str] = asyncio.Queue()

    async def send(self, text: str) -> None:
        await self.stalled.wait()
        self.messages.append(orjson.loads(text))

    async def receive(self) -> str:
        return await self.inbox.get()


async def until(predicate, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


def test_deltas_are_batched_and_keep_seq_contiguous(graph: TwinGraph) -> None:
    async def scenario() -> list[dict]:
        hub, client = LiveHub(), Client()
        feed = LiveFeed(hub, GLOBEX, lambda: graph, settings=FeedSettings(interval_s=0.05))
        task = asyncio.create_task(feed.serve(client.send, client.receive))
        await until(lambda: hub.subscribers(GLOBEX) == 1 and client.messages)
        for i in range(50):
            hub.publish(GLOBEX, changes(10, i * 10))
            await asyncio.sleep(0.002)
        await until(lambda: sum(len(m.get("changes", ())) for m in client.messages) == 500)
        task.cancel()
        return client.messages

    messages = asyncio.run(scenario())
    assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
    # 50 publishes over ~0.1 s arrive in a few 50 ms batches, not 50 messages.
    assert len(messages) - 1 <= 10
    values = [c["value"] for m in messages[1:] for c in m["changes"]]
    assert values == [float(i) for i in range(500)]


def test_a_stalled_client_is_resynced_and_never_stalls_the_others(graph: TwinGraph) -> None:
    async def scenario() -> tuple[list[dict], list[dict]]:
        hub, slow, fast = LiveHub(), Client(), Client()
        settings = FeedSettings(interval_s=0.01, queue_limit=400, max_resyncs=5)
        tasks = [
            asyncio.create_task(
                LiveFeed(hub, GLOBEX, lambda: graph, settings=settings).serve(c.send, c.receive)
            )
            for c in (slow, fast)
        ]
        await until(lambda: hub.subscribers(GLOBEX) == 2 and slow.messages and fast.messages)
        slow.stalled.clear()

        def produce() -> None:  # another thread, like the ingest
            for i in range(100):
                hub.publish(GLOBEX, changes(10, i * 10))
                time.sleep(0.001)

        thread = threading.Thread(target=produce)
        thread.start()
        await until(lambda: sum(len(m.get("changes", ())) for m in fast.messages) >= 1000)
        thread.join()
        slow.stalled.set()
        await until(lambda: any(m["type"] == "resync" for m in slow.messages))
        await until(lambda: slow.messages[-1]["type"] == "snapshot")
        for task in tasks:
            task.cancel()
        return slow.messages, fast.messages

    slow, fast = asyncio.run(scenario())
    assert [m["seq"] for m in slow] == list(range(1, len(slow) + 1))
    kinds = [m["type"] for m in slow]
    assert kinds[kinds.index("resync") + 1] == "snapshot"
    assert slow[-1]["entities"][PRESS]["temperature"] == 999.0  # the snapshot has the latest
    assert all(m["type"] != "resync" for m in fast)


def test_a_client_that_stays_slow_is_dropped(graph: TwinGraph) -> None:
    async def scenario() -> None:
        hub, slow = LiveHub(), Client()
        settings = FeedSettings(interval_s=0.0, queue_limit=10, max_resyncs=1, resync_window_s=60)
        task = asyncio.create_task(
            LiveFeed(hub, GLOBEX, lambda: graph, settings=settings).serve(slow.send, slow.receive)
        )
        await until(lambda: bool(slow.messages))
        for _ in range(2):
            slow.stalled.clear()
            hub.publish(GLOBEX, changes(5))  # wakes the sender, which stalls on send
            await asyncio.sleep(0.05)
            hub.publish(GLOBEX, changes(50))  # overflows while it is stalled
            slow.stalled.set()
            await asyncio.sleep(0.05)
        await asyncio.wait_for(task, 5)

    with pytest.raises(ClientTooSlowError):
        asyncio.run(scenario())


def test_filter_parse_rejects_unknown_kinds() -> None:
    with pytest.raises(Exception, match="spaceship"):
        LiveFilter.parse(None, "machine,spaceship")
    assert LiveFilter.parse("x", "machine, buffer").kinds == {"machine", "buffer"}


def test_the_latest_value_wins_by_time_not_arrival(graph: TwinGraph) -> None:
    hub = LiveHub()
    hub.publish(GLOBEX, [LiveChange(WELD, "temperature", 2.0, 20, "t")])
    hub.publish(GLOBEX, [LiveChange(WELD, "temperature", 1.0, 10, "t")])
    assert hub.latest(GLOBEX)[WELD]["temperature"].value == 2.0
