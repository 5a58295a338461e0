"""The AI endpoints over a real workspace and real model files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import PASSWORD
from tests.conftest import FakeClock
from twinverse.ai.cmapss import Subset
from twinverse.ai.rul import RulModel
from twinverse.api import create_app
from twinverse.identity import Role
from twinverse.scenario import load_scenario
from twinverse.store.sqlite import SqliteStore
from twinverse.workspace import Workspace

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "global-network.yaml"


@pytest.fixture
def client(tmp_path: Path, small_model: RulModel, clock: FakeClock) -> Iterator[TestClient]:
    store = SqliteStore(tmp_path / "store.db").open()
    ws = Workspace(store, clock=clock)
    ws.import_scenario(load_scenario(EXAMPLE), tenant="huaxin", actor="setup")
    ws.accounts.create("ann", tenant="huaxin", roles=[Role.ENGINEER], password=PASSWORD)
    small_model.save(tmp_path / "models" / "fd001.npz")
    (tmp_path / "models" / "broken.npz").write_text("not a model")
    app = create_app(workspace=ws)
    app.state.ai_models = tmp_path / "models"
    with TestClient(app) as c:
        token = c.post("/auth/login", json={"principal": "ann", "password": PASSWORD})
        c.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield c
    ws.close()


def test_ask_returns_the_answer_and_its_evidence(client: TestClient) -> None:
    response = client.post("/twins/86.1000.huaxin/ask", json={"question": "德国有多少台机器?"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["answered"]
    assert body["language"] == "zh"
    assert body["query"] == "machine in (site where country = DE)"
    assert len(body["rows"]) == 13


def test_ask_needs_a_question(client: TestClient) -> None:
    response = client.post("/twins/86.1000.huaxin/ask", json={"question": ""})
    assert response.status_code == 422


def test_models_are_listed_with_their_provenance(client: TestClient) -> None:
    body = client.get("/ai/rul/models").json()
    assert [m["name"] for m in body] == ["fd001"]
    assert body[0]["subset"] == "FD001"
    assert len(body[0]["data_hash"]) == 64


def test_predict_rul_for_one_machine(client: TestClient, fd001: Subset) -> None:
    engine = fd001.test.select(np.asarray([0]))
    cycles = [
        [*engine.settings[i].tolist(), *engine.sensors[i].tolist()]
        for i in range(len(engine.units))
    ]
    response = client.post("/ai/rul/models/fd001/predict", json={"cycles": cycles})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["cycles"] == len(cycles)
    assert body["low"] <= body["rul"] <= body["high"]
    assert 0.0 <= body["health"] <= 1.0


def test_predict_rejects_a_short_row_and_an_unknown_model(client: TestClient) -> None:
    short = client.post("/ai/rul/models/fd001/predict", json={"cycles": [[1.0, 2.0]]})
    assert short.status_code == 422
    missing = client.post("/ai/rul/models/nope/predict", json={"cycles": [[0.0] * 24]})
    assert missing.status_code == 400
    assert missing.json()["code"] == "ai-model-file"
    odd = client.post("/ai/rul/models/..%2Fx/predict", json={"cycles": [[0.0] * 24]})
    assert odd.status_code in (400, 404)
