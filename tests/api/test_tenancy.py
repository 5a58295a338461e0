"""Company B (initech's admin) can neither read nor write company A's (globex) twin, by any endpoint."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import login

GLOBEX = "86.1000.globex"
PRESS = f"{GLOBEX}/shanghai/l1/press-1"

READS = [
    f"/twins/{GLOBEX}",
    f"/twins/{GLOBEX}/entities?q=*",
    f"/twins/{GLOBEX}/entities?q=machine&as_of=2030-01-01T00:00Z",
    f"/resolve/{GLOBEX}",
    f"/resolve/{PRESS}",
    f"/resolve/{PRESS}?as_of=2030-01-01T00:00Z",
    f"/events?twin={GLOBEX}",
    f"/events?twin={GLOBEX}&entity={PRESS}",
]


@pytest.mark.parametrize("path", READS)
def test_other_company_cannot_read(client: TestClient, path: str) -> None:
    response = client.get(path, headers=login(client, "eve"))
    assert response.status_code == 404, response.text
    # Nothing beyond the requested id comes back: no properties, relations or names.
    body = response.json()
    assert set(body) == {"type", "title", "status", "detail", "code"}
    assert "Shanghai" not in response.text and 'press-1"' not in response.text


def test_other_company_does_not_see_the_twin_in_lists(client: TestClient) -> None:
    twins = client.get("/twins", headers=login(client, "eve")).json()
    assert GLOBEX not in {t["prefix"] for t in twins}


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "property-set", "entity_id": PRESS, "name": "kind", "value": "cnc"},
        {"kind": "entity-removed", "entity_id": PRESS},
        {"kind": "relation-added", "relation": {"source": PRESS, "kind": "feeds", "target": PRESS}},
    ],
)
def test_other_company_cannot_write(client: TestClient, workspace, change: dict) -> None:
    before = workspace.store.last_seq(GLOBEX)
    response = client.post(
        f"/twins/{GLOBEX}/changes", headers=login(client, "eve"), json={"changes": [change]}
    )
    assert response.status_code == 404, response.text
    assert workspace.store.last_seq(GLOBEX) == before


def test_other_company_cannot_smuggle_a_write_through_its_own_twin(
    client: TestClient, workspace
) -> None:
    before = workspace.store.last_seq(GLOBEX)
    response = client.post(
        "/twins/86.2000.initech/changes",
        headers=login(client, "eve"),
        json={
            "changes": [
                {"kind": "property-set", "entity_id": PRESS, "name": "kind", "value": "cnc"}
            ]
        },
    )
    assert response.status_code in (403, 404)
    assert workspace.store.last_seq(GLOBEX) == before
