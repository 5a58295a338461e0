"""Capacity trades: who may offer, what may be accepted, and what settlement changes."""

from __future__ import annotations

import pytest

from tests.conftest import FakeClock
from twinverse.trust.errors import TradeError
from twinverse.trust.integrity import sign_document
from twinverse.trust.keys import KeyPair
from twinverse.trust.log import EntryKind
from twinverse.trust.service import TrustService
from twinverse.trust.trades import ResourceKind, check_offer

SELLER = "86.1000.huaxin"
BUYER = "86.1000.globex"
SITE = "86.1000.huaxin/stuttgart"


def _offer(service: TrustService, clock: FakeClock, **kw: object) -> dict[str, object]:
    args: dict[str, object] = {
        "start": "2026-12-01T00:00:00Z",
        "end": "2026-12-31T00:00:00Z",
        "price_per_unit": 120.0,
        "currency": "EUR",
        "valid_until_ns": clock.now + 86400 * 10**9,
    }
    args.update(kw)
    return service.offer(SELLER, SITE, "machine-hours", 400, "h", **args)  # type: ignore[arg-type]


def test_offer_accept_settle_is_signed_logged_and_changes_capacity(
    service: TrustService, clock: FakeClock
) -> None:
    offer = _offer(service, clock)
    change = service.accept(str(offer["id"]), BUYER, 100, budget=15_000)
    assert (change.site, change.quantity, change.resource) == (
        SITE,
        100,
        ResourceKind.MACHINE_HOURS,
    )
    assert change.buyer == service.identity(BUYER).did
    kinds = [e.kind for e in service.ledger.entries(limit=1000) if e.kind != EntryKind.KEY_BOUND]
    assert kinds == [EntryKind.TRADE_OFFER, EntryKind.TRADE_ACCEPT, EntryKind.TRADE_SETTLE]
    [trade] = service.trades()
    assert trade["remaining"] == 300


def test_only_the_site_owner_may_offer(service: TrustService) -> None:
    service.identity(SELLER)
    intruder = KeyPair.generate()
    offer = sign_document(
        {
            "type": "CapacityOffer",
            "id": "t1",
            "seller": intruder.did,
            "site": SITE,
            "resource": "units",
            "quantity": 10,
            "period": {"start": "2026-12-01T00:00:00Z", "end": "2026-12-02T00:00:00Z"},
            "price": {"perUnit": 1, "currency": "EUR"},
        },
        intruder,
        created="2026-11-21T00:00:00Z",
    )
    with pytest.raises(TradeError, match="does not own"):
        check_offer(offer, service.owner_dids)


@pytest.mark.parametrize(
    ("quantity", "budget", "match"),
    [(500, 1e9, "what remains"), (100, 100, "exceeds the budget"), (0, 1e9, "not in")],
)
def test_acceptance_rules(
    service: TrustService, clock: FakeClock, quantity: float, budget: float, match: str
) -> None:
    offer = _offer(service, clock)
    with pytest.raises(TradeError, match=match):
        service.accept(str(offer["id"]), BUYER, quantity, budget=budget)


def test_expired_offer_and_own_offer_are_refused(service: TrustService, clock: FakeClock) -> None:
    offer = _offer(service, clock)
    with pytest.raises(TradeError, match="own offer"):
        service.accept(str(offer["id"]), SELLER, 1, budget=1e6)
    clock.advance(2 * 86400)
    with pytest.raises(TradeError, match="expired"):
        service.accept(str(offer["id"]), BUYER, 1, budget=1e6)


def test_capacity_whose_period_is_over_cannot_be_taken(
    service: TrustService, clock: FakeClock
) -> None:
    offer = _offer(
        service,
        clock,
        start="2026-01-01T00:00:00Z",
        end="2026-02-01T00:00:00Z",
        valid_until_ns=clock.now + 10**15,
    )
    with pytest.raises(TradeError, match="period ended at 2026-02-01"):
        service.accept(str(offer["id"]), BUYER, 1, budget=1e6)
