"""Tests of the SimPy reference line model against queueing theory and hand-worked cases.

The reference is what twinverse's compiled line engine is judged by, so it is
itself checked here against results that do not depend on any simulator:
M/M/1 formulas, deterministic lines worked out by hand, bottleneck and
availability laws, and Little's law. Stochastic checks compare the mean over
independent replications with the exact value using a 99 % t-interval, with
fixed seeds so the outcome is reproducible.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

# benchmarks/ is not a package on sys.path: load the module from its file.
_PATH = Path(__file__).parents[2] / "benchmarks" / "reference" / "line_simpy.py"
_spec = importlib.util.spec_from_file_location("line_simpy_reference", _PATH)
assert _spec is not None and _spec.loader is not None
ls = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = ls
_spec.loader.exec_module(ls)


def const(value: float) -> dict[str, Any]:
    return {"dist": "constant", "value": value}


def expo(mean: float) -> dict[str, Any]:
    return {"dist": "exponential", "mean": mean}


def station(sid: str, process: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": sid, "process": process, **extra}


def assert_in_ci(samples: list[float], expected: float, level: float = 0.99) -> None:
    """The exact value lies in the ``level`` t-interval of the replication means."""
    xs = np.asarray(samples, dtype=float)
    n = xs.size
    half = stats.t.ppf(0.5 + level / 2, n - 1) * xs.std(ddof=1) / math.sqrt(n)
    assert abs(xs.mean() - expected) <= half, (xs.mean(), half, expected)


# --------------------------------------------------------------------------- #
# Queueing theory
# --------------------------------------------------------------------------- #


def test_mm1_sojourn_and_wip_match_formulas() -> None:
    lam, mu = 0.5, 1.0  # ρ = 0.5
    model = {
        "stations": [station("m", expo(1 / mu))],
        "buffers": [],
        "arrival": expo(1 / lam),
    }
    runs = ls.replicate(model, parts=2200, warmup=200, replications=20, seed=11)
    # FCFS M/M/1: sojourn ~ Exp(μ − λ), L = ρ / (1 − ρ).
    w = 1 / (mu - lam)
    assert_in_ci([r["lead_time_mean"] for r in runs], w)
    assert_in_ci([r["lead_time_p50"] for r in runs], w * math.log(2))
    assert_in_ci([r["lead_time_p90"] for r in runs], w * math.log(10))
    assert_in_ci([r["wip_mean"] for r in runs], (lam / mu) / (1 - lam / mu))
    assert_in_ci([r["state_fraction"]["m"]["busy"] for r in runs], lam / mu)
    assert_in_ci([r["throughput_per_h"] for r in runs], lam * 3600)


def test_littles_law_holds_on_a_full_featured_line() -> None:
    """WIP = throughput × lead time, up to the parts in flight at both ends of the run."""
    model = {
        "stations": [
            station(
                "press",
                {"dist": "lognormal", "mean": 45.0, "cv": 0.1},
                mtbf=expo(3600.0),
                mttr={"dist": "lognormal", "mean": 300.0, "cv": 0.5},
                skill="p",
            ),
            station("weld", {"dist": "gamma", "mean": 80.0, "cv": 0.3}, servers=2, skill="w"),
            station("pack", {"dist": "uniform", "low": 20.0, "high": 40.0}),
        ],
        "buffers": [3, 0],
        "arrival": expo(200.0),
        "operators": [{"id": "a", "skills": ["p", "w"]}, {"id": "b", "skills": ["w"]}],
        "shifts": {"period": 86400.0, "windows": [[0.0, 43200.0]]},
    }
    r = ls.run(model, parts=15_000, warmup=500, seed=5)
    little = r["throughput_per_h"] / 3600 * r["lead_time_mean"]
    assert r["wip_mean"] == pytest.approx(little, rel=0.02)


# --------------------------------------------------------------------------- #
# Deterministic lines worked out by hand
# --------------------------------------------------------------------------- #


def test_deterministic_two_station_line_buffer_zero() -> None:
    # 3 s then 5 s, direct hand-over: station a finishes at 3, 6 (blocked until 8), …
    # Each part: 3 s at a, 2 s blocked, 5 s at b → lead time 10 s, one exit per 5 s.
    power = {"busy": 10.0, "idle": 1.0, "blocked": 2.0, "down": 0.0}
    model = {
        "stations": [
            station("a", const(3.0), power_kw=power),
            station("b", const(5.0), power_kw=power),
        ],
        "buffers": [0],
    }
    r = ls.run(model, parts=110, warmup=10)
    assert r["good"] == 100
    assert r["throughput_per_h"] == pytest.approx(720.0)
    assert r["makespan"] == pytest.approx(8.0 + 109 * 5.0)
    assert r["lead_time_mean"] == r["lead_time_p90"] == pytest.approx(10.0)
    assert r["wip_mean"] == pytest.approx(2.0)
    assert r["state_fraction"]["a"] == pytest.approx(
        {
            "busy": 0.6,
            "starved": 0,
            "blocked": 0.4,
            "down": 0,
            "waiting_operator": 0,
            "off_shift": 0,
        }
    )
    assert r["state_fraction"]["b"]["busy"] == pytest.approx(1.0)
    span = 100 * 5.0
    assert r["energy_kwh"] == pytest.approx((0.6 * 10 + 0.4 * 2 + 1.0 * 10) * span / 3600)

    # The other way round the slow station comes first and the fast one starves.
    model["stations"].reverse()
    r = ls.run(model, parts=110, warmup=10)
    assert r["throughput_per_h"] == pytest.approx(720.0)
    assert r["lead_time_mean"] == pytest.approx(8.0)
    assert r["state_fraction"]["a"]["busy"] == pytest.approx(0.6)
    assert r["state_fraction"]["a"]["starved"] == pytest.approx(0.4)
    span = 100 * 5.0
    assert r["energy_kwh"] == pytest.approx((1.0 * 10 + 0.6 * 10 + 0.4 * 1) * span / 3600)


def test_blocked_servers_of_a_two_server_station() -> None:
    # Two 4 s servers feed one 5 s server through a buffer of 1: the 5 s station
    # paces the line; the two upstream servers share 5 s of blocking per part.
    model = {
        "stations": [station("a", const(4.0), servers=2), station("b", const(5.0))],
        "buffers": [1],
    }
    r = ls.run(model, parts=1010, warmup=10)
    assert r["throughput_per_h"] == pytest.approx(720.0)
    assert r["state_fraction"]["a"]["busy"] == pytest.approx(0.4)
    assert r["state_fraction"]["a"]["blocked"] == pytest.approx(0.6)


def test_shift_windows_gate_starts_only() -> None:
    # A window of 100 s every 200 s; 10 s parts: 10 parts per period.
    model = {
        "stations": [station("a", const(10.0))],
        "shifts": {"period": 200.0, "windows": [[0.0, 100.0]]},
    }
    r = ls.run(model, parts=110, warmup=10)
    assert r["throughput_per_h"] == pytest.approx(180.0)
    assert r["state_fraction"]["a"]["busy"] == pytest.approx(0.5)
    assert r["state_fraction"]["a"]["off_shift"] == pytest.approx(0.5)
    # 30 s parts: starts at 0, 30, 60, 90; the last finishes at 120, after the window.
    model["stations"][0]["process"] = const(30.0)
    r = ls.run(model, parts=44, warmup=4)
    assert r["throughput_per_h"] == pytest.approx(4 / 200 * 3600)
    assert r["state_fraction"]["a"]["busy"] == pytest.approx(0.6)


def test_shared_operator_goes_to_longest_waiting_then_lowest_station() -> None:
    # One operator for a 3 s and a 5 s station: the line makes one part per 8 s.
    # At a tie (both ready at once) the contract favours the lower station, so
    # each part waits at b while a makes the next one: lead time 3 + 3 + 5 + 5.
    model = {
        "stations": [station("a", const(3.0), skill="x"), station("b", const(5.0), skill="x")],
        "buffers": [0],
        "operators": [{"id": "o", "skills": ["x"]}],
    }
    r = ls.run(model, parts=110, warmup=10)
    assert r["throughput_per_h"] == pytest.approx(450.0)
    assert r["lead_time_mean"] == pytest.approx(16.0)
    assert r["state_fraction"]["b"]["waiting_operator"] == pytest.approx(3 / 8)


def test_first_listed_operator_and_factors() -> None:
    # Both operators qualified and free: the first listed (slow, scrap-prone) always works.
    model = {
        "stations": [station("a", const(10.0), skill="x", scrap=0.1)],
        "operators": [
            {"id": "slow", "skills": ["x"], "time_factor": 1.5, "scrap_factor": 2.0},
            {"id": "fast", "skills": ["x"]},
        ],
    }
    r = ls.run(model, parts=4000, seed=3)
    processed = r["good"] + r["scrap"]
    assert r["makespan"] == pytest.approx(processed * 15.0)
    p = 0.2
    sd = math.sqrt(p * (1 - p) / processed)
    assert abs(r["scrap"] / processed - p) < 4 * sd


# --------------------------------------------------------------------------- #
# Bottleneck and availability laws
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "middle",
    [
        station("b", {"dist": "lognormal", "mean": 10.0, "cv": 0.5}),
        station("b", {"dist": "gamma", "mean": 20.0, "cv": 0.5}, servers=2),
    ],
    ids=["one-server", "two-servers"],
)
def test_saturated_line_runs_at_bottleneck_rate(middle: dict[str, Any]) -> None:
    model = {
        "stations": [
            station("a", {"dist": "lognormal", "mean": 8.0, "cv": 0.5}),
            middle,
            station("c", {"dist": "exponential", "mean": 6.0}),
        ],
        "buffers": [None, None],
    }
    runs = ls.replicate(model, parts=1050, warmup=50, replications=20, seed=2)
    assert_in_ci([r["throughput_per_h"] for r in runs], 360.0)
    # Never starved behind an ever-growing buffer: the bottleneck is always busy.
    assert min(r["state_fraction"]["b"]["busy"] for r in runs) > 0.99


def test_failures_reduce_throughput_by_availability() -> None:
    mtbf, mttr = 500.0, 50.0
    model = {"stations": [station("a", const(10.0), mtbf=expo(mtbf), mttr=expo(mttr))]}
    runs = ls.replicate(model, parts=2000, warmup=0, replications=20, seed=4)
    availability = mtbf / (mtbf + mttr)
    assert_in_ci([r["throughput_per_h"] for r in runs], 360.0 * availability)
    assert_in_ci([r["state_fraction"]["a"]["down"] for r in runs], 1 - availability)


def test_failures_count_down_only_while_processing() -> None:
    # ttf 25 s of processing, 10 s parts, 5 s repairs; the station is blocked half
    # the time behind a 20 s station, which must not wear it out: one failure
    # per 2.5 parts, i.e. 2 s of repair per part, whatever the blocking.
    model = {
        "stations": [
            station("a", const(10.0), mtbf=const(25.0), mttr=const(5.0)),
            station("b", const(20.0)),
        ],
        "buffers": [0],
    }
    r = ls.run(model, parts=1000, warmup=0)
    assert r["state_fraction"]["a"]["down"] * r["makespan"] == pytest.approx(2.0 * 1000, rel=0.01)
    assert r["throughput_per_h"] == pytest.approx(180.0, rel=0.01)


# --------------------------------------------------------------------------- #
# Stopping, seeding, accounting
# --------------------------------------------------------------------------- #


def test_stopping_and_state_fractions_sum_to_one() -> None:
    model = {
        "stations": [
            station("a", expo(9.0), scrap=0.05, power_kw={"busy": 5.0, "idle": 1.0}),
            station("b", expo(10.0), mtbf=expo(2000.0), mttr=expo(100.0)),
        ],
        "buffers": [2],
    }
    r = ls.run(model, parts=600, warmup=100, seed=7)
    assert r["good"] == 500
    assert r["scrap"] > 0
    for fractions in r["state_fraction"].values():
        assert sum(fractions.values()) == pytest.approx(1.0)
    # Horizon first: the run stops there with fewer good parts.
    r = ls.run(model, parts=10_000, warmup=0, seed=7, horizon=1000.0)
    assert r["makespan"] == 1000.0
    assert 0 < r["good"] < 10_000


def test_same_seed_same_result_and_replications_differ() -> None:
    model = {
        "stations": [
            station("a", expo(9.0), scrap=0.05, skill="s"),
            station("b", expo(10.0), mtbf=expo(2000.0), mttr=expo(100.0)),
        ],
        "buffers": [2],
        "arrival": expo(12.0),
        "operators": [{"id": "o", "skills": ["s"]}],
    }
    assert ls.run(model, 300, 50, seed=9) == ls.run(model, 300, 50, seed=9)
    assert ls.run(model, 300, 50, seed=9) != ls.run(model, 300, 50, seed=10)
    seq = np.random.SeedSequence(9)
    assert ls.run(model, 300, 50, seed=seq) == ls.run(model, 300, 50, seed=seq)
    first = ls.replicate(model, 300, 50, replications=3, seed=1)
    assert first == ls.replicate(model, 300, 50, replications=3, seed=1)
    assert len({r["makespan"] for r in first}) == 3


@pytest.mark.parametrize(
    ("spec", "mean"),
    [
        ({"dist": "constant", "value": 4.0}, 4.0),
        ({"dist": "exponential", "mean": 4.0}, 4.0),
        ({"dist": "normal", "mean": 4.0, "sd": 1.0}, 4.0),
        ({"dist": "lognormal", "mean": 4.0, "cv": 0.5}, 4.0),
        ({"dist": "gamma", "mean": 4.0, "cv": 0.5}, 4.0),
        ({"dist": "uniform", "low": 2.0, "high": 6.0}, 4.0),
        ({"dist": "triangular", "low": 2.0, "mode": 3.0, "high": 7.0}, 4.0),
        ({"dist": "weibull", "scale": 4.0, "shape": 2.0}, 4.0 * math.gamma(1.5)),
    ],
)
def test_distribution_means(spec: dict[str, Any], mean: float) -> None:
    sample = ls.make_sampler(spec)
    rng = np.random.default_rng(0)
    xs = np.array([sample(rng) for _ in range(20_000)])
    assert xs.min() >= 0
    assert xs.mean() == pytest.approx(mean, rel=0.02)


def test_lognormal_cv() -> None:
    sample = ls.make_sampler({"dist": "lognormal", "mean": 10.0, "cv": 0.5})
    rng = np.random.default_rng(1)
    xs = np.array([sample(rng) for _ in range(50_000)])
    assert xs.std() / xs.mean() == pytest.approx(0.5, rel=0.05)


@pytest.mark.parametrize("buffer", [0, 2])
def test_two_exponential_stations_with_blocking(buffer: int) -> None:
    # Equal rates μ, buffer B, blocking after service: the number of parts
    # between the two service starts is a birth-death chain on B + 3 states with
    # equal rates, so it is uniform and throughput = μ (B + 2) / (B + 3).
    model = {
        "stations": [station("a", expo(1.0)), station("b", expo(1.0))],
        "buffers": [buffer],
    }
    runs = ls.replicate(model, parts=2100, warmup=100, replications=20, seed=8)
    assert_in_ci([r["throughput_per_h"] for r in runs], 3600 * (buffer + 2) / (buffer + 3))


def test_mm2_sojourn_matches_erlang_c() -> None:
    lam, mu, c = 1.0, 1.0, 2
    a, rho = lam / mu, lam / (c * mu)
    p0 = 1 / (
        sum(a**k / math.factorial(k) for k in range(c)) + a**c / (math.factorial(c) * (1 - rho))
    )
    erlang_c = a**c / (math.factorial(c) * (1 - rho)) * p0
    w = 1 / mu + erlang_c / (c * mu - lam)
    model = {"stations": [station("m", expo(1 / mu), servers=c)], "arrival": expo(1 / lam)}
    runs = ls.replicate(model, parts=2200, warmup=200, replications=20, seed=12)
    assert_in_ci([r["lead_time_mean"] for r in runs], w)
    assert_in_ci([r["wip_mean"] for r in runs], lam * w)


def test_invalid_models_are_refused() -> None:
    ok = station("a", const(1.0))
    with pytest.raises(ValueError, match="buffers"):
        ls.run({"stations": [ok, ok], "buffers": []}, 10)
    with pytest.raises(ValueError, match="mtbf"):
        ls.run({"stations": [station("a", const(1.0), mtbf=const(5.0))]}, 10)
    with pytest.raises(ValueError, match="skill"):
        ls.run(
            {
                "stations": [station("a", const(1.0), skill="x")],
                "operators": [{"id": "o", "skills": []}],
            },
            10,
        )
    with pytest.raises(ValueError, match="warmup"):
        ls.run({"stations": [ok]}, 10, warmup=10)
