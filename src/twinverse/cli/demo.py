"""``twinverse demo``: the five-continent enterprise, a demo company and login, and the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from rich.table import Table

from twinverse.cli import render
from twinverse.cli.ledger import sync_workspace
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


def simulate_network(settings: Settings, path: Path, twin: str) -> Path:
    """The five disruptions of the article and a sourcing rule on verified supplier scores
    against the baseline, from the twin as it is now (its supplier scores and sold capacity),
    with an HTML report."""
    from twinverse.cli.simulate import run_simulation

    reports = settings.data_dir / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    report = reports / f"{path.stem}.html"
    console.print(
        f"\n[bold]What if?[/] Simulating {path.name} from its twin now: baseline and every "
        f"named scenario"
    )
    run_simulation(
        path,
        None,
        replications=None,
        seed=None,
        json=False,
        csv_path=None,
        report_path=report,
        start_at="now",
        twin=twin,
    )
    return report


def schedule_line(settings: Settings, examples: Path) -> Path:
    """Plan the example line's orders (CP-SAT, checked by the independent validator)."""
    from twinverse.cli.schedule import schedule_command

    gantt = settings.data_dir / "reports" / "line-schedule.html"
    gantt.parent.mkdir(parents=True, exist_ok=True)
    console.print(
        f"\n[bold]Schedule[/] the orders of {examples / 'orders.csv'} on the example line"
    )
    schedule_command(
        examples / "line.yaml",
        orders=examples / "orders.csv",
        time_limit=10.0,
        gantt=gantt,
        robustness=300,
    )
    return gantt


def _credentials(path: Path) -> tuple[str, list[dict[str, Any]]]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return str(doc["twin"]), list(doc["credentials"])


_SHORT = {
    "EnvironmentalManagementCertificate": "environment",
    "SocialResponsibilityAudit": "social audit",
    "ProductCarbonFootprint": "carbon footprint",
}


def certify_suppliers(settings: Settings, examples: Path) -> None:
    """Issue the example's supplier credentials (once), score every supplier from them."""
    from twinverse.cli.ledger import clock_ns, open_trust
    from twinverse.cli.trust import score_suppliers

    prefix, wanted = _credentials(examples / "trust" / "supplier-credentials.yaml")
    with Workspace.open(settings) as ws:
        graph = ws.graph(prefix)
        suppliers = [str(e.id) for e in graph.entities(EntityKind.SUPPLIER)]
    day = 86_400 * 10**9
    with open_trust(settings) as svc:
        issued = 0
        held = {s for s in suppliers if svc.registry.credentials(s)}
        for item in wanted:
            supplier = f"{prefix}/{item['supplier']}"
            if supplier in held:
                continue
            until = clock_ns() + (-day if item.get("expired") else 365 * day)
            cred = svc.issue_supplier_credential(
                item["issuer"], supplier, item["kind"], item["claims"], valid_until_ns=until
            )
            if item.get("revoked"):
                svc.revoke(cred["id"])
            issued += 1
        scores = score_suppliers(svc, suppliers, settings)
    console.print(
        "\n[bold]Trust[/]: supplier credentials (eddsa-jcs-2022, recorded in the log) "
        + (f"{issued} issued now" if issued else "issued earlier")
        + "; suppliers scored from verified credentials only:"
    )
    table = Table(show_edge=False)
    for col in ("supplier", "score", "credentials (verified ✓, rejected ✗ with the reason)"):
        table.add_column(col)
    shown = 0
    for row in sorted(scores, key=lambda r: -float(r["score"])):  # type: ignore[arg-type]
        parts = [p for p in row["parts"] if p["verdict"] != "missing"]  # type: ignore[attr-defined]
        if not parts:
            continue
        shown += 1
        why = " · ".join(
            f"{_SHORT.get(p['kind'], p['kind'])} ✓"
            if p["verdict"] == "counted"
            else f"{_SHORT.get(p['kind'], p['kind'])} ✗ {p['reason']}"
            for p in parts
        )
        table.add_row(str(row["supplier"]).rsplit("/", 1)[-1], f"{row['score']:.1f}", why)
    console.print(table)
    console.print(
        f"[dim]{len(suppliers) - len(table.rows)} suppliers without credentials score 0[/]"
    )


def trade_and_prove(settings: Settings, *, seller: str, buyer: str) -> Path:
    """A capacity trade between the two demo companies, the twin events in the log, a proof."""
    from twinverse.cli.ledger import clock_ns, open_trust
    from twinverse.cli.trust import apply_capacity, next_month
    from twinverse.trust.bundle import verify_bundle

    site = f"{seller}/monterrey"
    with open_trust(settings) as svc:
        done = [d for d in svc.trades() if d["offer"]["site"] == site and d["acceptances"]]
        if done:
            tid = done[0]["offer"]["id"]
            console.print(f"\n[bold]Capacity trade[/] {tid} (settled earlier)")
        else:
            start, end = next_month(clock_ns())
            offer = svc.offer(
                seller,
                site,
                "machine-hours",
                200,
                "h",
                start=start,
                end=end,
                price_per_unit=85.0,
                currency="EUR",
                valid_until_ns=clock_ns() + 7 * 86_400 * 10**9,
            )
            tid = offer["id"]
            change = svc.accept(tid, buyer, 120, budget=12_000)
            apply_capacity(change, settings)
            console.print(
                f"\n[bold]Capacity trade[/] {tid}: {seller} offers 200 machine-hours at "
                f"{site} (85 EUR/h); {buyer} takes {change.quantity:g} h for "
                f"{change.quantity * 85:,.0f} EUR — offer, acceptance and settlement signed and logged"
            )
        added = sync_workspace(svc, settings)
        published = svc.ledger.checkpoint()
        bundle = svc.bundle(svc.find(f"trade:{tid}:settle:1"))
        key = svc.log_key
    proof = settings.data_dir / "reports" / "trade-proof.json"
    proof.parent.mkdir(parents=True, exist_ok=True)
    proof.write_text(json.dumps(bundle.to_json(), indent=2) + "\n", encoding="utf-8")
    report = verify_bundle(bundle, [key])
    console.print(
        f"{added:,} entries recorded in the verifiable log (twin events, sample chunks, "
        f"commands); signed checkpoint:\n"
        f"[dim]{published.note.encode().rstrip()}[/]\n"
        f"[green]✓[/] proof that the settlement is entry {report.index} of "
        f"{report.checkpoint.size:,} verifies; written to {proof}. Check it offline:\n"
        f"  .venv/bin/twinverse ledger verify {proof} --key '{key.encode()}'"
    )
    return proof


def run_demo(settings: Settings, *, serve_api: bool, port: int | None) -> None:
    examples = examples_dir()
    files = [examples / "global-network.yaml", examples / "line.yaml"]
    with Workspace.open(settings) as ws:
        tenants, prefixes = [], []
        for path in files:
            with console.status(f"loading {path.name} …"):
                loaded = load_scenario(path)
                tenant = loaded.scenario.enterprise.id
                result = ws.import_scenario(
                    loaded, tenant=tenant, actor="demo", reason="demo set-up"
                )
            tenants.append(tenant)
            prefixes.append(result.twin.prefix)
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
    from twinverse.cli.ai_demo import show_ai

    show_ai(settings, examples)  # RUL model (trained once), typed questions in English and Chinese
    # Trust first: the what-if below starts from the twin, scores and sold capacity included.
    certify_suppliers(settings, examples)
    trade_and_prove(settings, seller=prefixes[0], buyer=prefixes[1])
    simulate_network(settings, files[0], prefixes[0])
    gantt = schedule_line(settings, examples)
    console.print(f"Gantt chart: [bold]{gantt}[/]")
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
