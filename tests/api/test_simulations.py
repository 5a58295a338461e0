"""What-if studies over HTTP: start, progress, result, report, and the errors around them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from twinverse.api import create_app
from twinverse.identity import Role
from twinverse.scenario import load_scenario
from twinverse.store import TwinInfo
from twinverse.store.sqlite import SqliteStore
from twinverse.workspace import Workspace

from .conftest import PASSWORD, login

NETWORK = Path(__file__).parents[1] / "sim" / "network" / "fixtures" / "dual-lanes.yaml"
PREFIX = "86.1000.dualco"


@pytest.fixture
def client(tmp_path: Path, fixtures: Path, clock) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    ws = Workspace(SqliteStore(tmp_path / "store.db").open(), clock=clock)
    ws.import_scenario(load_scenario(NETWORK), tenant="dualco", actor="setup")
    ws.import_scenario(load_scenario(fixtures / "initech.yaml"), tenant="initech", actor="setup")
    ws.accounts.create("dee", tenant="dualco", roles=[Role.VIEWER], password=PASSWORD)
    ws.accounts.create("eve", tenant="initech", roles=[Role.ADMIN], password=PASSWORD)
    with TestClient(create_app(workspace=ws)) as c:
        yield c
    ws.close()


def wait(client: TestClient, url: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = client.get(url, headers=headers).json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"{url} did not finish")


def test_a_study_runs_in_the_background_and_reports(client: TestClient) -> None:
    dee = login(client, "dee")
    started = client.post(
        f"/twins/{PREFIX}/simulations", json={"replications": 6, "seed": 4}, headers=dee
    )
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["status"] in ("queued", "running", "done") and job["scenarios"] == ["dual"]
    assert job["progress"]["total"] == 12
    done = wait(client, job["links"]["self"], dee)
    assert done["status"] == "done", done["error"]
    assert done["progress"] == {"done": 12, "total": 12}
    names = [s["name"] for s in done["result"]["scenarios"]]
    assert names == ["baseline", "dual"]
    assert 0 < done["result"]["scenarios"][0]["kpis"]["fill_rate"]["mean"] <= 1
    report = client.get(done["links"]["report"], headers=dee)
    assert report.status_code == 200 and "plotly" in report.text
    listed = client.get(f"/twins/{PREFIX}/simulations", headers=dee).json()
    assert [j["id"] for j in listed] == [job["id"]] and listed[0]["result"] is None


def test_the_same_seed_gives_the_same_result_from_the_twin_state_now(client: TestClient) -> None:
    dee = login(client, "dee")
    body = {"replications": 4, "seed": 9, "scenarios": ["dual"], "from_state": "now"}
    a = client.post(f"/twins/{PREFIX}/simulations", json=body, headers=dee).json()
    b = client.post(f"/twins/{PREFIX}/simulations", json=body, headers=dee).json()
    ra, rb = wait(client, a["links"]["self"], dee), wait(client, b["links"]["self"], dee)
    assert ra["status"] == rb["status"] == "done"
    assert ra["result"]["start"]["outages"] == []
    assert ra["result"]["scenarios"] == rb["result"]["scenarios"]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"scenarios": ["no-such"]}, 400, "the twin's scenario declares: dual"),
        ({"replications": 1}, 422, "replications"),
        ({"replications": 10**9}, 422, "replications"),
        ({"from_state": "yesterday-ish"}, 400, "yesterday-ish"),
        ({"from_state": "2001-01-01T00:00Z"}, 400, "did not exist"),
        ({"horizon": 3}, 422, "horizon"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(
    client: TestClient, body: dict[str, Any], status: int, says: str
) -> None:
    response = client.post(f"/twins/{PREFIX}/simulations", json=body, headers=login(client, "dee"))
    assert response.status_code == status, response.text
    assert says in response.text


def test_another_company_sees_neither_the_twin_nor_its_studies(client: TestClient) -> None:
    dee, eve = login(client, "dee"), login(client, "eve")
    job = client.post(f"/twins/{PREFIX}/simulations", json={"replications": 2}, headers=dee).json()
    assert client.get(job["links"]["self"], headers=eve).status_code == 404
    assert client.post(f"/twins/{PREFIX}/simulations", json={}, headers=eve).status_code == 404
    assert client.get(f"/simulations/{job['id']}/report.html", headers=eve).status_code == 404
    wait(client, job["links"]["self"], dee)


def test_a_twin_without_its_scenario_document_says_how_to_get_one(client: TestClient) -> None:
    ws: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    ws.store.register_twin(TwinInfo("86.1000.bare", "Bare", "dualco", 0))
    response = client.post("/twins/86.1000.bare/simulations", json={}, headers=login(client, "dee"))
    assert response.status_code == 409, response.text
    assert "twinverse load FILE" in response.json()["detail"]
