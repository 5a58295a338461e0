"""The twin follows a real OPC UA plant: time series API, /live deltas, commands with audit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from tests.live.plants import LINE, loaded, plant_tag_map, plant_thread
from twinverse.api import create_app
from twinverse.identity import Role
from twinverse.live.broker import free_port
from twinverse.live.hub import LiveHub
from twinverse.live.opcua import OpcUaSettings
from twinverse.live.plant import PlantThread
from twinverse.live.runtime import LiveRuntime, OpcUaSource
from twinverse.store.sqlite import SqliteStore
from twinverse.workspace import Workspace

JINFENG = "86.1001.jinfeng"
OP010 = f"{LINE}/op010"
PASSWORD = "correct horse battery"


class Live:
    def __init__(self, client: TestClient, runtime: LiveRuntime, plant: PlantThread, audit: Path):
        self.client, self.runtime, self.plant, self.audit = client, runtime, plant, audit

    def login(self, name: str) -> dict[str, str]:
        r = self.client.post("/auth/login", json={"principal": name, "password": PASSWORD})
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("live")
    ws = Workspace(SqliteStore(tmp / "store.db").open())
    ws.import_scenario(loaded(), tenant="jinfeng", actor="setup")
    for name, role in (("olga", Role.OPERATOR), ("vera", Role.VIEWER)):
        ws.accounts.create(name, tenant="jinfeng", roles=[role], password=PASSWORD)
    port = free_port()
    hub = LiveHub()
    ws.add_listener(hub.publish_events)
    settings = OpcUaSettings(
        f"opc.tcp://127.0.0.1:{port}/twinverse/plant", dev_mode=True, publishing_interval_ms=50
    )
    runtime = LiveRuntime(
        ws, hub, opcua=(OpcUaSource(settings, plant_tag_map()),), audit_path=tmp / "audit.jsonl"
    )
    app = create_app(workspace=ws)
    app.state.live_hub = hub
    app.state.live_runtime = runtime
    with plant_thread(port) as plant:
        runtime.start()
        assert runtime.wait_connected(20)
        with TestClient(app) as client:
            yield Live(client, runtime, plant, tmp / "audit.jsonl")
        runtime.stop()
    ws.close()


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_latest_values_per_entity(live: Live) -> None:
    h = live.login("vera")
    body = wait_for(
        lambda: live.client.get(f"/timeseries/latest?entity={LINE}", headers=h).json().get(OP010)
    )
    assert {"temperature", "vibration", "power", "parts"} <= set(body)
    assert 15 < body["temperature"]["value"] < 100


def test_raw_and_downsampled_series(live: Live) -> None:
    h = live.login("vera")
    raw = wait_for(
        lambda: (
            (
                r := live.client.get(
                    "/timeseries/raw", params={"entity": OP010, "property": "vibration"}, headers=h
                ).json()
            )
            and len(r["values"]) >= 5
            and r
        )
    )
    assert len(raw["ts"]) == len(raw["values"])
    down = live.client.get(
        "/timeseries/downsampled",
        params={
            "entity": OP010,
            "property": ["vibration", "temperature"],
            "window": 1,
            "agg": "max",
        },
        headers=h,
    ).json()
    assert [d["property"] for d in down] == ["vibration", "temperature"]
    assert down[0]["aggregate"] == "max" and down[0]["values"]


def test_machine_states_become_events_of_the_twin(live: Live) -> None:
    h = live.login("vera")
    events = wait_for(
        lambda: [
            e
            for e in live.client.get(
                "/events", params={"twin": JINFENG, "entity": OP010, "limit": 1000}, headers=h
            ).json()["items"]
            if e["actor"] == "opcua"
        ]
    )
    assert events[0]["change"]["name"] == "state"


def test_live_subscribers_receive_plant_values(live: Live) -> None:
    token = live.login("vera")["Authorization"].split()[1]
    url = f"/live?twin={JINFENG}&under={OP010}&token={token}"
    with live.client.websocket_connect(url) as ws:
        assert ws.receive_json()["type"] == "snapshot"
        delta = ws.receive_json()
    assert delta["type"] == "delta"
    assert {c["source"] for c in delta["changes"]} <= {"opcua"}
    assert all(c["entity"] == OP010 for c in delta["changes"])


def test_the_ingest_report_is_healthy(live: Live) -> None:
    body = live.client.get("/health/ingest").json()
    assert body["status"] == "ok" and body["stored"] > 0


def test_an_operator_stops_and_starts_a_machine_with_an_audit_trail(live: Live) -> None:
    h = live.login("olga")
    r = live.client.post(
        f"/twins/{JINFENG}/commands",
        json={"entity": OP010, "command": "stop", "key": "k-stop-1"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "done" and r.json()["actor"] == "olga"
    wait_for(lambda: not live.plant.server.line.machines[0].enabled)
    again = live.client.post(
        f"/twins/{JINFENG}/commands",
        json={"entity": OP010, "command": "stop", "key": "k-stop-1"},
        headers=h,
    )
    assert again.json()["repeated"] is True
    live.client.post(
        f"/twins/{JINFENG}/commands",
        json={"entity": OP010, "command": "start", "key": "k-start-1"},
        headers=h,
    )
    wait_for(lambda: live.plant.server.line.machines[0].enabled)
    records = [orjson.loads(x) for x in live.audit.read_bytes().splitlines()]
    mine = [(r["key"], r["status"]) for r in records if r["key"] in ("k-stop-1", "k-start-1")]
    assert mine == [
        ("k-stop-1", "accepted"),
        ("k-stop-1", "done"),
        ("k-start-1", "accepted"),
        ("k-start-1", "done"),
    ]


def test_line_speed_is_range_checked(live: Live) -> None:
    h = live.login("olga")
    r = live.client.post(
        f"/twins/{JINFENG}/commands",
        json={"entity": LINE, "command": "set-speed", "value": 500, "key": "s-1"},
        headers=h,
    )
    assert r.status_code == 400 and r.json()["code"] == "command-out-of-range"
    assert "[10, 150]" in r.json()["detail"]
    ok = live.client.post(
        f"/twins/{JINFENG}/commands",
        json={"entity": LINE, "command": "set-speed", "value": 80, "key": "s-2"},
        headers=h,
    )
    assert ok.status_code == 200, ok.text
    wait_for(lambda: live.plant.server.line.speed_pct == 80.0)


def test_a_viewer_may_not_command(live: Live) -> None:
    r = live.client.post(
        f"/twins/{JINFENG}/commands",
        json={"entity": OP010, "command": "stop", "key": "v-1"},
        headers=live.login("vera"),
    )
    assert r.status_code == 403 and "control" in r.json()["detail"]


def test_an_unknown_property_is_refused_clearly(live: Live) -> None:
    r = live.client.post(
        f"/twins/{JINFENG}/commands",
        json={"entity": OP010, "property": "temperature", "value": 20, "key": "t-1"},
        headers=live.login("olga"),
    )
    assert (
        r.status_code == 400
        and "writable: alarm_acknowledged, enabled, reset" in r.json()["detail"]
    )
