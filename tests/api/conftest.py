from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from twinverse.api import create_app
from twinverse.identity import Role
from twinverse.scenario import load_scenario
from twinverse.store.sqlite import SqliteStore
from twinverse.workspace import Workspace

PASSWORD = "correct horse battery"


@pytest.fixture
def workspace(tmp_path: Path, fixtures: Path, clock) -> Iterator[Workspace]:
    store = SqliteStore(tmp_path / "store.db").open()
    ws = Workspace(store, clock=clock)
    ws.import_scenario(load_scenario(fixtures / "globex.yaml"), tenant="globex", actor="setup")
    ws.import_scenario(load_scenario(fixtures / "initech.yaml"), tenant="initech", actor="setup")
    for name, tenant, role in (
        ("ann", "globex", Role.ENGINEER),
        ("vic", "globex", Role.VIEWER),
        ("eve", "initech", Role.ADMIN),
    ):
        ws.accounts.create(name, tenant=tenant, roles=[role], password=PASSWORD)
    ws.accounts.create(
        "sam",
        tenant="globex",
        roles=[Role.ENGINEER],
        password=PASSWORD,
        scopes=("86.1000.globex/shanghai",),
    )
    yield ws
    ws.close()


@pytest.fixture
def client(workspace: Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(workspace=workspace)) as c:
        yield c


def login(client: TestClient, name: str) -> dict[str, str]:
    response = client.post("/auth/login", json={"principal": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
