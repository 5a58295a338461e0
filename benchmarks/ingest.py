"""Ingest speed: MQTT → store (durable, QoS 1), OPC UA → store, PLC → /live latency.

    python benchmarks/ingest.py [--quick]

1. MQTT: a publisher process sends columnar JSON messages of 1,000 points at
   QoS 1 through a local Mosquitto (auth + ACL); the ingest stores them in the
   SQLite store (WAL, synchronous=FULL) and acknowledges each message after its
   commit. Reference in the same run: a plain paho subscriber counting QoS 1
   messages of 64 bytes.
2. OPC UA: a server process with 1,000 Double variables changing every 50 ms.
   Reference: a plain asyncua client subscribed to all of them, counting
   notifications. Ours: the ingest in poll mode (batched reads) and in
   subscription mode, both storing into the store.
3. Latency: a PLC gateway process publishes 10,000 points/s (100 messages of
   100 points, each stamped with its change time) to the API process (MQTT
   ingest + /live); a WebSocket client subscribed to /live measures change
   time → arrival. The API process's CPU is read from /proc.

Prints readable lines, then one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from twinverse.live.broker import BrokerUser, LocalBroker, free_port  # noqa: E402
from twinverse.live.hub import LiveHub  # noqa: E402
from twinverse.live.mqtt import BrokerSettings, MqttIngest, topic_rows  # noqa: E402
from twinverse.live.opcua import OpcUaIngest, OpcUaSettings, ReadMode  # noqa: E402
from twinverse.live.pipeline import IngestPipeline  # noqa: E402
from twinverse.live.report import IngestReport  # noqa: E402
from twinverse.live.runtime import freeze_startup_objects  # noqa: E402
from twinverse.live.tagmap import tag_map_from_dict  # noqa: E402
from twinverse.store.sqlite import SqliteStore  # noqa: E402

TWIN = "86.1000.bench"
INGEST = BrokerUser("ingest", "bench-ingest", read=("#",))
PLANT = BrokerUser("plant", "bench-plant", write=("#",))
N_TAGS = 1000


def tag_doc(n: int = N_TAGS) -> dict:
    return {
        "twin": TWIN,
        "source": "bench",
        "topics": [{"topic": "bench/#", "format": "json"}],
        "tags": [
            {
                "tag": f"m{i // 10}/v{i % 10}",
                "entity": f"site/line/m{i // 10}",
                "property": f"v{i % 10}",
            }
            for i in range(n)
        ],
    }


# ------------------------------------------------------------------ MQTT
def _publisher(port: int, messages: int, points: int, topic: str, qos: int, raw: bool) -> None:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{os.getpid()}")
    c.username_pw_set(PLANT.name, PLANT.password)
    c.max_inflight_messages_set(1000)
    c.connect("127.0.0.1", port)
    c.loop_start()
    tags = [f"m{i // 10}/v{i % 10}" for i in range(points)]
    t0 = 1_790_000_000_000
    last = None
    for seq in range(1, messages + 1):
        if raw:
            payload = b"x" * 64
        else:
            payload = orjson.dumps(
                {
                    "source": "bench",
                    "seq": seq,
                    "ts": t0 + seq,
                    "tags": tags,
                    "values": [float(seq + i) for i in range(points)],
                }
            )
        last = c.publish(topic, payload, qos=qos)
    if last is not None:
        last.wait_for_publish(120)
    c.loop_stop()
    c.disconnect()


def plain_paho_rate(broker: LocalBroker, messages: int) -> float:
    got = 0
    done = threading.Event()
    first: list[float] = []

    def on_message(_c: object, _u: object, _m: object) -> None:
        nonlocal got
        if not first:
            first.append(time.perf_counter())
        got += 1
        if got == messages:
            done.set()

    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-plain-sub")
    sub.username_pw_set(INGEST.name, INGEST.password)
    sub.on_message = on_message
    sub.connect("127.0.0.1", broker.port)
    sub.subscribe("plain/#", qos=1)
    sub.loop_start()
    time.sleep(0.3)
    p = mp.Process(target=_publisher, args=(broker.port, messages, 0, "plain/x", 1, True))
    p.start()
    done.wait(120)
    rate = got / (time.perf_counter() - first[0]) if first else 0.0
    p.join()
    sub.loop_stop()
    sub.disconnect()
    return rate


def mqtt_to_store(broker: LocalBroker, directory: Path, messages: int, points: int) -> dict:
    store = SqliteStore(directory / "mqtt.db").open()
    report = IngestReport()
    pipeline = IngestPipeline(store, report).start()
    doc = tag_doc()
    settings = BrokerSettings(
        port=broker.port, username=INGEST.name, password=INGEST.password, client_id="bench-ingest"
    )
    ingest = MqttIngest(
        settings, tag_map_from_dict(doc), topic_rows(doc, "bench"), pipeline, report
    )
    ingest.start().wait_connected()
    total = messages * points
    p = mp.Process(target=_publisher, args=(broker.port, messages, points, "bench/a", 1, False))
    p.start()
    while not report.received:  # the publisher process starts (imports) first
        time.sleep(0.001)
    started = time.perf_counter()
    while report.stored < total and time.perf_counter() - started < 300:
        time.sleep(0.002)
    elapsed = time.perf_counter() - started
    p.join()
    ingest.stop()
    pipeline.stop()
    store.close()
    return {
        "points": report.stored,
        "seconds": elapsed,
        "points_per_s": report.stored / elapsed,
        "flushes": pipeline.flushes,
    }


# ----------------------------------------------------------------- OPC UA
def _opcua_server(port: int, n: int, ready: mp.Event, stop: mp.Event) -> None:
    from asyncua import ua
    from asyncua.server.server import Server

    async def main() -> None:
        server = Server()
        await server.init()
        server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/bench")
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        ns = await server.register_namespace("urn:bench")
        folder = await server.nodes.objects.add_folder(ua.NodeId("vars", ns), "vars")
        ids = []
        for i in range(n):
            nid = ua.NodeId(f"v{i}", ns)
            await folder.add_variable(nid, f"v{i}", 0.0)
            ids.append(nid)
        async with server:
            ready.set()
            k = 0
            while not stop.is_set():
                k += 1
                for i, nid in enumerate(ids):
                    await server.write_attribute_value(nid, ua.DataValue(ua.Variant(float(k + i))))
                await asyncio.sleep(0.05)

    asyncio.run(main())


def plain_asyncua_rate(endpoint: str, n: int, seconds: float) -> float:
    from asyncua import ua
    from asyncua.client.client import Client

    class Handler:
        count = 0

        def datachange_notification(self, node: object, val: object, data: object) -> None:
            Handler.count += 1

    async def main() -> float:
        async with Client(endpoint) as client:
            ns = await client.get_namespace_index("urn:bench")
            nodes = [client.get_node(ua.NodeId(f"v{i}", ns)) for i in range(n)]
            sub = await client.create_subscription(50, Handler())
            await sub.subscribe_data_change(nodes, sampling_interval=ua.Double(25))
            await asyncio.sleep(1.0)
            start, c0 = time.perf_counter(), Handler.count
            await asyncio.sleep(seconds)
            return (Handler.count - c0) / (time.perf_counter() - start)

    return asyncio.run(main())


def opcua_to_store(endpoint: str, directory: Path, n: int, seconds: float, mode: ReadMode) -> float:
    doc = {
        "twin": TWIN,
        "source": "bench-opcua",
        "tags": [
            {
                "tag": f"nsu=urn:bench;s=v{i}",
                "entity": f"site/line/m{i // 10}",
                "property": f"v{i % 10}",
            }
            for i in range(n)
        ],
    }
    store = SqliteStore(directory / f"opcua-{mode.value}.db").open()
    report = IngestReport()
    pipeline = IngestPipeline(store, report).start()
    ingest = OpcUaIngest(
        OpcUaSettings(
            endpoint,
            dev_mode=True,
            mode=mode,
            publishing_interval_ms=10 if mode is ReadMode.POLL else 50,
            sampling_interval_ms=25,
        ),
        tag_map_from_dict(doc),
        pipeline,
        report,
    )

    async def main() -> float:
        stop = asyncio.Event()
        task = asyncio.create_task(ingest.run(stop))
        await asyncio.wait_for(ingest.connected.wait(), 30)
        await asyncio.sleep(1.0)
        start, s0 = time.perf_counter(), report.stored
        await asyncio.sleep(seconds)
        rate = (report.stored - s0) / (time.perf_counter() - start)
        stop.set()
        await task
        return rate

    rate = asyncio.run(main())
    pipeline.stop()
    store.close()
    return rate


# ---------------------------------------------------------------- latency
def _gateway(port: int, seconds: float, rate_msgs: int, points: int) -> None:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-gateway")
    c.username_pw_set(PLANT.name, PLANT.password)
    c.connect("127.0.0.1", port)
    c.loop_start()
    tags = [f"m{i // 10}/v{i % 10}" for i in range(points)]
    period = 1.0 / rate_msgs
    start = time.perf_counter()
    seq = 0
    while time.perf_counter() - start < seconds:
        seq += 1
        now_ms = time.time_ns() // 1_000_000
        body = {
            "source": "gw",
            "seq": seq,
            "ts": now_ms,
            "tags": tags,
            "values": [float(seq % 1000 + i) for i in range(points)],
        }
        last = c.publish("bench/live", orjson.dumps(body), qos=1)
        time.sleep(max(0.0, start + seq * period - time.perf_counter()))
    last.wait_for_publish(10)
    c.loop_stop()
    c.disconnect()


def _api_process(port: int, api_port: int, db: str, ready: mp.Event) -> None:
    import logging

    import uvicorn

    from twinverse.api import create_app
    from twinverse.identity import Role
    from twinverse.live.runtime import LiveRuntime, MqttSource
    from twinverse.store import TwinInfo
    from twinverse.twin.events import EntityAdded
    from twinverse.twin.ids import EntityId
    from twinverse.twin.model import Entity, EntityKind
    from twinverse.workspace import Workspace

    logging.basicConfig(level=logging.ERROR)
    ws = Workspace(SqliteStore(db).open())
    ws.store.register_twin(TwinInfo(TWIN, "bench", "bench", time.time_ns()))
    ws.apply_changes(
        TWIN,
        [
            EntityAdded(Entity(EntityId(f"{TWIN}/site/line/m{i}"), EntityKind.MACHINE, f"m{i}"))
            for i in range(N_TAGS // 10)
        ],
        principal=None,
    )
    ws.accounts.create("viewer", tenant="bench", roles=[Role.VIEWER], password="bench-viewer")
    hub = LiveHub()
    ws.add_listener(hub.publish_events)
    doc = tag_doc()
    broker = BrokerSettings(
        port=port, username=INGEST.name, password=INGEST.password, client_id="bench-live-ingest"
    )
    runtime = LiveRuntime(
        ws, hub, mqtt=(MqttSource(broker, tag_map_from_dict(doc), topic_rows(doc, "b")),)
    )
    runtime.start()
    runtime.mqtt[0].wait_connected()
    app = create_app(workspace=ws)
    app.state.live_hub = hub
    app.state.live_runtime = runtime
    ready.set()
    freeze_startup_objects()
    uvicorn.run(app, host="127.0.0.1", port=api_port, log_level="error")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def live_latency(broker: LocalBroker, directory: Path, seconds: float) -> dict:
    import httpx
    from websockets.sync.client import connect

    api_port = free_port()
    ready = mp.Event()
    api = mp.Process(
        target=_api_process, args=(broker.port, api_port, str(directory / "live.db"), ready)
    )
    api.start()
    ready.wait(60)
    base = f"http://127.0.0.1:{api_port}"
    for _ in range(100):
        try:
            token = httpx.post(
                f"{base}/auth/login", json={"principal": "viewer", "password": "bench-viewer"}
            ).json()["access_token"]
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    latencies: list[float] = []
    parsed: dict[str, int] = {}
    with connect(
        f"ws://127.0.0.1:{api_port}/live?twin={TWIN}&token={token}", max_size=2**26
    ) as sock:
        sock.recv(timeout=10)  # snapshot
        gateway = mp.Process(target=_gateway, args=(broker.port, seconds, 100, 100))
        cpu0, t0 = _cpu_s(api.pid or 0), time.perf_counter()
        gateway.start()
        end = time.monotonic() + seconds + 2
        while time.monotonic() < end:
            try:
                message = orjson.loads(sock.recv(timeout=1))
            except TimeoutError:
                continue
            arrived = time.time_ns()
            if message["type"] != "delta":
                continue
            for c in message["changes"]:
                at = parsed.get(c["at"])
                if at is None:
                    at = parsed[c["at"]] = int(
                        np.datetime64(c["at"].rstrip("Z"), "ns").astype(np.int64)
                    )
                latencies.append((arrived - at) / 1e6)
        gateway.join()
        cpu = (_cpu_s(api.pid or 0) - cpu0) / (time.perf_counter() - t0)
    api.terminate()
    api.join(10)
    lat = np.array(latencies)
    return {
        "p50_ms": float(np.percentile(lat, 50)),
        "p99_ms": float(np.percentile(lat, 99)),
        "changes": len(lat),
        "api_cpu_cores": cpu,
    }


def latency_runs(seconds: float, runs: int = 3) -> None:
    """Only the PLC -> /live latency, several times: its tail is what varies."""
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        with LocalBroker(d / "broker", (INGEST, PLANT)) as broker:
            for run in range(1, runs + 1):
                (d / f"run{run}").mkdir()
                lat = live_latency(broker, d / f"run{run}", seconds)
                print(
                    f"run {run}: PLC -> /live at 10k points/s: p50 {lat['p50_ms']:.1f} ms, "
                    f"p99 {lat['p99_ms']:.1f} ms ({lat['changes']:,} changes seen); "
                    f"CPU {lat['api_cpu_cores']:.2f} cores"
                )
                out[f"live_p50_ms_{run}"] = lat["p50_ms"]
                out[f"live_p99_ms_{run}"] = lat["p99_ms"]
    print(json.dumps({k: round(v, 3) for k, v in out.items()}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--latency-only", action="store_true", help="only PLC -> /live latency (three runs)"
    )
    args = parser.parse_args()
    if args.latency_only:
        latency_runs(3.0 if args.quick else 8.0)
        return
    messages = 500 if args.quick else 2000
    seconds = 3.0 if args.quick else 8.0
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        with LocalBroker(d / "broker", (INGEST, PLANT)) as broker:
            plain = plain_paho_rate(broker, 5000 if args.quick else 20000)
            print(f"plain paho QoS 1, 64-byte messages: {plain:,.0f} msgs/s (reference)")
            m = mqtt_to_store(broker, d, messages, 1000)
            print(
                f"MQTT -> store, QoS 1, durable, 1,000 points/message: {m['points_per_s']:,.0f} "
                f"points/s ({m['points']:,} points in {m['seconds']:.2f} s, {m['flushes']} commits)"
                f" = {m['points_per_s'] / plain:.1f}x the plain client's message rate"
            )
            out.update(plain_paho_msgs_per_s=plain, mqtt_points_per_s=m["points_per_s"])
            lat = live_latency(broker, d, seconds)
            print(
                f"PLC -> /live at 10k points/s: p50 {lat['p50_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms"
                f" ({lat['changes']:,} changes seen); API+ingest process CPU "
                f"{lat['api_cpu_cores']:.2f} cores"
            )
            out.update(
                live_p50_ms=lat["p50_ms"],
                live_p99_ms=lat["p99_ms"],
                ingest_cpu_cores=lat["api_cpu_cores"],
            )
        port = free_port()
        ready, stop = mp.Event(), mp.Event()
        server = mp.Process(target=_opcua_server, args=(port, N_TAGS, ready, stop))
        server.start()
        ready.wait(60)
        endpoint = f"opc.tcp://127.0.0.1:{port}/bench"
        plain_ua = plain_asyncua_rate(endpoint, N_TAGS, seconds)
        print(
            f"plain asyncua subscription, {N_TAGS} variables: {plain_ua:,.0f} notifications/s "
            "(reference)"
        )
        poll = opcua_to_store(endpoint, d, N_TAGS, seconds, ReadMode.POLL)
        print(f"OPC UA -> store, batched reads: {poll:,.0f} points/s = {poll / plain_ua:.1f}x")
        subscribed = opcua_to_store(endpoint, d, N_TAGS, seconds, ReadMode.SUBSCRIBE)
        print(
            f"OPC UA -> store, subscription: {subscribed:,.0f} points/s = "
            f"{subscribed / plain_ua:.1f}x"
        )
        stop.set()
        server.join(10)
        out.update(
            plain_asyncua_per_s=plain_ua,
            opcua_poll_points_per_s=poll,
            opcua_subscribe_points_per_s=subscribed,
            opcua_ratio=poll / plain_ua,
        )
    print(json.dumps({k: round(v, 3) for k, v in out.items()}))


if __name__ == "__main__":
    mp.set_start_method("spawn")
    main()
