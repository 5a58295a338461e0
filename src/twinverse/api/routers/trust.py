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

from twinverse.api.deps import PrincipalDep
from twinverse.config import Settings
from twinverse.errors import TwinverseError
from twinverse.trust.service import TrustService

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
