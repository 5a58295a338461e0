"""``twinverse simulate`` from the command line: table, JSON, CSV, HTML and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).parents[2] / "examples" / "global-network.yaml"


def twinverse(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "twinverse", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=240,
    )


def test_simulate_writes_table_csv_and_report(tmp_path: Path) -> None:
    out = twinverse(
        "simulate",
        str(EXAMPLE),
        "-s",
        "strike-europe",
        "-n",
        "3",
        "--csv",
        "k.csv",
        "--report",
        "r.html",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert "strike-europe" in out.stdout and "Fill rate" in out.stdout
    assert (tmp_path / "k.csv").read_text().startswith("scenario,kpi,mean,ci95")
    assert "plotly" in (tmp_path / "r.html").read_text()


def test_simulate_json(tmp_path: Path) -> None:
    out = twinverse(
        "simulate", str(EXAMPLE), "-s", "strike-europe", "-n", "2", "--json", cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["replications"] == 2
    assert [s["name"] for s in data["scenarios"]] == ["baseline", "strike-europe"]


def test_unknown_scenario_exits_2_without_traceback(tmp_path: Path) -> None:
    out = twinverse("simulate", str(EXAMPLE), "-s", "strike-mars", "-n", "2", cwd=tmp_path)
    assert out.returncode == 2
    assert "unknown scenario 'strike-mars'" in out.stderr
    assert "Traceback" not in out.stderr


def test_simulate_from_the_twin_state_now_and_as_of(tmp_path: Path) -> None:
    assert twinverse("load", str(EXAMPLE), cwd=tmp_path).returncode == 0
    now = twinverse(
        "simulate", str(EXAMPLE), "-s", "strike-africa", "-n", "2", "--from-state", "now",
        "--json", cwd=tmp_path,
    )  # fmt: skip
    assert now.returncode == 0, now.stderr
    start = json.loads(now.stdout)["start"]
    assert start["outages"] == [] and start["stock_points"] == 0
    past = twinverse(
        "simulate", str(EXAMPLE), "-n", "2", "-s", "strike-africa", "--as-of", "2001-01-01T00:00Z",
        cwd=tmp_path,
    )  # fmt: skip
    assert past.returncode != 0
    assert "Traceback" not in past.stderr + past.stdout
