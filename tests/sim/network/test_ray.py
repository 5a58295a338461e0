"""Replication blocks on Ray: a real local Ray instance, the same results as on threads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from twinverse.scenario import load_scenario
from twinverse.sim import study as study_module
from twinverse.sim.study import run_study

ray = pytest.importorskip("ray", reason="Ray is the scale extra: pip install 'twinverse[scale]'")

FIXTURE = Path(__file__).parent / "fixtures" / "dual-lanes.yaml"


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_blocks_on_ray_give_the_same_runs_as_on_threads(
    local_ray: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(study_module, "BLOCK", 4)  # several blocks per scenario
    scenario = load_scenario(FIXTURE).scenario
    seen: list[int] = []
    on_ray = run_study(
        scenario, None, replications=10, seed=5, ray=True, progress=lambda d, t: seen.append(d)
    )
    on_threads = run_study(scenario, None, replications=10, seed=5)
    assert [r.name for r in on_ray.results] == [r.name for r in on_threads.results]
    for a, b in zip(on_ray.results, on_threads.results, strict=True):
        for key in a.kpis:
            np.testing.assert_array_equal(a.kpis[key], b.kpis[key])
    assert seen[-1] == 20 and seen == sorted(seen)
