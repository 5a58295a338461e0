"""Fixtures of the AI tests: the shared C-MAPSS data and a small model trained on a slice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SHARED_DATA
from twinverse.ai.cmapss import Subset, load_subset
from twinverse.ai.rul import RulModel, TrainingPlan

CMAPSS = SHARED_DATA / "cmapss"

# One thread: two OpenMP threads on a busy 2-core machine wait on each other for minutes.
SMALL_PLAN = TrainingPlan(folds=3, max_iter=40, learning_rate=0.2, row_fraction=0.6, threads=1)


@pytest.fixture(scope="session")
def cmapss_dir() -> Path:
    if not (CMAPSS / "train_FD001.txt").exists():
        pytest.skip(f"C-MAPSS data not found in {CMAPSS} (see ../shared/data/README.md)")
    return CMAPSS


@pytest.fixture(scope="session")
def fd001(cmapss_dir: Path) -> Subset:
    return load_subset(cmapss_dir, "FD001")


@pytest.fixture(scope="session")
def small_model(fd001: Subset) -> RulModel:
    """Trained on 40 engines with few trees: seconds, not minutes."""
    train = fd001.train.select(np.arange(40))
    return RulModel.fit(train, seed=7, plan=SMALL_PLAN, subset="FD001", data_hash=fd001.data_hash)
