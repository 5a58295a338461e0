"""``twinverse simulate``: baseline and what-if scenarios of a network, side by side."""

from __future__ import annotations

import math
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from twinverse.cli.render import console, emit_json
from twinverse.errors import TwinverseError
from twinverse.scenario import load_scenario
from twinverse.scenario.schema import Scenario
from twinverse.sim.network.model import compile_network
from twinverse.sim.network.state import StartState, read_state
from twinverse.sim.report import comparison, survival_rows, to_csv, to_html, to_json
from twinverse.sim.study import BASELINE, Study, run_study
from twinverse.twin.instant import format_instant, parse_instant


def run_simulation(
    path: Path,
    scenarios: list[str] | None,
    *,
    replications: int | None,
    seed: int | None,
    json: bool,
    csv_path: Path | None,
    report_path: Path | None,
    start_at: str | None = None,
    twin: str | None = None,
    on_ray: bool = False,
) -> Study:
    loaded = load_scenario(path)
    start = None
    if start_at is not None:
        start = twin_state(loaded.scenario, start_at, twin)
        if not json:
            console.print(describe_start(start))
    with Progress(
        TextColumn("[bold]simulating[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("replications"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=json,
    ) as bar:
        task = bar.add_task("sim", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        study = run_study(
            loaded.scenario,
            scenarios,
            replications=replications,
            seed=seed,
            source=str(path),
            progress=progress,
            start=start,
            ray=on_ray,
        )
    if csv_path is not None:
        csv_path.write_text(to_csv(study), encoding="utf-8")
    if report_path is not None:
        report_path.write_text(to_html(study), encoding="utf-8")
    if json:
        emit_json(to_json(study))
        return study
    show(study)
    if csv_path is not None:
        console.print(f"CSV written to [bold]{csv_path}[/]")
    if report_path is not None:
        console.print(f"HTML report written to [bold]{report_path.resolve()}[/]")
    return study


def twin_state(scenario: Scenario, when: str, twin: str | None) -> StartState:
    """The twin's stock and machine outages, now or as of ``when``, for ``scenario``'s network."""
    from twinverse.config import Settings
    from twinverse.workspace import Workspace

    with Workspace.open(Settings()) as ws:
        prefix = twin or scenario.enterprise.prefix
        at = ws.clock() if when == "now" else parse_instant(when)
        created = ws.twin_info(prefix).created_ts
        if at < created:
            raise TwinverseError(
                f"twin {prefix!r} did not exist at {format_instant(at)}; "
                f"it was created at {format_instant(created)}"
            )
        graph = ws.graph(prefix, as_of=None if when == "now" else at)
    return read_state(compile_network(scenario), graph, at)


def describe_start(start: StartState) -> str:
    down = ", ".join(f"{'+'.join(o.machines)} ({o.days} d)" for o in start.outages) or "none"
    lines = [
        f"starting from the twin as of [bold]{format_instant(start.at)}[/]: "
        f"stock read at {len(start.stock)} points; machines down: {down}; "
        f"verified supplier scores: {len(start.scores)}"
    ]
    for cut in start.sold:
        worst = max(cut.shares)
        lines.append(
            f"  sold capacity: {cut.sale.describe()} — days {cut.start}–{cut.end}, "
            f"up to {100 * worst:.1f} % of a line resource at {cut.sale.site.rsplit('/', 1)[-1]}"
        )
    lines += [f"  [yellow]note:[/] {n}" for n in start.notes]
    return "\n".join(lines)


def show(study: Study) -> None:
    table = Table(
        title=f"{study.enterprise}: {study.replications:,} replications × {study.model.horizon} days "
        f"({study.seconds:.1f} s) — mean ± 95 % CI",
        title_justify="left",
    )
    table.add_column("KPI")
    for r in study.results:
        table.add_column(r.name, justify="right")
    for row in comparison(study):
        digits = 2 if row["unit"] in ("%", "M") else 0
        cells = []
        for r in study.results:
            v = row[r.name]
            text = f"{v['mean']:,.{digits}f} ± {v['ci95']:,.{digits}f}"
            if r.name != BASELINE and abs(v["change"]) >= 0.0005:
                good = (v["change"] > 0) == row["higher_is_better"]
                text += f"\n[{'green' if good else 'red'}]{100 * v['change']:+.1f} %[/]"
            cells.append(text)
        table.add_row(f"{row['label']} [dim]{row['unit']}[/]", *cells)
    console.print(table)
    rows = survival_rows(study)
    if rows:
        tts = Table(
            title="Nodes that fail their customers: time to survive / time to recover (days)",
            title_justify="left",
        )
        for col in ("scenario", "node", "survives", "recovers", "never fails"):
            tts.add_column(col, justify="left" if col in ("scenario", "node") else "right")
        for x in rows:
            survive = x["time_to_survive_days"]
            tts.add_row(
                x["scenario"],
                x["node"],
                _days(survive, x["time_to_survive_ci95"]),
                _days(x["time_to_recover_days"], x["time_to_recover_ci95"]),
                f"{100 * x['never_failed_share']:.0f} %",
            )
        console.print(tts)
    for note in study.model.notes:
        console.print(f"[dim]note: {note}[/]")


def _days(mean: float, half: float) -> str:
    if math.isnan(mean):
        return "–"
    return f"{mean:.0f}" if not math.isfinite(half) else f"{mean:.0f} ± {half:.0f}"
