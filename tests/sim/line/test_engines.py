"""The event engine and the flow-line recursion: same answers, chosen right, seeded right."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from twinverse.sim.line import (
    FlowLineError,
    Kpi,
    LineModel,
    LineResults,
    Method,
    RunSettingsError,
    ServerState,
    choose_method,
    flow_line_obstacles,
    simulate_line,
)

from .support import const, expo, line, logn, station

COMPARED = ("makespan", "good", "throughput_per_h", "wip_mean", "lead_time_mean",
            "lead_time_p50", "lead_time_p90", "energy_kwh", "state_fraction", "processed",
            "warmup_end")  # fmt: skip


def deterministic_line(buffers: list[int | None], arrival: dict[str, float] | None) -> LineModel:
    power = {"busy": 2.0, "idle": 1.0, "blocked": 0.5, "down": 0.1}
    stations = [
        station(f"s{i}", const(p), power_kw=power) for i, p in enumerate((10.0, 13.7, 9.1, 12.3))
    ]
    for i in (1, 2):
        stations[i] |= {"mtbf": const(97.3 + 31 * i), "mttr": const(21.1 + 7 * i)}
    return line(stations, buffers, arrival=arrival)


@pytest.mark.parametrize("buffers", [[0, 0, 0], [1, 0, 2], [None, 1, 0], [3, None, None]])
@pytest.mark.parametrize("arrival", [None, const(15.5)], ids=["saturated", "arrivals"])
@pytest.mark.parametrize(
    ("parts", "warmup", "horizon"),
    [(500, 50, None), (None, 10, 3000.0), (300, 100, 500.0)],
    ids=["parts", "horizon", "horizon-before-warmup"],
)
def test_engines_agree_exactly_on_a_deterministic_line(
    buffers: list[int | None],
    arrival: dict[str, float] | None,
    parts: int | None,
    warmup: int,
    horizon: float | None,
) -> None:
    # Constant times leave no randomness: blocking, failures carried from part to part,
    # warm-up and horizon clipping must give the same figures to rounding.
    model = deterministic_line(buffers, arrival)
    des = simulate_line(model, parts=parts, warmup=warmup, horizon=horizon, method="des")
    rec = simulate_line(model, parts=parts, warmup=warmup, horizon=horizon, method="recursion")
    for name in COMPARED:
        np.testing.assert_allclose(
            getattr(des, name), getattr(rec, name), rtol=1e-9, atol=1e-9, err_msg=name
        )


def welch_agree(a: np.ndarray, b: np.ndarray, confidence: float = 0.99) -> bool:
    """Two independent samples' means differ by less than the interval of their difference.

    (Up to rounding: a share that is 0 in theory comes out as 0 or as 1e-16.)
    """
    se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    t = stats.t.ppf(0.5 + confidence / 2, a.size + b.size - 2)
    return bool(abs(a.mean() - b.mean()) <= t * se + 1e-9)


def test_engines_agree_statistically_on_an_unreliable_flow_line() -> None:
    power = {"busy": 10.0, "idle": 2.0, "blocked": 2.0, "down": 0.5}
    model = line(
        [
            station("a", logn(50.0, 0.2), mtbf=expo(4000.0), mttr=logn(400.0, 0.6), power_kw=power),
            station("b", logn(54.0, 0.3), power_kw=power),
            station("c", expo(48.0), mtbf=expo(6000.0), mttr=expo(300.0), power_kw=power),
            station("d", logn(52.0, 0.1), mtbf=expo(5000.0), mttr=logn(500.0, 0.4)),
        ],
        buffers=[3, 0, 6],
    )
    runs = {
        m: simulate_line(model, parts=20_000, warmup=500, replications=24, seed=s, method=m)
        for m, s in (("des", 31), ("recursion", 32))
    }
    des, rec = runs["des"], runs["recursion"]
    for kpi in (Kpi.THROUGHPUT_PER_H, Kpi.WIP_MEAN, Kpi.LEAD_TIME_MEAN, Kpi.LEAD_TIME_P90,
                Kpi.ENERGY_KWH):  # fmt: skip
        assert welch_agree(des.values(kpi), rec.values(kpi)), kpi
    for i in range(4):
        for state in (ServerState.BUSY, ServerState.BLOCKED, ServerState.STARVED):
            j = state.position
            assert welch_agree(des.state_fraction[:, i, j], rec.state_fraction[:, i, j]), (i, state)


def test_state_fractions_sum_to_one_per_station() -> None:
    model = line(
        [
            station("a", logn(10.0, 0.3), servers=2, mtbf=expo(300.0), mttr=expo(30.0), skill="x"),
            station("b", expo(6.0), scrap=0.05, skill="y"),
        ],
        buffers=[2],
        operators=[{"id": "o", "skills": ["x", "y"]}, {"id": "p", "skills": ["x"]}],
        shifts={"period": 1000.0, "windows": [[0, 600], [700, 900]]},
    )
    results = simulate_line(model, parts=5_000, warmup=100, replications=3, seed=1)
    np.testing.assert_allclose(results.state_fraction.sum(axis=2), 1.0, rtol=1e-9)


# --- choosing the engine -------------------------------------------------------------------


def test_auto_takes_the_recursion_when_the_model_qualifies() -> None:
    model = line([station("a", expo(1.0)), station("b", expo(1.0))], buffers=[2])
    assert flow_line_obstacles(model) == ()
    assert choose_method(model) is Method.RECURSION
    assert simulate_line(model, parts=100).method is Method.RECURSION


def test_operators_that_no_station_needs_do_not_stop_the_recursion() -> None:
    model = line([station("a", expo(1.0))], operators=[{"id": "o", "skills": ["x"]}])
    assert choose_method(model) is Method.RECURSION


@pytest.mark.parametrize(
    ("more", "reason"),
    [
        ({"servers": 2}, "has 2 servers"),
        ({"scrap": 0.01}, "scraps"),
        ({"skill": "x"}, "operators"),
    ],
)
def test_the_recursion_refuses_a_model_it_cannot_run_and_says_why(
    more: dict[str, object], reason: str
) -> None:
    model = line([station("a", expo(1.0), **more)], operators=[{"id": "o", "skills": ["x"]}])
    assert choose_method(model) is Method.DES
    with pytest.raises(FlowLineError) as caught:
        simulate_line(model, parts=10, method="recursion")
    assert caught.value.code == "not-a-flow-line"
    assert any(reason in r for r in caught.value.reasons)


def test_shifts_send_the_model_to_the_event_engine() -> None:
    model = line([station("a", expo(1.0))], shifts={"period": 10.0, "windows": [[0, 5]]})
    assert "shifts" in flow_line_obstacles(model)


# --- seeding -----------------------------------------------------------------------------------


def stochastic_line(**more: object) -> LineModel:
    return line(
        [station("a", logn(5.0, 0.3), mtbf=expo(200.0), mttr=expo(20.0)), station("b", expo(4.0))],
        buffers=[3],
        **more,
    )


def same(a: LineResults, b: LineResults) -> bool:
    return all(np.array_equal(getattr(a, n), getattr(b, n), equal_nan=True) for n in COMPARED)


@pytest.mark.parametrize("method", ["des", "recursion"])
def test_the_same_seed_gives_the_same_results_on_any_number_of_threads(method: str) -> None:
    model = stochastic_line()
    first = simulate_line(model, parts=2_000, replications=6, seed=5, method=method, workers=1)
    again = simulate_line(model, parts=2_000, replications=6, seed=5, method=method, workers=3)
    assert same(first, again)


@pytest.mark.parametrize("method", ["des", "recursion"])
def test_different_seeds_and_replications_draw_different_streams(method: str) -> None:
    model = stochastic_line()
    a = simulate_line(model, parts=2_000, replications=4, seed=5, method=method)
    b = simulate_line(model, parts=2_000, replications=4, seed=6, method=method)
    assert not np.array_equal(a.makespan, b.makespan)
    assert np.unique(a.makespan).size == 4


# --- run settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"parts": 0}, "parts"),
        ({"parts": 10, "warmup": 10}, "warmup"),
        ({"parts": None}, "horizon"),
        ({"parts": 10, "horizon": -1.0}, "horizon"),
        ({"parts": 10, "replications": 0}, "replications"),
        ({"parts": 10, "seed": -3}, "seed"),
        ({"parts": 10, "workers": 0}, "workers"),
        ({"parts": 10.5}, "parts"),
    ],
)
def test_impossible_run_settings_are_refused(settings: dict[str, object], field: str) -> None:
    with pytest.raises(RunSettingsError) as caught:
        simulate_line(stochastic_line(), **settings)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert caught.value.code == "invalid-run-settings"


def test_a_horizon_before_the_warmup_ends_measures_nothing() -> None:
    results = simulate_line(stochastic_line(), parts=1_000, warmup=500, horizon=100.0)
    assert results.good[0] == 0
    assert np.isnan(results.throughput_per_h[0])
    assert results.makespan[0] == 100.0


def test_results_give_contract_shaped_replications_and_intervals() -> None:
    results = simulate_line(stochastic_line(), parts=3_000, warmup=100, replications=5, seed=2)
    one = results.replication(0)
    assert set(one) == {k.value for k in Kpi} | {"state_fraction"}
    assert set(one["state_fraction"]["a"]) == {s.value for s in ServerState}
    estimate = results.estimate("throughput_per_h")
    assert estimate.n == 5
    assert estimate.low < estimate.mean < estimate.high
    assert estimate.half_width < results.estimate("throughput_per_h", 0.99).half_width


def test_the_kernels_state_codes_are_the_state_fraction_axis() -> None:
    from twinverse.sim.line import engine

    codes = {
        ServerState.BUSY: engine.BUSY,
        ServerState.STARVED: engine.STARVED,
        ServerState.BLOCKED: engine.BLOCKED,
        ServerState.DOWN: engine.DOWN,
        ServerState.WAITING_OPERATOR: engine.WAITING_OPERATOR,
        ServerState.OFF_SHIFT: engine.OFF_SHIFT,
    }
    assert all(state.position == code for state, code in codes.items())
    assert len(ServerState) == engine.N_STATES
