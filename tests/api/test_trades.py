"""Capacity trades through the API: who may offer and accept, and what the twin then shows."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import login
from twinverse.api import create_app
from twinverse.trust.service import TrustService
from twinverse.workspace import Workspace

SITE = "86.1000.globex/shanghai"
OFFER = {
    "site": SITE,
    "quantity": 300,
    "start": "2026-12-01T00:00:00Z",
    "end": "2026-12-31T00:00:00Z",
    "price_per_unit": 90,
}


@pytest.fixture
def trading(workspace: Workspace, tmp_path: Path) -> Iterator[TestClient]:
    svc = TrustService(
        tmp_path / "trust", passphrase=b"test", origin="test/ledger", clock=time.time_ns
    ).open()
    app = create_app(workspace=workspace)
    app.state.trust = svc
    with TestClient(app) as c:
        yield c
    svc.close()


def test_offer_accept_and_the_sellers_site_shows_it(
    trading: TestClient, workspace: Workspace
) -> None:
    ann, eve = login(trading, "ann"), login(trading, "eve")
    made = trading.post("/trust/trades", json=OFFER, headers=ann)
    assert made.status_code == 201, made.text
    offer = made.json()
    assert offer["type"] == "CapacityOffer" and offer["proof"]["type"] == "DataIntegrityProof"
    body = {"company": "86.2000.initech", "quantity": 120, "budget": 12_000}
    taken = trading.post(f"/trust/trades/{offer['id']}/accept", json=body, headers=eve)
    assert taken.status_code == 200, taken.text
    assert taken.json()["remaining"] == 180
    site = workspace.graph("86.1000.globex").entity(SITE)  # type: ignore[arg-type]
    assert site.get("traded_out_capacity") == 120
    # The settlement is in the log: its proof bundle is served.
    proof = trading.get(f"/ledger/proof/{taken.json()['proof']}", headers=ann)
    assert proof.status_code == 200 and proof.json()["index"] >= 0


def test_trade_rules_are_enforced_with_clear_errors(trading: TestClient) -> None:
    ann, vic, eve = login(trading, "ann"), login(trading, "vic"), login(trading, "eve")
    # Another company's site: as if it did not exist.
    assert trading.post("/trust/trades", json=OFFER, headers=eve).status_code == 404
    # A viewer may not sell.
    assert trading.post("/trust/trades", json=OFFER, headers=vic).status_code == 403
    not_a_site = {**OFFER, "site": f"{SITE}/l1/press-1"}
    bad = trading.post("/trust/trades", json=not_a_site, headers=ann)
    assert bad.status_code == 400 and "not a site" in bad.json()["detail"]
    assert (
        trading.post("/trust/trades", json={**OFFER, "quantity": -1}, headers=ann).status_code
        == 422
    )
    offer = trading.post("/trust/trades", json=OFFER, headers=ann).json()
    url = f"/trust/trades/{offer['id']}/accept"
    # Over budget, more than offered, for a company that is not the caller's, own offer.
    over = trading.post(
        url, json={"company": "86.2000.initech", "quantity": 100, "budget": 10}, headers=eve
    )
    assert over.status_code == 400 and "budget" in over.json()["detail"]
    too_much = {"company": "86.2000.initech", "quantity": 301, "budget": 10**6}
    assert trading.post(url, json=too_much, headers=eve).status_code == 400
    foreign = {"company": "86.1000.globex", "quantity": 1, "budget": 10**6}
    assert trading.post(url, json=foreign, headers=eve).status_code == 404
    own = trading.post(url, json=foreign, headers=ann)
    assert own.status_code == 400 and "own offer" in own.json()["detail"]
    missing = trading.post("/trust/trades/trade-nope/accept", json=foreign, headers=ann)
    assert missing.status_code == 404
