"""``twinverse rul`` and ``twinverse ask``, run as a user runs them: a real process."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cli.test_cli import twinverse as run_cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "global-network.yaml"


def twinverse(tmp_path: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run_cli(tmp_path, *args, check=check, timeout=300)


@pytest.fixture
def small_folder(tmp_path: Path, cmapss_dir: Path) -> Path:
    """A C-MAPSS-format folder named FD009: 20 training and 15 test engines of FD001."""
    folder = tmp_path / "cmapss"
    folder.mkdir()
    for kind, engines in (("train", 20), ("test", 15)):
        lines = (cmapss_dir / f"{kind}_FD001.txt").read_text().splitlines()
        kept = [ln for ln in lines if int(ln.split()[0]) <= engines]
        (folder / f"{kind}_FD009.txt").write_text("\n".join(kept) + "\n")
    rul = (cmapss_dir / "RUL_FD001.txt").read_text().splitlines()[:15]
    (folder / "RUL_FD009.txt").write_text("\n".join(rul) + "\n")
    return folder


def test_train_then_evaluate_prints_rmse_score_and_coverage(
    tmp_path: Path, small_folder: Path
) -> None:
    model = tmp_path / "m.npz"
    trained = twinverse(
        tmp_path,
        "rul", "train", "--data", str(small_folder), "--subset", "FD009",
        "--trees", "20", "--out", str(model), "--json",
    )  # fmt: skip
    figures = json.loads(trained.stdout)
    assert figures["engines"] == 15
    assert figures["rmse"] < 40
    assert 0.0 <= figures["coverage"] <= 1.0
    assert model.exists()
    shown = twinverse(
        tmp_path,
        "rul", "evaluate", "--data", str(small_folder), "--subset", "FD009",
        "--model", str(model), "--engines",
    )  # fmt: skip
    assert "RMSE" in shown.stdout
    assert "NASA score" in shown.stdout
    assert "coverage" in shown.stdout

    twinverse(tmp_path, "load", str(EXAMPLE))
    machine = "86.1000.huaxin/stuttgart/power-electronics/stu-inverter/stu-module-place"
    replayed = twinverse(
        tmp_path,
        "rul", "replay", "--data", str(small_folder), "--subset", "FD009", "--engine", "2",
        "--model", str(model), "--every", "40", "--machine", machine,
    )  # fmt: skip
    assert "RUL" in replayed.stdout
    assert "true RUL after the last cycle" in replayed.stdout
    record = json.loads(twinverse(tmp_path, "resolve", machine, "--json").stdout)
    properties = record["entity"]["properties"]
    assert properties["rul_low"] <= properties["rul"] <= properties["rul_high"]
    assert 0.0 <= properties["health"] <= 1.0


def test_bad_data_is_a_message_not_a_traceback(tmp_path: Path, small_folder: Path) -> None:
    (small_folder / "test_FD009.txt").write_text("1 1 0.1\n")
    result = twinverse(
        tmp_path, "rul", "train", "--data", str(small_folder), "--subset", "FD009", check=False
    )
    assert result.returncode == 2
    assert "test_FD009.txt:1: expected 26 numbers" in result.stderr


def test_evaluate_without_a_model_says_so(tmp_path: Path, small_folder: Path) -> None:
    result = twinverse(
        tmp_path, "rul", "evaluate", "--data", str(small_folder), "--subset", "FD009", check=False
    )
    assert result.returncode == 2
    assert "no such model file" in result.stderr


def test_ask_answers_from_the_stored_twin_in_both_languages(tmp_path: Path) -> None:
    twinverse(tmp_path, "load", str(EXAMPLE))
    english = json.loads(
        twinverse(tmp_path, "ask", "How many machines are in Germany?", "--json").stdout
    )
    assert english["answered"]
    assert english["query"] == "machine in (site where country = DE)"
    chinese = twinverse(tmp_path, "ask", "哪个供应商的碳足迹最高?").stdout
    assert "✓" in chinese
    assert "query: supplier" in chinese
