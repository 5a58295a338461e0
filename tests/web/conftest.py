"""A workspace with the 3D-laid-out line, logins, and the app over it."""

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

ROOT = Path(__file__).resolve().parents[2]
LINE_YAML = ROOT / "examples" / "line.yaml"
PREFIX = "86.1001.jinfeng"
LINE = f"{PREFIX}/changzhou/hall-2/ie3-line"
PASSWORD = "correct horse battery"


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    store = SqliteStore(tmp_path / "store.db").open()
    ws = Workspace(store)
    ws.import_scenario(load_scenario(LINE_YAML), tenant="jinfeng", actor="setup")
    ws.accounts.create("ann", tenant="jinfeng", roles=[Role.ENGINEER], password=PASSWORD)
    ws.accounts.create("bob", tenant="jinfeng", roles=[Role.ENGINEER], password=PASSWORD)
    ws.accounts.create("vic", tenant="jinfeng", roles=[Role.VIEWER], password=PASSWORD)
    ws.accounts.create("eve", tenant="other", roles=[Role.ADMIN], password=PASSWORD)
    yield ws
    ws.close()


@pytest.fixture
def client(workspace: Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(workspace=workspace)) as c:
        yield c


def token(client: TestClient, name: str) -> str:
    response = client.post("/auth/login", json={"principal": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])
