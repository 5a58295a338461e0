from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import login
from twinverse.twin.instant import format_instant

GLOBEX = "86.1000.globex"
PRESS = f"{GLOBEX}/shanghai/l1/press-1"


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    assert "Traceback" not in response.text
    return body


def test_health_needs_no_login(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["twins"] == 2


def test_every_other_endpoint_needs_a_token(client: TestClient) -> None:
    for path in (
        "/twins",
        f"/twins/{GLOBEX}",
        f"/twins/{GLOBEX}/entities",
        f"/resolve/{PRESS}",
        f"/events?twin={GLOBEX}",
    ):
        assert_problem(client.get(path), 401, "unauthenticated")
    assert_problem(
        client.post(f"/twins/{GLOBEX}/changes", json={"changes": []}), 401, "unauthenticated"
    )


def test_bad_token_is_refused(client: TestClient) -> None:
    assert_problem(
        client.get("/twins", headers={"Authorization": "Bearer nope"}), 401, "unauthenticated"
    )


def test_wrong_password_is_refused(client: TestClient) -> None:
    response = client.post("/auth/login", json={"principal": "ann", "password": "nope nope"})
    assert_problem(response, 401, "unauthenticated")


def test_twins_lists_only_the_company_s_own(client: TestClient) -> None:
    twins = client.get("/twins", headers=login(client, "ann")).json()
    assert [t["prefix"] for t in twins] == [GLOBEX]


def test_twin_summary_counts_entities(client: TestClient) -> None:
    body = client.get(f"/twins/{GLOBEX}", headers=login(client, "ann")).json()
    assert body["counts"]["machine"] == 2 and body["entities"] == 11


def test_query_filters_by_property_with_units(client: TestClient) -> None:
    body = client.get(
        f"/twins/{GLOBEX}/entities",
        params={"q": "machine where power.busy > 10000 W"},
        headers=login(client, "ann"),
    ).json()
    assert [e["id"] for e in body["items"]] == [PRESS]
    assert body["items"][0]["properties"]["power"]["busy"] == {"$q": [15.0, "kW"]}


def test_query_syntax_error_is_a_400_problem(client: TestClient) -> None:
    response = client.get(
        f"/twins/{GLOBEX}/entities", params={"q": "machin"}, headers=login(client, "ann")
    )
    body = assert_problem(response, 400, "invalid-query")
    assert "expected an entity kind" in body["detail"]


def test_resolve_returns_record_and_relations(client: TestClient) -> None:
    body = client.get(f"/resolve/{PRESS}", headers=login(client, "ann")).json()
    assert body["entity"]["kind"] == "machine"
    assert {(r["kind"], r["target"]) for r in body["outgoing"]} == {
        ("feeds", f"{GLOBEX}/shanghai/l1/b1")
    }
    assert {r["kind"] for r in body["incoming"]} == {"contains", "processed-on", "operates"}


def test_unknown_id_is_404(client: TestClient) -> None:
    assert_problem(
        client.get(f"/resolve/{GLOBEX}/nope", headers=login(client, "ann")), 404, "entity-not-found"
    )


def test_change_becomes_event_and_as_of_shows_the_past(client: TestClient, clock) -> None:
    headers = login(client, "ann")
    before = client.get(f"/resolve/{PRESS}", headers=headers).json()
    clock.advance(60)
    response = client.post(
        f"/twins/{GLOBEX}/changes",
        headers=headers,
        json={
            "changes": [
                {"kind": "property-set", "entity_id": PRESS, "name": "kind", "value": "cnc"}
            ],
            "reason": "retooled",
        },
    )
    assert response.status_code == 201, response.text
    event = response.json()[0]
    assert (event["actor"], event["reason"]) == ("ann", "retooled")
    now = client.get(f"/resolve/{PRESS}", headers=headers).json()
    assert now["entity"]["properties"]["kind"] == "cnc"
    between = format_instant(clock.now - 30 * 10**9)
    past = client.get(f"/resolve/{PRESS}", params={"as_of": between}, headers=headers).json()
    assert past["entity"]["properties"]["kind"] == before["entity"]["properties"]["kind"] == "press"
    history = client.get(
        "/events", params={"twin": GLOBEX, "entity": PRESS}, headers=headers
    ).json()
    assert history["items"][-1]["seq"] == event["seq"]


def test_viewer_cannot_write(client: TestClient) -> None:
    response = client.post(
        f"/twins/{GLOBEX}/changes",
        headers=login(client, "vic"),
        json={
            "changes": [
                {"kind": "property-set", "entity_id": PRESS, "name": "kind", "value": "cnc"}
            ]
        },
    )
    assert_problem(response, 403, "forbidden")


def test_conflicting_change_is_409_and_stores_nothing(client: TestClient) -> None:
    headers = login(client, "ann")
    before = client.get("/events", params={"twin": GLOBEX, "limit": 10000}, headers=headers).json()
    response = client.post(
        f"/twins/{GLOBEX}/changes",
        headers=headers,
        json={
            "changes": [
                {"kind": "property-set", "entity_id": PRESS, "name": "x", "value": 1},
                {"kind": "entity-removed", "entity_id": PRESS},
            ]
        },
    )
    assert_problem(response, 409, "graph-conflict")
    after = client.get("/events", params={"twin": GLOBEX, "limit": 10000}, headers=headers).json()
    assert len(after["items"]) == len(before["items"])


def test_malformed_change_is_a_400_problem(client: TestClient) -> None:
    response = client.post(
        f"/twins/{GLOBEX}/changes",
        headers=login(client, "ann"),
        json={"changes": [{"kind": "explode"}]},
    )
    assert_problem(response, 400, "invalid-encoding")


def test_invalid_body_is_a_422_problem(client: TestClient) -> None:
    response = client.post(
        f"/twins/{GLOBEX}/changes", headers=login(client, "ann"), json={"changes": "x"}
    )
    assert_problem(response, 422, "invalid-request")


def test_bad_as_of_is_a_400_problem(client: TestClient) -> None:
    response = client.get(
        f"/resolve/{PRESS}", params={"as_of": "yesterday"}, headers=login(client, "ann")
    )
    assert_problem(response, 400, "invalid-time")


def test_events_page_with_a_cursor(client: TestClient) -> None:
    headers = login(client, "ann")
    first = client.get("/events", params={"twin": GLOBEX, "limit": 5}, headers=headers).json()
    second = client.get(
        "/events",
        params={"twin": GLOBEX, "limit": 5, "after": first["next_after"]},
        headers=headers,
    ).json()
    assert len(first["items"]) == 5
    assert second["items"][0]["seq"] > first["items"][-1]["seq"]


def test_scoped_principal_sees_only_its_subtree(client: TestClient) -> None:
    headers = login(client, "sam")
    body = client.get(f"/twins/{GLOBEX}/entities", params={"q": "*"}, headers=headers).json()
    assert body["total"] > 0
    assert all(e["id"].startswith(f"{GLOBEX}/shanghai") for e in body["items"])
    assert_problem(client.get(f"/resolve/{GLOBEX}/steel", headers=headers), 404, "entity-not-found")
    response = client.post(
        f"/twins/{GLOBEX}/changes",
        headers=headers,
        json={
            "changes": [
                {"kind": "property-set", "entity_id": f"{GLOBEX}/steel", "name": "x", "value": 1}
            ]
        },
    )
    assert_problem(response, 404, "entity-not-found")
    events = client.get("/events", params={"twin": GLOBEX, "limit": 10000}, headers=headers).json()
    assert events["items"] and all(GLOBEX + "/shanghai" in e["subject"] for e in events["items"])


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert "/resolve/{entity_id}" in client.get("/openapi.json").json()["paths"]
