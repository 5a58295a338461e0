"""``twinverse rul`` (train and evaluate remaining-useful-life models) and ``twinverse ask``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from twinverse.cli.render import console, emit_json, errors
from twinverse.config import Settings

if TYPE_CHECKING:
    from twinverse.ai.rul import Evaluation

# the model code (scikit-learn, scipy) is imported inside the commands, so that every
# other command of the CLI starts without paying for it

rul_app = typer.Typer(
    no_args_is_help=True,
    help="Remaining useful life: train and evaluate on any C-MAPSS-format folder.",
)

DataOpt = Annotated[
    Path, typer.Option("--data", help="folder with train_/test_/RUL_<subset>.txt files")
]
SubsetOpt = Annotated[str, typer.Option("--subset", help="FD001, FD002, FD003 or FD004")]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def _default_model_path(subset: str) -> Path:
    return Settings().data_dir / "models" / f"rul-{subset}.npz"


@rul_app.command("train")
def rul_train(
    data: DataOpt,
    subset: SubsetOpt = "FD001",
    seed: Annotated[int, typer.Option(help="random seed (folds, row sample, trees)")] = 0,
    out: Annotated[
        Path | None, typer.Option("--out", help="model file (default .twinverse/models/)")
    ] = None,
    level: Annotated[
        float, typer.Option(min=0.5, max=0.99, help="nominal coverage of the intervals")
    ] = 0.9,
    trees: Annotated[int, typer.Option(min=10, help="boosting rounds per fold model")] = 250,
    json: JsonOpt = False,
) -> None:
    """Train on the subset's training engines, evaluate on its test engines, save the model."""
    from twinverse.ai.cmapss import load_subset
    from twinverse.ai.rul import RulModel, TrainingPlan

    loaded = load_subset(data, subset)
    plan = TrainingPlan(level=level, max_iter=trees)
    with console.status(
        f"training on {loaded.train.engine_count} engines of {subset}", spinner="dots"
    ):
        model = RulModel.fit(
            loaded.train, seed=seed, plan=plan, subset=subset, data_hash=loaded.data_hash
        )
    found = model.evaluate(loaded)
    model = model.with_metrics(found.to_dict())
    path = out or _default_model_path(subset)
    model.save(path)
    if json:
        emit_json(
            {"model": str(path), "train_seconds": model.info.train_seconds, **found.to_dict()}
        )
        return
    console.print(
        _evaluation_table(found, f"{subset}: trained in {model.info.train_seconds:.0f} s")
    )
    console.print(f"[green]✓[/] model saved to {path}")


@rul_app.command("evaluate")
def rul_evaluate(
    data: DataOpt,
    subset: SubsetOpt = "FD001",
    model: Annotated[
        Path | None, typer.Option("--model", help="model file (default .twinverse/models/)")
    ] = None,
    engines: Annotated[bool, typer.Option(help="also list every test engine")] = False,
    json: JsonOpt = False,
) -> None:
    """Evaluate a saved model on a subset's test engines: RMSE, NASA score, coverage."""
    from twinverse.ai.cmapss import load_subset
    from twinverse.ai.rul import RulModel

    loaded = load_subset(data, subset)
    trained = RulModel.load(model or _default_model_path(subset))
    found = trained.evaluate(loaded)
    predicted = trained.predict(loaded.test)
    if json:
        body = found.to_dict()
        if engines:
            body["engines"] = [
                {
                    "unit": int(u),
                    "rul": float(r),
                    "low": float(lo),
                    "high": float(hi),
                    "true": int(t),
                }
                for u, r, lo, hi, t in zip(
                    predicted.units,
                    predicted.rul,
                    predicted.low,
                    predicted.high,
                    loaded.test_rul,
                    strict=True,
                )
            ]
        emit_json(body)
        return
    if not found.data_matches:
        errors.print(
            f"[yellow]note:[/] the model was trained on other data ({trained.info.subset}, "
            f"{trained.info.data_hash[:12]}…)",
            highlight=False,
        )
    if engines:
        table = Table(title=f"{subset} test engines", show_edge=False)
        for column in ("unit", "RUL", f"{predicted.level:.0%} interval", "true (capped)"):
            table.add_column(column, justify="right")
        for u, r, lo, hi, t in zip(
            predicted.units,
            predicted.rul,
            predicted.low,
            predicted.high,
            loaded.test_rul,
            strict=True,
        ):
            capped = min(int(t), trained.cap)
            mark = "" if lo <= capped <= hi else " [red]✗[/]"
            table.add_row(str(u), f"{r:.1f}", f"{lo:.0f}–{hi:.0f}", f"{capped}{mark}")
        console.print(table)
    console.print(_evaluation_table(found, f"{subset}: model {trained.info.subset or '?'}"))


def _evaluation_table(found: Evaluation, title: str) -> Table:
    table = Table(title=title, show_edge=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("test engines", str(found.engines))
    table.add_row("RMSE (cycles, truth capped at 125)", f"{found.rmse:.2f}")
    table.add_row("NASA score", f"{found.score:.0f}")
    table.add_row(f"coverage of {found.level:.0%} intervals", f"{found.coverage:.1%}")
    table.add_row("mean interval width (cycles)", f"{found.mean_width:.1f}")
    table.add_row("RMSE against uncapped truth", f"{found.rmse_uncapped:.2f}")
    return table


def ask_command(
    question: Annotated[str, typer.Argument(help="a question in English or Chinese")],
    twin: Annotated[
        str | None, typer.Option("--twin", "-t", help="the twin's prefix (default: the only one)")
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Ask the twin a question in plain English or Chinese; the answer shows its evidence."""
    from twinverse.ai.ask import ask
    from twinverse.cli.main import _pick_twin
    from twinverse.workspace import Workspace

    with Workspace.open(Settings()) as ws:
        graph = ws.graph(_pick_twin(ws, twin))
    answer = ask(graph, question)
    if json:
        emit_json(answer.to_dict())
        return
    mark = "[green]✓[/]" if answer.answered else "[yellow]?[/]"
    console.print(f"{mark} {answer.text}", highlight=False)
    for suggestion in answer.suggestions:
        console.print(f"  • {suggestion}", highlight=False)
    if answer.query:
        evidence = answer.query + (f"  then {answer.condition}" if answer.condition else "")
        console.print(f"[dim]query: {evidence} ({len(answer.rows)} entities)[/]", highlight=False)
    if answer.rows and len(answer.rows) > 1:
        table = Table(show_edge=False)
        table.add_column("id", style="dim")
        table.add_column("name")
        table.add_column("value", justify="right")
        for row in answer.rows[:20]:
            table.add_row(row.id, row.name, row.shown)
        console.print(table)


@rul_app.command("replay")
def rul_replay(
    data: DataOpt,
    subset: SubsetOpt = "FD001",
    engine: Annotated[int, typer.Option(min=1, help="test engine (unit number) to replay")] = 1,
    model: Annotated[
        Path | None, typer.Option("--model", help="model file (default .twinverse/models/)")
    ] = None,
    machine: Annotated[
        str | None,
        typer.Option(help="a machine of a stored twin: health and RUL become its properties"),
    ] = None,
    alert_below: Annotated[
        float, typer.Option(help="alert when the RUL lower bound reaches this many cycles")
    ] = 30.0,
    every: Annotated[int, typer.Option(min=1, help="show (and store) every N cycles")] = 10,
    delay: Annotated[float, typer.Option(min=0.0, help="seconds to wait between cycles")] = 0.0,
) -> None:
    """Replay a test engine's telemetry through the streaming RUL estimator, cycle by cycle."""
    import time

    import numpy as np

    from twinverse.ai.cmapss import load_subset
    from twinverse.ai.errors import AiError
    from twinverse.ai.rul import RulModel
    from twinverse.ai.stream import RulMonitor, property_changes
    from twinverse.twin.ids import EntityId, prefix_of
    from twinverse.workspace import Workspace

    loaded = load_subset(data, subset)
    trained = RulModel.load(model or _default_model_path(subset))
    positions = np.flatnonzero(np.unique(loaded.test.units) == engine)
    if positions.size == 0:
        raise AiError(f"{subset} has no test engine {engine} (1…{loaded.test.engine_count})")
    trajectory = loaded.test.select(positions)
    truth = int(loaded.test_rul[positions[0]])
    monitor = RulMonitor(trained, alert_below=alert_below)
    name = machine or f"{subset}/engine-{engine}"
    ws = Workspace.open(Settings()) if machine else None
    try:
        if ws is not None and machine is not None:
            ws.resolve(machine)
        n = len(trajectory.units)
        for i in range(n):
            estimate, alert = monitor.update(name, trajectory.settings[i], trajectory.sensors[i])
            last = i == n - 1
            if (i + 1) % every == 0 or alert is not None or last:
                console.print(
                    f"cycle {estimate.age:4d}  RUL {estimate.rul:6.1f}  "
                    f"[{estimate.low:5.1f} – {estimate.high:5.1f}]  health {estimate.health:.2f}",
                    highlight=False,
                )
                if ws is not None and machine is not None:
                    ws.apply_changes(
                        prefix_of(machine),
                        property_changes(EntityId(machine), estimate),
                        principal=None,
                        actor="rul",
                        reason=f"streaming RUL, {subset} engine {engine}",
                    )
            if alert is not None:
                console.print(f"[red]alert:[/] {alert.message}", highlight=False)
            if delay:
                time.sleep(delay)
    finally:
        if ws is not None:
            ws.close()
    console.print(
        f"true RUL after the last cycle: {min(truth, trained.cap)} (capped; raw {truth})",
        highlight=False,
    )
