"""``twinverse schedule``: plan orders on a scenario's machines, re-plan after events, chart it.

The command parses, calls :mod:`twinverse.schedule` and renders; the solver is
imported only when the command runs.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from twinverse.cli.render import console, emit_json
from twinverse.errors import TwinverseError

if TYPE_CHECKING:
    from twinverse.schedule import Problem, Progress, Replan, SolveResult
    from twinverse.schedule.robustness import Robustness
    from twinverse.twin.commitments import Commitment

_E = TypeVar("_E", bound=StrEnum)
_EVENT = re.compile(r"^(?P<machine>[^@]+)@(?P<start>\d+)\+(?P<minutes>\d+)$")


class ScheduleOptionError(TwinverseError):
    code = "invalid-option"


def _choice(kind: type[_E], option: str, value: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(k.value for k in kind)
        raise ScheduleOptionError(f"{option} must be one of {choices}, got {value!r}") from None


def _breakdown(text: str) -> tuple[str, int, int]:
    found = _EVENT.match(text.strip())
    if found is None:
        raise ScheduleOptionError(
            f"--breakdown expects MACHINE@START+MINUTES such as op040@600+180 "
            f"(minutes from the plan start), got {text!r}"
        )
    start = int(found["start"])
    return found["machine"], start, start + int(found["minutes"])


def schedule_command(
    scenario: Annotated[Path, typer.Argument(help="scenario file (YAML or JSON)")],
    orders: Annotated[Path, typer.Option("--orders", help="orders CSV (see docs/scheduling.md)")],
    time_limit: Annotated[float, typer.Option("--time-limit", min=0.0, help="seconds")] = 30.0,
    workers: Annotated[int, typer.Option(min=1, help="CP-SAT workers")] = 2,
    seed: Annotated[int, typer.Option(help="solver random seed")] = 0,
    objective: Annotated[str, typer.Option(help="makespan | tardiness | combined")] = "combined",
    strategy: Annotated[
        str, typer.Option(help="auto | cpsat | lns | tabu | dispatch (docs/scheduling.md)")
    ] = "auto",
    max_lot: Annotated[int, typer.Option("--max-lot", min=1, help="largest lot (pieces)")] = 60,
    merge_hours: Annotated[
        float,
        typer.Option("--merge-hours", min=0.0, help="merge same-product orders due this close"),
    ] = 12.0,
    start: Annotated[
        str | None, typer.Option(help="plan start, ISO date-time (default: first release)")
    ] = None,
    breakdown: Annotated[
        list[str] | None,
        typer.Option(help="re-plan after MACHINE@START+MINUTES (minutes from plan start)"),
    ] = None,
    gantt: Annotated[Path | None, typer.Option(help="write an interactive HTML Gantt")] = None,
    png: Annotated[Path | None, typer.Option(help="write a PNG Gantt (needs matplotlib)")] = None,
    csv: Annotated[Path | None, typer.Option(help="write the per-machine table as CSV")] = None,
    json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    robustness: Annotated[
        int,
        typer.Option(
            min=0,
            help="run the plan this many times with varying times and machine failures "
            "(planned vs simulated; 0: off)",
        ),
    ] = 0,
    cv: Annotated[
        float,
        typer.Option(min=0.0, max=5.0, help="variation of processing times (with --robustness)"),
    ] = 0.1,
    from_twin: Annotated[
        bool,
        typer.Option(
            "--from-twin",
            help="leave free the capacity the site sold in settled trades (read from its twin)",
        ),
    ] = False,
) -> None:
    """Schedule orders (flexible job shop, setups, calendars, operators) with CP-SAT."""
    from twinverse.scenario import load_scenario
    from twinverse.schedule import (
        Breakdown,
        LotPolicy,
        Objective,
        ObjectiveKind,
        SolverSettings,
        Strategy,
        gantt_html,
        gantt_png,
        machine_rows,
        problem_from_scenario,
        read_orders,
        replan,
        solve,
        validate,
    )
    from twinverse.schedule.report import order_rows, to_csv

    kind = _choice(ObjectiveKind, "--objective", objective)
    how = _choice(Strategy, "--strategy", strategy)
    events = [_breakdown(b) for b in breakdown or []]
    loaded = load_scenario(scenario)
    site_tz = ZoneInfo(loaded.scenario.sites[0].timezone)
    order_list = read_orders(orders, tz=site_tz)
    begin = None
    if start is not None:
        try:
            begin = dt.datetime.fromisoformat(start)
        except ValueError:
            raise ScheduleOptionError(f"--start expects an ISO date-time, got {start!r}") from None
    sold, notes = _sold_capacity(loaded.scenario.enterprise.prefix) if from_twin else ([], [])
    problem = problem_from_scenario(
        loaded.scenario,
        order_list,
        start=begin,
        lots=LotPolicy(max_lot=max_lot, merge_window=dt.timedelta(hours=merge_hours)),
        sold=sold,
    )
    settings = SolverSettings(
        time_limit=time_limit,
        workers=workers,
        seed=seed,
        objective=Objective.of(kind),
        strategy=how,
    )
    shown = not json
    if shown:
        for sale in sold:
            console.print(f"sold capacity left free: {sale.describe()}")
        for note in notes:
            console.print(f"[yellow]note:[/] {note}")

    def progress(p: Progress) -> None:
        if shown:
            gap = "" if p.gap is None else f"  gap {p.gap:.1%}"
            console.print(f"[dim]{p.seconds:6.1f} s  {p.phase.value:8}  {p.objective:,.1f}{gap}[/]")

    result = solve(problem, settings, on_progress=progress)
    final_problem, final = problem, result
    replanned: Replan | None = None
    if events:
        now = min(s for _, s, _ in events)
        replanned = replan(
            problem,
            result.schedule,
            now,
            [Breakdown(m, s, e) for m, s, e in events],
            settings,
            on_progress=progress,
        )
        final_problem, final = replanned.problem, replanned.result
    violations = validate(final.schedule, final_problem)
    if violations:  # a solver bug: say so plainly rather than hand out a broken plan
        raise TwinverseError(
            "the schedule failed the validity check: " + "; ".join(map(str, violations[:5])),
            code="schedule-invalid",
        )
    held_up = None
    if robustness:
        from twinverse.schedule.robustness import failures_from_scenario
        from twinverse.schedule.robustness import robustness as run_robustness
        from twinverse.sim.plan import Disturbance

        held_up = run_robustness(
            final_problem,
            final.schedule,
            replications=robustness,
            disturbance=Disturbance(cv=cv),
            failures=failures_from_scenario(loaded.scenario, final_problem),
            seed=seed,
        )
    if gantt is not None:
        gantt.write_text(gantt_html(final.schedule, final_problem), encoding="utf-8")
    if png is not None:
        gantt_png(final.schedule, final_problem, png)
    if csv is not None:
        csv.write_text(to_csv(machine_rows(final.schedule, final_problem)), encoding="utf-8")
    if json:
        body: dict[str, object] = {
            "problem": {
                "name": problem.name,
                "jobs": len(problem.jobs),
                "operations": problem.operation_count,
                "machines": len(problem.machines),
                "operators": len(problem.operators),
                "origin": problem.origin,
                "time_unit_s": problem.time_unit,
            },
            "result": result.to_dict(),
            "orders": order_rows(final.schedule, final_problem),
            "valid": True,
        }
        if replanned is not None:
            body["replan"] = replanned.to_dict()
        if held_up is not None:
            body["robustness"] = held_up.to_dict()
        if from_twin:
            body["sold_capacity"] = [sale.describe() for sale in sold]
            body["notes"] = notes
        emit_json(body)
        return
    _show(problem, result, "plan")
    if replanned is not None:
        _show(replanned.problem, replanned.result, "re-plan")
        summary = replanned.to_dict()
        console.print(
            f"re-planned at {min(s for _, s, _ in events)} min: {replanned.frozen} operations frozen, "
            f"{summary['moved']} moved, {summary['machine_changes']} changed machine"
        )
    _orders_table(final, final_problem)
    if held_up is not None:
        _robustness_table(held_up)
    for path, what in ((gantt, "Gantt (HTML)"), (png, "Gantt (PNG)"), (csv, "machine table")):
        if path is not None:
            console.print(f"{what} written to [bold]{path}[/]")


def _sold_capacity(prefix: str) -> tuple[list[Commitment], list[str]]:
    """The capacity sales on the twin's sites, and notes on entries that cannot be read."""
    from twinverse.config import Settings
    from twinverse.twin.commitments import read_commitments
    from twinverse.twin.model import EntityKind
    from twinverse.workspace import Workspace

    with Workspace.open(Settings()) as ws:
        return read_commitments(ws.graph(prefix).entities(EntityKind.SITE))


def _show(problem: Problem, result: SolveResult, label: str) -> None:
    f = result.figures
    gap = "" if result.gap is None else f", gap {result.gap:.1%}"
    console.print(
        f"[bold]{label}[/]: {len(problem.jobs)} lots, {problem.operation_count} operations, "
        f"{len(problem.machines)} machines, {len(problem.operators)} operators — "
        f"{result.status.value}{gap} in {result.seconds:.1f} s (warm start: {result.rule.value})"
    )
    unit = "min" if problem.time_unit == 60 else "units"
    console.print(
        f"  makespan {f.makespan:,} {unit}, weighted tardiness {f.weighted_tardiness:,.0f}, "
        f"{f.tardy_jobs} late lots, setups {f.setup_time:,} {unit} — valid (checked)"
    )


def _orders_table(result: SolveResult, problem: Problem) -> None:
    from twinverse.schedule import order_rows

    table = Table(title="orders", title_justify="left")
    for column in ("order", "product", "lots", "due", "end", "lateness"):
        table.add_column(column, justify="right" if column in ("lots", "lateness") else "left")
    for row in order_rows(result.schedule, problem):
        late = row["lateness"]
        text = "" if late is None else f"{late:+,} min"
        style = "red" if row["late"] else None
        table.add_row(
            str(row["order"]),
            str(row["product"]),
            str(row["lots"]),
            str(row["due"]),
            str(row["end"]),
            text,
            style=style,
        )
    console.print(table)


def _robustness_table(r: Robustness) -> None:
    unit = "min" if r.time_unit == 60 else f"× {r.time_unit:g} s"
    table = Table(
        title=f"the plan run {r.replications} times (processing times ±{r.disturbance.cv:.0%}, "
        f"machine failures {'on' if r.disturbance.failures else 'off'}, work pauses when closed)"
    )
    for column in ("KPI", "planned", "simulated mean ± 95 %", "P50", "P90", "P95"):
        table.add_column(column, justify="left" if column == "KPI" else "right")
    for name, k in (
        (f"makespan ({unit})", r.makespan),
        (f"weighted tardiness ({unit})", r.weighted_tardiness),
        ("late lots", r.late_jobs),
    ):
        table.add_row(
            name,
            f"{k.planned:,.0f}",
            f"{k.mean:,.1f} ± {k.ci95:,.1f}",
            f"{k.p50:,.0f}",
            f"{k.p90:,.0f}",
            f"{k.p95:,.0f}",
        )
    console.print(table)
    risky = sorted((share, job) for job, share in r.on_time.items() if share < 0.9)
    if risky:
        shown = ", ".join(f"{job} {share:.0%}" for share, job in risky[:6])
        console.print(f"lots on time in fewer than 90 % of runs: {shown}")
