from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA

REPO = Path(__file__).resolve().parents[2]
FJSP = SHARED_DATA / "fjsp"


@pytest.fixture
def fjsp_dir() -> Path:
    if not (FJSP / "instances.json").exists():
        pytest.skip(f"the FJSP benchmark data is absent ({FJSP}); see ../shared/data/README.md")
    return FJSP


@pytest.fixture(scope="session", autouse=True)
def compiled_tabu_kernels() -> None:
    """Compile the tabu search once before any time-limited solve is measured."""
    from twinverse.schedule.tabu import warm_up

    warm_up()
