"""The /live WebSocket as docs/live-protocol.md specifies it, over the real app."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.api.conftest import login

GLOBEX = "86.1000.globex"
LINE = f"{GLOBEX}/shanghai/l1"
PRESS = f"{LINE}/press-1"
WELD = f"{LINE}/weld-1"


def token(client: TestClient, name: str = "ann") -> str:
    return login(client, name)["Authorization"].split(" ", 1)[1]


def set_state(client: TestClient, entity: str, value: str, who: str = "ann") -> None:
    body = {
        "changes": [{"kind": "property-set", "entity_id": entity, "name": "state", "value": value}]
    }
    response = client.post(f"/twins/{GLOBEX}/changes", json=body, headers=login(client, who))
    assert response.status_code == 201, response.text


def test_snapshot_comes_first_with_the_twin_s_entities(client: TestClient) -> None:
    with client.websocket_connect(f"/live?twin={GLOBEX}&token={token(client)}") as ws:
        first = ws.receive_json()
    assert first["type"] == "snapshot" and first["seq"] == 1
    assert first["at"].endswith("Z") and len(first["at"]) == len("2026-11-21T08:00:00.000Z")
    assert first["entities"][PRESS]["kind"] == "machine"
    assert first["entities"][PRESS]["power"]["busy"] == {"$q": [15.0, "kW"]}


def test_a_committed_state_change_reaches_the_subscriber_as_a_delta(client: TestClient) -> None:
    with client.websocket_connect(f"/live?twin={GLOBEX}&token={token(client)}") as ws:
        assert ws.receive_json()["type"] == "snapshot"
        set_state(client, PRESS, "down")
        delta = ws.receive_json()
    assert delta["type"] == "delta" and delta["seq"] == 2
    assert delta["changes"] == [
        {
            "entity": PRESS,
            "property": "state",
            "value": "down",
            "at": delta["changes"][0]["at"],
            "source": "ann",
        }
    ]


def test_the_snapshot_holds_the_latest_live_values(client: TestClient) -> None:
    set_state(client, PRESS, "running")
    with client.websocket_connect(f"/live?twin={GLOBEX}&token={token(client)}") as ws:
        first = ws.receive_json()
    assert first["entities"][PRESS]["state"] == "running"


def test_under_and_kinds_filter_the_snapshot_and_the_deltas(client: TestClient) -> None:
    url = f"/live?twin={GLOBEX}&under={LINE}&kinds=buffer&token={token(client)}"
    with client.websocket_connect(url) as ws:
        first = ws.receive_json()
        assert set(first["entities"]) == {f"{LINE}/b1"}
        set_state(client, PRESS, "down")  # a machine: filtered out
        set_state(client, f"{LINE}/b1", "full")
        delta = ws.receive_json()
    assert [c["entity"] for c in delta["changes"]] == [f"{LINE}/b1"]


def test_a_filter_message_is_answered_with_a_new_snapshot(client: TestClient) -> None:
    with client.websocket_connect(f"/live?twin={GLOBEX}&token={token(client)}") as ws:
        ws.receive_json()
        ws.send_json({"type": "filter", "under": LINE, "kinds": ["machine"]})
        second = ws.receive_json()
    assert second["type"] == "snapshot" and second["seq"] == 2
    assert set(second["entities"]) == {PRESS, WELD}


def test_a_bad_client_message_gets_an_error_and_keeps_the_feed(client: TestClient) -> None:
    with client.websocket_connect(f"/live?twin={GLOBEX}&token={token(client)}") as ws:
        ws.receive_json()
        ws.send_text("{not json")
        error = ws.receive_json()
        ws.send_json({"type": "filter", "kinds": ["spaceship"]})
        unknown = ws.receive_json()
        set_state(client, PRESS, "idle")
        delta = ws.receive_json()
    assert error["type"] == "error" and "JSON" in error["detail"]
    assert unknown["type"] == "error" and "spaceship" in unknown["detail"]
    assert delta["type"] == "delta"


def test_a_scoped_principal_sees_only_its_subtree(client: TestClient) -> None:
    with client.websocket_connect(f"/live?twin={GLOBEX}&token={token(client, 'sam')}") as ws:
        first = ws.receive_json()
    assert first["entities"] and all(e.startswith(f"{GLOBEX}/shanghai") for e in first["entities"])


@pytest.mark.parametrize(
    ("query", "code"),
    [
        (f"twin={GLOBEX}", 4401),
        (f"twin={GLOBEX}&token=nope", 4401),
        ("twin=86.1000.initech&token={t}", 4404),
        ("twin=86.9999.nobody&token={t}", 4404),
        (f"twin={GLOBEX}&kinds=spaceship&token={{t}}", 4400),
    ],
)
def test_bad_connections_are_closed_with_a_code(client: TestClient, query: str, code: int) -> None:
    url = "/live?" + query.format(t=token(client))
    with client.websocket_connect(url) as ws, pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    assert closed.value.code == code
