"""Supply-network simulation speed and memory: twinverse against the SimPy reference.

    python benchmarks/simulation.py [--quick] [--replications N] [--reference-reps N]

The work: the global network example (examples/global-network.yaml: 5 factories,
24 suppliers, 28 products, 365 days), the baseline and the five disruption
scenarios of the article behind twinverse (know-how loss in Asia, a broken
supply link in Europe, an export ban in North America, a raw-material shortage
in South America, a strike in Africa), N replications each (default 1,000;
--quick 200). Goal: ≤ 10 s in total, ≥ 50× the reference, peak memory ≤ 2 GB.

The reference is the plain-SimPy model of the same contract
(benchmarks/reference/network_simpy.py). It runs --reference-reps replications
of every scenario in this run (same network, horizon and disruption windows,
drawn by twinverse's plan for those replications) and its time is extrapolated
linearly to N replications, as the output says. Mitigations the reference has
no rules for (alternative-lane fallback, extra safety stock, overtime) are left
out of its runs: they change the results, not the amount of work.

The factory-line figures are in benchmarks/simulation_line.py.
Prints readable lines, then one JSON line.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from twinverse.scenario import load_scenario
from twinverse.sim.disruptions import Effect, Plan, Profile, make_plan
from twinverse.sim.network.engine import compile_arrays, run_block
from twinverse.sim.network.model import compile_network
from twinverse.sim.study import run_study

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "global-network.yaml"
FIVE = [
    "knowhow-asia",
    "supply-link-europe",
    "export-ban-america",
    "shortage-south-america",
    "strike-africa",
]
SCHEDULE = {
    Effect.LINE_CAPACITY: "line_capacity",
    Effect.SUPPLY_CAPACITY: "supply_capacity",
    Effect.EDGE_CLOSED: "edge_closed",
    Effect.DEMAND_BLOCKED: "demand_blocked",
    Effect.EDGE_LEAD: "edge_lead_factor",
    Effect.DEMAND: "demand_factor",
}


def load_reference() -> Any:
    spec = importlib.util.spec_from_file_location(
        "network_simpy", ROOT / "benchmarks" / "reference" / "network_simpy.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["network_simpy"] = module
    spec.loader.exec_module(module)
    return module


def schedules(plan: Plan, r: int) -> dict[str, dict[str, list[list[float]]]]:
    """Replication ``r`` of ``plan`` as the reference's ``schedules`` section."""
    out: dict[str, dict[str, list[list[float]]]] = {}
    for w in plan.windows:
        if not w.occurs[r]:
            continue
        start, end = int(w.start[r]), int(w.end[r])
        if w.profile is Profile.LEARNING:  # one window a day along the curve
            spans = [
                [
                    t,
                    t + 1,
                    1 - min(w.severity, 1.0) * np.exp(-3 * (t - start) / max(end - start, 1)),
                ]
                for t in range(start, end)
            ]
        elif w.profile is Profile.CLOSE:
            spans = [[start, end]]
        elif w.profile is Profile.CUT:
            spans = [[start, end, max(0.0, 1 - w.severity)]]
        else:
            spans = [[start, end, 1 + w.severity]]
        for effect, idx in w.targets.items():
            name = SCHEDULE.get(effect)
            if name is None:  # energy cost changes money, not the work
                continue
            for i in idx:
                out.setdefault(name, {}).setdefault(str(int(i)), []).extend(spans)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 replications, 1 reference run")
    parser.add_argument("--replications", type=int)
    parser.add_argument("--reference-reps", type=int)
    args = parser.parse_args()
    reps = args.replications or (200 if args.quick else 1000)
    ref_reps = args.reference_reps or (1 if args.quick else 2)

    scenario = load_scenario(EXAMPLE).scenario
    model = compile_network(scenario)
    print(
        f"network: {len(model.points)} stock points, {len(model.edges)} edges, "
        f"{len(model.demand)} demand streams, {len(model.lines)} line resources, "
        f"{model.horizon} days"
    )

    # Compile the kernel (cached on disk after the first run) before timing.
    t0 = time.perf_counter()
    run_study(scenario, FIVE[:1], replications=2, seed=1)
    warmup = time.perf_counter() - t0
    print(f"warm-up (numba compile or cache load): {warmup:.2f} s")

    load_before = os.getloadavg()[0]
    t0, cpu0 = time.perf_counter(), time.process_time()
    study = run_study(scenario, FIVE, replications=reps, seed=2026)
    ours, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    load = max(load_before, os.getloadavg()[0])
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    runs = reps * len(study.results)
    print(
        f"twinverse: baseline + {len(FIVE)} scenarios × {reps} replications = {runs} runs "
        f"in {ours:.2f} s ({runs / ours:.0f} runs/s), peak RSS {peak_mb:.0f} MB"
    )
    # CPU time hardly changes when other jobs share the cores; wall-clock does.
    print(
        f"  process CPU time {cpu:.2f} s ({cpu / runs * 1e3:.3f} ms a replication-year, "
        f"all threads); load average {load:.1f} on {os.cpu_count()} CPUs"
    )
    for r in study.results:
        fill = r.estimate("fill_rate")
        print(
            f"  {r.name:<24} {r.seconds:6.2f} s   fill rate {fill.mean:.4f} ± {fill.half_width:.4f}"
        )

    ns = load_reference()
    wire = model.to_dict()
    arrays = compile_arrays(model)
    named = {s.id: s for s in scenario.scenarios}
    ref_seconds = 0.0
    ref_fill: dict[str, list[float]] = {}
    for name in ["baseline", *FIVE]:
        spec = named.get(name)
        plan = make_plan(scenario, model, spec, ref_reps, np.random.default_rng(7))
        run_block(arrays, plan, 1, np.random.default_rng(0))  # same plan drawn, not timed
        for r in range(ref_reps):
            run_wire = dict(wire)
            run_wire["schedules"] = schedules(plan, r)
            if plan.shares is not None:
                run_wire["edges"] = [
                    {**e, "share": float(s)}
                    for e, s in zip(wire["edges"], plan.shares, strict=True)
                ]
            t0 = time.perf_counter()
            result = ns.run(run_wire, seed=100 + r)
            ref_seconds += time.perf_counter() - t0
            ref_fill.setdefault(name, []).append(result["fill_rate"])
    per_run = ref_seconds / (ref_reps * (len(FIVE) + 1))
    ref_total = per_run * runs
    ratio = ref_total / ours
    print(
        f"SimPy reference: {ref_reps} replication(s) per scenario measured, {per_run:.3f} s a run; "
        f"extrapolated linearly to {runs} runs: {ref_total:.0f} s"
    )
    print(f"ratio: {ratio:.0f}× the reference (goal ≥ 50×); total {ours:.2f} s (goal ≤ 10 s)")
    print(f"peak memory: {peak_mb:.0f} MB (goal ≤ 2048 MB)")
    print(
        json.dumps(
            {
                "benchmark": "simulation-network",
                "replications": reps,
                "scenarios": len(study.results),
                "seconds": round(ours, 3),
                "runs_per_second": round(runs / ours, 1),
                "cpu_seconds": round(cpu, 3),
                "cpu_ms_per_run": round(cpu / runs * 1e3, 4),
                "load_average": round(load, 2),
                "warmup_seconds": round(warmup, 3),
                "peak_rss_mb": round(peak_mb),
                "reference_seconds_per_run": round(per_run, 4),
                "reference_runs_measured": ref_reps * (len(FIVE) + 1),
                "reference_seconds_extrapolated": round(ref_total, 1),
                "ratio_vs_reference": round(ratio, 1),
                "goal_seconds": 10,
                "goal_ratio": 50,
                "goal_peak_mb": 2048,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
