"""The edges: ``twinverse schedule`` and the /schedule API, on the example line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.schedule.conftest import REPO
from twinverse.api import create_app
from twinverse.cli.main import app
from twinverse.identity import Role
from twinverse.store.sqlite import SqliteStore
from twinverse.workspace import Workspace

LINE = str(REPO / "examples" / "line.yaml")
ORDERS = str(REPO / "examples" / "orders.csv")


def test_the_cli_plans_replans_and_writes_outputs(tmp_path: Path) -> None:
    html, table = tmp_path / "g.html", tmp_path / "m.csv"
    result = CliRunner().invoke(
        app,
        [
            "schedule",
            LINE,
            "--orders",
            ORDERS,
            "--time-limit",
            "3",
            "--breakdown",
            "op040@600+120",
            "--gantt",
            str(html),
            "--csv",
            str(table),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["valid"] is True and body["problem"]["jobs"] == 19
    assert body["replan"]["frozen"] > 0
    assert html.read_text().count("op130") > 0
    assert table.read_text().startswith("machine,job,op,")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "twinverse", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_a_bad_orders_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "orders.csv"
    bad.write_text("order,product,quantity,due\nA,motor-2k2,lots,2025-03-04T10:00\n")
    result = _run("schedule", LINE, "--orders", str(bad), "--time-limit", "1")
    assert result.returncode == 2
    assert "orders.csv:2" in result.stderr and "quantity" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_breakdown_option_is_a_clear_error() -> None:
    result = _run("schedule", LINE, "--orders", ORDERS, "--breakdown", "op040 at noon")
    assert result.returncode == 2 and "MACHINE@START+MINUTES" in result.stderr


def test_the_strategy_is_chosen_at_the_command_line() -> None:
    bad = _run("schedule", LINE, "--orders", ORDERS, "--strategy", "genetic")
    assert (
        bad.returncode == 2
        and "--strategy must be one of auto, cpsat, lns, tabu, dispatch" in bad.stderr
    )
    plan = _run("schedule", LINE, "--orders", ORDERS, "--strategy", "dispatch", "--json")
    assert plan.returncode == 0, plan.stderr
    phases = {p["phase"] for p in json.loads(plan.stdout)["result"]["history"]}
    assert phases == {"dispatch", "done"}  # no search after the dispatch rules


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    store = SqliteStore(tmp_path / "store.db").open()
    ws = Workspace(store)
    ws.accounts.create("ann", tenant="jinfeng", roles=[Role.ENGINEER], password="pw-correct-horse")
    with TestClient(create_app(workspace=ws)) as c:
        token = c.post("/auth/login", json={"principal": "ann", "password": "pw-correct-horse"})
        c.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield c
    ws.close()


def _orders() -> list[dict[str, object]]:
    import csv

    with open(ORDERS, encoding="utf-8") as f:
        return [
            {
                "order": r["order"],
                "product": r["product"],
                "quantity": int(r["quantity"]),
                "due": r["due"],
                "release": r["release"],
                "weight": float(r["weight"]),
            }
            for r in csv.DictReader(f)
        ]


def _wait(client: TestClient, job: str) -> dict[str, object]:
    for _ in range(200):
        body = client.get(f"/schedule/jobs/{job}").json()
        if body["state"] != "running":
            return body
        time.sleep(0.1)
    raise AssertionError("the schedule job did not finish")


def test_the_api_solves_streams_progress_and_replans(client: TestClient) -> None:
    scenario = Path(LINE).read_text(encoding="utf-8")
    started = client.post(
        "/schedule/jobs", json={"scenario": scenario, "orders": _orders(), "time_limit": 2}
    )
    assert started.status_code == 202, started.text
    done = _wait(client, started.json()["id"])
    assert done["state"] == "done" and done["progress"][0]["phase"] == "dispatch"
    assert done["result"]["violations"] == []
    again = client.post(
        f"/schedule/jobs/{done['id']}/replan",
        json={
            "now": 600,
            "events": [{"machine": "op040", "start": 600, "end": 720}],
            "time_limit": 2,
        },
    )
    assert again.status_code == 202, again.text
    replanned = _wait(client, again.json()["id"])
    assert replanned["state"] == "done" and replanned["result"]["violations"] == []
    assert replanned["result"]["replan"]["frozen"] > 0


def test_the_api_names_bad_input(client: TestClient) -> None:
    scenario = Path(LINE).read_text(encoding="utf-8")
    orders = _orders()
    orders[0]["product"] = "motor-9k"
    response = client.post("/schedule/jobs", json={"scenario": scenario, "orders": orders})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid-schedule-problem"
    assert "motor-9k" in response.json()["detail"]
    assert client.get("/schedule/jobs/nope").json()["code"] == "schedule-job-not-found"
    unauthenticated = TestClient(client.app).get("/schedule/jobs/nope")
    assert unauthenticated.status_code == 401
