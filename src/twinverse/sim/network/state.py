"""Starting a network simulation from the twin's state instead of from steady state.

The scenario document gives the network's structure (points, lanes, lines,
policies); the twin, as of now or a past time, gives where things stand:

- **stock**: a site's, warehouse's or supplier's entity may hold a ``stock``
  property, a mapping from item id to the quantity on hand
  (``{"stator-150": 830, "coil-kit": "1200 pcs"}``); it replaces that point's
  initial stock. Items the network does not hold there are listed in the notes.
- **machines**: a machine whose ``state`` says it is not producing (``down``,
  ``fault``, ``stopped``, ``maintenance`` …) takes its share out of every line
  resource it belongs to, from day 0 until it is expected back: its
  ``down_until`` instant if the twin has one, else its mean time to repair
  (``mttr``), at least one day.
- **sold capacity**: a site's ``capacity_commitments`` (written when a capacity
  trade settles, :mod:`twinverse.twin.commitments`) cut its line resources over
  the sale's period. Machine-hours come out of every machine group of the site in
  proportion to its machine time (hours per calendar day over the period against
  the site's machine-hours per day); units of product take, on each group, the
  time those units need there, averaged over the products the site makes.
- **supplier scores**: a supplier's ``supplier_score`` (0–100, from its verified
  credentials, written by ``twinverse trust score --apply``) goes onto the model,
  where a ``supplier-score`` mitigation uses it as a sourcing rule.

:func:`read_state` reads that from a graph; :class:`StartState` changes a
:class:`NetworkModel` and adds the outages to every plan of a study, so the
baseline is "from here, with nothing else going wrong".
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from twinverse.errors import TwinverseError
from twinverse.scenario.schema import DisruptionKind
from twinverse.sim.disruptions import SALE, Effect, Plan, Profile, Window
from twinverse.sim.network.model import DAY, NetworkModel, PointKind
from twinverse.twin.commitments import MACHINE_HOURS, Commitment, read_commitments
from twinverse.twin.distribution import Distribution
from twinverse.twin.graph import TwinGraph
from twinverse.twin.ids import prefix_of
from twinverse.twin.instant import NS_PER_S, format_instant, parse_instant
from twinverse.twin.model import EntityKind
from twinverse.twin.quantity import Quantity, parse_quantity

NOT_PRODUCING = frozenset(
    {"down", "fault", "faulted", "error", "stopped", "aborted", "held", "maintenance", "broken"}
)
NODE_KINDS = (EntityKind.SITE, EntityKind.WAREHOUSE, EntityKind.SUPPLIER)


@dataclass(frozen=True, slots=True)
class Outage:
    """A line resource short of some of its machines for the first ``days`` days."""

    line: int
    share_down: float
    days: int
    machines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SoldCapacity:
    """Line resources cut by ``shares`` from day ``start`` to ``end`` (exclusive): a sale."""

    sale: Commitment
    lines: tuple[int, ...]
    names: tuple[str, ...]  # the resources' ids, as in NetworkModel.lines
    shares: tuple[float, ...]
    start: int
    end: int


@dataclass(slots=True)
class StartState:
    at: int  # ns since the epoch
    stock: dict[int, float] = field(default_factory=dict)  # point → on hand
    outages: list[Outage] = field(default_factory=list)
    sold: list[SoldCapacity] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)  # supplier node → score
    notes: list[str] = field(default_factory=list)

    def apply(self, model: NetworkModel) -> NetworkModel:
        """A copy of ``model`` that starts with the twin's stock and knows its supplier scores."""
        out = copy.deepcopy(model)
        for point, amount in self.stock.items():
            out.points[point].initial = amount
        out.supplier_score = dict(self.scores)
        out.notes = [*out.notes, *self.notes]
        return out

    def add_known(self, plan: Plan, replications: int) -> Plan:
        """``plan`` with what the twin already knows: machines down now (as breakdowns from
        day 0) and capacity sold over its periods."""
        every = np.ones(replications, dtype=bool)
        for cut in self.sold:
            for line, share in zip(cut.lines, cut.shares, strict=True):
                plan.windows.append(
                    Window(
                        id=f"sold:{cut.sale.trade}",
                        kind=SALE,
                        profile=Profile.CUT,
                        severity=share,
                        targets={Effect.LINE_CAPACITY: np.array([line], dtype=np.intp)},
                        occurs=every,
                        start=np.full(replications, cut.start, dtype=np.int64),
                        end=np.full(replications, cut.end, dtype=np.int64),
                    )
                )
        for o in self.outages:
            plan.windows.append(
                Window(
                    id=f"now:{o.machines[0]}"
                    + (f"+{len(o.machines) - 1}" if o.machines[1:] else ""),
                    kind=DisruptionKind.MACHINE_BREAKDOWN,
                    profile=Profile.CUT,
                    severity=o.share_down,
                    targets={Effect.LINE_CAPACITY: np.array([o.line], dtype=np.intp)},
                    occurs=np.ones(replications, dtype=bool),
                    start=np.zeros(replications, dtype=np.int64),
                    end=np.full(replications, o.days, dtype=np.int64),
                )
            )
        return plan

    def summary(self) -> dict[str, Any]:
        return {
            "as_of": format_instant(self.at),
            "stock_points": len(self.stock),
            "supplier_scores": self.scores,
            "outages": [
                {"line": o.line, "share_down": o.share_down, "days": o.days, "machines": o.machines}
                for o in self.outages
            ],
            "sold_capacity": [
                {
                    "trade": c.sale.trade,
                    "site": c.sale.site,
                    "buyer": c.sale.buyer,
                    "resource": c.sale.resource,
                    "amount": c.sale.amount,
                    "days": [c.start, c.end],
                    "cut": dict(zip(c.names, c.shares, strict=True)),
                }
                for c in self.sold
            ],
            "notes": self.notes,
        }


def read_state(model: NetworkModel, graph: TwinGraph, at: int) -> StartState:
    """The stock and machine outages in ``graph`` (the twin as of ``at``) that ``model`` can use."""
    state = StartState(at)
    point_of = {(p.node, p.item): i for i, p in enumerate(model.points)}
    for entity in graph.entities():
        if entity.kind not in NODE_KINDS:
            continue
        stock = entity.properties.get("stock")
        if stock is None:
            continue
        node = entity.id.rsplit("/", 1)[-1]
        if not isinstance(stock, dict):
            state.notes.append(f"{entity.id}: stock is not a mapping of item to quantity; ignored")
            continue
        for item, raw in stock.items():
            amount = _amount(raw)
            point = point_of.get((node, str(item)))
            if amount is None or amount < 0:
                state.notes.append(f"{entity.id}: stock of {item!r} is not a quantity: {raw!r}")
            elif point is None or model.points[point].kind is PointKind.SUPPLY:
                state.notes.append(f"{entity.id}: the network holds no {item!r} there; ignored")
            else:
                state.stock[point] = amount
    state.outages = _outages(model, graph, at, state.notes)
    for entity in graph.entities(EntityKind.SUPPLIER):
        score = entity.properties.get("supplier_score")
        if isinstance(score, int | float) and not isinstance(score, bool) and 0 <= score <= 100:
            state.scores[entity.id.rsplit("/", 1)[-1]] = float(score)
        elif score is not None:
            state.notes.append(f"{entity.id}: supplier_score {score!r} is not 0–100; ignored")
    sales, notes = read_commitments(graph.entities(EntityKind.SITE))
    state.notes += notes
    state.sold = [c for sale in sales if (c := _sold(model, sale, at, state.notes)) is not None]
    return state


def _sold(model: NetworkModel, sale: Commitment, at: int, notes: list[str]) -> SoldCapacity | None:
    """The cut a sale makes on the site's line resources over the simulated days it covers."""
    site = sale.site.removeprefix(prefix_of(sale.site) + "/")
    day_ns = DAY * NS_PER_S
    start = max(0, math.floor((sale.start - at) / day_ns))
    end = min(model.horizon, math.ceil((sale.end - at) / day_ns))
    if end <= start:
        when = "ended before" if sale.end <= at else "starts after"
        notes.append(f"{sale.describe()} {when} the simulated period; no effect")
        return None
    lines = [i for i, ref in enumerate(model.lines) if ref.site == site]
    if not lines:
        notes.append(f"{sale.describe()}: site {site!r} has no simulated line; no effect")
        return None
    per_day = sale.amount / sale.days
    if sale.resource == MACHINE_HOURS:
        have = sum(model.lines[i].seconds_per_day for i in lines) / 3600
        shares = [per_day / have] * len(lines)
    else:
        # Each unit of the site's product mix takes 1/capacity of a resource's day.
        made = [r for r in model.production if model.points[r.point].node == site]
        shares = [
            per_day * sum(1 / cap for r in made for j, cap in r.lines if j == i) / len(made)
            for i in lines
        ]
    if max(shares) > 1:
        notes.append(
            f"{sale.describe()} is more than site {site!r} can make in that period; "
            f"its lines are cut to nothing"
        )
    names = tuple(model.lines[i].id for i in lines)
    cut = tuple(min(x, 1.0) for x in shares)
    return SoldCapacity(sale, tuple(lines), names, cut, start, end)


def _outages(model: NetworkModel, graph: TwinGraph, at: int, notes: list[str]) -> list[Outage]:
    down: dict[tuple[str, str], dict[str, int]] = {}  # (site, line) → machine → days
    for entity in graph.entities(EntityKind.MACHINE):
        state = entity.properties.get("state")
        if not isinstance(state, str) or state.strip().lower() not in NOT_PRODUCING:
            continue
        parts = entity.id.removeprefix(prefix_of(entity.id) + "/").split("/")
        site, machine = parts[0], parts[-1]
        line = parts[-2] if len(parts) >= 3 else ""
        down.setdefault((site, line), {})[machine] = _days_down(entity.properties, at)
    outages = []
    for index, ref in enumerate(model.lines):
        machines = ref.id.split("/", 2)[2].split("+")
        hit = down.get((ref.site, ref.line), {})
        out = [m for m in machines if m in hit]
        if out:
            outages.append(
                Outage(index, len(out) / len(machines), max(hit[m] for m in out), tuple(out))
            )
    if down and not outages:
        notes.append("machines are down in the twin, but none of them is on a simulated line")
    return outages


def _days_down(properties: dict[str, Any], at: int) -> int:
    until = properties.get("down_until")
    if isinstance(until, str):
        try:
            until = parse_instant(until)
        except TwinverseError:
            until = None
    if isinstance(until, int | float) and until > at:
        return max(1, math.ceil((until - at) / (DAY * NS_PER_S)))
    mttr = properties.get("mttr")
    seconds = _seconds(mttr)
    return max(1, math.ceil(seconds / DAY)) if seconds else 1


def _seconds(value: Any) -> float | None:
    if isinstance(value, Quantity):
        return value.magnitude
    if isinstance(value, Distribution):
        return value.mean
    return None


def _amount(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return float(raw) if math.isfinite(raw) else None
    if isinstance(raw, Quantity):
        return raw.magnitude
    if isinstance(raw, str):
        try:
            return parse_quantity(raw).magnitude
        except TwinverseError:
            return None
    return None
