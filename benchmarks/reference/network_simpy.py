"""Independent SimPy reference model of twinverse's supply-network simulation.

The concept: a supply network is a set of *stock points* (one item at one
node) linked by *edges* (lanes that carry an item from a source point to a
target point). Every day each point looks at its stock and what it owes,
decides how much to make or order, and serves what it owes from what it has.
Three kinds of point exist: ``supply`` points ship up to a daily capacity from
unlimited raw material, ``made`` points turn bill-of-material components into
their item on capacity-limited lines, and ``bought`` points reorder over their
edges by a base-stock or (s, S) policy. Customers draw demand from points and
are served at once, later (backorders) or never (lost sales).

This file implements the contract in ``docs/simulation-network.md`` (and the
distributions of ``docs/simulation-line.md``) for **one replication at a time**,
in plain Python on top of SimPy, written from the contract alone. It exists so
that twinverse's vectorised engine (``twinverse.sim.network``) can be checked
against a second, deliberately naive implementation: the two must agree on the
KPIs within confidence intervals. Clarity beats speed everywhere here.

How time works in this model:

* a single *day process* wakes at every integer time ``t`` and runs steps 2–6
  of "One day, in this order" (production, supply, demand, fulfilment,
  ordering) followed by the end-of-day bookkeeping, each step a plain loop;
* every shipment is its own SimPy process that sleeps ``lead − 0.5`` days and
  then adds its quantity to the target's on-hand stock. A shipment due on day
  ``t`` therefore lands at ``t − 0.5``, i.e. strictly before the day process of
  day ``t`` runs: this *is* step 1 (arrivals), and it happens before
  production as the contract requires;
* what a point owes (customer backorders and open orders of downstream edges)
  is a FIFO list of :class:`Claim` records ``(owner, quantity, day)``;
* the start (on-hand ``initial`` and a pre-filled pipeline on every primary
  edge) is set up by :meth:`Replication.run` before the clock starts.

Interpretations taken where the contract leaves room are listed in the
docstrings next to the code that embodies them, and collected in
``INTERPRETATIONS`` below.

Usage::

    python benchmarks/reference/network_simpy.py model.json 50 [--seed 0] [--allocation tiers]

The command prints the mean and 95 % half-width of every scalar KPI as JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import simpy

__all__ = ["ALLOCATIONS", "INTERPRETATIONS", "draw", "lead_days", "replicate", "run", "share_out"]

# Quantities below this are treated as zero: proportional sharing leaves
# float crumbs (1e-13 of a unit) that must not keep claims alive forever.
EPS = 1e-9

# How a point (or a supplier) shares out too little stock (capacity) among its
# claims: "tiers" = what is owed from earlier days first, all of it in one
# proportion, then today's customer demand in one proportion (the contract's
# fulfilment rule, the default); "age" = oldest day first, same-day claims in
# proportion; "proportional" = one ratio for every claim regardless of age.
# The last two are earlier readings of the contract, kept switchable so a
# disagreement with the engine can be traced to this choice.
ALLOCATIONS = ("tiers", "age", "proportional")

INTERPRETATIONS = """\
- Supply shipments take the supply row's lead time (shipping -> available to the lane)
  PLUS the edge's lead time, both drawn per shipment; the shipment's lead time (their
  sum) is what is rounded, once ("arrive after a lead-time draw"), and is >= 1. So a
  supplier with lead time 0 adds nothing. (An earlier version rounded each leg and
  made each >= 1; that adds a day to every zero-lead supplier.)
- Rounding of a lead time is round-half-up (floor(x + 0.5)), then max(1, .). Ties
  (x.5 exactly) only happen with constant lead times; the contract does not say which
  way they go.
- The edge lead-time factor multiplies the edge's drawn lead time (before rounding),
  using the factor of the day the shipment leaves; it does not touch the supply leg.
- schedules.supply_capacity is keyed by the index of the row in `supply` (the contract
  says so; like the other schedules, keyed by the row index of their own section).
- A closed edge ships nothing (neither from a supplier nor from a stock point): its
  claims wait in the source's backlog and are skipped when stock/capacity is shared out.
  Goods already in transit on it keep moving and arrive on time. New orders are still
  split by `share` as given (so a closed primary keeps receiving its share); no
  normalisation of shares is done.
- Sharing out short stock (fulfilment) is in two tiers (`allocation="tiers"`, the
  default): everything owed from earlier days (customer backorders and open orders of
  open downstream edges, whatever their day) gets one ratio min(1, stock / owed); today's
  customer demand then gets one ratio min(1, stock left / today's demand).
- A supplier's backlog holds only orders of earlier days (orders placed on day t are
  served from t+1), so with "tiers" its capacity is shared in one ratio over every open
  order: "oldest orders first, split to edges in proportion to their outstanding orders"
  read as: what ships is min(backlog, capacity), and each edge gets it in proportion to
  what it is owed.
- `allocation="age"` (an earlier reading) serves claims oldest day first, the claims of
  the day at which stock runs out in proportion; `allocation="proportional"` gives every
  claim, today's demand included, one ratio min(1, stock / everything owed).
- A blocked demand row (schedules.demand_blocked) still draws demand, counted in
  `demand`; none of its claims (today's demand, backorders) is served while blocked.
  Today's demand of a blocked row becomes a backorder, or is lost with lost sales.
- A shipment is one edge's total served on one day (one lead-time draw each).
- Demand factor multiplies the drawn demand: factor x max(0, Normal(mean, cv*mean)).
- Line capacity factor multiplies the line's capacity: load = sum(wanted / (cap x f)).
  A line with capacity 0 (or factor 0) stops every product that wants to use it.
- A line's capacity is shared across BOM depths: each line starts the day with share 1;
  a depth is scaled by left / load on a line where its load exceeds the share left, and
  then uses up sum(planned / (cap x f)) of the share -- planned as limited by capacity,
  before the materials check (the contract's "what they then plan").
- The start: every primary edge (role missing = primary) has points[target].mean_demand
  arriving on each of the days 1 .. edges[e].warm_days (both default to 0), counted in
  the target's in-transit stock; nothing is owed and no cost is booked for it.
- `backlog` in production wanted and in the inventory position counts everything the
  point owes, including orders of currently closed edges and backorders of blocked
  demand rows: they are still owed, they only wait (step 5's "not owed while it is
  closed" is read as "not served today").
- Supply points hold no stock: their `initial` is ignored and they add no holding cost.
- Demand rows' `lead_time` (delivery to the customer) affects no KPI and is ignored;
  per-site cost factors have no schedule in the reference and are not modelled.
- daily_fill_rate[t] is 1.0 on a day without demand; fill_rate is 1.0 without demand.
- daily_backlog has one entry per node named by any point (supply nodes included).
"""


# --------------------------------------------------------------------------- draws


def draw(rng: np.random.Generator, spec: dict[str, Any]) -> float:
    """One draw of a distribution in the notation of ``docs/simulation-line.md``."""
    kind = spec["dist"]
    if kind == "constant":
        return float(spec["value"])
    if kind == "exponential":
        return float(rng.exponential(spec["mean"]))
    if kind == "normal":
        return max(0.0, float(rng.normal(spec["mean"], spec["sd"])))
    if kind == "lognormal":
        mean, cv = float(spec["mean"]), float(spec["cv"])
        sigma2 = math.log(1.0 + cv * cv)
        mu = math.log(mean) - sigma2 / 2.0
        return float(math.exp(rng.normal(mu, math.sqrt(sigma2))))
    if kind == "gamma":
        mean, cv = float(spec["mean"]), float(spec["cv"])
        if cv == 0.0:
            return mean
        return float(rng.gamma(1.0 / (cv * cv), mean * cv * cv))
    if kind == "uniform":
        return float(rng.uniform(spec["low"], spec["high"]))
    if kind == "triangular":
        low, mode, high = float(spec["low"]), float(spec["mode"]), float(spec["high"])
        if low == high:  # numpy refuses a degenerate triangle
            return low
        return float(rng.triangular(low, mode, high))
    if kind == "weibull":
        return float(spec["scale"]) * float(rng.weibull(spec["shape"]))
    raise ValueError(f"unknown distribution {kind!r}")


def lead_days(
    rng: np.random.Generator, spec: dict[str, Any], factor: float = 1.0, before: float = 0.0
) -> int:
    """A lead time in whole days: ``before`` + draw × factor, rounded half-up, at least 1.

    ``before`` is a leg already drawn (a supplier's own lead time), so that a
    shipment's whole lead time is rounded once.
    """
    return max(1, math.floor(before + draw(rng, spec) * factor + 0.5))


# ----------------------------------------------------------------------- schedules


class Schedules:
    """The per-day disruption factors of the model's ``schedules`` section.

    Every schedule maps a row index (as a string, JSON-style) to windows
    ``[start, end, factor]`` covering days ``start <= t < end``; overlapping
    windows multiply. ``edge_closed`` and ``demand_blocked`` windows are
    ``[start, end]``. Rows are indices into their own section (``supply_capacity``
    into ``supply``, ``demand_*`` into ``demand`` …).
    """

    def __init__(self, raw: dict[str, Any] | None) -> None:
        raw = raw or {}
        self._windows = {
            name: {int(k): [tuple(w) for w in v] for k, v in (raw.get(name) or {}).items()}
            for name in (
                "line_capacity",
                "supply_capacity",
                "edge_closed",
                "edge_lead_factor",
                "demand_factor",
                "demand_blocked",
            )
        }

    def factor(self, name: str, index: int, t: int) -> float:
        f = 1.0
        for start, end, value in self._windows[name].get(index, ()):
            if start <= t < end:
                f *= float(value)
        return f

    def _within(self, name: str, index: int, t: int) -> bool:
        return any(w[0] <= t < w[1] for w in self._windows[name].get(index, ()))

    def closed(self, edge: int, t: int) -> bool:
        return self._within("edge_closed", edge, t)

    def blocked(self, demand_row: int, t: int) -> bool:
        return self._within("demand_blocked", demand_row, t)


# -------------------------------------------------------------------- the network


@dataclass(slots=True)
class Claim:
    """One entry of a point's FIFO backlog: ``qty`` owed to ``owner`` since ``day``.

    ``owner`` is ``("demand", row)`` for a customer backorder or
    ``("edge", index)`` for an open order of a downstream edge.
    """

    owner: tuple[str, int]
    qty: float
    day: int


@dataclass
class Network:
    """The model dictionary, indexed the way the daily loops need it."""

    model: dict[str, Any]
    points: list[dict[str, Any]] = field(init=False)
    edges: list[dict[str, Any]] = field(init=False)
    demand: list[dict[str, Any]] = field(init=False)
    supply: list[dict[str, Any]] = field(init=False)
    production: list[dict[str, Any]] = field(init=False)
    in_edges: list[list[int]] = field(init=False)
    demand_at: list[list[int]] = field(init=False)
    depth_groups: list[list[int]] = field(init=False)
    nodes: list[str] = field(init=False)

    def __post_init__(self) -> None:
        m = self.model
        self.points = list(m["points"])
        self.edges = list(m.get("edges", []))
        self.demand = list(m.get("demand", []))
        self.supply = list(m.get("supply", []))
        self.production = list(m.get("production", []))
        n = len(self.points)
        self.in_edges = [[] for _ in range(n)]
        for e, edge in enumerate(self.edges):
            self.in_edges[edge["target"]].append(e)
        self.demand_at = [[] for _ in range(n)]
        for d, row in enumerate(self.demand):
            if self.points[row["point"]]["kind"] == "supply":
                raise ValueError(f"demand row {d} is served from a supply point")
            self.demand_at[row["point"]].append(d)
        for p, point in enumerate(self.points):
            if point["kind"] not in ("made", "bought", "supply"):
                raise ValueError(f"point {p}: unknown kind {point['kind']!r}")
        self.depth_groups = self._depth_groups()
        self.nodes = list(dict.fromkeys(p["node"] for p in self.points))

    def _depth_groups(self) -> list[list[int]]:
        """Production rows grouped by BOM depth, shallowest first.

        Depth 0: the BOM holds no made point; depth k: the deepest made
        component has depth k − 1. Making shallow items first lets a component
        made today be used today.
        """
        row_of = {row["point"]: r for r, row in enumerate(self.production)}
        depth: dict[int, int] = {}

        def depth_of(r: int, seen: tuple[int, ...]) -> int:
            if r in depth:
                return depth[r]
            if r in seen:
                raise ValueError("the bills of material contain a cycle")
            made = [row_of[i] for i, _ in self.production[r]["bom"] if i in row_of]
            depth[r] = 1 + max((depth_of(c, (*seen, r)) for c in made), default=-1)
            return depth[r]

        groups: dict[int, list[int]] = defaultdict(list)
        for r in range(len(self.production)):
            groups[depth_of(r, ())].append(r)
        return [groups[k] for k in sorted(groups)]


def _wanted(policy: dict[str, Any], on_hand: float, owed: float) -> float:
    """Production wanted at a made point (step 2 of the contract)."""
    kind = policy["kind"]
    if kind == "base-stock":
        return max(0.0, float(policy["S"]) + owed - on_hand)
    if kind in ("s-S", "min-max"):
        if on_hand - owed <= float(policy["s"]):
            return max(0.0, float(policy["S"]) + owed - on_hand)
        return 0.0
    raise ValueError(f"unknown policy {kind!r}")


def _order_quantity(policy: dict[str, Any], position: float) -> float:
    """Order of a bought point from its inventory position (step 6)."""
    kind = policy["kind"]
    if kind == "base-stock":
        return max(0.0, float(policy["S"]) - position)
    if kind in ("s-S", "min-max"):
        if position <= float(policy["s"]):
            return max(0.0, float(policy["S"]) - position)
        return 0.0
    raise ValueError(f"unknown policy {kind!r}")


def share_out(
    claims: list[Claim], available: float, allocation: str = "tiers", today: int = 0
) -> list[float]:
    """Serve ``claims`` from ``available``; return what each got and reduce its ``qty``.

    The claims fall into cohorts served one after the other; within the cohort
    at which ``available`` runs out, every claim gets the same fraction of what
    it is owed. The cohorts depend on ``allocation``: ``"tiers"`` (the
    contract's rule) has two, the claims of days before ``today`` and those of
    ``today``; ``"age"`` has one per day, oldest first; ``"proportional"`` has
    a single one. ``claims`` must be in day order (the backlogs are, by
    construction); raises ValueError for an unknown ``allocation``.
    """
    if allocation not in ALLOCATIONS:
        raise ValueError(f"allocation must be one of {ALLOCATIONS}, got {allocation!r}")
    served = [0.0] * len(claims)

    def cohort_of(c: Claim) -> int:
        if allocation == "age":
            return c.day
        if allocation == "tiers":
            return int(c.day >= today)
        return 0

    cohorts: list[list[int]] = []
    for i, c in enumerate(claims):
        if cohorts and cohort_of(claims[cohorts[-1][0]]) == cohort_of(c):
            cohorts[-1].append(i)
        else:
            cohorts.append([i])
    for cohort in cohorts:
        if available <= 0.0:
            break
        owed = sum(claims[i].qty for i in cohort)
        if owed <= 0.0:
            continue
        r = 1.0 if available >= owed else available / owed
        for i in cohort:
            served[i] = claims[i].qty * r
            claims[i].qty -= served[i]
        available = available - owed if r == 1.0 else 0.0
    return served


# -------------------------------------------------------------------- replication


class Replication:
    """One run of the network: state, the day process and the KPI tallies."""

    def __init__(
        self,
        net: Network,
        rng: np.random.Generator,
        trace: bool = False,
        allocation: str = "tiers",
    ) -> None:
        if allocation not in ALLOCATIONS:
            raise ValueError(f"allocation must be one of {ALLOCATIONS}, got {allocation!r}")
        self.net = net
        self.rng = rng
        self.allocation = allocation
        self.horizon = int(net.model["horizon"])
        self.lost_sales_mode = net.model.get("unmet", "backorder") == "lost-sales"
        if net.model.get("unmet", "backorder") not in ("backorder", "lost-sales"):
            raise ValueError(f"unknown unmet rule {net.model['unmet']!r}")
        self.sched = Schedules(net.model.get("schedules"))
        n = len(net.points)
        self.on_hand = [0.0 if p["kind"] == "supply" else float(p["initial"]) for p in net.points]
        self.in_transit = [0.0] * n
        self.backlog: list[list[Claim]] = [[] for _ in range(n)]
        self.env = simpy.Environment()

        self.k: dict[str, float] = dict.fromkeys(
            (
                "demand",
                "on_time",
                "shipped",
                "lost_sales",
                "revenue",
                "cost_production",
                "cost_transport",
                "cost_holding",
                "cost_material",
                "co2e_transport",
                "co2e_production",
            ),
            0.0,
        )
        self.daily_fill: list[float] = []
        self.daily_backlog: dict[str, list[float]] = {node: [] for node in net.nodes}

        # Optional per-day, per-point/edge series for tests and debugging.
        self.trace = trace
        h, ne = self.horizon, len(net.edges)
        self.tr_arrivals = [[0.0] * h for _ in range(n)]
        self.tr_produced = [[0.0] * h for _ in range(n)]
        self.tr_on_hand = [[0.0] * h for _ in range(n)]
        self.tr_shipped = [[0.0] * h for _ in range(ne)]
        self.tr_ordered = [[0.0] * h for _ in range(ne)]
        self.tr_demand = [[0.0] * h for _ in range(len(net.demand))]

    # -- SimPy processes -------------------------------------------------------

    def _day_process(self) -> Generator[simpy.Event, None, None]:
        for t in range(self.horizon):
            # Step 1 (arrivals) has already happened: shipments due today
            # landed at t − 0.5 in their own processes.
            self._production(t)
            self._supply(t)
            demand = self._demand(t)
            self._fulfilment(t, demand)
            self._ordering(t)
            self._end_of_day(t)
            yield self.env.timeout(1)

    def _shipment(self, target: int, qty: float, due: int) -> Generator[simpy.Event, None, None]:
        # Half a day early, so the goods are on hand before day `due` produces.
        yield self.env.timeout(due - self.env.now - 0.5)
        self.on_hand[target] += qty
        self.in_transit[target] = max(0.0, self.in_transit[target] - qty)
        if due < self.horizon:
            self.tr_arrivals[target][due] += qty

    def _send(self, t: int, edge_index: int, qty: float, supply_leg: float = 0.0) -> None:
        """Put ``qty`` on an edge today; it arrives after the (factored) lead time.

        ``supply_leg``: the supplier's drawn lead time (unrounded), for shipments
        from a supply point; the sum of both legs is rounded once.
        """
        edge = self.net.edges[edge_index]
        factor = self.sched.factor("edge_lead_factor", edge_index, t)
        days = lead_days(self.rng, edge["lead_time"], factor, before=supply_leg)
        target = edge["target"]
        self.in_transit[target] += qty
        self.env.process(self._shipment(target, qty, t + days))
        self.k["cost_transport"] += qty * float(edge.get("cost_per_unit", 0.0))
        self.k["co2e_transport"] += qty * float(edge.get("co2e_per_unit", 0.0))
        self.tr_shipped[edge_index][t] += qty

    # -- the steps of one day ------------------------------------------------

    def _owed(self, p: int) -> float:
        return sum(c.qty for c in self.backlog[p])

    def _production(self, t: int) -> None:
        """Step 2: make at every made point, shallowest BOM depth first.

        Each line starts the day with share 1 of its (factored) capacity; a
        depth uses what its planned quantities take of it, and the next depth
        gets what is left.
        """
        net = self.net

        def share_of_day(line: int, cap: float, qty: float) -> float:
            """The share of the line's day that ``qty`` units take (inf: the line is stopped)."""
            if qty <= 0.0:
                return 0.0
            effective = float(cap) * self.sched.factor("line_capacity", line, t)
            return qty / effective if effective > 0.0 else math.inf

        left: dict[int, float] = defaultdict(lambda: 1.0)  # share of each line left today
        for group in net.depth_groups:
            rows = [net.production[r] for r in group]

            wanted = []
            for row in rows:
                p = row["point"]
                policy = net.points[p]["policy"]
                wanted.append(_wanted(policy, self.on_hand[p], self._owed(p)))

            # Capacity: each line's load over the products of this depth, against its share left.
            load: dict[int, float] = defaultdict(float)
            for row, w in zip(rows, wanted, strict=True):
                for line, cap in row["lines"]:
                    load[line] += share_of_day(line, cap, w)
            scale = {line: (left[line] / x if x > left[line] else 1.0) for line, x in load.items()}
            planned = []
            for row, w in zip(rows, wanted, strict=True):
                planned.append(w * min((scale[line] for line, _ in row["lines"]), default=1.0))
            for row, q in zip(rows, planned, strict=True):
                for line, cap in row["lines"]:
                    left[line] = max(0.0, left[line] - share_of_day(line, cap, q))

            # Materials: a short component scales down every product using it.
            need: dict[int, float] = defaultdict(float)
            for row, q in zip(rows, planned, strict=True):
                for comp, per_unit in row["bom"]:
                    need[comp] += q * float(per_unit)
            ratio = {comp: min(1.0, self.on_hand[comp] / n) for comp, n in need.items() if n > 0.0}
            made = []
            for row, q in zip(rows, planned, strict=True):
                scale = min((ratio.get(comp, 1.0) for comp, _ in row["bom"]), default=1.0)
                made.append(q * scale)

            # Consume components, then add the product (a made component is
            # therefore available to the next depth group today).
            for row, q in zip(rows, made, strict=True):
                for comp, per_unit in row["bom"]:
                    self.on_hand[comp] = max(0.0, self.on_hand[comp] - q * float(per_unit))
            for row, q in zip(rows, made, strict=True):
                p = row["point"]
                self.on_hand[p] += q
                self.k["cost_production"] += q * float(row.get("unit_cost", 0.0))
                self.k["co2e_production"] += q * float(row.get("co2e_per_unit", 0.0))
                self.tr_produced[p][t] += q

    def _open_claims(self, p: int, t: int) -> list[Claim]:
        """The backlog entries of ``p`` that may be served today (closed edges and blocked rows wait)."""
        return [
            c
            for c in self.backlog[p]
            if not (
                self.sched.blocked(c.owner[1], t)
                if c.owner[0] == "demand"
                else self.sched.closed(c.owner[1], t)
            )
        ]

    def _purge(self, p: int) -> None:
        self.backlog[p] = [c for c in self.backlog[p] if c.qty > EPS]

    def _supply(self, t: int) -> None:
        """Step 3: suppliers ship from capacity, oldest orders first, split over edges."""
        net = self.net
        for s, row in enumerate(net.supply):
            p = row["point"]
            claims = self._open_claims(p, t)
            if not claims:
                continue
            cap = float(row["capacity"]) * self.sched.factor("supply_capacity", s, t)
            served = share_out(claims, max(0.0, cap), self.allocation, t)
            per_edge: dict[int, float] = defaultdict(float)
            for c, q in zip(claims, served, strict=True):
                if q > 0.0:
                    per_edge[c.owner[1]] += q
            for e, qty in per_edge.items():
                # One shipment per edge and day: the supplier's own lead time
                # (shipping -> available to the lane) comes before the lane's.
                self._send(t, e, qty, supply_leg=draw(self.rng, row["lead_time"]))
            unit_value = float(net.points[p].get("unit_value", 0.0))
            self.k["cost_material"] += sum(per_edge.values()) * unit_value
            self._purge(p)

    def _demand(self, t: int) -> list[float]:
        """Step 4: today's customer demand of every demand row."""
        out = []
        for d, row in enumerate(self.net.demand):
            mean, cv = float(row["mean"]), float(row["cv"])
            x = max(0.0, float(self.rng.normal(mean, cv * mean)))
            x *= self.sched.factor("demand_factor", d, t)
            out.append(x)
            self.tr_demand[d][t] = x
        return out

    def _ship_to_customer(self, d: int, qty: float) -> None:
        row = self.net.demand[d]
        self.k["shipped"] += qty
        self.k["revenue"] += qty * float(row.get("price", 0.0))
        self.k["cost_transport"] += qty * float(row.get("cost_per_unit", 0.0))
        self.k["co2e_transport"] += qty * float(row.get("co2e_per_unit", 0.0))

    def _fulfilment(self, t: int, demand: list[float]) -> None:
        """Step 5: every stock point serves what it owes from on-hand stock."""
        net = self.net
        on_time_today = 0.0
        for p, point in enumerate(net.points):
            if point["kind"] == "supply":
                continue
            # Today's demand joins the queue as the newest claims (day t); a
            # blocked row's demand is not served today, it goes straight to the rest.
            today, blocked = [], []
            for d in net.demand_at[p]:
                if demand[d] > 0:
                    claim = Claim(("demand", d), demand[d], t)
                    (blocked if self.sched.blocked(d, t) else today).append(claim)
            claims = self._open_claims(p, t) + today
            if not claims and not blocked:
                continue
            served = share_out(claims, self.on_hand[p], self.allocation, t)
            rest = self.on_hand[p] - sum(served)
            self.on_hand[p] = rest if rest > EPS else 0.0  # no float crumbs after a stock-out

            per_edge: dict[int, float] = defaultdict(float)
            n_old = len(claims) - len(today)
            for c, q in zip(claims[:n_old], served[:n_old], strict=True):
                if q <= 0.0:
                    continue
                if c.owner[0] == "edge":
                    per_edge[c.owner[1]] += q
                else:
                    self._ship_to_customer(c.owner[1], q)  # a backorder served late
            for e, qty in per_edge.items():
                self._send(t, e, qty)  # one shipment per edge and day
            self._purge(p)

            for c, q in zip(today + blocked, served[n_old:] + [0.0] * len(blocked), strict=True):
                on_time_today += q
                if q > 0.0:
                    self._ship_to_customer(c.owner[1], q)
                if c.qty > EPS:  # what is left of today's claim was not served today
                    if self.lost_sales_mode:
                        self.k["lost_sales"] += c.qty
                    else:
                        # Appended after older entries: the list stays in day order.
                        self.backlog[p].append(c)

        total = sum(demand)
        self.k["demand"] += total
        self.k["on_time"] += on_time_today
        self.daily_fill.append(on_time_today / total if total > 0.0 else 1.0)

    def _ordering(self, t: int) -> None:
        """Step 6: bought points order up to their policy, split over edges by share."""
        net = self.net
        for p, point in enumerate(net.points):
            if point["kind"] != "bought":
                continue
            open_orders = 0.0
            for e in net.in_edges[p]:
                src = net.edges[e]["source"]
                open_orders += sum(c.qty for c in self.backlog[src] if c.owner == ("edge", e))
            position = self.on_hand[p] + self.in_transit[p] + open_orders - self._owed(p)
            q = _order_quantity(point["policy"], position)
            if q <= EPS:
                continue
            for e in net.in_edges[p]:
                share = float(net.edges[e].get("share", 0.0))
                if share > 0.0:
                    src = net.edges[e]["source"]
                    self.backlog[src].append(Claim(("edge", e), q * share, t))
                    self.tr_ordered[e][t] += q * share

    def _end_of_day(self, t: int) -> None:
        net = self.net
        for p, point in enumerate(net.points):
            self.k["cost_holding"] += self.on_hand[p] * float(point.get("holding_per_day", 0.0))
            self.tr_on_hand[p][t] = self.on_hand[p]
        per_node: dict[str, float] = dict.fromkeys(net.nodes, 0.0)
        for p, point in enumerate(net.points):
            per_node[point["node"]] += sum(c.qty for c in self.backlog[p] if c.owner[0] == "demand")
        for node, value in per_node.items():
            self.daily_backlog[node].append(value)

    # -- driver --------------------------------------------------------------

    def _start(self) -> None:
        """The pipeline of the start: a primary edge's target demand arrives on days 1 … warm_days."""
        for edge in self.net.edges:
            if edge.get("role", "primary") != "primary":
                continue
            target = edge["target"]
            per_day = float(self.net.points[target].get("mean_demand", 0.0))
            if per_day <= 0.0:
                continue
            for due in range(1, int(edge.get("warm_days", 0)) + 1):
                self.in_transit[target] += per_day
                self.env.process(self._shipment(target, per_day, due))

    def run(self) -> dict[str, Any]:
        self._start()
        self.env.process(self._day_process())
        self.env.run(until=self.horizon)
        k = self.k
        backorders_end = sum(
            (c.qty for claims in self.backlog for c in claims if c.owner[0] == "demand"), 0.0
        )
        out: dict[str, Any] = {
            "demand": k["demand"],
            "fill_rate": k["on_time"] / k["demand"] if k["demand"] > 0.0 else 1.0,
            "shipped": k["shipped"],
            "backorders_end": backorders_end,
            "lost_sales": k["lost_sales"],
            "revenue": k["revenue"],
            "cost_production": k["cost_production"],
            "cost_transport": k["cost_transport"],
            "cost_holding": k["cost_holding"],
            "cost_material": k["cost_material"],
            "co2e_transport": k["co2e_transport"],
            "co2e_production": k["co2e_production"],
            "daily_fill_rate": self.daily_fill,
            "daily_backlog": self.daily_backlog,
        }
        if self.trace:
            out["trace"] = {
                "arrivals": self.tr_arrivals,  # [point][day], landed before day's production
                "produced": self.tr_produced,  # [point][day]
                "on_hand": self.tr_on_hand,  # [point][day], end of day
                "edge_shipped": self.tr_shipped,  # [edge][day], departures
                "edge_ordered": self.tr_ordered,  # [edge][day], orders placed
                "demand": self.tr_demand,  # [demand row][day]
            }
        return out


# ---------------------------------------------------------------------- public API


def run(
    model: dict[str, Any],
    seed: int | np.random.SeedSequence = 0,
    *,
    trace: bool = False,
    allocation: str = "tiers",
) -> dict[str, Any]:
    """One replication of ``model``; KPIs as in the contract's table.

    ``seed`` is an int (→ ``default_rng(SeedSequence(seed))``) or a
    ``SeedSequence`` (as spawned by :func:`replicate`). With ``trace=True`` a
    ``"trace"`` key holds per-day series (arrivals, production, stock, edge
    shipments and orders, demand) for inspection; it is not a KPI.
    ``allocation`` is one of :data:`ALLOCATIONS` (see there).
    """
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    rng = np.random.default_rng(ss)
    return Replication(Network(model), rng, trace, allocation).run()


def replicate(
    model: dict[str, Any], replications: int, seed: int = 0, *, allocation: str = "tiers"
) -> list[dict[str, Any]]:
    """``replications`` independent runs, seeded by ``SeedSequence(seed).spawn(n)``."""
    children = np.random.SeedSequence(seed).spawn(replications)
    return [run(model, child, allocation=allocation) for child in children]


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and 95 % half-width of every scalar KPI over replications."""
    out: dict[str, Any] = {"replications": len(results)}
    for key, value in results[0].items():
        if not isinstance(value, float | int):
            continue
        xs = np.array([r[key] for r in results], dtype=float)
        half = 1.96 * xs.std(ddof=1) / math.sqrt(len(xs)) if len(xs) > 1 else float("nan")
        out[key] = {"mean": float(xs.mean()), "ci95": float(half)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="network model JSON (NetworkModel.to_dict())")
    parser.add_argument("replications", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--allocation", choices=ALLOCATIONS, default="tiers")
    args = parser.parse_args(argv)
    model = json.loads(args.model.read_text())
    results = replicate(model, args.replications, args.seed, allocation=args.allocation)
    print(json.dumps(summarise(results), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
