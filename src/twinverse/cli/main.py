"""``twinverse``: validate, show, load, query, resolve, history, set, serve, demo, user, token."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import click
import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from twinverse.cli import ai as ai_cli
from twinverse.cli import render
from twinverse.cli.render import console, emit_json
from twinverse.config import Settings
from twinverse.errors import TwinverseError
from twinverse.identity import Role
from twinverse.scenario import LoadedScenario, load_scenario, validate_file
from twinverse.scenario.errors import ScenarioError
from twinverse.twin.events import PropertySet
from twinverse.twin.ids import EntityId, prefix_of
from twinverse.twin.instant import format_instant, parse_instant
from twinverse.twin.quantity import parse_quantity
from twinverse.workspace import Workspace

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    help="twinverse — the live, shared digital twin of a manufacturing enterprise.",
)
user_app = typer.Typer(no_args_is_help=True, help="Manage principals (people and services).")
app.add_typer(user_app, name="user")
app.add_typer(ai_cli.rul_app, name="rul")
app.command(name="ask")(ai_cli.ask_command)
from twinverse.cli.ledger import ledger_app  # noqa: E402
from twinverse.cli.trust import trust_app  # noqa: E402

app.add_typer(ledger_app, name="ledger")
app.add_typer(trust_app, name="trust")

JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="the twin as it was then, e.g. 2026-11-01T08:00Z")
]
TwinOpt = Annotated[
    str | None, typer.Option("--twin", "-t", help="the twin's prefix (default: the only one)")
]

EXIT_INVALID = 2


def _settings() -> Settings:
    return Settings()


def _workspace() -> Workspace:
    return Workspace.open(_settings())


def _as_of(text: str | None) -> int | None:
    return parse_instant(text) if text else None


def _pick_twin(ws: Workspace, twin: str | None) -> str:
    if twin:
        return twin
    known = ws.twins()
    if len(known) == 1:
        return known[0].prefix
    if not known:
        raise TwinverseError(
            "the store holds no twin yet; load one: twinverse load examples/line.yaml",
            code="no-twin",
        )
    names = ", ".join(t.prefix for t in known)
    raise TwinverseError(
        f"several twins are stored ({names}); choose one with --twin", code="ambiguous-twin"
    )


def _load_with_progress(path: Path, *, quiet: bool = False) -> LoadedScenario:
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=render.errors,
        transient=True,
        disable=quiet,
    ) as progress:
        progress.add_task(f"reading and validating {path}", total=None)
        return load_scenario(path, max_bytes=_settings().max_scenario_mb * 2**20)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="scenario files (YAML or JSON)")],
    json: JsonOpt = False,
) -> None:
    """Check scenario files; report every problem with file:line:column, path and a hint."""
    report = {
        str(f): validate_file(f, max_bytes=_settings().max_scenario_mb * 2**20) for f in files
    }
    if json:
        emit_json({f: [i.to_dict() for i in found] for f, found in report.items()})
    else:
        for f, found in report.items():
            if found:
                render.issues(found)
                render.errors.print(
                    f"[red]✗[/] {f}: {len(found)} problem{'s' if len(found) > 1 else ''}"
                )
            else:
                console.print(f"[green]✓[/] {f} is valid")
    if any(report.values()):
        raise typer.Exit(EXIT_INVALID)


@app.command()
def show(
    target: Annotated[str, typer.Argument(help="a scenario file or a stored twin's prefix")],
    json: JsonOpt = False,
    as_of: AsOfOpt = None,
) -> None:
    """Show an enterprise: its containment tree and a summary table."""
    if Path(target).exists():
        graph = _load_with_progress(Path(target), quiet=json).graph()
        title = target
    else:
        with _workspace() as ws:
            graph = ws.graph(target, as_of=_as_of(as_of))
        title = target + (f" as of {as_of}" if as_of else "")
    roots = [e for e in graph.entities() if graph.parent(e.id) is None]
    if json:
        emit_json(
            {
                "title": title,
                "entities": len(graph),
                "relations": graph.relation_count,
                "counts": {k.value: graph.count(k) for k in type(roots[0].kind) if graph.count(k)}
                if roots
                else {},
                "roots": [r.id for r in roots],
            }
        )
        return
    for root in roots:
        console.print(render.containment_tree(graph, root))
    console.print(render.summary_table(graph, title))


@app.command()
def load(
    file: Annotated[Path, typer.Argument(help="a scenario file")],
    company: Annotated[
        str | None, typer.Option(help="the owning company (default: the enterprise id)")
    ] = None,
    reason: Annotated[str, typer.Option(help="why, recorded with every event")] = "scenario import",
    json: JsonOpt = False,
) -> None:
    """Load a scenario into the store; loading it again records only what changed."""
    loaded = _load_with_progress(file, quiet=json)
    with _workspace() as ws:
        result = ws.import_scenario(
            loaded, tenant=company or loaded.scenario.enterprise.id, actor="cli", reason=reason
        )
    if json:
        emit_json({"twin": result.twin.prefix, "events": result.events, "created": result.created})
    else:
        verb = "created" if result.created else "updated"
        console.print(
            f"[green]✓[/] twin [bold]{result.twin.prefix}[/] {verb}: {result.events:,} events recorded"
        )


@app.command()
def query(
    text: Annotated[
        str,
        typer.Argument(help='e.g. "machine where power.busy > 10 kW in (site where country = DE)"'),
    ],
    twin: TwinOpt = None,
    as_of: AsOfOpt = None,
    json: JsonOpt = False,
    limit: Annotated[int, typer.Option(help="rows to show")] = 200,
) -> None:
    """Find entities by kind, property, containment, relation and geography."""
    with _workspace() as ws:
        prefix = _pick_twin(ws, twin)
        found = ws.query(prefix, text, as_of=_as_of(as_of))
    if json:
        emit_json(
            {
                "twin": prefix,
                "query": text,
                "total": len(found),
                "items": [render.entity_json(e) for e in found[:limit]],
            }
        )
        return
    console.print(
        render.entity_table(found[:limit], f"{len(found)} match{'es' if len(found) != 1 else ''}")
    )


@app.command()
def resolve(
    entity_id: Annotated[str, typer.Argument(help="an identifier, e.g. 86.1000.huaxin/stuttgart")],
    as_of: AsOfOpt = None,
    json: JsonOpt = False,
) -> None:
    """Turn an identifier into its record and relations."""
    with _workspace() as ws:
        found = ws.resolve(entity_id, as_of=_as_of(as_of))
    if json:
        emit_json(
            {
                "id": found.entity.id,
                "twin": found.twin.prefix,
                "entity": render.entity_json(found.entity),
                "outgoing": [render.relation_json(r) for r in found.outgoing],
                "incoming": [render.relation_json(r) for r in found.incoming],
            }
        )
        return
    render.entity_detail(found.entity, found.outgoing, found.incoming)


@app.command()
def history(
    entity_id: Annotated[str, typer.Argument(help="an identifier")],
    limit: Annotated[int, typer.Option(help="events to show")] = 50,
    json: JsonOpt = False,
) -> None:
    """The events of an entity: who changed what, when and why."""
    with _workspace() as ws:
        events = ws.history(entity_id, limit=limit)
    if json:
        emit_json([render.event_json(e) for e in events])
        return
    console.print(render.events_table(events, f"history of {entity_id}"))


@app.command(name="set")
def set_property(
    entity_id: Annotated[str, typer.Argument(help="an identifier")],
    name: Annotated[str, typer.Argument(help="the property")],
    value: Annotated[str, typer.Argument(help="a value: '12 min', 42, text")],
    reason: Annotated[str, typer.Option(help="why, kept with the event")] = "",
) -> None:
    """Set a property of an entity (recorded as an event)."""
    parsed: object = value
    try:
        quantity = parse_quantity(value)
        parsed = quantity if quantity.unit else quantity.magnitude
    except TwinverseError:
        pass
    with _workspace() as ws:
        ws.resolve(entity_id)
        stored = ws.apply_changes(
            prefix_of(entity_id),
            [PropertySet(EntityId(entity_id), name, parsed)],
            principal=None,
            actor="cli",
            reason=reason,
        )
    console.print(f"[green]✓[/] event {stored[0].seq} at {format_instant(stored[0].ts)}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default 8000)")] = None,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from twinverse.api import create_app

    settings = _settings()
    host = host or settings.host
    port = port or settings.port
    console.print(f"serving on [bold]http://{host}:{port}[/] (API docs at /docs); Ctrl+C stops")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="principal name")],
    company: Annotated[str, typer.Option(help="the company (tenant) it acts for")],
    role: Annotated[list[Role], typer.Option(help="viewer, operator, engineer or admin")],
    password: Annotated[
        str | None, typer.Option(help="omit for a service that uses API tokens")
    ] = None,
    scope: Annotated[
        list[str] | None, typer.Option(help="limit to twin subtrees (entity ids)")
    ] = None,
    service: Annotated[bool, typer.Option(help="a service rather than a person")] = False,
) -> None:
    """Create (or replace) a principal."""
    with _workspace() as ws:
        ws.accounts.create(
            name,
            tenant=company,
            roles=role,
            password=password,
            scopes=tuple(scope or ()),
            is_service=service,
        )
    console.print(f"[green]✓[/] {name} ({', '.join(r.value for r in role)}) of {company}")


@user_app.command("token")
def user_token(
    name: Annotated[str, typer.Argument(help="principal name")],
    days: Annotated[int, typer.Option(help="lifetime")] = 365,
) -> None:
    """Issue an API token for a principal (shown once)."""
    with _workspace() as ws:
        issued = ws.accounts.issue_api_token(name, ttl_s=days * 86400)
    console.print(issued.token)


from twinverse.cli.schedule import schedule_command  # noqa: E402 - beside its registration

app.command(name="schedule")(schedule_command)
from twinverse.cli import live as live_cli  # noqa: E402 - beside its registration
from twinverse.cli.plant import plant_command  # noqa: E402

app.command(name="plant")(plant_command)
app.command(name="ingest")(live_cli.ingest_command)
app.command(name="watch")(live_cli.watch_command)
app.command(name="command")(live_cli.command_command)


@app.command()
def simulate(
    file: Annotated[Path, typer.Argument(help="scenario file (YAML or JSON)")],
    scenario: Annotated[
        list[str] | None,
        typer.Option("--scenario", "-s", help="named scenario to run (repeat; default: all)"),
    ] = None,
    replications: Annotated[
        int | None, typer.Option("--replications", "-n", min=2, help="runs per scenario")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="random seed (default: the file's)")] = None,
    csv: Annotated[Path | None, typer.Option("--csv", help="also write KPIs as CSV")] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="also write a self-contained HTML report")
    ] = None,
    from_state: Annotated[
        str | None,
        typer.Option(
            "--from-state",
            help="start from the twin's stock and machine states: 'now' or a time (else steady state)",
        ),
    ] = None,
    as_of: AsOfOpt = None,
    twin: TwinOpt = None,
    on_ray: Annotated[
        bool,
        typer.Option("--ray", help="run replications on Ray (RAY_ADDRESS or a local instance)"),
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Simulate the supply network: the baseline and what-if scenarios, with confidence intervals."""
    from twinverse.cli.simulate import run_simulation

    if from_state and as_of and from_state != as_of:
        raise typer.BadParameter("give --from-state or --as-of, not both")

    run_simulation(
        file,
        scenario,
        replications=replications,
        seed=seed,
        json=json,
        csv_path=csv,
        report_path=report,
        start_at=from_state or as_of,
        twin=twin,
        on_ray=on_ray,
    )


@app.command()
def demo(
    serve_api: Annotated[
        bool, typer.Option("--serve/--no-serve", help="serve the API afterwards")
    ] = True,
    port: Annotated[int | None, typer.Option(help="port (default 8000)")] = None,
) -> None:
    """Load the five-continent example enterprise, create a demo login, and serve the API."""
    from twinverse.cli.demo import run_demo

    run_demo(_settings(), serve_api=serve_api, port=port)


def run() -> None:
    """Entry point: known errors become a message and exit status 2, never a traceback."""
    try:
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except ScenarioError as err:
        render.issues(err.issues)
        sys.exit(EXIT_INVALID)
    except TwinverseError as err:
        render.errors.print(f"[red]error:[/] {err.message}", highlight=False)
        sys.exit(EXIT_INVALID)
    except typer.Exit as err:
        sys.exit(err.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        render.errors.print("aborted")
        sys.exit(130)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except Exception as err:  # the last line of defence: no traceback for the user
        if Settings().debug:
            raise
        render.errors.print(
            f"[red]internal error:[/] {type(err).__name__}: {err} "
            "(set TWINVERSE_DEBUG=1 for the traceback)",
            highlight=False,
        )
        sys.exit(1)
