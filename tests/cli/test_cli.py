"""The command line, run as a user runs it: a real process, a real store on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def twinverse(
    tmp_path: Path, *args: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TWINVERSE_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    env.pop("TWINVERSE_DEBUG", None)
    result = subprocess.run(
        [sys.executable, "-m", "twinverse", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    assert "Traceback" not in result.stderr, result.stderr
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_validate_accepts_a_valid_file(tmp_path: Path, fixtures: Path) -> None:
    assert "is valid" in twinverse(tmp_path, "validate", str(fixtures / "globex.yaml")).stdout


def test_validate_reports_every_problem_and_exits_2(tmp_path: Path, fixtures: Path) -> None:
    text = (fixtures / "globex.yaml").read_text()
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        text.replace("mtbf: 8 h", "mtbf: 8 t").replace("cycle_time: 40 s", "cycle_tme: 40 s")
    )
    result = twinverse(tmp_path, "validate", str(broken), check=False)
    assert result.returncode == 2
    assert "machines[0].mtbf: expected a duration" in result.stderr
    assert "did you mean 'cycle_time'?" in result.stderr


def test_validate_json_lists_issues(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.yaml"
    garbage.write_bytes(b"\x00\xff\xfe binary")
    result = twinverse(tmp_path, "validate", "--json", str(garbage), check=False)
    assert result.returncode == 2
    assert json.loads(result.stdout)[str(garbage)][0]["code"] == "binary-file"


def test_load_query_resolve_history_round_trip(tmp_path: Path, fixtures: Path) -> None:
    loaded = json.loads(twinverse(tmp_path, "load", "--json", str(fixtures / "globex.yaml")).stdout)
    assert loaded["created"] and loaded["events"] > 0
    again = json.loads(twinverse(tmp_path, "load", "--json", str(fixtures / "globex.yaml")).stdout)
    assert (again["created"], again["events"]) == (False, 0)
    found = json.loads(twinverse(tmp_path, "query", "--json", "machine where kind = press").stdout)
    assert [e["id"] for e in found["items"]] == ["86.1000.globex/shanghai/l1/press-1"]
    press = "86.1000.globex/shanghai/l1/press-1"
    twinverse(tmp_path, "set", press, "cycle_time", "50 s", "--reason", "new die")
    resolved = json.loads(twinverse(tmp_path, "resolve", "--json", press).stdout)
    assert resolved["entity"]["properties"]["cycle_time"] == {"$q": [50.0, "s"]}
    history = json.loads(twinverse(tmp_path, "history", "--json", press).stdout)
    assert history[-1]["reason"] == "new die"


def test_as_of_before_a_change_shows_the_old_value(tmp_path: Path, fixtures: Path) -> None:
    twinverse(tmp_path, "load", str(fixtures / "globex.yaml"))
    press = "86.1000.globex/shanghai/l1/press-1"
    history = json.loads(twinverse(tmp_path, "history", "--json", press).stdout)
    loaded_at = history[-1]["time"]
    twinverse(tmp_path, "set", press, "kind", "cnc")
    old = json.loads(twinverse(tmp_path, "resolve", "--json", "--as-of", loaded_at, press).stdout)
    new = json.loads(twinverse(tmp_path, "resolve", "--json", press).stdout)
    assert (old["entity"]["properties"]["kind"], new["entity"]["properties"]["kind"]) == (
        "press",
        "cnc",
    )


def test_show_prints_tree_and_summary(tmp_path: Path, fixtures: Path) -> None:
    out = twinverse(tmp_path, "show", str(fixtures / "globex.yaml")).stdout
    assert "Globex" in out and "machine" in out


def test_unknown_id_is_a_clear_error(tmp_path: Path, fixtures: Path) -> None:
    twinverse(tmp_path, "load", str(fixtures / "globex.yaml"))
    result = twinverse(tmp_path, "resolve", "86.1000.globex/nope", check=False)
    assert result.returncode == 2 and "no entity with id" in result.stderr


def test_query_syntax_error_points_at_the_problem(tmp_path: Path, fixtures: Path) -> None:
    twinverse(tmp_path, "load", str(fixtures / "globex.yaml"))
    result = twinverse(tmp_path, "query", "machine where", check=False)
    assert result.returncode == 2 and "^" in result.stderr


@pytest.mark.parametrize("args", [["resolve", "x/y"], ["query", "machine"], ["show", "nope"]])
def test_empty_store_gives_clear_errors(tmp_path: Path, args: list[str]) -> None:
    result = twinverse(tmp_path, *args, check=False)
    assert result.returncode == 2 and result.stderr.strip()


def test_user_add_and_token(tmp_path: Path) -> None:
    twinverse(
        tmp_path, "user", "add", "svc", "--company", "globex", "--role", "operator", "--service"
    )
    token = twinverse(tmp_path, "user", "token", "svc").stdout.strip()
    assert token.startswith("tv_")
