"""``twinverse demo``: the five-continent enterprise, a demo company and login, and the API."""

from __future__ import annotations

from pathlib import Path

from twinverse.cli import render
from twinverse.cli.render import console
from twinverse.config import Settings
from twinverse.identity import Role
from twinverse.scenario import load_scenario
from twinverse.twin.model import EntityKind
from twinverse.workspace import Workspace

DEMO_USER = "demo"
DEMO_PASSWORD = "twinverse-demo"


def examples_dir() -> Path:
    """``examples/`` of the working directory, else of the source checkout."""
    here = Path.cwd() / "examples"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[3] / "examples"


def simulate_network(settings: Settings, path: Path) -> Path:
    """The five disruptions of the article against the baseline, with an HTML report."""
    from twinverse.cli.simulate import run_simulation

    reports = settings.data_dir / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    report = reports / f"{path.stem}.html"
    console.print(f"\n[bold]What if?[/] Simulating {path.name}: baseline and every named scenario")
    run_simulation(
        path, None, replications=None, seed=None, json=False, csv_path=None, report_path=report
    )
    return report


def run_demo(settings: Settings, *, serve_api: bool, port: int | None) -> None:
    examples = examples_dir()
    files = [examples / "global-network.yaml", examples / "line.yaml"]
    with Workspace.open(settings) as ws:
        tenants = []
        for path in files:
            with console.status(f"loading {path.name} …"):
                loaded = load_scenario(path)
                tenant = loaded.scenario.enterprise.id
                result = ws.import_scenario(
                    loaded, tenant=tenant, actor="demo", reason="demo set-up"
                )
            tenants.append(tenant)
            verb = "created" if result.created else "up to date" if not result.events else "updated"
            console.print(
                f"[green]✓[/] {path.name}: twin [bold]{result.twin.prefix}[/] {verb} "
                f"({result.events:,} events)"
            )
        network = ws.graph(load_scenario(files[0]).scenario.enterprise.prefix)
        root = next(network.entities(EntityKind.ENTERPRISE))
        console.print(render.containment_tree(network, root, leaves=False))
        console.print(render.summary_table(network, f"{root.name} ({root.id})"))
        ws.accounts.create(
            DEMO_USER,
            tenant=tenants[0],
            roles=[Role.ENGINEER],
            password=DEMO_PASSWORD,
            display_name="Demo engineer",
        )
    simulate_network(settings, files[0])
    host, port = settings.host, port or settings.port
    base = f"http://{host}:{port}"
    console.print(f"""
[bold]Log in[/] as [cyan]{DEMO_USER}[/] / [cyan]{DEMO_PASSWORD}[/] (company {tenants[0]}, role engineer):
  curl -s -X POST {base}/auth/login -H 'content-type: application/json' \\
       -d '{{"principal":"{DEMO_USER}","password":"{DEMO_PASSWORD}"}}'
  curl -s -H "Authorization: Bearer $TOKEN" '{base}/twins/{root.id}/entities?q=site'
API docs: {base}/docs
At the command line (no login needed on your own store):
  .venv/bin/twinverse query "machine where kind = furnace"
  .venv/bin/twinverse resolve {root.id}""")
    if serve_api:
        # The simulated plant, the OPC UA ingest and the API (with /live) together.
        from twinverse.cli.live import serve_live_demo

        serve_live_demo(settings, examples, port)
