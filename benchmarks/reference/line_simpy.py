"""Independent SimPy reference model of a factory line (the contract in docs/simulation-line.md).

A *line model* is a serial flow line: every part visits every station in order;
a station has ``servers`` identical machines; finite buffers sit between
consecutive stations and a server that finished a part it cannot pass on stays
*blocked* holding it (blocking after service). Machines fail only while they
work, may scrap parts, may need a skilled operator from a shared pool and may
only start parts inside shift windows.

This module exists to be *obviously right* rather than fast: each server is one
SimPy process that walks through the life of a part (take a part → wait until it
may start → process with failures → hand it on), and every rule of the contract
is written once, in the place where that step happens. twinverse's compiled
engine (``twinverse.sim.line``) is checked against it: both read the same model
and their KPIs must agree within confidence intervals.

Same-instant rules. The contract is written for continuous time, where two
events rarely coincide; with constant distributions or shift boundaries they do,
so this model fixes an order that does not depend on SimPy's event queue:

* Shift boundaries are processed *before* anything else at their instant, so a
  window ``[start, end)`` admits a start at ``start`` and refuses one at ``end``.
* Operators are assigned *after* everything else at their instant (a
  "dispatch" at a priority below SimPy's normal one). By then every server that
  became ready at that instant is in the queue, and the queue is served by
  (waiting since, station index, server index), each server taking the first
  free qualified operator in list order. With one operator freed this is exactly
  "the released operator goes to the longest-waiting server"; with a single
  ready server and several free operators it is "the one listed first".
* A part handed to a station with several servers holding no part goes to the
  lowest-indexed one.

Other interpretations (where the contract is silent) are commented where they
are implemented and listed together in :func:`run`'s docstring.

Random numbers: one ``numpy.random.Generator`` per station (process times,
failures, repairs, scrap) and one for arrivals, all children of the
replication's ``SeedSequence``; :func:`replicate` seeds replication ``k`` with
``SeedSequence(seed).spawn(replications)[k]``.

Usage (one replication prints its KPI dict; several print them all plus a
mean and 95 % half-width per scalar KPI)::

    python benchmarks/reference/line_simpy.py model.json --parts 2000 --warmup 200 --seed 1
    python benchmarks/reference/line_simpy.py model.json --parts 2000 --replications 10
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from collections import deque
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import simpy
import simpy.events

# Server states, as indices into per-server time accumulators (lists are
# noticeably faster than dicts in the innermost bookkeeping).
BUSY, STARVED, BLOCKED, DOWN, WAITING_OPERATOR, OFF_SHIFT = range(6)
STATES = ("busy", "starved", "blocked", "down", "waiting_operator", "off_shift")
# Which `power_kw` entry each state draws: waiting of any kind is "idle".
POWER_KEY = ("busy", "idle", "blocked", "down", "idle", "idle")

# SimPy orders same-time events by (time, priority, insertion). URGENT (0) and
# NORMAL (1) are SimPy's own; LATE (2) runs after every normal event of the
# instant, including ones scheduled while that instant is being processed.
URGENT = simpy.events.URGENT
LATE = 2


# --------------------------------------------------------------------------- #
# Distributions
# --------------------------------------------------------------------------- #

Sampler = Callable[[np.random.Generator], float]


def make_sampler(spec: dict[str, Any]) -> Sampler:
    """Turn a contract distribution ``{"dist": kind, ...}`` into ``rng -> float``.

    Parameterisations follow the contract's table exactly (lognormal and gamma
    by mean and coefficient of variation, normal truncated at 0 by clipping).
    """
    kind = spec["dist"]
    if kind == "constant":
        value = float(spec["value"])
        return lambda rng: value
    if kind == "exponential":
        mean = float(spec["mean"])
        return lambda rng: rng.exponential(mean)
    if kind == "normal":
        mean, sd = float(spec["mean"]), float(spec["sd"])
        # Negative draws are set to 0, not redrawn: the mean shifts up a little.
        return lambda rng: max(0.0, rng.normal(mean, sd))
    if kind == "lognormal":
        mean, cv = float(spec["mean"]), float(spec["cv"])
        sigma2 = math.log1p(cv * cv)
        mu, sigma = math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2)
        return lambda rng: math.exp(rng.normal(mu, sigma))
    if kind == "gamma":
        mean, cv = float(spec["mean"]), float(spec["cv"])
        if cv == 0.0:
            return lambda rng: mean
        shape, scale = 1.0 / (cv * cv), mean * cv * cv
        return lambda rng: rng.gamma(shape, scale)
    if kind == "uniform":
        low, high = float(spec["low"]), float(spec["high"])
        return lambda rng: rng.uniform(low, high)
    if kind == "triangular":
        low, mode, high = float(spec["low"]), float(spec["mode"]), float(spec["high"])
        if low == high:  # numpy refuses a zero-width triangle
            return lambda rng: low
        return lambda rng: rng.triangular(low, mode, high)
    if kind == "weibull":
        scale, shape = float(spec["scale"]), float(spec["shape"])
        return lambda rng: scale * rng.weibull(shape)
    raise ValueError(f"unknown distribution kind {kind!r}")


# --------------------------------------------------------------------------- #
# Events with a non-default priority
# --------------------------------------------------------------------------- #


class _Scheduled(simpy.events.Event):
    """An event already triggered, processed after ``delay`` at ``priority``.

    SimPy's ``Timeout`` always uses NORMAL priority; shift boundaries need to go
    first at their instant (URGENT) and operator dispatch last (LATE).
    """

    def __init__(self, env: simpy.Environment, delay: float, priority: int) -> None:
        super().__init__(env)
        self._ok = True
        self._value = None
        env.schedule(self, priority, delay)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- #
# Line elements
# --------------------------------------------------------------------------- #


class Part:
    """A unit of work; ``entered`` is when it joined the line (for lead time)."""

    __slots__ = ("entered",)

    def __init__(self, entered: float | None) -> None:
        self.entered = entered


class Operator:
    """A worker of the shared pool; ``busy`` from a part's start to its processing end."""

    __slots__ = ("busy", "id", "scrap_factor", "skills", "time_factor")

    def __init__(self, spec: dict[str, Any]) -> None:
        self.id = spec.get("id")
        self.skills = frozenset(spec.get("skills") or ())
        self.time_factor = float(spec.get("time_factor", 1.0))
        self.scrap_factor = float(spec.get("scrap_factor", 1.0))
        self.busy = False


class Server:
    """One machine of a station, with its state clock and its time-to-failure.

    ``totals[state]`` is the time spent in each state since statistics were last
    reset (at the end of warm-up); the current state's open interval starts at
    ``since`` and is added when the state changes or statistics are flushed.
    """

    __slots__ = ("env", "index", "since", "state", "station", "totals", "ttf")

    def __init__(self, env: simpy.Environment, station: Station, index: int) -> None:
        self.env = env
        self.station = station
        self.index = index
        self.state = STARVED
        self.since = 0.0
        self.totals = [0.0] * len(STATES)
        self.ttf = math.inf

    def set_state(self, state: int) -> None:
        now = self.env.now
        self.totals[self.state] += now - self.since
        self.state, self.since = state, now

    def flush(self) -> None:
        """Close the open interval at ``now`` without changing state."""
        self.set_state(self.state)


class Station:
    """A station: its samplers, its servers and the buffer *in front of* it.

    ``inbuf`` is the buffer a server of this station takes parts from (buffer
    ``i-1`` of the contract, or the unlimited arrival queue for station 0);
    ``outbuf``/``capacity`` is buffer ``i`` behind it (absent for the last
    station). ``idle`` maps server index → event for servers holding no part;
    ``blocked`` holds, in blocking order, servers that finished a good part and
    could not pass it on.
    """

    def __init__(self, env: simpy.Environment, index: int, spec: dict[str, Any]) -> None:
        self.index = index
        self.id = spec["id"]
        self.process = make_sampler(spec["process"])
        mtbf, mttr = spec.get("mtbf"), spec.get("mttr")
        if (mtbf is None) != (mttr is None):
            raise ValueError(
                f"station {self.id!r}: mtbf and mttr must be both present or both null"
            )
        self.mtbf = make_sampler(mtbf) if mtbf is not None else None
        self.mttr = make_sampler(mttr) if mttr is not None else None
        self.scrap = float(spec.get("scrap", 0.0) or 0.0)
        self.skill = spec.get("skill")
        power = spec.get("power_kw") or {}
        self.power = {
            key: float(power.get(key, 0.0)) for key in ("busy", "idle", "blocked", "down")
        }
        n = int(spec.get("servers", 1))
        if n < 1:
            raise ValueError(f"station {self.id!r}: servers must be ≥ 1")
        self.servers = [Server(env, self, k) for k in range(n)]
        self.inbuf: deque[Part] = deque()
        self.outbuf: deque[Part] | None = None
        self.capacity = 0.0
        self.upstream: Station | None = None
        self.downstream: Station | None = None
        self.idle: dict[int, simpy.Event] = {}
        self.blocked: deque[tuple[Part, simpy.Event]] = deque()
        self.rng: np.random.Generator


class OperatorPool:
    """Shared operators: a queue of servers waiting for one, served by a dispatch.

    Requests and releases only *schedule* a dispatch at LATE priority, so that
    the assignment at an instant sees every server that became ready at that
    instant (see the module docstring for why).
    """

    def __init__(self, env: simpy.Environment, specs: list[dict[str, Any]]) -> None:
        self.env = env
        self.operators = [Operator(s) for s in specs]
        # server → (waiting since, station index, server index, skill, event)
        self.waiting: dict[Server, tuple[float, int, int, str, simpy.Event]] = {}
        self._dispatch_pending = False

    def request(self, server: Server) -> simpy.Event:
        """Queue ``server``; the event's value is the operator, or None if the shift closed."""
        event = self.env.event()
        st = server.station
        self.waiting[server] = (self.env.now, st.index, server.index, st.skill, event)
        self._schedule_dispatch()
        return event

    def release(self, operator: Operator) -> None:
        operator.busy = False
        if self.waiting:
            self._schedule_dispatch()

    def close(self) -> None:
        """A shift window ended: waiting servers may no longer start, so they leave the queue."""
        for *_, event in self.waiting.values():
            event.succeed(None)
        self.waiting.clear()

    def _schedule_dispatch(self) -> None:
        if not self._dispatch_pending:
            self._dispatch_pending = True
            _Scheduled(self.env, 0.0, LATE).callbacks.append(self._dispatch)

    def _dispatch(self, _event: simpy.Event) -> None:
        self._dispatch_pending = False
        # Longest-waiting first; ties by station, then server index.
        for server, (*_, skill, event) in sorted(self.waiting.items(), key=lambda kv: kv[1][:3]):
            for op in self.operators:  # first qualified free operator in list order
                if not op.busy and skill in op.skills:
                    op.busy = True
                    del self.waiting[server]
                    event.succeed(op)
                    break


class Shifts:
    """Periodic working windows; ``is_open`` is maintained by a controller process.

    The controller walks the absolute windows (adjacent ones merged, also across
    the period boundary, so a window ending where the next begins is one window)
    and flips ``is_open`` at URGENT priority. At a close, servers waiting for an
    operator go off-shift; at an open, off-shift servers are woken.
    """

    def __init__(self, env: simpy.Environment, spec: dict[str, Any], pool: OperatorPool | None):
        self.env = env
        self.pool = pool
        self.period = float(spec["period"])
        windows = [(float(a), float(b)) for a, b in spec["windows"]]
        if not windows or self.period <= 0:
            raise ValueError("shifts need a positive period and at least one window")
        for a, b in windows:
            if not 0.0 <= a < b <= self.period:
                raise ValueError(f"shift window [{a}, {b}) is not inside [0, period]")
        for (_, b0), (a1, _) in itertools.pairwise(windows):
            if a1 < b0:
                raise ValueError("shift windows must be sorted and disjoint")
        merged: list[list[float]] = []
        for a, b in windows:
            if merged and a == merged[-1][1]:
                merged[-1][1] = b
            else:
                merged.append([a, b])
        self.windows = [(a, b) for a, b in merged]
        # Windows covering the whole period are no constraint at all (and the
        # merging walk below would never find a close).
        self.always_open = self.windows == [(0.0, self.period)]
        self.is_open = self.always_open
        self.sleepers: dict[tuple[int, int], simpy.Event] = {}

    def _intervals(self) -> Iterator[tuple[float, float]]:
        """Absolute open intervals in order, merging across period boundaries."""
        current: list[float] | None = None
        k = 0
        while True:
            base = k * self.period
            for a, b in self.windows:
                if current is not None and base + a == current[1]:
                    current[1] = base + b
                    continue
                if current is not None:
                    yield current[0], current[1]
                current = [base + a, base + b]
            k += 1

    def controller(self) -> Generator[simpy.Event, Any, None]:
        env = self.env
        for start, end in self._intervals():
            # Delays are taken from absolute boundary times so rounding never accumulates.
            if start > env.now:
                yield _Scheduled(env, start - env.now, URGENT)
            self.is_open = True
            # Wake in (station, server) order; the operator dispatch re-sorts anyway.
            sleepers, self.sleepers = self.sleepers, {}
            for key in sorted(sleepers):
                sleepers[key].succeed()
            yield _Scheduled(env, max(0.0, end - env.now), URGENT)
            self.is_open = False
            if self.pool is not None:
                self.pool.close()

    def wait_open(self, server: Server) -> simpy.Event:
        event = self.env.event()
        self.sleepers[(server.station.index, server.index)] = event
        return event


# --------------------------------------------------------------------------- #
# One replication
# --------------------------------------------------------------------------- #


class Line:
    """One replication of a line model: builds the SimPy processes and collects KPIs."""

    def __init__(
        self,
        model: dict[str, Any],
        parts: int,
        warmup: int,
        seed: int | np.random.SeedSequence,
        horizon: float | None,
    ) -> None:
        if parts < 1 or not 0 <= warmup < parts:
            raise ValueError("need parts ≥ 1 and 0 ≤ warmup < parts")
        self.env = env = simpy.Environment()
        self.parts, self.warmup, self.horizon = parts, warmup, horizon

        specs = model["stations"]
        if not specs:
            raise ValueError("a line needs at least one station")
        self.stations = [Station(env, i, s) for i, s in enumerate(specs)]
        buffers = model.get("buffers")
        if buffers is None:
            buffers = [] if len(specs) == 1 else None
        if buffers is None or len(buffers) != len(specs) - 1:
            raise ValueError("buffers must have len(stations) - 1 entries")
        for i, (st, cap) in enumerate(zip(self.stations, buffers, strict=False)):
            nxt = self.stations[i + 1]
            st.outbuf, st.downstream = nxt.inbuf, nxt
            st.capacity = math.inf if cap is None else float(cap)
            nxt.upstream = st

        # One independent stream per station (+ one for arrivals), derived the
        # way SeedSequence.spawn does but without mutating a caller's sequence,
        # so run(seed=ss) twice gives the same result.
        ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        streams = [
            np.random.default_rng(
                np.random.SeedSequence(
                    ss.entropy, spawn_key=(*ss.spawn_key, k), pool_size=ss.pool_size
                )
            )
            for k in range(len(specs) + 1)
        ]
        for st, rng in zip(self.stations, streams, strict=False):
            st.rng = rng
            if st.mtbf is not None:
                for srv in st.servers:
                    srv.ttf = st.mtbf(rng)  # drawn at the start, counts down while processing

        op_specs = model.get("operators") or []
        self.pool = OperatorPool(env, op_specs) if op_specs else None
        if self.pool is not None:
            for st in self.stations:
                if st.skill is not None and not any(
                    st.skill in op.skills for op in self.pool.operators
                ):
                    raise ValueError(
                        f"station {st.id!r} needs skill {st.skill!r} that no operator has"
                    )

        shift_spec = model.get("shifts")
        self.shifts = Shifts(env, shift_spec, self.pool) if shift_spec else None
        if self.shifts is not None and self.shifts.always_open:
            self.shifts = None
        if self.shifts is not None:
            # Created first so the window state at t=0 is set before any server looks.
            env.process(self.shifts.controller())

        arrival = model.get("arrival")
        self.saturated = arrival is None
        if not self.saturated:
            env.process(self._arrivals(make_sampler(arrival), streams[-1]))

        # Statistics. Measurement starts at 0 or at the warmup-th good exit.
        self.measuring = warmup == 0
        self.measure_start: float | None = 0.0 if self.measuring else None
        self.exits = 0
        self.good = 0
        self.scrap = 0
        self.lead_times: list[float] = []
        self.wip = 0
        self.wip_area = 0.0
        self.wip_since = 0.0
        self.done = False
        self.end = math.nan
        self.stop = env.event()

        for st in self.stations:
            for srv in st.servers:
                env.process(self._server(srv))
        if horizon is not None:
            env.process(self._horizon(horizon))

    # -- bookkeeping --------------------------------------------------------- #

    def _wip_add(self, delta: int) -> None:
        now = self.env.now
        self.wip_area += self.wip * (now - self.wip_since)
        self.wip_since = now
        self.wip += delta

    def _start_measuring(self) -> None:
        """End of warm-up: close all open intervals and forget everything before now."""
        self.measuring = True
        self.measure_start = self.env.now
        self._wip_add(0)
        self.wip_area = 0.0
        for st in self.stations:
            for srv in st.servers:
                srv.flush()
                srv.totals = [0.0] * len(STATES)

    def _finish(self) -> None:
        self.done = True
        self.end = self.env.now
        self.stop.succeed()

    def _exit(self, part: Part) -> None:
        self._wip_add(-1)
        if self.done:  # another exit at the very instant the run ended
            return
        self.exits += 1
        if self.exits > self.warmup:
            self.good += 1
            assert part.entered is not None
            self.lead_times.append(self.env.now - part.entered)
        elif self.exits == self.warmup:
            self._start_measuring()
        if self.exits == self.parts:
            self._finish()

    # -- processes ----------------------------------------------------------- #

    def _horizon(self, horizon: float) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(horizon)
        if not self.done:
            self._finish()

    def _arrivals(
        self, interarrival: Sampler, rng: np.random.Generator
    ) -> Generator[simpy.Event, Any, None]:
        """Parts arrive into an unlimited queue in front of station 0 (first after one draw)."""
        env, st0 = self.env, self.stations[0]
        while True:
            yield env.timeout(interarrival(rng))
            part = Part(env.now)
            self._wip_add(1)
            if st0.idle:
                st0.idle.pop(min(st0.idle)).succeed(part)
            else:
                st0.inbuf.append(part)

    def _server(self, srv: Server) -> Generator[simpy.Event, Any, None]:
        """The life of one server: take a part, wait to start, process, pass it on; forever."""
        st, env = srv.station, self.env
        while True:
            part = yield from self._take_part(srv)
            operator = yield from self._wait_start(srv)
            if part.entered is None:
                # Saturated source: the raw part joins the line when station 0 starts it.
                part.entered = env.now
                self._wip_add(1)
            yield from self._process(srv, operator)

            # Processing has ended: scrap is decided with the operator who did
            # the work, then the operator is free for the next waiting server.
            p_scrap = st.scrap * (operator.scrap_factor if operator is not None else 1.0)
            scrapped = p_scrap > 0.0 and st.rng.random() < p_scrap
            if operator is not None:
                self.pool.release(operator)  # type: ignore[union-attr]
            if scrapped:
                self._wip_add(-1)
                if self.measuring and not self.done:
                    self.scrap += 1
                continue
            yield from self._hand_over(srv, part)

    def _take_part(self, srv: Server) -> Generator[simpy.Event, Any, Part]:
        """Get the next part: from the buffer in front, a blocked upstream server, or wait (starved)."""
        st = srv.station
        if st.index == 0 and self.saturated:
            return Part(None)  # a raw part is always there
        if st.inbuf:
            part = st.inbuf.popleft()
            up = st.upstream
            if up is not None and up.blocked:
                # Room appeared in buffer i-1: the longest-blocked upstream server moves in.
                moved, event = up.blocked.popleft()
                st.inbuf.append(moved)
                event.succeed()
            return part
        up = st.upstream
        if up is not None and up.blocked:
            # Capacity 0 (the only case where a blocked server faces an empty buffer): direct hand-over.
            part, event = up.blocked.popleft()
            event.succeed()
            return part
        srv.set_state(STARVED)
        event = self.env.event()
        st.idle[srv.index] = event
        part = yield event
        return part

    def _wait_start(self, srv: Server) -> Generator[simpy.Event, Any, Operator | None]:
        """Hold the part until a shift window is open and (if needed) an operator is assigned."""
        st = srv.station
        while True:
            if self.shifts is not None and not self.shifts.is_open:
                srv.set_state(OFF_SHIFT)
                yield self.shifts.wait_open(srv)
                continue
            if st.skill is None or self.pool is None:
                return None
            srv.set_state(WAITING_OPERATOR)
            operator = yield self.pool.request(srv)
            if operator is not None:
                return operator
            # None: the window closed while waiting; go off-shift and queue
            # again when it reopens (the wait counts from the reopening).

    def _process(self, srv: Server, operator: Operator | None) -> Generator[simpy.Event, Any, None]:
        """Work on the part; failures interrupt it and it resumes the remaining time after repair."""
        st, env = srv.station, self.env
        remaining = st.process(st.rng) * (operator.time_factor if operator is not None else 1.0)
        srv.set_state(BUSY)
        if st.mtbf is None:
            yield env.timeout(remaining)
            return
        assert st.mttr is not None
        # Strictly less: a time-to-failure that runs out exactly at the end of
        # processing lets the part finish; the failure then hits at the very
        # start of the next part.
        while srv.ttf < remaining:
            yield env.timeout(srv.ttf)
            remaining -= srv.ttf
            srv.set_state(DOWN)
            yield env.timeout(st.mttr(st.rng))
            srv.ttf = st.mtbf(st.rng)
            srv.set_state(BUSY)
        yield env.timeout(remaining)
        srv.ttf -= remaining

    def _hand_over(self, srv: Server, part: Part) -> Generator[simpy.Event, Any, None]:
        """Pass a good part on: to a free downstream server, else into the buffer, else block."""
        st = srv.station
        nxt = st.downstream
        if nxt is None:
            self._exit(part)
            return
        if nxt.idle:
            nxt.idle.pop(min(nxt.idle)).succeed(part)
            return
        assert st.outbuf is not None
        if len(st.outbuf) < st.capacity:
            st.outbuf.append(part)
            return
        srv.set_state(BLOCKED)
        event = self.env.event()
        st.blocked.append((part, event))
        yield event  # the taker has moved the part on our behalf

    # -- results ------------------------------------------------------------- #

    def run(self) -> dict[str, Any]:
        try:
            self.env.run(until=self.stop)
        except RuntimeError as exc:
            if "No scheduled events left" not in str(exc):
                raise
            # Nothing can ever move again (validation should make this unreachable).
            raise RuntimeError("the line is deadlocked: no events left before the stop") from exc
        return self._kpis()

    def _kpis(self) -> dict[str, Any]:
        end = self.end
        nan = math.nan
        if self.measure_start is None:
            # The horizon came before the warm-up ended: the measured period is empty.
            return {
                "good": 0,
                "scrap": 0,
                "makespan": end,
                "throughput_per_h": nan,
                "wip_mean": nan,
                "lead_time_mean": nan,
                "lead_time_p50": nan,
                "lead_time_p90": nan,
                "state_fraction": {st.id: dict.fromkeys(STATES, nan) for st in self.stations},
                "energy_kwh": 0.0,
            }
        self._wip_add(0)
        span = end - self.measure_start
        fractions: dict[str, dict[str, float]] = {}
        energy_kws = 0.0
        for st in self.stations:
            totals = [0.0] * len(STATES)
            for srv in st.servers:
                srv.flush()
                for k, t in enumerate(srv.totals):
                    totals[k] += t
            denom = span * len(st.servers)
            fractions[st.id] = {
                name: (totals[k] / denom if denom > 0 else nan) for k, name in enumerate(STATES)
            }
            energy_kws += sum(st.power[POWER_KEY[k]] * totals[k] for k in range(len(STATES)))
        leads = np.asarray(self.lead_times)
        p50, p90 = np.percentile(leads, [50, 90]) if leads.size else (nan, nan)
        return {
            "good": self.good,
            "scrap": self.scrap,
            "makespan": end,
            "throughput_per_h": self.good / span * 3600.0 if span > 0 else nan,
            "wip_mean": self.wip_area / span if span > 0 else nan,
            "lead_time_mean": float(leads.mean()) if leads.size else nan,
            "lead_time_p50": float(p50),
            "lead_time_p90": float(p90),
            "state_fraction": fractions,
            "energy_kwh": energy_kws / 3600.0,
        }


# --------------------------------------------------------------------------- #
# Public API
# --------------------------------------------------------------------------- #


def run(
    model: dict[str, Any],
    parts: int,
    warmup: int = 0,
    seed: int | np.random.SeedSequence = 0,
    horizon: float | None = None,
) -> dict[str, Any]:
    """Simulate one replication of ``model`` and return the contract's KPI dict.

    The run ends at the ``parts``-th good exit (warm-up exits included, so
    ``good == parts - warmup`` unless ``horizon`` came first) or at ``horizon``.
    Statistics cover the time from the ``warmup``-th good exit to the end.

    Interpretations where the contract is silent:

    * saturated source: the raw part joins the line (WIP, lead time) when station
      0 *starts* it; while station 0 waits for an operator or a shift it holds no
      part of the line, but is in that waiting state (never starved);
    * a server holding no part is ``starved`` even outside a shift window;
    * repairs and started parts go on outside windows; only starts are gated;
    * a server waiting for an operator when a window closes goes off-shift and,
      when the window reopens, waits again counting from the reopening;
    * if the horizon ends the run before warm-up completes, the measured period
      is empty: counts 0, rates and fractions NaN;
    * lead-time percentiles use numpy's default (linear interpolation).
    """
    return Line(model, parts, warmup, seed, horizon).run()


def replicate(
    model: dict[str, Any],
    parts: int,
    warmup: int = 0,
    replications: int = 10,
    seed: int = 0,
    horizon: float | None = None,
) -> list[dict[str, Any]]:
    """Independent replications, seeded by ``SeedSequence(seed).spawn(replications)``."""
    children = np.random.SeedSequence(seed).spawn(replications)
    return [run(model, parts, warmup, child, horizon) for child in children]


def _summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and 95 % half-width of each scalar KPI over replications."""
    from scipy import stats

    out: dict[str, Any] = {}
    n = len(results)
    for key, value in results[0].items():
        if isinstance(value, dict):
            continue
        xs = np.array([r[key] for r in results], dtype=float)
        half = stats.t.ppf(0.975, n - 1) * xs.std(ddof=1) / math.sqrt(n) if n > 1 else math.nan
        out[key] = {"mean": float(xs.mean()), "ci95": float(half)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="line model as JSON")
    parser.add_argument("--parts", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--horizon", type=float, default=None)
    parser.add_argument("--replications", type=int, default=1)
    args = parser.parse_args(argv)
    model = json.loads(args.model.read_text())
    if args.replications == 1:
        print(json.dumps(run(model, args.parts, args.warmup, args.seed, args.horizon), indent=2))
    else:
        results = replicate(
            model, args.parts, args.warmup, args.replications, args.seed, args.horizon
        )
        print(json.dumps({"replications": results, "summary": _summary(results)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
