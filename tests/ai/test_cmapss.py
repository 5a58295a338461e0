from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twinverse.ai.cmapss import (
    RUL_CAP,
    Subset,
    load_subset,
    nasa_score,
    read_fleet,
    rmse,
    training_targets,
)
from twinverse.ai.errors import DataFormatError


def test_fd001_has_the_published_shape(fd001: Subset) -> None:
    assert fd001.train.engine_count == 100
    assert fd001.test.engine_count == 100
    assert len(fd001.train.units) == 20631
    assert len(fd001.test.units) == 13096
    assert fd001.train.sensors.shape == (20631, 21)


def test_training_targets_are_piecewise_linear_and_capped(fd001: Subset) -> None:
    y = training_targets(fd001.train)
    first = fd001.train.starts[1]
    assert y[first - 1] == 0  # the last cycle of engine 1 is its failure
    assert y[first - 2] == 1
    assert y.max() == RUL_CAP
    assert y[0] == min(first - 1, RUL_CAP)


def test_nasa_score_punishes_late_more_than_early() -> None:
    truth = np.asarray([50.0])
    assert nasa_score(np.asarray([60.0]), truth) > nasa_score(np.asarray([40.0]), truth)
    assert nasa_score(truth, truth) == 0.0
    assert rmse(np.asarray([1.0, 3.0]), np.asarray([1.0, 1.0])) == pytest.approx(np.sqrt(2))


def test_a_short_row_is_reported_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "train_FD009.txt"
    good = " ".join(["1"] * 26)
    bad.write_text(f"{good}\n{good}\n1 2 3\n")
    with pytest.raises(DataFormatError, match=r"train_FD009.txt:3: expected 26 numbers"):
        read_fleet(bad)


def test_a_word_among_numbers_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "test_FD009.txt"
    bad.write_text(" ".join(["1"] * 25 + ["oops"]) + "\n")
    with pytest.raises(DataFormatError, match=r":1: not a number"):
        read_fleet(bad)


def test_unordered_rows_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "train_FD009.txt"
    rows = [" ".join(["2", "1"] + ["0"] * 24), " ".join(["1", "1"] + ["0"] * 24)]
    bad.write_text("\n".join(rows) + "\n")
    with pytest.raises(DataFormatError, match="ordered by unit"):
        read_fleet(bad)


def test_rul_count_must_match_the_test_engines(tmp_path: Path, cmapss_dir: Path) -> None:
    for kind in ("train", "test"):
        name = f"{kind}_FD001.txt"
        (tmp_path / name).write_bytes((cmapss_dir / name).read_bytes())
    (tmp_path / "RUL_FD001.txt").write_text("12\n13\n")
    with pytest.raises(DataFormatError, match="expected 100 values"):
        load_subset(tmp_path, "FD001")


def test_missing_folder_and_bad_subset_name_say_so(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="not a folder"):
        load_subset(tmp_path / "nowhere", "FD001")
    with pytest.raises(DataFormatError, match="subset must look like FD001"):
        load_subset(tmp_path, "fd1")
    with pytest.raises(DataFormatError, match="file not found"):
        load_subset(tmp_path, "FD001")
