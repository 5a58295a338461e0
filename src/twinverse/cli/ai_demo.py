"""The industrial AI in ``twinverse demo``: the RUL model, two typed questions, the live monitors.

:func:`show_ai` runs before the API is served: it trains the FD001 model on
first use (about 7 s; reused afterwards from the data directory), prints its
evaluation, and answers one question in English and one in Chinese about the
demo enterprise with their evidence. :func:`prepare_live_ai` runs inside the
live demo: it puts the engine test stand on the simulated plant and returns
the OPC UA source for its tags and the :class:`~twinverse.api.live_ai.LiveAi`
that watches what the ingest stores.

Where ``../shared/data/cmapss`` is absent (a fresh clone), both say so in one
line and go on: no RUL model and no engines, the anomaly detectors still run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from twinverse.cli.render import console
from twinverse.config import Settings

if TYPE_CHECKING:
    from twinverse.ai.cmapss import Subset
    from twinverse.ai.rul import RulModel, TrainingPlan
    from twinverse.api.live_ai import LiveAi
    from twinverse.live.runtime import OpcUaSource
    from twinverse.workspace import Workspace

SUBSET: Final = "FD001"
QUESTIONS: Final = (
    "How many machines are in the Stuttgart plant?",
    "哪个供应商的碳足迹最高?",
)
"""Typed questions the demo answers about examples/global-network.yaml (English, Chinese)."""

_SHARED_CMAPSS = Path(__file__).resolve().parents[4] / "shared" / "data" / "cmapss"


def cmapss_dir() -> Path | None:
    """``../shared/data/cmapss`` of the working directory or of the checkout, if present."""
    for candidate in (Path.cwd().parent / "shared" / "data" / "cmapss", _SHARED_CMAPSS):
        if (candidate / f"train_{SUBSET}.txt").is_file():
            return candidate
    return None


def model_path(settings: Settings) -> Path:
    return settings.data_dir / "models" / f"rul-{SUBSET}.npz"


def demo_model(
    settings: Settings, data: Path, plan: TrainingPlan | None = None
) -> tuple[RulModel, Subset]:
    """The FD001 model from the data directory, trained (and saved) first if absent or stale.

    The default plan trains on one thread: on a busy 2-core machine two OpenMP
    threads wait on each other and training took 290 s instead of 30 s.
    """
    from twinverse.ai.cmapss import load_subset
    from twinverse.ai.errors import ModelFileError
    from twinverse.ai.rul import RulModel, TrainingPlan

    subset = load_subset(data, SUBSET)
    path = model_path(settings)
    if path.exists():
        try:
            return RulModel.load(path, expect_data_hash=subset.data_hash), subset
        except ModelFileError as err:
            console.print(f"[yellow]retraining:[/] {err}", highlight=False)
    plan = plan or TrainingPlan(threads=1)
    with console.status(
        f"training the RUL model on {subset.train.engine_count} {SUBSET} engines (once, ≈ 15 s) …"
    ):
        model = RulModel.fit(
            subset.train, seed=0, plan=plan, subset=SUBSET, data_hash=subset.data_hash
        )
        model = model.with_metrics(model.evaluate(subset).to_dict())
        model.save(path)
    console.print(f"[green]✓[/] RUL model trained in {model.info.train_seconds:.0f} s → {path}")
    return model, subset


def show_ai(
    settings: Settings,
    examples: Path,
    *,
    cmapss: Path | None = None,
    plan: TrainingPlan | None = None,
) -> None:
    """Print the RUL model's evaluation and answers to the typed questions (see module doc)."""
    console.print("\n[bold]Industrial AI[/]: remaining useful life and questions about the twin")
    data = cmapss or cmapss_dir()
    if data is None:
        console.print("[yellow]C-MAPSS data not found (../shared/data/cmapss): no RUL model[/]")
    else:
        model, subset = demo_model(settings, data, plan)
        found = model.evaluate(subset)
        console.print(
            f"[green]✓[/] RUL {SUBSET}: RMSE {found.rmse:.2f} cycles, NASA score "
            f"{found.score:.0f}, {found.level:.0%} intervals cover {found.coverage:.0%} "
            f"of {found.engines} test engines",
            highlight=False,
        )
    _answer_questions(settings, examples / "global-network.yaml")


def _answer_questions(settings: Settings, scenario: Path) -> None:
    from twinverse.ai.ask import ask
    from twinverse.scenario import load_scenario
    from twinverse.workspace import TwinNotFoundError, Workspace

    loaded = load_scenario(scenario)
    with Workspace.open(settings) as ws:
        try:
            graph = ws.graph(loaded.scenario.enterprise.prefix)
        except TwinNotFoundError:  # not imported yet: ask the scenario itself
            graph = loaded.graph()
        for question in QUESTIONS:
            answer = ask(graph, question)
            mark = "[green]✓[/]" if answer.answered else "[yellow]?[/]"
            console.print(f"  [cyan]ask[/] {question}\n  {mark} {answer.text}", highlight=False)
            if answer.query:
                shown = ", ".join(r.id.rsplit("/", 1)[-1] for r in answer.rows[:3])
                more = f", … ({len(answer.rows)} entities)" if len(answer.rows) > 3 else ""
                console.print(f"    [dim]evidence: {answer.query} → {shown}{more}[/]")


@dataclass(slots=True)
class LiveAiParts:
    """What the live demo adds for the AI: the engine stand's OPC UA source and the monitors."""

    sources: tuple[OpcUaSource, ...]
    live_ai: LiveAi
    engines: tuple[str, ...]


def prepare_live_ai(
    settings: Settings,
    examples: Path,
    ws: Workspace,
    server: Any,
    *,
    tenant: str,
    endpoint: str,
    cycle_wall_s: float = 1.0,
    cmapss: Path | None = None,
    plan: TrainingPlan | None = None,
) -> LiveAiParts:
    """Engines on ``server`` (a PlantServer, before it starts) and the monitors of live data.

    Loads ``examples/live/engine-test-stand.yaml`` as a twin of ``tenant``; each
    engine shows one C-MAPSS cycle per ``cycle_wall_s`` wall-clock seconds.
    """
    from twinverse.ai.telemetry import TelemetryMonitor
    from twinverse.api.live_ai import ENGINE_STAND, LiveAi, stand_machines, stand_tag_map
    from twinverse.live.opcua import OpcUaSettings
    from twinverse.live.runtime import OpcUaSource
    from twinverse.scenario import load_scenario

    data = cmapss or cmapss_dir()
    if data is None:
        console.print(
            "[yellow]C-MAPSS data not found (../shared/data/cmapss): no engine test stand; "
            "anomaly detectors still watch the line[/]"
        )
        return LiveAiParts((), LiveAi(ws, TelemetryMonitor(None)), ())
    model, subset = demo_model(settings, data, plan)
    loaded = load_scenario(examples / ENGINE_STAND)
    ws.import_scenario(loaded, tenant=tenant, actor="demo", reason="engine test stand")
    machines = stand_machines(subset, period_s=cycle_wall_s * server.settings.speed_factor)
    for machine in machines:
        server.add_recorded(machine)
    tags = stand_tag_map(machines, twin=loaded.scenario.enterprise.prefix)
    source = OpcUaSource(OpcUaSettings(endpoint, dev_mode=True, publishing_interval_ms=100), tags)
    live_ai = LiveAi(
        ws,
        TelemetryMonitor(model),
        notify=lambda text: console.print(f"[red]{text}[/]", highlight=False),
    )
    return LiveAiParts((source,), live_ai, tuple(sorted({r.entity for r in tags.rows})))
