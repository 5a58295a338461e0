"""The collaboration socket: presence, chat, annotations in the twin, design edits with version checks."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from tests.web.conftest import LINE, PREFIX, token
from twinverse.api.routers.web import design_version, line_kpis, line_model_from_graph
from twinverse.workspace import Workspace

B070 = f"{LINE}/b070"
OP010 = f"{LINE}/op010"


def connect(client: TestClient, who: str, name: str) -> WebSocketTestSession:
    return client.websocket_connect(f"/collab?twin={PREFIX}&token={token(client, who)}&name={name}")


def until(socket: WebSocketTestSession, kind: str) -> dict[str, Any]:
    for _ in range(50):
        message: dict[str, Any] = socket.receive_json()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind!r} message")


def test_welcome_names_the_participant_and_the_others(client: TestClient) -> None:
    with connect(client, "ann", "Ann") as ann:
        hello = until(ann, "welcome")
        assert hello["you"]["name"] == "Ann" and hello["you"]["colour"].startswith("#")
        with connect(client, "bob", "Bob") as bob:
            seen = until(bob, "welcome")
            assert [p["name"] for p in seen["participants"]] == ["Ann"]
            assert until(ann, "joined")["name"] == "Bob"
            assert seen["you"]["colour"] != hello["you"]["colour"]


def test_a_bad_token_closes_with_4401(client: TestClient) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect(f"/collab?twin={PREFIX}&token=nope") as socket,
    ):
        socket.receive_json()
    assert closed.value.code == 4401


def test_another_companys_twin_closes_with_4404(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as closed, connect(client, "eve", "Eve") as socket:
        socket.receive_json()
    assert closed.value.code == 4404


def test_poses_reach_the_others_coalesced(client: TestClient) -> None:
    with connect(client, "ann", "Ann") as ann, connect(client, "bob", "Bob") as bob:
        until(bob, "welcome")
        for x in range(5):
            ann.send_json({"type": "pose", "camera": [x, 2, 3, 0, 0, 0], "pointing": OP010})
        poses = until(bob, "poses")["poses"]
        assert poses[-1]["pointing"] == OP010
        assert poses[-1]["camera"][0] in range(5)


def test_chat_reaches_everyone_and_later_joiners(client: TestClient) -> None:
    with connect(client, "ann", "Ann") as ann:
        until(ann, "welcome")
        ann.send_json({"type": "chat", "text": "the oven looks slow"})
        assert until(ann, "chat")["text"] == "the oven looks slow"
        with connect(client, "bob", "Bob") as bob:
            assert [c["text"] for c in until(bob, "welcome")["chat"]] == ["the oven looks slow"]


def test_an_annotation_is_an_event_in_the_twin_with_author(
    client: TestClient, workspace: Workspace
) -> None:
    with connect(client, "ann", "Ann") as ann, connect(client, "bob", "Bob") as bob:
        until(ann, "welcome")
        ann.send_json({"type": "annotate", "entity": OP010, "text": "guard is loose"})
        note = until(bob, "annotation")
        assert (note["author"], note["entity"], note["text"]) == ("Ann", OP010, "guard is loose")
    stored = workspace.graph(PREFIX).entity(OP010).properties["annotations"]
    assert isinstance(stored, list) and stored[0]["text"] == "guard is loose"
    last = workspace.events(PREFIX, entity=OP010)[-1]
    assert last.actor == "ann"
    with connect(client, "bob", "Bob") as late:
        assert [n["text"] for n in until(late, "welcome")["annotations"]] == ["guard is loose"]


def test_a_bad_message_gets_an_error_naming_the_field(client: TestClient) -> None:
    with connect(client, "ann", "Ann") as ann:
        until(ann, "welcome")
        ann.send_json({"type": "chat"})
        assert "text" in until(ann, "error")["message"]
        ann.send_text("not json")
        assert until(ann, "error")["code"] == "invalid-message"
        ann.send_json({"type": "annotate", "entity": f"{PREFIX}/nowhere", "text": "x"})
        assert "nowhere" in until(ann, "error")["message"]


def test_a_buffer_edit_reruns_the_line_and_everyone_sees_before_and_after(
    client: TestClient, workspace: Workspace
) -> None:
    with connect(client, "ann", "Ann") as ann, connect(client, "bob", "Bob") as bob:
        until(ann, "welcome")
        until(bob, "welcome")
        ann.send_json(
            {"type": "edit", "entity": B070, "property": "capacity", "value": 1, "base": ""}
        )
        edited = until(bob, "edited")
        assert (edited["by"], edited["value"]) == ("Ann", 1)
        kpis = until(bob, "kpis")
        assert until(ann, "kpis") == kpis
    before, after = kpis["before"]["wip_mean"]["mean"], kpis["after"]["wip_mean"]["mean"]
    assert after < before  # a smaller buffer holds less work in process
    capacity = workspace.graph(PREFIX).entity(B070).properties["capacity"]
    assert capacity.magnitude == 1  # type: ignore[union-attr]


def test_a_stale_edit_is_refused_with_a_visible_conflict(
    client: TestClient, workspace: Workspace
) -> None:
    with connect(client, "ann", "Ann") as ann, connect(client, "bob", "Bob") as bob:
        until(ann, "welcome")
        until(bob, "welcome")
        ann.send_json(
            {"type": "edit", "entity": OP010, "property": "position", "value": [7, 6], "base": ""}
        )
        version = until(ann, "edited")["version"]
        bob.send_json(
            {"type": "edit", "entity": OP010, "property": "position", "value": [5, 5], "base": ""}
        )
        conflict = until(bob, "conflict")
        assert conflict["by"] == "ann" and conflict["version"] == version
        assert "not applied" in conflict["message"]
        bob.send_json(
            {
                "type": "edit",
                "entity": OP010,
                "property": "position",
                "value": [5, 5],
                "base": version,
            }
        )
        assert until(bob, "edited")["value"] == [5, 5]
    position = workspace.graph(PREFIX).entity(OP010).properties["position"]
    assert position["x"].magnitude == 5  # type: ignore[index]


def test_a_viewer_cannot_edit(client: TestClient) -> None:
    with connect(client, "vic", "Vic") as vic:
        until(vic, "welcome")
        vic.send_json(
            {"type": "edit", "entity": OP010, "property": "heading", "value": 90, "base": ""}
        )
        assert until(vic, "error")["code"] in {"forbidden", "access-denied"}


@pytest.mark.parametrize(
    ("prop", "value", "needle"),
    [
        ("capacity", -1, "whole number"),
        ("capacity", 2.5, "whole number"),
        ("position", [1], "[x, y]"),
        ("position", ["a", 2], "[x, y]"),
        ("name", "x", "cannot be edited"),
    ],
)
def test_an_invalid_design_value_is_explained(
    client: TestClient, prop: str, value: object, needle: str
) -> None:
    with connect(client, "ann", "Ann") as ann:
        until(ann, "welcome")
        ann.send_json(
            {"type": "edit", "entity": B070, "property": prop, "value": value, "base": ""}
        )
        assert needle in until(ann, "error")["message"]


def test_the_line_model_follows_the_twin(workspace: Workspace) -> None:
    graph = workspace.graph(PREFIX)
    model = line_model_from_graph(graph, LINE)
    assert [s.id for s in model.stations][:3] == ["op010", "op020", "op030"]
    # b070 (25 pcs) and the cooling conveyor (30 pcs) both sit between op070 and op080.
    assert model.buffers[6] == 55
    assert design_version(graph.entity(B070)) == ""
    assert line_kpis(graph, LINE) == line_kpis(graph, LINE)
