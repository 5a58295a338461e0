"""Line models built from scenario files: examples/line.yaml and small variations."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from twinverse.scenario import load_scenario
from twinverse.scenario.schema import Scenario
from twinverse.sim.line import (
    SKILL_LEVEL_FACTORS,
    LineModel,
    LineModelError,
    LineNotFoundError,
    line_model_from_scenario,
    simulate_line,
)

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "line.yaml"
HOUR = 3600.0
DAY = 24 * HOUR


@cache
def example() -> Scenario:
    return load_scenario(EXAMPLE).scenario


@cache
def example_data() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def variant(change: Any) -> Scenario:
    data = copy.deepcopy(example_data())
    change(data["sites"][0]["areas"][0]["lines"][0], data)
    return Scenario.model_validate(data)


def test_the_example_line_becomes_a_13_station_model() -> None:
    model = line_model_from_scenario(example(), "ie3-line")
    assert [s.id for s in model.stations] == [f"op{n:03d}" for n in range(10, 140, 10)]
    press = model.stations[0]
    assert press.process.to_dict() == {"dist": "lognormal", "mean": 40.0, "cv": 0.05}
    assert press.mtbf is not None and press.mtbf.to_dict() == {
        "dist": "weibull",
        "scale": 150 * HOUR,
        "shape": 1.3,
    }
    assert press.scrap == pytest.approx(0.005)
    assert press.skill == "pressing"
    assert press.power_kw.busy == 45.0 and press.power_kw.down == 2.0
    weld = model.stations[1]
    assert weld.power_kw.blocked == weld.power_kw.idle == 3.0  # blocked draws idle power
    assert model.stations[-1].mtbf is None


def test_buffers_are_placed_by_between_and_conveyors_add_their_capacity() -> None:
    model = line_model_from_scenario(example(), "ie3-line")
    # b070 (25) + the cooling conveyor (30); b110 (20) + the drying loop (40).
    assert model.buffers == (20, 10, 10, 8, 8, 15, 55, 8, 8, 10, 60, 12)


def test_two_machines_with_nothing_between_them_hand_over_directly() -> None:
    def drop_b050(line: dict[str, Any], _: dict[str, Any]) -> None:
        line["buffers"] = [b for b in line["buffers"] if b["id"] != "b050"]

    model = line_model_from_scenario(variant(drop_b050), "ie3-line")
    assert model.buffers[4] == 0


def test_a_buffer_between_machines_that_do_not_follow_each_other_is_refused() -> None:
    def skip(line: dict[str, Any], _: dict[str, Any]) -> None:
        line["buffers"][0]["between"] = ["op010", "op040"]

    with pytest.raises(LineModelError) as caught:
        line_model_from_scenario(variant(skip), "ie3-line")
    assert caught.value.path == "sites[0].areas[0].lines[0].buffers[0].between"


def test_people_with_the_line_skills_become_operators_with_level_factors() -> None:
    model = line_model_from_scenario(example(), "ie3-line")
    by_id = {o.id: o for o in model.operators}
    assert "song-jie" not in by_id  # a manager without skills
    assert list(by_id)[:2] == ["chen-hui", "wu-lei"]  # file order: the first listed is asked first
    expert, master = by_id["chen-hui"], by_id["qian-laoshi"]
    assert expert.skills == ("pressing", "welding")
    assert (expert.time_factor, expert.scrap_factor) == (1.0, 1.0)
    assert (master.time_factor, master.scrap_factor) == (0.95, 0.8)
    assert {(f.time_factor, f.scrap_factor) for f in SKILL_LEVEL_FACTORS.values()} == {
        (1.5, 3.0),
        (1.1, 1.5),
        (1.0, 1.0),
        (0.95, 0.8),
    }


def test_the_calendar_becomes_weekly_windows_without_breaks() -> None:
    model = line_model_from_scenario(example(), "ie3-line")
    assert model.shifts is not None
    assert model.shifts.period == 7 * DAY
    monday = [w for w in model.shifts.windows if w[1] <= DAY]
    # Early 06:00-14:30 and late 14:30-23:00 meet; their four breaks cut the day.
    assert monday == [
        (6 * HOUR, 9.5 * HOUR),
        (9.5 * HOUR + 600, 11.5 * HOUR),
        (12 * HOUR, 17.5 * HOUR),
        (17.5 * HOUR + 600, 19.5 * HOUR),
        (20 * HOUR, 23 * HOUR),
    ]
    saturday = [w for w in model.shifts.windows if 5 * DAY <= w[0] < 6 * DAY]
    assert saturday[-1][1] == 5 * DAY + 14.5 * HOUR  # the late shift works Monday to Friday
    # 5 × (17 h − 80 min) + (8.5 h − 40 min) of the 168 h week
    assert model.shifts.working_share * 168 == pytest.approx(5 * (17 - 4 / 3) + (8.5 - 2 / 3))


def test_a_night_shift_on_sunday_wraps_into_monday_morning() -> None:
    def night(_: dict[str, Any], data: dict[str, Any]) -> None:
        data["sites"][0]["calendar"] = {
            "shifts": [{"name": "night", "start": "22:00", "end": "06:00", "days": ["sun"]}]
        }
        for person in data["people"]:
            person.pop("shift", None)

    model = line_model_from_scenario(variant(night), "ie3-line")
    assert model.shifts is not None
    assert model.shifts.windows == ((0.0, 6 * HOUR), (6 * DAY + 22 * HOUR, 7 * DAY))


def test_the_model_round_trips_through_its_dictionary() -> None:
    model = line_model_from_scenario(example(), "ie3-line")
    assert LineModel.from_dict(model.to_dict()) == model


def test_the_example_line_simulates() -> None:
    model = line_model_from_scenario(example(), "ie3-line")
    results = simulate_line(model, parts=3_000, warmup=200, replications=2, seed=1)
    assert results.method == "des"
    # It works 86 h of the 168 h week at about a motor a minute at most.
    assert 15 < results.throughput_per_h.mean() < 35
    assert results.scrap.sum() > 0


def test_an_unknown_line_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(LineNotFoundError) as caught:
        line_model_from_scenario(example(), "ie4-line")
    assert caught.value.known == ["ie3-line"]
    assert caught.value.code == "line-not-found"
