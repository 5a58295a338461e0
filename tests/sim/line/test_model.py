"""Line models read from dictionaries: the full form round-trips, bad input is named precisely."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest

from twinverse.errors import TwinverseError
from twinverse.sim.line import Dist, LineModel, LineModelError, Problem, Station
from twinverse.twin.distribution import DistKind

CONTRACT_EXAMPLE: dict[str, Any] = {
    "name": "stator line",
    "stations": [
        {
            "id": "press",
            "process": {"dist": "lognormal", "mean": 45.0, "cv": 0.1},
            "servers": 1,
            "mtbf": {"dist": "exponential", "mean": 36000.0},
            "mttr": {"dist": "lognormal", "mean": 1200.0, "cv": 0.5},
            "scrap": 0.01,
            "skill": "pressing",
            "power_kw": {"busy": 12.0, "idle": 3.0, "blocked": 3.0, "down": 0.5},
        },
        {"id": "weld", "process": {"dist": "gamma", "mean": 40.0, "cv": 0.2}, "skill": "welding"},
        {"id": "wind", "process": {"dist": "triangular", "low": 30, "mode": 35, "high": 50}},
        {"id": "test", "process": {"dist": "weibull", "scale": 20.0, "shape": 3.0}, "servers": 2},
    ],
    "buffers": [5, 5, None],
    "arrival": None,
    "operators": [
        {"id": "li-wei", "skills": ["pressing", "welding"], "time_factor": 1.0, "scrap_factor": 1.0}
    ],
    "shifts": {"period": 604800.0, "windows": [[21600, 50400], [108000, 136800]]},
}


def test_the_contract_example_reads_with_its_defaults() -> None:
    model = LineModel.from_dict(CONTRACT_EXAMPLE)
    weld = model.stations[1]
    assert weld.servers == 1 and weld.scrap == 0.0 and weld.mtbf is None
    assert weld.power_kw.busy == 0.0
    assert model.buffers == (5, 5, None)
    assert model.stations[0].process == Dist(DistKind.LOGNORMAL, (45.0, 0.1))
    assert model.shifts is not None and model.shifts.working_share == pytest.approx(16 / 168)


def test_the_full_form_round_trips() -> None:
    model = LineModel.from_dict(CONTRACT_EXAMPLE)
    assert LineModel.from_dict(model.to_dict()) == model
    assert model.to_dict()["stations"][2]["power_kw"] == {
        "busy": 0.0,
        "idle": 0.0,
        "blocked": 0.0,
        "down": 0.0,
    }


def test_a_single_station_needs_no_buffers() -> None:
    model = LineModel.from_dict(
        {"stations": [{"id": "a", "process": {"dist": "constant", "value": 1}}]}
    )
    assert model.buffers == ()


@pytest.mark.parametrize(
    ("dist", "mean"),
    [
        ({"dist": "constant", "value": 3.0}, 3.0),
        ({"dist": "exponential", "mean": 3.0}, 3.0),
        ({"dist": "normal", "mean": 10.0, "sd": 2.0}, 10.0),
        ({"dist": "lognormal", "mean": 3.0, "cv": 0.5}, 3.0),
        ({"dist": "gamma", "mean": 3.0, "cv": 0.5}, 3.0),
        ({"dist": "uniform", "low": 1.0, "high": 5.0}, 3.0),
        ({"dist": "triangular", "low": 1.0, "mode": 2.0, "high": 6.0}, 3.0),
        ({"dist": "weibull", "scale": 3.0, "shape": 2.0}, 3.0 * math.gamma(1.5)),
    ],
)
def test_each_distribution_samples_its_mean(dist: dict[str, Any], mean: float) -> None:
    d = Dist.from_dict(dist)
    assert d.mean == pytest.approx(mean)
    draws = d.sample(np.random.default_rng(1), 200_000)
    assert draws.mean() == pytest.approx(mean, rel=0.01)
    assert draws.min() >= 0


def bad(path: str, value: Any) -> dict[str, Any]:
    """The contract example with one field changed (``None`` value: the field removed)."""
    data = copy.deepcopy(CONTRACT_EXAMPLE)
    *parents, leaf = path.split(".")
    target: Any = data
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is None:
        del target[int(leaf) if leaf.isdigit() else leaf]
    elif leaf.isdigit():
        target[int(leaf)] = value
    else:
        target[leaf] = value
    return data


@pytest.mark.parametrize(
    ("data", "path", "station", "problem"),
    [
        (bad("stations", []), "stations", None, Problem.WRONG_TYPE),
        (bad("stations", None), "stations", None, Problem.MISSING),
        (bad("stations.1.process", None), "stations[1].process", "weld", Problem.MISSING),
        (
            bad("stations.1.process.dist", "poisson"),
            "stations[1].process.dist",
            "weld",
            Problem.UNKNOWN_DISTRIBUTION,
        ),
        (bad("stations.1.process.cv", None), "stations[1].process.cv", "weld", Problem.MISSING),
        (
            bad("stations.1.process.mean", -4.0),
            "stations[1].process.mean",
            "weld",
            Problem.OUT_OF_RANGE,
        ),
        (
            bad("stations.1.process.mean", "40 s"),
            "stations[1].process.mean",
            "weld",
            Problem.WRONG_TYPE,
        ),
        (
            bad("stations.1.process.mean", math.inf),
            "stations[1].process.mean",
            "weld",
            Problem.OUT_OF_RANGE,
        ),
        (
            bad("stations.2.process.mode", 60),
            "stations[2].process.mode",
            "wind",
            Problem.OUT_OF_RANGE,
        ),
        (bad("stations.0.mttr", None), "stations[0].mttr", "press", Problem.INCONSISTENT),
        (bad("stations.0.scrap", 1.0), "stations[0].scrap", "press", Problem.OUT_OF_RANGE),
        (bad("stations.3.servers", 0), "stations[3].servers", "test", Problem.OUT_OF_RANGE),
        (bad("stations.3.servers", True), "stations[3].servers", "test", Problem.WRONG_TYPE),
        (
            bad("stations.0.power_kw.busy", -1.0),
            "stations[0].power_kw.busy",
            "press",
            Problem.OUT_OF_RANGE,
        ),
        (
            bad("stations.0.power_kw.setup", 1.0),
            "stations[0].power_kw.setup",
            "press",
            Problem.UNKNOWN_FIELD,
        ),
        (
            bad("stations.0.mtfb", {"dist": "exponential", "mean": 1.0}),
            "stations[0].mtfb",
            "press",
            Problem.UNKNOWN_FIELD,
        ),
        (bad("stations.1.id", "press"), "stations[1].id", "press", Problem.DUPLICATE),
        (bad("buffers", [5, 5]), "buffers", None, Problem.INCONSISTENT),
        (bad("buffers.1", -2), "buffers[1]", None, Problem.OUT_OF_RANGE),
        (bad("buffers.1", 2.5), "buffers[1]", None, Problem.WRONG_TYPE),
        (bad("arrival", {"dist": "exponential"}), "arrival.mean", None, Problem.MISSING),
        (bad("operators.0.time_factor", 0), "operators[0].time_factor", None, Problem.OUT_OF_RANGE),
        (
            bad("operators.0.skills", ["pressing"]),
            "stations[1].skill",
            "weld",
            Problem.UNKNOWN_REFERENCE,
        ),
        (
            bad("shifts.windows", [[108000, 136800], [21600, 50400]]),
            "shifts.windows[1]",
            None,
            Problem.INCONSISTENT,
        ),
        (bad("shifts.windows", [[0, 700000]]), "shifts.windows[0]", None, Problem.OUT_OF_RANGE),
        (bad("shifts.windows", []), "shifts.windows", None, Problem.OUT_OF_RANGE),
        (bad("shifts.period", 0), "shifts.period", None, Problem.OUT_OF_RANGE),
        ([1, 2], "", None, Problem.WRONG_TYPE),
    ],
)
def test_a_bad_model_is_refused_naming_the_field_and_station(
    data: Any, path: str, station: str | None, problem: Problem
) -> None:
    with pytest.raises(LineModelError) as caught:
        LineModel.from_dict(data)
    err = caught.value
    assert isinstance(err, TwinverseError)
    assert err.code == "invalid-line-model"
    assert (err.path, err.station, err.problem) == (path, station, problem), str(err)
    assert path in str(err) and "expected" in str(err)


def test_the_message_says_what_was_expected_and_what_was_got() -> None:
    with pytest.raises(LineModelError) as caught:
        LineModel.from_dict(bad("stations.0.scrap", 1.5))
    assert str(caught.value) == (
        "stations[0].scrap (station 'press'): expected a probability from 0 up to "
        "(not including) 1, got 1.5"
    )


def test_constructed_objects_check_the_same_invariants() -> None:
    with pytest.raises(LineModelError, match="mttr"):
        Station("s", Dist.constant(1.0), mtbf=Dist.constant(5.0))
    with pytest.raises(LineModelError, match="buffers"):
        LineModel("l", (Station("a", Dist.constant(1.0)), Station("b", Dist.constant(1.0))), ())
