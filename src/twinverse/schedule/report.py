"""Tables of a schedule (per machine, per order with lateness), CSV, and the Gantt chart.

The HTML Gantt is a self-contained plotly page; the PNG needs matplotlib (the
``plot`` extra) and raises :class:`PlotUnavailableError` without it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from twinverse.errors import TwinverseError
from twinverse.schedule.problem import Problem
from twinverse.schedule.solution import Schedule, job_completion


class PlotUnavailableError(TwinverseError):
    code = "plot-unavailable"


def _clock(problem: Problem, t: int) -> str:
    """A time unit as a date-time when the problem has an origin, else the number."""
    if problem.origin is None:
        return str(t)
    origin = dt.datetime.fromisoformat(problem.origin)
    return (origin + dt.timedelta(seconds=t * problem.time_unit)).strftime("%Y-%m-%d %H:%M")


def machine_rows(schedule: Schedule, problem: Problem) -> list[dict[str, object]]:
    jobs = {j.id: j for j in problem.jobs}
    rows: list[dict[str, object]] = []
    for a in sorted(schedule.assignments, key=lambda x: (x.machine, x.start)):
        job = jobs.get(a.job)
        op = job.operations[a.index] if job else None
        rows.append(
            {
                "machine": a.machine,
                "job": a.job,
                "op": op.name if op and op.name else a.index,
                "product": job.product if job else "",
                "start": _clock(problem, a.start),
                "end": _clock(problem, a.end),
                "operator": a.operator or "",
            }
        )
    return rows


def order_rows(schedule: Schedule, problem: Problem) -> list[dict[str, object]]:
    """One row per customer order (or per job when jobs carry no orders), with lateness."""
    done = job_completion(schedule)
    orders: dict[str, dict[str, object]] = {}
    for job in problem.jobs:
        for name in job.orders or (job.id,):
            row = orders.setdefault(
                name,
                {"order": name, "product": job.product, "lots": 0, "due": job.due, "end": 0},
            )
            row["lots"] = int(str(row["lots"])) + 1
            row["end"] = max(int(str(row["end"])), done.get(job.id, 0))
            if job.due is not None and (row["due"] is None or job.due < int(str(row["due"]))):
                row["due"] = job.due
    out = []
    for row in orders.values():
        due = row["due"]
        end = int(str(row["end"]))
        lateness = None if due is None else end - int(str(due))
        out.append(
            {
                "order": row["order"],
                "product": row["product"],
                "lots": row["lots"],
                "due": "" if due is None else _clock(problem, int(str(due))),
                "end": _clock(problem, end),
                "lateness": lateness,
                "late": lateness is not None and lateness > 0,
            }
        )
    return sorted(out, key=lambda r: str(r["order"]))


def to_csv(rows: list[dict[str, object]]) -> str:
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def gantt_html(schedule: Schedule, problem: Problem, *, title: str | None = None) -> str:
    """An interactive Gantt chart: one row per machine, one colour per product (or job)."""
    import plotly.graph_objects as go  # type: ignore[import-untyped]

    jobs = {j.id: j for j in problem.jobs}
    groups: dict[str, list[int]] = {}
    assignments = list(schedule.assignments)
    for n, a in enumerate(assignments):
        job = jobs.get(a.job)
        key = job.product if job and job.product else a.job
        groups.setdefault(key, []).append(n)
    scale = problem.time_unit / 3600 if problem.origin else 1.0
    figure = go.Figure()
    for key, members in groups.items():
        figure.add_bar(
            name=key,
            orientation="h",
            y=[assignments[n].machine for n in members],
            base=[assignments[n].start * scale for n in members],
            x=[(assignments[n].end - assignments[n].start) * scale for n in members],
            hovertext=[
                f"{assignments[n].job}#{assignments[n].index} "
                f"{_clock(problem, assignments[n].start)} → {_clock(problem, assignments[n].end)}"
                + (f" ({assignments[n].operator})" if assignments[n].operator else "")
                for n in members
            ],
            hoverinfo="text",
        )
    unit = "hours from " + _clock(problem, 0) if problem.origin else "time units"
    figure.update_layout(
        barmode="overlay",
        title=title or f"{problem.name}: makespan {schedule.makespan}",
        xaxis_title=unit,
        yaxis={"autorange": "reversed", "type": "category"},
        height=200 + 28 * len(problem.machines),
    )
    html: str = figure.to_html(include_plotlyjs=True, full_html=True)
    return html


def gantt_png(
    schedule: Schedule, problem: Problem, path: Path, *, title: str | None = None
) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise PlotUnavailableError(
            "a PNG Gantt needs matplotlib (pip install 'twinverse[plot]'); "
            "the HTML chart (--gantt x.html) works without it"
        ) from err
    jobs = {j.id: j for j in problem.jobs}
    machines = [m.id for m in problem.machines]
    row = {m: n for n, m in enumerate(machines)}
    keys = sorted({(jobs[a.job].product or a.job) for a in schedule.assignments if a.job in jobs})
    cmap = plt.get_cmap("tab20")
    colour = {k: cmap(n % 20) for n, k in enumerate(keys)}
    scale = problem.time_unit / 3600 if problem.origin else 1.0
    fig, ax = plt.subplots(figsize=(12, 1.5 + 0.35 * len(machines)))
    for a in schedule.assignments:
        key = jobs[a.job].product or a.job if a.job in jobs else a.job
        ax.barh(
            row[a.machine],
            (a.end - a.start) * scale,
            left=a.start * scale,
            color=colour.get(key, "grey"),
            edgecolor="black",
            linewidth=0.3,
        )
    ax.set_yticks(range(len(machines)), machines)
    ax.invert_yaxis()
    ax.set_xlabel("hours from " + _clock(problem, 0) if problem.origin else "time units")
    ax.set_title(title or f"{problem.name}: makespan {schedule.makespan}")
    if len(keys) <= 20:
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(color=colour[k], label=k) for k in keys], loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
