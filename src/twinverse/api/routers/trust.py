"""The trust edge: the log's key and checkpoints, proof bundles, supplier scores, trades.

The trust service lives beside the store (``<data dir>/trust``) and is opened on
first use with the key passphrase kept there by ``twinverse ledger``; a
deployment that has not set trust up gets a 409 problem saying how to.
"""

from __future__ import annotations

import threading
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from twinverse.api.deps import PrincipalDep, WorkspaceDep
from twinverse.config import Settings
from twinverse.errors import TwinverseError
from twinverse.identity import Permission
from twinverse.trust.service import TrustService
from twinverse.twin.ids import prefix_of
from twinverse.twin.model import EntityKind

router = APIRouter(tags=["trust"])
_open_lock = threading.Lock()

ORIGIN = "twinverse.local/ledger"


class TrustNotSetUpError(TwinverseError):
    code = "trust-not-set-up"


def trust(request: Request) -> TrustService:
    with _open_lock:
        svc: TrustService | None = getattr(request.app.state, "trust", None)
        if svc is None:
            directory = Settings().data_dir / "trust"
            secret = directory / "passphrase"
            if not secret.exists():
                raise TrustNotSetUpError(
                    "the trust layer is not set up here; run 'twinverse ledger sync' once"
                )
            svc = TrustService(
                directory,
                passphrase=secret.read_text().strip().encode(),
                origin=ORIGIN,
                clock=time.time_ns,
            ).open()
            request.app.state.trust = svc
        return svc


TrustDep = Annotated[TrustService, Depends(trust)]


@router.get("/ledger/key")
def ledger_key(svc: TrustDep, who: PrincipalDep) -> dict[str, str]:
    return {"key": svc.log_key.encode()}


@router.get("/ledger/checkpoint")
def ledger_checkpoint(svc: TrustDep, who: PrincipalDep) -> dict[str, Any]:
    published = svc.ledger.latest_checkpoint() or svc.ledger.checkpoint()
    return {"size": published.checkpoint.size, "note": published.note.encode()}


@router.get("/ledger/proof/{ident:path}")
def ledger_proof(
    ident: str,
    svc: TrustDep,
    who: PrincipalDep,
    since: Annotated[int | None, Query(ge=1, description="add a consistency proof")] = None,
) -> dict[str, Any]:
    return svc.bundle(svc.find(ident), since=since).to_json()


@router.get("/trust/suppliers/{supplier:path}/score")
def supplier_score(supplier: str, svc: TrustDep, who: PrincipalDep) -> dict[str, Any]:
    return svc.evaluate(supplier).to_json()


@router.get("/trust/trades")
def list_trades(svc: TrustDep, who: PrincipalDep) -> list[dict[str, Any]]:
    return svc.trades()


class OfferBody(BaseModel):
    """Spare capacity (or an asset) of a site of the caller's company, for a period."""

    site: str = Field(description="the site's twin identifier")
    quantity: float = Field(gt=0)
    resource: str = Field("machine-hours", description="machine-hours, units or asset")
    unit: str = "h"
    start: str = Field(description="period start, RFC 3339")
    end: str = Field(description="period end, RFC 3339")
    price_per_unit: float = Field(ge=0)
    currency: str = "EUR"
    days: int = Field(7, ge=1, le=365, description="the offer stays open this many days")


class AcceptBody(BaseModel):
    """Take (part of) an offer for one of the caller's company's twins, within a budget."""

    company: str = Field(description="the buying company's twin prefix")
    quantity: float = Field(gt=0)
    budget: float = Field(ge=0, description="the most the buyer pays in total")


@router.post("/trust/trades", status_code=201)
def offer_trade(
    body: OfferBody, svc: TrustDep, who: PrincipalDep, ws: WorkspaceDep
) -> dict[str, Any]:
    """Offer capacity of a site the caller's company owns; signed with its key and logged."""
    prefix = prefix_of(body.site)
    info = ws.twin_info(prefix, who)
    who.check(Permission.WRITE, tenant=info.tenant, entity_id=body.site)
    site = ws.resolve(body.site, principal=who).entity
    if site.kind is not EntityKind.SITE:
        raise TwinverseError(f"{body.site} is a {site.kind.value}, not a site", code="not-a-site")
    return svc.offer(
        prefix,
        body.site,
        body.resource,
        body.quantity,
        body.unit,
        start=body.start,
        end=body.end,
        price_per_unit=body.price_per_unit,
        currency=body.currency,
        valid_until_ns=time.time_ns() + body.days * 86_400 * 10**9,
    )


@router.post("/trust/trades/{trade}/accept")
def accept_trade(
    trade: str, body: AcceptBody, svc: TrustDep, who: PrincipalDep, ws: WorkspaceDep
) -> dict[str, Any]:
    """Accept for the caller's company; settles, logs, and records the capacity on the site."""
    info = ws.twin_info(body.company, who)
    who.check(Permission.WRITE, tenant=info.tenant)
    change = svc.accept(trade, body.company, body.quantity, budget=body.budget)
    ws.record_capacity_trade(change)
    settled = next(d for d in svc.trades() if d["offer"]["id"] == trade)
    return {
        "trade": trade,
        "site": change.site,
        "resource": change.resource.value,
        "quantity": change.quantity,
        "remaining": settled["remaining"],
        "settlement": settled["acceptances"][-1]["settlement"],
        "proof": f"trade:{trade}:settle:{len(settled['acceptances'])}",
    }
