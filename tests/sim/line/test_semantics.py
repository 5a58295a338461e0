"""Failures, scrap, operators and shifts behave as the contract says, exactly or within intervals."""

from __future__ import annotations

import pytest

from twinverse.sim.line import Dist, simulate_line

from .support import assert_state_theory, assert_theory, const, expo, line, logn, station

BOTH = pytest.mark.parametrize("method", ["des", "recursion"])


# --- failures ----------------------------------------------------------------------------------


@BOTH
def test_failures_count_processing_time_only_and_repairs_fold_into_the_part(method: str) -> None:
    # 101 parts of 10 s: 1010 s of processing, a failure every 25 s of it (40 of them
    # before 1010), each repaired in 5 s.
    model = line([station("m", const(10.0), mtbf=const(25.0), mttr=const(5.0))])
    results = simulate_line(model, parts=101, method=method)
    assert results.makespan[0] == pytest.approx(1210.0)
    shares = results.replication(0)["state_fraction"]["m"]
    assert shares["busy"] == pytest.approx(1010 / 1210)
    assert shares["down"] == pytest.approx(200 / 1210)


@BOTH
def test_time_to_failure_does_not_run_while_a_server_is_starved(method: str) -> None:
    # Station b works 5 s per 10 s: were idle time counted, it would fail twice as often.
    model = line(
        [station("a", const(10.0)), station("b", const(5.0), mtbf=const(12.0), mttr=const(1.0))],
        buffers=[2],
    )
    results = simulate_line(model, parts=1201, warmup=1, method=method)
    shares = results.replication(0)["state_fraction"]["b"]
    assert shares["down"] == pytest.approx(1 / 24, rel=5e-3)  # one 1 s repair per 12 s worked
    assert shares["busy"] == pytest.approx(0.5, rel=1e-3)


@BOTH
def test_unreliable_machine_throughput_follows_renewal_reward(method: str) -> None:
    # Any laws: failures per unit of processing time = 1 / E[mtbf], so a part takes
    # E[p] (1 + E[mttr] / E[mtbf]) on average.
    process, mtbf, mttr = (
        logn(10.0, 0.3),
        Dist.of("weibull", scale=250.0, shape=2.0),
        logn(40.0, 0.5),
    )
    model = line([station("m", process, mtbf=mtbf.to_dict(), mttr=mttr)])
    results = simulate_line(model, parts=60_000, warmup=500, replications=20, seed=3, method=method)
    repair_share = 40.0 / mtbf.mean
    assert_theory(results, "throughput_per_h", 3600 / (10.0 * (1 + repair_share)))
    assert_state_theory(results, "m", "down", repair_share / (1 + repair_share))


# --- scrap ---------------------------------------------------------------------------------


def test_scrap_leaves_the_line_and_cuts_good_throughput() -> None:
    model = line([station("cut", const(10.0), scrap=0.2), station("pack", const(5.0))], buffers=[3])
    results = simulate_line(model, parts=40_000, warmup=500, replications=10, seed=4)
    assert results.method == "des"
    assert_theory(results, "throughput_per_h", 0.8 * 360)
    scrap_per_good = results.scrap / results.good
    assert scrap_per_good.mean() == pytest.approx(0.25, rel=0.02)


def test_operator_factors_scale_processing_time_and_scrap_chance() -> None:
    model = line(
        [station("cut", const(10.0), scrap=0.2, skill="cutting")],
        operators=[{"id": "ann", "skills": ["cutting"], "time_factor": 1.2, "scrap_factor": 1.5}],
    )
    results = simulate_line(model, parts=40_000, warmup=500, replications=10, seed=5)
    assert_theory(results, "throughput_per_h", 3600 / 12.0 * (1 - 0.3))


# --- operators -------------------------------------------------------------------------------


def two_stations(operators: list[dict[str, object]], process: dict[str, float]) -> object:
    return line(
        [
            station("weld", process, skill="welding"),
            station("grind", process, skill="grinding"),
        ],
        buffers=[5],
        operators=operators,
    )


def test_one_operator_shared_by_two_stations_halves_throughput() -> None:
    dedicated = two_stations(
        [{"id": "a", "skills": ["welding"]}, {"id": "b", "skills": ["grinding"]}], const(10.0)
    )
    shared = two_stations([{"id": "a", "skills": ["welding", "grinding"]}], const(10.0))
    full = simulate_line(dedicated, parts=2_000, warmup=100)
    half = simulate_line(shared, parts=2_000, warmup=100)
    assert full.throughput_per_h[0] == pytest.approx(360.0)
    assert half.throughput_per_h[0] == pytest.approx(180.0)
    waiting = half.replication(0)["state_fraction"]["weld"]["waiting_operator"]
    assert waiting == pytest.approx(0.5)


def test_a_shared_operator_is_never_idle_so_throughput_is_one_over_both_times() -> None:
    shared = two_stations([{"id": "a", "skills": ["welding", "grinding"]}], logn(10.0, 0.3))
    results = simulate_line(shared, parts=40_000, warmup=500, replications=12, seed=6)
    assert_theory(results, "throughput_per_h", 3600 / 20.0)


def test_a_station_takes_the_first_listed_free_operator() -> None:
    model = line(
        [station("m", const(10.0), skill="s")],
        operators=[
            {"id": "slow", "skills": ["s"], "time_factor": 2.0},
            {"id": "fast", "skills": ["s"], "time_factor": 1.0},
        ],
    )
    results = simulate_line(model, parts=100)
    assert results.throughput_per_h[0] == pytest.approx(180.0)


def test_a_released_operator_goes_to_the_server_that_waited_longest() -> None:
    # One operator for both stations. When station a finishes, the operator is released
    # before the part moves on: b, waiting since then, is not yet waiting, so nobody
    # is and the first free server to ask (b, which got the part first) takes the
    # operator; a, refilled at once, waits until b is done. Parts alternate, one in the
    # line at a time: 20 s in it each. Serving the lowest station first would pile
    # parts up in the buffer instead.
    model = line(
        [station("a", const(10.0), skill="s"), station("b", const(10.0), skill="s")],
        buffers=[5],
        operators=[{"id": "op", "skills": ["s"]}],
    )
    results = simulate_line(model, parts=600, warmup=60)
    assert results.throughput_per_h[0] == pytest.approx(180.0)
    assert results.lead_time_mean[0] == pytest.approx(20.0)
    assert results.wip_mean[0] == pytest.approx(1.0)


# --- shifts ------------------------------------------------------------------------------------


def test_a_line_working_8_hours_a_day_makes_a_third_of_around_the_clock() -> None:
    day = 86_400.0
    always = line([station("m", const(60.0))])
    shifted = line([station("m", const(60.0))], shifts={"period": day, "windows": [[0, 8 * 3600]]})
    a = simulate_line(always, parts=None, horizon=10 * day)
    s = simulate_line(shifted, parts=None, horizon=10 * day)
    assert a.good[0] == 14_400
    assert s.good[0] == 4_800
    assert s.replication(0)["state_fraction"]["m"]["off_shift"] == pytest.approx(2 / 3, abs=1e-3)


def test_a_stochastic_line_in_one_shift_makes_about_a_third() -> None:
    # Only starts are bound to the window, so parts under way at its end still finish:
    # slightly more than a third, by about one part per station and day.
    day = 86_400.0
    stations = [
        station(f"s{i}", logn(55.0, 0.2), mtbf=expo(8 * 3600.0), mttr=logn(900.0, 0.5))
        for i in range(3)
    ]
    always = line(stations, buffers=[5, 5])
    shifted = line(stations, buffers=[5, 5], shifts={"period": day, "windows": [[0, 8 * 3600]]})
    a = simulate_line(always, parts=None, horizon=40 * day, replications=8, seed=7)
    s = simulate_line(shifted, parts=None, horizon=40 * day, replications=8, seed=7)
    ratio = s.estimate("throughput_per_h").mean / a.estimate("throughput_per_h").mean
    assert 1 / 3 <= ratio < 1 / 3 * 1.03


def test_a_part_started_before_the_window_ends_finishes_after_it() -> None:
    # Starts at 0, 100, 200; the window closes at 250, the third part ends at 300.
    model = line([station("m", const(100.0))], shifts={"period": 1000.0, "windows": [[0, 250]]})
    results = simulate_line(model, parts=3)
    assert results.makespan[0] == pytest.approx(300.0)
    # The next period: starts at 1000, 1100, 1200.
    assert simulate_line(model, parts=6).makespan[0] == pytest.approx(1300.0)
