"""Both engines against exact results of queueing theory, each checked with a confidence interval.

The theory value must lie in the 99 % interval over independent replications,
and the 95 % interval must be narrower than 2 % of the mean, so an engine that is
wrong by more than a few per cent fails.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from twinverse.sim.line import simulate_line

from .support import assert_state_theory, assert_theory, expo, line, station

BOTH = pytest.mark.parametrize("method", ["des", "recursion"])


@BOTH
def test_mm1_sojourn_time_and_queue_length_match_the_formulas(method: str) -> None:
    lam, mu = 0.8, 1.0  # rho = 0.8
    model = line([station("server", expo(1 / mu))], arrival=expo(1 / lam))
    results = simulate_line(
        model, parts=100_000, warmup=5_000, replications=24, seed=11, method=method
    )
    w = 1 / (mu - lam)
    assert_theory(results, "lead_time_mean", w)
    assert_theory(results, "wip_mean", lam * w)
    assert_theory(results, "throughput_per_h", lam * 3600)
    # A FIFO M/M/1 sojourn time is exponential with rate mu - lambda.
    assert_theory(results, "lead_time_p50", math.log(2) * w)
    assert_theory(results, "lead_time_p90", math.log(10) * w)
    assert_state_theory(results, "server", "busy", lam / mu)


def test_mmc_erlang_c_waiting_and_queue_length() -> None:
    c, lam, mu = 3, 2.4, 1.0  # rho = lam / (c mu) = 0.8
    model = line([station("pool", expo(1 / mu), servers=c)], arrival=expo(1 / lam))
    results = simulate_line(model, parts=150_000, warmup=5_000, replications=24, seed=12)
    assert results.method == "des"
    a = lam / mu
    rho = a / c
    top = a**c / math.factorial(c) / (1 - rho)
    erlang_c = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    w = erlang_c / (c * mu - lam) + 1 / mu
    assert_theory(results, "lead_time_mean", w)
    assert_theory(results, "wip_mean", lam * w)
    assert_state_theory(results, "pool", "busy", rho)


@BOTH
def test_tandem_jackson_network_total_sojourn_is_the_sum_of_mm1_sojourns(method: str) -> None:
    lam = 0.5
    means = (1.2, 1.5, 1.0)  # utilisations 0.6, 0.75, 0.5
    model = line(
        [station(f"s{i}", expo(m)) for i, m in enumerate(means)],
        buffers=[None, None],
        arrival=expo(1 / lam),
    )
    results = simulate_line(
        model, parts=100_000, warmup=5_000, replications=20, seed=13, method=method
    )
    w = sum(1 / (1 / m - lam) for m in means)
    assert w == pytest.approx(11.0)
    assert_theory(results, "lead_time_mean", w)
    assert_theory(results, "wip_mean", lam * w)


def two_machine_line_ctmc(
    mu: tuple[float, float],
    fail: tuple[float, float],
    repair: tuple[float, float],
    buffer: int,
) -> dict[str, float]:
    """Exact long-run figures of a two-machine line with a buffer, by its Markov chain.

    Exponential processing (rates ``mu``), operation-dependent failures (rates ``fail``,
    only while processing) and exponential repairs (``repair``); machine 1 is never
    starved, machine 2 never blocked, blocking after service, ``buffer`` places between
    them (not counting machine 2). State: (machine 1 working/down/blocked, parts in
    the buffer, machine 2 empty/working/down).
    """
    work, down, blocked, empty = "W", "D", "B", "E"
    start = (work, 0, empty)
    index: dict[tuple[str, int, str], int] = {start: 0}
    rates: list[tuple[int, int, float]] = []
    todo = [start]

    def link(src: tuple[str, int, str], dst: tuple[str, int, str], rate: float) -> None:
        if dst not in index:
            index[dst] = len(index)
            todo.append(dst)
        rates.append((index[src], index[dst], rate))

    while todo:
        state = todo.pop()
        m1, n, m2 = state
        if m1 == work:
            link(state, (down, n, m2), fail[0])
            if m2 == empty:
                link(state, (work, n, work), mu[0])
            elif n < buffer:
                link(state, (work, n + 1, m2), mu[0])
            else:
                link(state, (blocked, n, m2), mu[0])
        elif m1 == down:
            link(state, (work, n, m2), repair[0])
        if m2 == work:
            link(state, (m1, n, down), fail[1])
            if n > 0:
                link(state, (work, n, work) if m1 == blocked else (m1, n - 1, work), mu[1])
            elif m1 == blocked:  # no buffer: machine 2 takes the part straight from machine 1
                link(state, (work, 0, work), mu[1])
            else:
                link(state, (m1, 0, empty), mu[1])
        elif m2 == down:
            link(state, (m1, n, work), repair[1])

    size = len(index)
    q = np.zeros((size, size))
    for src, dst, rate in rates:
        q[src, dst] += rate
        q[src, src] -= rate
    # pi Q = 0 with sum(pi) = 1: replace one balance equation by the normalisation.
    system = q.T.copy()
    system[-1, :] = 1.0
    rhs = np.zeros(size)
    rhs[-1] = 1.0
    pi = np.linalg.solve(system, rhs)
    share = {key: pi[i] for key, i in index.items()}
    return {
        "throughput": sum(p for (_, _, m2), p in share.items() if m2 == work) * mu[1],
        "m1_blocked": sum(p for (m1, _, _), p in share.items() if m1 == blocked),
        "m1_down": sum(p for (m1, _, _), p in share.items() if m1 == down),
        "m2_starved": sum(p for (_, _, m2), p in share.items() if m2 == empty),
        "m2_down": sum(p for (_, _, m2), p in share.items() if m2 == down),
        # Machine 1 always holds a started part; the buffer holds n; machine 2 holds one or none.
        "wip": sum(p * (1 + n + (m2 != empty)) for (_, n, m2), p in share.items()),
    }


@BOTH
@pytest.mark.parametrize("buffer", [0, 4])
def test_gershwin_two_machine_line_matches_its_markov_chain(method: str, buffer: int) -> None:
    mean = (1.0, 0.9)
    mtbf, mttr = (30.0, 45.0), (3.0, 5.0)
    model = line(
        [station(f"m{i}", expo(mean[i]), mtbf=expo(mtbf[i]), mttr=expo(mttr[i])) for i in range(2)],
        buffers=[buffer],
    )
    exact = two_machine_line_ctmc(
        (1 / mean[0], 1 / mean[1]), (1 / mtbf[0], 1 / mtbf[1]), (1 / mttr[0], 1 / mttr[1]), buffer
    )
    results = simulate_line(
        model, parts=60_000, warmup=2_000, replications=20, seed=21 + buffer, method=method
    )
    assert_theory(
        results, "throughput_per_h", exact["throughput"] * 3600, max_relative_half_width=0.01
    )
    assert_theory(results, "wip_mean", exact["wip"])
    assert_state_theory(results, "m0", "blocked", exact["m1_blocked"])
    assert_state_theory(results, "m0", "down", exact["m1_down"])
    assert_state_theory(results, "m1", "starved", exact["m2_starved"])
    assert_state_theory(results, "m1", "down", exact["m2_down"])
