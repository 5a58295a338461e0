"""Capacity a site has sold, as its twin records it after a settled trade.

A settled capacity trade writes ``capacity_commitments`` onto the seller's site
twin: one mapping per sale with ``trade``, ``resource`` (``machine-hours`` or
``units``; ``asset`` sales take no capacity), ``quantity``, ``unit``, the
period's ``start`` and ``end`` (RFC 3339) and the ``buyer``. The simulation and
the scheduler read them here, so both take the sold capacity out of the site
over that period; an entry they cannot read is reported, never guessed at.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from twinverse.errors import TwinverseError
from twinverse.twin.instant import NS_PER_S, parse_instant
from twinverse.twin.model import Entity
from twinverse.twin.quantity import TIME, parse_quantity

MACHINE_HOURS = "machine-hours"
UNITS = "units"
_HOURS = {"", "h", "hr", "hrs", "hour", "hours", "machine-hour", "machine-hours"}


@dataclass(frozen=True, slots=True)
class Commitment:
    """``amount`` sold from ``site`` over [``start``, ``end``) ns: hours, or units of product."""

    site: str
    trade: str
    resource: str  # MACHINE_HOURS or UNITS
    amount: float  # hours for machine-hours, pieces for units
    start: int
    end: int
    buyer: str

    @property
    def days(self) -> float:
        return (self.end - self.start) / (86_400 * NS_PER_S)

    def describe(self) -> str:
        what = f"{self.amount:g} h" if self.resource == MACHINE_HOURS else f"{self.amount:g} units"
        return f"trade {self.trade}: {what} sold to {self.buyer}"


def read_commitments(sites: Iterable[Entity]) -> tuple[list[Commitment], list[str]]:
    """The readable capacity sales of ``sites``, and a note for each entry that is not."""
    out: list[Commitment] = []
    notes: list[str] = []
    for site in sites:
        held = site.properties.get("capacity_commitments")
        if held is None:
            continue
        if not isinstance(held, list):
            notes.append(f"{site.id}: capacity_commitments is not a list; ignored")
            continue
        for i, raw in enumerate(held):
            where = f"{site.id}: capacity_commitments[{i}]"
            try:
                sale = _commitment(str(site.id), raw)
            except (TwinverseError, ValueError) as err:
                notes.append(f"{where}: {getattr(err, 'message', None) or err}; ignored")
                continue
            if sale is not None:
                out.append(sale)
    return out, notes


def _commitment(site: str, raw: Any) -> Commitment | None:
    if not isinstance(raw, dict):
        raise ValueError("is not a mapping")
    resource = raw.get("resource")
    if resource == "asset":
        return None  # an asset changes hands; it takes no capacity
    if resource not in (MACHINE_HOURS, UNITS):
        raise ValueError(f"resource must be machine-hours, units or asset (got {resource!r})")
    quantity = raw.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int | float):
        raise ValueError(f"quantity must be a number (got {quantity!r})")
    if not math.isfinite(quantity) or quantity < 0:
        raise ValueError(f"quantity must be finite and not negative (got {quantity!r})")
    amount = float(quantity)
    unit = str(raw.get("unit") or "").strip()
    if resource == MACHINE_HOURS and unit.lower() not in _HOURS:
        amount = parse_quantity(f"{quantity} {unit}", TIME).magnitude / 3600
    start, end = (_instant(raw.get(k), k) for k in ("start", "end"))
    if end <= start:
        raise ValueError("the period must end after it starts")
    return Commitment(
        site, str(raw.get("trade", "")), resource, amount, start, end, str(raw.get("buyer", ""))
    )


def _instant(value: Any, key: str) -> int:
    if not isinstance(value, str):
        raise ValueError(f"{key} must be an RFC 3339 time (got {value!r})")
    return parse_instant(value)
