"""Capacity the site sold in a trade is time the plan cannot use."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from tests.schedule.conftest import REPO
from twinverse.api import create_app
from twinverse.identity import Role
from twinverse.scenario import load_scenario
from twinverse.schedule import (
    LotPolicy,
    Objective,
    ObjectiveKind,
    Problem,
    best_dispatch,
    problem_from_scenario,
    read_orders,
    validate,
)
from twinverse.store.sqlite import SqliteStore
from twinverse.trust.trades import CapacityChange, ResourceKind
from twinverse.twin.commitments import MACHINE_HOURS, UNITS, Commitment
from twinverse.twin.instant import to_instant
from twinverse.workspace import Workspace

SHANGHAI = ZoneInfo("Asia/Shanghai")
SCENARIO = load_scenario(REPO / "examples" / "line.yaml").scenario
ORDERS = read_orders(REPO / "examples" / "orders.csv", tz=SHANGHAI)
WEEK = (dt.datetime(2025, 3, 3, tzinfo=SHANGHAI), dt.datetime(2025, 3, 10, tzinfo=SHANGHAI))


def _sale(resource: str, amount: float, site: str = "changzhou") -> Commitment:
    return Commitment(
        f"86.1001.jinfeng/{site}",
        "t1",
        resource,
        amount,
        to_instant(WEEK[0]),
        to_instant(WEEK[1]),
        "did:key:buyer",
    )


def _problem(*sold: Commitment) -> Problem:
    return problem_from_scenario(
        SCENARIO,
        ORDERS,
        lots=LotPolicy(max_lot=60, merge_window=dt.timedelta(hours=12)),
        sold=sold,
    )


def _closed_in_week(problem: Problem) -> dict[str, int]:
    origin = dt.datetime.fromisoformat(problem.origin)
    a = round((WEEK[0] - origin).total_seconds() / 60)
    b = round((WEEK[1] - origin).total_seconds() / 60)
    return {m.id: sum(max(0, min(y, b) - max(x, a)) for x, y in m.closed) for m in problem.machines}


def test_machine_hours_are_reserved_evenly_on_every_machine() -> None:
    base = _closed_in_week(_problem())
    # 13 machines on the line: 104 h sold is 8 h (480 min) out of each one's week.
    sold = _closed_in_week(_problem(_sale(MACHINE_HOURS, 104)))
    assert len(sold) == 13
    for machine, minutes in sold.items():
        assert minutes - base[machine] == pytest.approx(480, abs=20), machine


def test_units_take_the_time_the_product_mix_needs() -> None:
    base = _closed_in_week(_problem())
    sold = _closed_in_week(_problem(_sale(UNITS, 60)))
    # Every routing step of the two motors runs on one machine: 60 units of the mix take
    # 60 × the mean of the two routings' total minutes.
    minutes = [sum(s.time.mean / 60 for s in p.routing) for p in SCENARIO.products]
    expected = 60 * sum(minutes) / len(minutes)
    assert sum(sold.values()) - sum(base.values()) == pytest.approx(expected, rel=0.03)


def test_a_sale_elsewhere_changes_nothing_and_plans_stay_valid() -> None:
    assert _problem(_sale(MACHINE_HOURS, 104, site="elsewhere")) == _problem()
    objective = Objective.of(ObjectiveKind.MAKESPAN)
    free, _ = best_dispatch(_problem(), objective)
    problem = _problem(_sale(MACHINE_HOURS, 13 * 30))  # 30 h of each machine's week
    busy, _ = best_dispatch(problem, objective)
    assert validate(busy, problem) == []
    assert busy.makespan > free.makespan


def _tv(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TWINVERSE_DATA_DIR": str(data), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "twinverse", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return done


def test_the_cli_plans_around_a_settled_trade(tmp_path: Path) -> None:
    """The example orders moved to the coming weeks (whole weeks: the calendar still fits),
    and 390 of the line's machine-hours in their first week sold."""
    line = str(REPO / "examples" / "line.yaml")
    monday = dt.datetime(2025, 3, 3, tzinfo=SHANGHAI)
    weeks = (dt.datetime.now(SHANGHAI) - monday).days // 7 + 2
    shift = dt.timedelta(weeks=weeks)
    rows = list(csv.DictReader((REPO / "examples" / "orders.csv").open(encoding="utf-8")))
    for row in rows:
        for key in ("due", "release"):
            row[key] = (dt.datetime.fromisoformat(row[key]) + shift).isoformat(timespec="minutes")
    orders = tmp_path / "orders.csv"
    with orders.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    _tv(tmp_path, "load", line)
    plan = ["schedule", line, "--orders", str(orders), "--time-limit", "1", "--json", "--from-twin"]
    before = json.loads(_tv(tmp_path, *plan).stdout)
    assert before["sold_capacity"] == []
    site = "86.1001.jinfeng/changzhou"
    period = [(monday + shift).isoformat(), (monday + shift + dt.timedelta(days=5)).isoformat()]
    _tv(tmp_path, "trust", "offer", "86.1001.jinfeng", site, "400", "--price", "50",
        "--start", period[0], "--end", period[1])  # fmt: skip
    [trade] = json.loads(_tv(tmp_path, "trust", "trades", "--json").stdout)
    tid = trade["offer"]["id"]
    _tv(tmp_path, "trust", "accept", tid, "86.9999.buyer", "390", "--budget", "20000")
    after = json.loads(_tv(tmp_path, *plan).stdout)
    [sale] = after["sold_capacity"]
    assert sale.startswith(f"trade {tid}: 390 h sold to did:key:")
    made = [r["result"]["figures"]["makespan"] for r in (before, after)]
    assert after["valid"] and made[1] > made[0]


def test_the_api_plans_around_sold_capacity_and_keeps_jobs_per_company(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "store.db").open()
    ws = Workspace(store)
    loaded = load_scenario(REPO / "examples" / "line.yaml")
    ws.import_scenario(loaded, tenant="jinfeng", actor="test")
    ws.record_capacity_trade(
        CapacityChange(
            "t9",
            "86.1001.jinfeng/changzhou",
            ResourceKind.MACHINE_HOURS,
            390,
            "h",
            "2025-03-02T16:00:00Z",
            "2025-03-07T16:00:00Z",
            "did:key:a",
            "did:key:b",
        )
    )
    for name, tenant in (("ann", "jinfeng"), ("eve", "initech")):
        ws.accounts.create(name, tenant=tenant, roles=[Role.ENGINEER], password="pw-correct-horse")
    with TestClient(create_app(workspace=ws)) as c:
        headers = {}
        for name in ("ann", "eve"):
            token = c.post("/auth/login", json={"principal": name, "password": "pw-correct-horse"})
            headers[name] = {"Authorization": f"Bearer {token.json()['access_token']}"}
        body = {
            "scenario": (REPO / "examples" / "line.yaml").read_text(encoding="utf-8"),
            "orders": _api_orders(),
            "time_limit": 1,
        }
        plain = _finished(
            c, c.post("/schedule/jobs", json=body, headers=headers["ann"]), headers["ann"]
        )
        body["twin"] = "86.1001.jinfeng"
        started = c.post("/schedule/jobs", json=body, headers=headers["ann"])
        sold = _finished(c, started, headers["ann"])
        assert sold["notes"] == ["sold capacity left free: trade t9: 390 h sold to did:key:b"]
        assert sold["result"]["violations"] == []
        made = [r["result"]["plan"]["figures"]["makespan"] for r in (plain, sold)]
        assert made[1] > made[0]
        # Another company neither reads the job nor the twin's sold capacity.
        other = c.get(f"/schedule/jobs/{started.json()['id']}", headers=headers["eve"])
        assert other.status_code == 404
        refused = c.post("/schedule/jobs", json=body, headers=headers["eve"])
        assert refused.status_code in (403, 404), refused.text
    ws.close()


def _api_orders() -> list[dict[str, object]]:
    with open(REPO / "examples" / "orders.csv", encoding="utf-8") as f:
        return [
            {**row, "quantity": int(row["quantity"]), "weight": float(row["weight"])}
            for row in csv.DictReader(f)
        ]


def _finished(client: TestClient, started: Any, headers: dict[str, str]) -> dict[str, Any]:
    assert started.status_code == 202, started.text
    for _ in range(300):
        body: dict[str, Any] = client.get(
            f"/schedule/jobs/{started.json()['id']}", headers=headers
        ).json()
        if body["state"] != "running":
            assert body["state"] == "done", body
            return body
        time.sleep(0.1)
    raise AssertionError("the schedule job did not finish")
