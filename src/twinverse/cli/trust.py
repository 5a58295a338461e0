"""``twinverse trust``: identities, supplier credentials and scores, capacity trades."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer
from rich.table import Table

from twinverse.cli.ledger import PassOpt, clock_ns, open_trust
from twinverse.cli.render import console, emit_json
from twinverse.config import Settings
from twinverse.errors import TwinverseError
from twinverse.trust.credentials import parse_time
from twinverse.trust.service import TrustService
from twinverse.trust.trades import CapacityChange
from twinverse.twin.events import PropertySet
from twinverse.twin.ids import EntityId, prefix_of

trust_app = typer.Typer(
    no_args_is_help=True, help="Identities, credentials, supplier scores, trades."
)
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


@trust_app.command("did")
def did(
    subject: Annotated[str, typer.Argument(help="a twin identifier (company, person, machine)")],
    rotate: Annotated[bool, typer.Option(help="retire the current key, bind a new one")] = False,
    passphrase: PassOpt = None,
) -> None:
    """The did:key bound to a twin identifier (created on first use)."""
    with open_trust(Settings(), passphrase) as svc:
        key = svc.rotate(subject) if rotate else svc.identity(subject)
    typer.echo(key.did)


def _claims(pairs: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise TwinverseError(f"--claim {pair!r}: expected NAME=VALUE", code="bad-claim")
        try:
            out[name] = json.loads(value)
        except json.JSONDecodeError:
            out[name] = value
    return out


@trust_app.command("issue")
def issue_cmd(
    supplier: Annotated[str, typer.Argument(help="the supplier twin's identifier")],
    kind: Annotated[
        str,
        typer.Argument(
            help="EnvironmentalManagementCertificate, SocialResponsibilityAudit or ProductCarbonFootprint"
        ),
    ],
    issuer: Annotated[str, typer.Option(help="the issuing party (a twin identifier or name)")],
    claim: Annotated[list[str] | None, typer.Option(help="NAME=VALUE (repeat)")] = None,
    valid_until: Annotated[
        str | None, typer.Option(help="expiry, e.g. 2027-12-31T00:00:00Z")
    ] = None,
    cryptosuite: Annotated[
        str, typer.Option(help="eddsa-jcs-2022 (JSON canonical form) or eddsa-rdfc-2022 (RDF)")
    ] = "eddsa-jcs-2022",
    passphrase: PassOpt = None,
) -> None:
    """Issue a supplier credential (Data Integrity, Ed25519), record it in the log, print it."""
    until = None
    if valid_until:
        until = int(parse_time(valid_until, field="--valid-until").timestamp() * 1e9)
    with open_trust(Settings(), passphrase) as svc:
        cred = svc.issue_supplier_credential(
            issuer,
            supplier,
            kind,
            _claims(claim or []),
            valid_until_ns=until,
            cryptosuite=cryptosuite,
        )
    emit_json(cred)


@trust_app.command("revoke")
def revoke(
    credential_id: Annotated[str, typer.Argument(help="the credential's id (urn:uuid:…)")],
    passphrase: PassOpt = None,
) -> None:
    """Revoke a credential: set its bit in the issuer's status list, record it in the log."""
    with open_trust(Settings(), passphrase) as svc:
        svc.revoke(credential_id)
    console.print(f"[green]✓[/] {credential_id} revoked")


def score_suppliers(
    svc: TrustService, suppliers: list[str], settings: Settings
) -> list[dict[str, object]]:
    """Score suppliers and write ``supplier_score`` onto their twins where it changed."""
    from twinverse.workspace import Workspace

    scores = [svc.evaluate(s) for s in suppliers]
    with Workspace.open(settings) as ws:
        for s in scores:
            held = ws.graph(prefix_of(s.supplier)).entity(EntityId(s.supplier))
            if held.get("supplier_score") == round(s.score, 2):
                continue
            ws.apply_changes(
                prefix_of(s.supplier),
                [PropertySet(EntityId(s.supplier), "supplier_score", round(s.score, 2))],
                principal=None,
                actor="trust",
                reason="score from verified credentials",
            )
    return [s.to_json() for s in scores]


@trust_app.command("score")
def score(
    suppliers: Annotated[list[str], typer.Argument(help="supplier twin identifiers")],
    apply: Annotated[bool, typer.Option(help="write supplier_score onto the twins")] = False,
    passphrase: PassOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Score suppliers from their verified credentials only, saying why each counts or not."""
    settings = Settings()
    with open_trust(settings, passphrase) as svc:
        results = (
            score_suppliers(svc, suppliers, settings)
            if apply
            else [svc.evaluate(s).to_json() for s in suppliers]
        )
    if json_out:
        emit_json(results)
        return
    for r in results:
        table = Table(title=f"{r['supplier']}: {r['score']} / 100")
        for col in ("credential kind", "verdict", "points", "reason"):
            table.add_column(col)
        for p in r["parts"]:  # type: ignore[attr-defined]
            table.add_row(p["kind"], p["verdict"], f"{p['points']:.1f}", p["reason"])
        console.print(table)


def apply_capacity(change: CapacityChange, settings: Settings) -> None:
    """Record the traded capacity on the seller's site twin, where the simulation sees it."""
    from twinverse.workspace import Workspace

    with Workspace.open(settings) as ws:
        ws.record_capacity_trade(change)


def next_month(now_ns: int) -> tuple[str, str]:
    """The calendar month after ``now_ns`` (UTC) as RFC 3339 start and end."""
    today = dt.datetime.fromtimestamp(now_ns / 1e9, tz=dt.UTC).date()
    first = dt.date(today.year + today.month // 12, today.month % 12 + 1, 1)
    after = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return f"{first.isoformat()}T00:00:00Z", f"{after.isoformat()}T00:00:00Z"


@trust_app.command("offer")
def offer(
    company: Annotated[str, typer.Argument(help="the selling company's twin prefix")],
    site: Annotated[str, typer.Argument(help="the site's identifier")],
    quantity: Annotated[float, typer.Argument()],
    resource: Annotated[str, typer.Option(help="machine-hours, units or asset")] = "machine-hours",
    unit: Annotated[str, typer.Option()] = "h",
    start: Annotated[
        str | None, typer.Option(help="period start (default: the next month, UTC)")
    ] = None,
    end: Annotated[str | None, typer.Option(help="period end (default: that month's end)")] = None,
    price: Annotated[float, typer.Option(help="price per unit")] = 100.0,
    currency: Annotated[str, typer.Option()] = "EUR",
    days: Annotated[int, typer.Option(help="the offer stays open this many days")] = 7,
    passphrase: PassOpt = None,
) -> None:
    """Offer spare capacity (or an asset) of a site the company owns; signed and logged."""
    month = next_month(clock_ns())
    start, end = start or month[0], end or month[1]
    with open_trust(Settings(), passphrase) as svc:
        doc = svc.offer(
            company,
            site,
            resource,
            quantity,
            unit,
            start=start,
            end=end,
            price_per_unit=price,
            currency=currency,
            valid_until_ns=clock_ns() + days * 86400 * 10**9,
        )
    console.print(f"[green]✓[/] offer [bold]{doc['id']}[/] recorded in the log")


@trust_app.command("accept")
def accept(
    trade: Annotated[str, typer.Argument(help="the trade id")],
    company: Annotated[str, typer.Argument(help="the buying company's twin prefix")],
    quantity: Annotated[float, typer.Argument()],
    budget: Annotated[float, typer.Option(help="the most the buyer will pay in total")],
    passphrase: PassOpt = None,
) -> None:
    """Accept (part of) an offer within budget; settles, logs, and updates the site's capacity."""
    settings = Settings()
    with open_trust(settings, passphrase) as svc:
        change = svc.accept(trade, company, quantity, budget=budget)
    apply_capacity(change, settings)
    console.print(
        f"[green]✓[/] {change.quantity:g} {change.resource.value} at {change.site} settled"
    )


@trust_app.command("trades")
def trades(passphrase: PassOpt = None, json_out: JsonOpt = False) -> None:
    """List trades: offers, what remains, acceptances."""
    with open_trust(Settings(), passphrase) as svc:
        docs = svc.trades()
    if json_out:
        emit_json(docs)
        return
    table = Table(title="trades")
    for col in ("id", "site", "resource", "quantity", "remaining", "accepted"):
        table.add_column(col)
    for d in docs:
        o = d["offer"]
        table.add_row(
            o["id"],
            o["site"],
            o["resource"],
            f"{o['quantity']:g}",
            f"{d['remaining']:g}",
            str(len(d["acceptances"])),
        )
    console.print(table)
