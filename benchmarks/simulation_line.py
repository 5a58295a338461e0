"""Line simulation speed: the compiled engines against a plain SimPy model of the same line.

    python benchmarks/simulation_line.py [--quick] [--simpy-reps N]

The line: 10 stations with lognormal processing times of 50–60 s, buffers of
3–10, exponential MTBF of 8–20 h and lognormal MTTR of 10–40 min (fixed seed);
a variant adds 4 operators shared by the stations (two skills each).

(a) The general event engine against the SimPy model below, one replication
    of 200k parts each, on both variants: wall time, events per second, ratio
    (goal ≥ 10×).
(b) The flow-line recursion: 1,000 replications of 200k parts (goal ≤ 30 s and
    ≥ 300× SimPy). SimPy is measured on ``--simpy-reps`` replications in this run
    and extrapolated linearly to 1,000 (printed as such).

The SimPy model is written here, process-per-station, only as the speed
baseline; the independent correctness reference is ``benchmarks/reference/``.
Events are counted alike in both: a processing stretch ending (a completion or
a failure), a repair ending, an arrival. Prints readable lines, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import simpy

from twinverse.sim.line import Dist, LineModel, simulate_line
from twinverse.twin.distribution import DistKind

HOUR, MINUTE = 3600.0, 60.0


def benchmark_line(operators: bool, seed: int = 2026) -> LineModel:
    rng = np.random.default_rng(seed)
    skills = ["prep", "form", "join", "finish"]
    stations = []
    for i in range(10):
        stations.append(
            {
                "id": f"st{i:02d}",
                "process": {"dist": "lognormal", "mean": rng.uniform(50, 60), "cv": 0.15},
                "mtbf": {"dist": "exponential", "mean": rng.uniform(8, 20) * HOUR},
                "mttr": {"dist": "lognormal", "mean": rng.uniform(10, 40) * MINUTE, "cv": 0.5},
                "skill": skills[i * len(skills) // 10] if operators else None,
                "power_kw": {"busy": 12.0, "idle": 3.0, "blocked": 3.0, "down": 0.5},
            }
        )
    crew = [
        {"id": f"op{k}", "skills": [skills[k], skills[(k + 1) % len(skills)]]} for k in range(4)
    ]
    return LineModel.from_dict(
        {
            "name": "benchmark line" + (" with operators" if operators else ""),
            "stations": stations,
            "buffers": [int(b) for b in rng.integers(3, 11, 9)],
            "operators": crew if operators else [],
        }
    )


# --- the SimPy baseline ----------------------------------------------------------------------


def sampler(dist: Dist, rng: np.random.Generator) -> Callable[[], float]:
    """A scalar draw, as a SimPy model would write it inline."""
    p = dict(zip(("a", "b", "c"), dist.params, strict=False))
    match dist.kind:
        case DistKind.CONSTANT:
            return lambda: p["a"]
        case DistKind.EXPONENTIAL:
            return lambda: rng.exponential(p["a"])
        case DistKind.LOGNORMAL:
            s2 = math.log1p(p["b"] ** 2)
            mu, sigma = math.log(p["a"]) - s2 / 2, math.sqrt(s2)
            return lambda: rng.lognormal(mu, sigma)
    return lambda: float(dist.sample(rng))


class OperatorPool:
    """Operators handed out first-listed-free; a released one goes to the longest waiting."""

    def __init__(self, env: simpy.Environment, model: LineModel) -> None:
        self.env = env
        self.skills = [set(o.skills) for o in model.operators]
        self.factor = [o.time_factor for o in model.operators]
        self.free = [True] * len(model.operators)
        self.waiting: list[tuple[simpy.Event, str]] = []

    def request(self, skill: str) -> simpy.Event:
        event = self.env.event()
        for o, free in enumerate(self.free):
            if free and skill in self.skills[o]:
                self.free[o] = False
                return event.succeed(o)
        self.waiting.append((event, skill))
        return event

    def release(self, o: int) -> None:
        for n, (event, skill) in enumerate(self.waiting):
            if skill in self.skills[o]:
                del self.waiting[n]
                event.succeed(o)
                return
        self.free[o] = True


class SimpyLine:
    """One replication of the line contract in SimPy: one process per server."""

    def __init__(self, model: LineModel, rng: np.random.Generator, parts: int) -> None:
        if 0 in model.buffers or model.arrival or model.shifts:
            raise ValueError("this baseline models saturated lines with buffers of 1 or more")
        self.env = simpy.Environment()
        self.parts = parts
        self.rng = rng
        self.good = 0
        self.events = 0
        self.lead_sum = 0.0
        self.done = self.env.event()
        self.stores = [
            simpy.Store(self.env, capacity=math.inf if b is None else b) for b in model.buffers
        ]
        self.pool = OperatorPool(self.env, model) if model.operators_needed else None
        for i, station in enumerate(model.stations):
            for _ in range(station.servers):
                self.env.process(self.server(i, model))

    def server(self, i: int, model: LineModel) -> Any:
        station = model.stations[i]
        last = i == len(model.stations) - 1
        process = sampler(station.process, self.rng)
        fails = station.mtbf is not None and station.mttr is not None
        mtbf = sampler(station.mtbf, self.rng) if station.mtbf else None
        mttr = sampler(station.mttr, self.rng) if station.mttr else None
        ttf = mtbf() if mtbf else math.inf
        needs_operator = self.pool is not None and station.skill is not None
        while True:
            entry = None if i == 0 else (yield self.stores[i - 1].get())
            operator, factor = -1, 1.0
            if needs_operator:
                operator = yield self.pool.request(station.skill)
                factor = self.pool.factor[operator]
            if entry is None:
                entry = self.env.now
            remaining = process() * factor
            while fails and ttf < remaining:
                yield self.env.timeout(ttf)
                remaining -= ttf
                yield self.env.timeout(mttr())
                ttf = mtbf()
                self.events += 2
            yield self.env.timeout(remaining)
            self.events += 1
            ttf -= remaining
            if operator >= 0:
                self.pool.release(operator)
            if station.scrap and self.rng.random() < station.scrap:
                continue
            if last:
                self.good += 1
                self.lead_sum += self.env.now - entry
                if self.good == self.parts:
                    self.done.succeed()
            else:
                yield self.stores[i].put(entry)

    def run(self) -> dict[str, float]:
        started = time.perf_counter()
        self.env.run(until=self.done)
        wall = time.perf_counter() - started
        return {
            "wall_s": wall,
            "events": self.events,
            "throughput_per_h": self.good / self.env.now * 3600,
            "lead_time_mean": self.lead_sum / self.good,
        }


def run_simpy(model: LineModel, parts: int, replications: int, seed: int) -> list[dict[str, float]]:
    streams = np.random.SeedSequence(seed).spawn(replications)
    return [SimpyLine(model, np.random.default_rng(s), parts).run() for s in streams]


# --- the runs ----------------------------------------------------------------------------------


def compare_des(model: LineModel, parts: int, label: str) -> dict[str, float]:
    simulate_line(model, parts=1_000, method="des")  # compiled (or loaded from the cache) first
    des = simulate_line(model, parts=parts, method="des", seed=1, workers=1)
    ref = run_simpy(model, parts, 1, seed=1)[0]
    des_wall = des.wall_s
    figures = {
        "des_wall_s": des_wall,
        "des_events": int(des.events[0]),
        "des_events_per_s": des.events[0] / des_wall,
        "simpy_wall_s": ref["wall_s"],
        "simpy_events": int(ref["events"]),
        "simpy_events_per_s": ref["events"] / ref["wall_s"],
        "speedup": ref["wall_s"] / des_wall,
        "des_throughput_per_h": float(des.throughput_per_h[0]),
        "simpy_throughput_per_h": ref["throughput_per_h"],
    }
    print(f"(a) {label}: {parts:,} parts, one replication")
    print(
        f"    event engine  {des_wall:8.3f} s  {figures['des_events']:>10,} events  "
        f"{figures['des_events_per_s'] / 1e6:6.2f} M events/s  "
        f"throughput {figures['des_throughput_per_h']:.2f}/h"
    )
    print(
        f"    SimPy         {ref['wall_s']:8.3f} s  {figures['simpy_events']:>10,} events  "
        f"{figures['simpy_events_per_s'] / 1e6:6.3f} M events/s  "
        f"throughput {ref['throughput_per_h']:.2f}/h"
    )
    print(f"    ratio         {figures['speedup']:8.1f}×  (goal ≥ 10×)")
    return figures


def fast_path(
    model: LineModel, parts: int, replications: int, simpy_runs: list[dict[str, float]]
) -> dict[str, float]:
    simulate_line(model, parts=1_000, method="recursion")
    workers = os.cpu_count() or 1
    res = simulate_line(
        model, parts=parts, replications=replications, seed=7, method="recursion", workers=workers
    )
    per_rep = sum(r["wall_s"] for r in simpy_runs) / len(simpy_runs)
    extrapolated = per_rep * replications
    thr = res.estimate("throughput_per_h")
    figures = {
        "recursion_replications": replications,
        "recursion_parts": parts,
        "recursion_workers": workers,
        "recursion_wall_s": res.wall_s,
        "recursion_s_per_replication": res.wall_s / replications,
        "recursion_throughput_per_h": thr.mean,
        "recursion_throughput_half_width": thr.half_width,
        "simpy_replications_measured": len(simpy_runs),
        "simpy_s_per_replication": per_rep,
        "simpy_extrapolated_s": extrapolated,
        "recursion_vs_simpy": extrapolated / res.wall_s,
    }
    print(f"(b) flow-line recursion: {replications:,} replications × {parts:,} parts")
    print(
        f"    recursion     {res.wall_s:8.2f} s on {workers} threads "
        f"({res.wall_s / replications * 1e3:.1f} ms a replication; goal ≤ 30 s)  "
        f"throughput {thr}"
    )
    print(
        f"    SimPy         {per_rep:8.2f} s a replication, measured on {len(simpy_runs)}; "
        f"EXTRAPOLATED to {replications:,}: {extrapolated:,.0f} s"
    )
    print(f"    ratio         {figures['recursion_vs_simpy']:8.0f}×  (goal ≥ 300×)")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer parts and replications")
    parser.add_argument("--simpy-reps", type=int, default=2, help="SimPy replications for (b)")
    args = parser.parse_args()
    parts = 20_000 if args.quick else 200_000
    replications = 50 if args.quick else 1_000

    plain, crewed = benchmark_line(operators=False), benchmark_line(operators=True)
    out: dict[str, Any] = {"mode": "quick" if args.quick else "full", "parts": parts}
    for label, model in (("failures", plain), ("failures + 4 shared operators", crewed)):
        key = "operators" if model.operators else "failures"
        out[key] = compare_des(model, parts, label)
    # (b): the SimPy replication timed in (a) counts as the first measured one.
    first = {"wall_s": out["failures"]["simpy_wall_s"]}
    more = run_simpy(plain, parts, max(0, args.simpy_reps - 1), seed=2)
    out["fast_path"] = fast_path(plain, parts, replications, [first, *more])
    print(json.dumps(out, default=float))


if __name__ == "__main__":
    main()
