"""Capacity and asset trades between companies: offer, accept, settle — each step signed.

An *offer* names a seller (did:key), a site of the seller's twin, a resource
(machine-hours or product units per period, or an asset), a quantity, a period,
a unit price and an expiry. An *acceptance* names the offer by its digest, a
buyer, a quantity and a budget. The rules are pure functions:

* only the owner of the site's twin may offer (the seller DID is a key bound to
  the twin's prefix);
* an acceptance must come from another company, before the offer expires and
  before its period ends, for a positive quantity not above what remains, and
  the total must fit the budget in the offer's currency;
* settlement moves the accepted quantity from seller to buyer as a
  :class:`CapacityChange` that the edges apply to the twins, so the simulation
  and scheduler see the traded capacity.

Every document carries an eddsa-jcs-2022 proof by the acting party.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from twinverse.trust.credentials import parse_time
from twinverse.trust.errors import TradeError, TrustError
from twinverse.trust.integrity import canonical, verify_document
from twinverse.twin.ids import prefix_of


class ResourceKind(StrEnum):
    MACHINE_HOURS = "machine-hours"
    UNITS = "units"
    ASSET = "asset"


class TradeState(StrEnum):
    OFFERED = "offered"
    SETTLED = "settled"  # fully taken
    PARTLY_SETTLED = "partly-settled"


def digest(doc: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(dict(doc))).hexdigest()


@dataclass(frozen=True, slots=True)
class CapacityChange:
    """What a settled trade changes: ``quantity`` of ``resource`` at ``site`` moves to ``buyer``."""

    trade: str
    site: str
    resource: ResourceKind
    quantity: float
    unit: str
    start: str
    end: str
    seller: str
    buyer: str


def _num(doc: Mapping[str, Any], path: str) -> float:
    value: Any = doc
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TradeError(f"{path} must be a number (got {value!r})")
    return float(value)


def _signer(doc: Mapping[str, Any], party: str) -> str:
    try:
        proof = verify_document(doc)
    except TrustError as err:
        raise TradeError(f"the {party}'s signature does not verify: {err.message}") from err
    return proof.controller


def check_offer(offer: Mapping[str, Any], owner_dids: Callable[[str], set[str]]) -> None:
    """Raise TradeError unless the offer is well-formed and signed by the owner of its site."""
    if offer.get("type") != "CapacityOffer":
        raise TradeError(f"expected a CapacityOffer (got type {offer.get('type')!r})")
    try:
        ResourceKind(str(offer.get("resource")))
    except ValueError:
        kinds = ", ".join(k.value for k in ResourceKind)
        raise TradeError(
            f"resource must be one of {kinds} (got {offer.get('resource')!r})"
        ) from None
    if _num(offer, "quantity") <= 0 or _num(offer, "price.perUnit") < 0:
        raise TradeError("quantity must be positive and the price not negative")
    start = parse_time(offer.get("period", {}).get("start"), field="period.start")
    end = parse_time(offer.get("period", {}).get("end"), field="period.end")
    if end <= start:
        raise TradeError("the period must end after it starts")
    seller = _signer(offer, "seller")
    if seller != offer.get("seller"):
        raise TradeError(f"signed by {seller}, but the seller is {offer.get('seller')}")
    site = str(offer.get("site", ""))
    if seller not in owner_dids(prefix_of(site)):
        raise TradeError(f"{seller} does not own the twin of {site!r}; only its owner may offer it")


def check_acceptance(
    offer: Mapping[str, Any], acceptance: Mapping[str, Any], *, remaining: float, now_ns: int
) -> float:
    """Raise TradeError unless ``acceptance`` may take ``offer``; returns the total price."""
    if acceptance.get("type") != "CapacityAcceptance":
        raise TradeError(f"expected a CapacityAcceptance (got {acceptance.get('type')!r})")
    if acceptance.get("offerDigest") != digest(offer):
        raise TradeError("the acceptance refers to another version of the offer")
    buyer = _signer(acceptance, "buyer")
    if buyer != acceptance.get("buyer"):
        raise TradeError(f"signed by {buyer}, but the buyer is {acceptance.get('buyer')}")
    if buyer == offer.get("seller"):
        raise TradeError("a company cannot accept its own offer")
    now = datetime.fromtimestamp(now_ns / 1e9, UTC)
    if now > parse_time(offer.get("validUntil"), field="validUntil"):
        raise TradeError(f"the offer expired at {offer.get('validUntil')}")
    if now >= parse_time(offer.get("period", {}).get("end"), field="period.end"):
        raise TradeError(f"the offer's period ended at {offer['period']['end']}")
    quantity = _num(acceptance, "quantity")
    if not 0 < quantity <= remaining:
        raise TradeError(f"quantity {quantity:g} is not in (0, {remaining:g}] (what remains)")
    if offer.get("resource") == ResourceKind.ASSET and quantity != _num(offer, "quantity"):
        raise TradeError("an asset is accepted whole")
    total = quantity * _num(offer, "price.perUnit")
    currency = offer.get("price", {}).get("currency")
    if acceptance.get("budget", {}).get("currency") != currency:
        raise TradeError(f"the budget must be in the offer's currency {currency}")
    budget = _num(acceptance, "budget.amount")
    if total > budget:
        raise TradeError(f"the total {total:,.2f} {currency} exceeds the budget {budget:,.2f}")
    return total


def capacity_change(offer: Mapping[str, Any], acceptance: Mapping[str, Any]) -> CapacityChange:
    return CapacityChange(
        trade=str(offer["id"]),
        site=str(offer["site"]),
        resource=ResourceKind(str(offer["resource"])),
        quantity=_num(acceptance, "quantity"),
        unit=str(offer.get("unit", "")),
        start=str(offer["period"]["start"]),
        end=str(offer["period"]["end"]),
        seller=str(offer["seller"]),
        buyer=str(acceptance["buyer"]),
    )
