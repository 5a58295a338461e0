"""Disruptions and mitigations as data, turned into per-replication schedules.

A disruption kind is a row of :data:`KINDS`: which part of the network it acts
on (:class:`Effect`), how its targets in the scenario become indices of the
compiled network, and how its severity becomes a factor over time
(:class:`Profile`). Nothing else in the simulator knows the kinds by name; a
new kind is a new row.

A :class:`Plan` is what the engine applies: for one named scenario and a block
of replications, each disruption's occurrence, start and end day drawn per
replication (chained disruptions start when their predecessor ends), and the
mitigations' standing changes (edge shares, extra stock, overtime).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from twinverse.errors import TwinverseError
from twinverse.scenario.schema import (
    Disruption,
    DisruptionKind,
    Mitigation,
    MitigationKind,
    NamedScenario,
    Scenario,
)
from twinverse.sim.dist import Dist
from twinverse.sim.network.model import DAY, EdgeRole, NetworkModel, PointKind


class PlanError(TwinverseError):
    code = "simulation-plan"


class Effect(StrEnum):
    """The part of the network a disruption changes, each a factor per replication and day."""

    LINE_CAPACITY = "line-capacity"
    SUPPLY_CAPACITY = "supply-capacity"
    EDGE_CLOSED = "edge-closed"
    DEMAND_BLOCKED = "demand-blocked"
    EDGE_LEAD = "edge-lead-time"
    DEMAND = "demand"
    ENERGY_COST = "energy-cost"


class Profile(StrEnum):
    CUT = "cut"  # factor 1 − severity while active
    RAISE = "raise"  # factor 1 + severity while active
    CLOSE = "close"  # closed while active
    LEARNING = "learning"  # cut that fades as people learn: 1 − severity·exp(−3·elapsed/duration)


Targets = dict[Effect, np.ndarray]
Resolver = Callable[[Disruption, NetworkModel], Targets]


@dataclass(frozen=True, slots=True)
class KindRow:
    profile: Profile
    resolve: Resolver
    what: str


def _lines_at(model: NetworkModel, sites: Sequence[str]) -> np.ndarray:
    return np.array([i for i, line in enumerate(model.lines) if line.site in sites], dtype=np.intp)


def _sites(d: Disruption, model: NetworkModel) -> Targets:
    return {Effect.LINE_CAPACITY: _lines_at(model, d.targets)}


def _know_how(d: Disruption, model: NetworkModel) -> Targets:
    # A target that is a line hits that line; a site hits its lines whose machines need the skill.
    chosen = [
        i
        for i, line in enumerate(model.lines)
        if line.line in d.targets or (line.site in d.targets and d.skill in line.skills)
    ]
    return {Effect.LINE_CAPACITY: np.array(chosen, dtype=np.intp)}


def _lines(d: Disruption, model: NetworkModel) -> Targets:
    chosen = [i for i, line in enumerate(model.lines) if line.line in d.targets]
    return {Effect.LINE_CAPACITY: np.array(chosen, dtype=np.intp)}


def _suppliers(d: Disruption, model: NetworkModel) -> Targets:
    chosen = [
        i
        for i, s in enumerate(model.supply)
        if model.points[s.point].node in d.targets
        and (not d.items or model.points[s.point].item in d.items)
    ]
    return {Effect.SUPPLY_CAPACITY: np.array(chosen, dtype=np.intp)}


def _lanes_closed(d: Disruption, model: NetworkModel) -> Targets:
    return {
        Effect.EDGE_CLOSED: _edges_on(model, d.targets, d.items),
        Effect.DEMAND_BLOCKED: np.array(
            [
                i
                for i, row in enumerate(model.demand)
                if row.lane in d.targets and (not d.items or row.item in d.items)
            ],
            dtype=np.intp,
        ),
    }


def _lanes_slow(d: Disruption, model: NetworkModel) -> Targets:
    return {Effect.EDGE_LEAD: _edges_on(model, d.targets, d.items)}


def _edges_on(model: NetworkModel, lanes: Sequence[str], items: Sequence[str]) -> np.ndarray:
    return np.array(
        [
            i
            for i, e in enumerate(model.edges)
            if e.lane in lanes and (not items or model.points[e.target].item in items)
        ],
        dtype=np.intp,
    )


def _export_ban(d: Disruption, model: NetworkModel) -> Targets:
    def barred(source_node: str, target_node: str, item: str) -> bool:
        origin = model.node_country.get(source_node)
        dest = model.node_country.get(target_node)
        if origin != d.country or dest == d.country:
            return False
        if d.targets and source_node not in d.targets:
            return False
        if d.destinations and dest not in d.destinations:
            return False
        return not d.items or item in d.items

    edges = [
        i
        for i, e in enumerate(model.edges)
        if barred(
            model.points[e.source].node, model.points[e.target].node, model.points[e.target].item
        )
    ]
    demand = [
        i
        for i, row in enumerate(model.demand)
        if barred(model.points[row.point].node, row.customer, row.item)
    ]
    return {
        Effect.EDGE_CLOSED: np.array(edges, dtype=np.intp),
        Effect.DEMAND_BLOCKED: np.array(demand, dtype=np.intp),
    }


def _customers(d: Disruption, model: NetworkModel) -> Targets:
    chosen = [
        i
        for i, row in enumerate(model.demand)
        if row.customer in d.targets and (not d.items or row.item in d.items)
    ]
    return {Effect.DEMAND: np.array(chosen, dtype=np.intp)}


def _energy(d: Disruption, model: NetworkModel) -> Targets:
    chosen = [
        i for i, row in enumerate(model.production) if model.points[row.point].node in d.targets
    ]
    return {Effect.ENERGY_COST: np.array(chosen, dtype=np.intp)}


KINDS: dict[DisruptionKind, KindRow] = {
    DisruptionKind.STRIKE: KindRow(
        Profile.CUT, _sites, "capacity of the site's lines cut by severity"
    ),
    DisruptionKind.MATERIAL_SHORTAGE: KindRow(
        Profile.CUT, _suppliers, "supplier capacity cut by severity"
    ),
    DisruptionKind.EXPORT_BAN: KindRow(
        Profile.CLOSE, _export_ban, "lanes out of the country closed for the items"
    ),
    DisruptionKind.LANE_CLOSURE: KindRow(Profile.CLOSE, _lanes_closed, "lanes closed"),
    DisruptionKind.PORT_CLOSURE: KindRow(
        Profile.CLOSE, _lanes_closed, "lanes through the port closed"
    ),
    DisruptionKind.KNOW_HOW_LOSS: KindRow(
        Profile.LEARNING,
        _know_how,
        "capacity of lines needing the skill cut, recovering on a learning curve",
    ),
    DisruptionKind.DEMAND_SURGE: KindRow(
        Profile.RAISE, _customers, "customer demand raised by severity"
    ),
    DisruptionKind.PORT_CONGESTION: KindRow(
        Profile.RAISE, _lanes_slow, "lead times of the lanes times 1 + severity"
    ),
    DisruptionKind.MACHINE_BREAKDOWN: KindRow(
        Profile.CUT, _lines, "capacity of the line cut by severity"
    ),
    DisruptionKind.ENERGY_PRICE_SHOCK: KindRow(
        Profile.RAISE, _energy, "energy cost of production at the site times 1 + severity"
    ),
}


SALE = "capacity-sale"  # a known cut, not a disruption: sold capacity (sim.network.state)


@dataclass(slots=True)
class Window:
    """One disruption in a block of replications: where, how hard, and when in each replication."""

    id: str
    kind: DisruptionKind | str  # a DisruptionKind, or SALE
    profile: Profile
    severity: float
    targets: Targets
    occurs: np.ndarray  # (R,) bool
    start: np.ndarray  # (R,) int day
    end: np.ndarray  # (R,) int day, exclusive

    def active(self, day: int) -> np.ndarray:
        return self.occurs & (self.start <= day) & (day < self.end)

    def factor(self, day: int) -> np.ndarray:
        """Factor per replication today (1 where inactive; 0 means closed for CLOSE)."""
        on = self.active(day)
        match self.profile:
            case Profile.CUT:
                value = np.full(on.shape, max(0.0, 1 - self.severity))
            case Profile.RAISE:
                value = np.full(on.shape, 1 + self.severity)
            case Profile.CLOSE:
                value = np.zeros(on.shape)
            case Profile.LEARNING:
                length = np.maximum(self.end - self.start, 1)
                value = 1 - min(self.severity, 1.0) * np.exp(-3 * (day - self.start) / length)
        return np.where(on, value, 1.0)


@dataclass(slots=True)
class Plan:
    """A named scenario made concrete for a block of replications."""

    name: str
    windows: list[Window] = field(default_factory=list)
    shares: np.ndarray | None = None  # (E,) standing order shares after dual sourcing
    fallback: dict[int, list[int]] = field(default_factory=dict)  # edge → alternate edges
    extra_cover_days: np.ndarray | None = None  # (P,) added safety cover
    overtime: np.ndarray | None = None  # (L,) extra capacity share while disrupted
    overtime_premium: np.ndarray | None = None  # (L,)
    notes: list[str] = field(default_factory=list)  # what the mitigations decided

    def any_active(self, day: int, replications: int) -> np.ndarray:
        out = np.zeros(replications, dtype=bool)
        for w in self.windows:
            out |= w.active(day)
        return out


def _draw_days(dist: Dist, rng: np.random.Generator, n: int) -> np.ndarray:
    return np.rint(dist.sample(rng, n)).astype(np.int64)


def make_plan(
    scenario: Scenario,
    model: NetworkModel,
    named: NamedScenario | None,
    replications: int,
    rng: np.random.Generator,
) -> Plan:
    """Draw the disruptions of ``named`` (None: the baseline) for ``replications`` runs."""
    plan = Plan(named.id if named else "baseline")
    if named is None:
        return plan
    by_id = {d.id: d for d in scenario.disruptions}
    order = _chain_order([by_id[name] for name in named.disruptions], by_id)
    drawn: dict[str, Window] = {}
    for d in order:
        row = KINDS[d.kind]
        targets = {k: v for k, v in row.resolve(d, model).items() if v.size}
        if not targets:
            raise PlanError(
                f"disruption {d.id!r} ({d.kind.value}) touches nothing in the simulated network; "
                f"check its targets {d.targets}" + (f" and items {d.items}" if d.items else "")
            )
        occurs = rng.random(replications) < d.probability
        delay = _draw_days(Dist.from_twin(d.start, DAY), rng, replications)
        length = np.maximum(_draw_days(Dist.from_twin(d.duration, DAY), rng, replications), 1)
        if d.after is not None:
            before = drawn.get(d.after)
            if before is None:
                before = make_plan(
                    scenario, model, NamedScenario(id="_", disruptions=[d.after]), replications, rng
                ).windows[0]
            occurs &= before.occurs
            start = before.end + delay
        else:
            start = delay
        window = Window(
            d.id, d.kind, row.profile, d.severity, targets, occurs, start, start + length
        )
        drawn[d.id] = window
        plan.windows.append(window)
    _apply_mitigations(plan, model, [m for m in scenario.mitigations if m.id in named.mitigations])
    return plan


def _chain_order(chosen: list[Disruption], by_id: dict[str, Disruption]) -> list[Disruption]:
    """Chosen disruptions with each predecessor before its successor; refuses cycles."""
    out: list[Disruption] = []
    seen: set[str] = set()

    def visit(d: Disruption, path: tuple[str, ...]) -> None:
        if d.id in path:
            raise PlanError(
                f"disruptions follow each other in a circle: {' → '.join((*path, d.id))}"
            )
        if d.id in seen:
            return
        if d.after is not None and d.after in {c.id for c in chosen}:
            visit(by_id[d.after], (*path, d.id))
        seen.add(d.id)
        out.append(d)

    for d in chosen:
        visit(d, ())
    return out


def _apply_mitigations(plan: Plan, model: NetworkModel, mitigations: list[Mitigation]) -> None:
    shares = np.array([e.share for e in model.edges])
    for m in mitigations:
        match m.kind:
            case MitigationKind.ALTERNATIVE_LANE:
                alternates = [i for i, e in enumerate(model.edges) if e.lane in m.lanes]
                if not alternates:
                    raise PlanError(
                        f"mitigation {m.id!r}: lanes {m.lanes} carry nothing in the network"
                    )
                for i, e in enumerate(model.edges):
                    if e.role is EdgeRole.PRIMARY:
                        alts = [a for a in alternates if model.edges[a].target == e.target]
                        if alts:
                            plan.fallback.setdefault(i, []).extend(alts)
            case MitigationKind.DUAL_SOURCING:
                second = [i for i, e in enumerate(model.edges) if e.lane in m.lanes]
                if not second:
                    raise PlanError(
                        f"mitigation {m.id!r}: lanes {m.lanes} carry nothing in the network"
                    )
                for i in second:
                    target = model.edges[i].target
                    peers = [j for j, e in enumerate(model.edges) if e.target == target and j != i]
                    shares[peers] *= 1 - m.share
                    shares[i] = m.share
            case MitigationKind.SAFETY_STOCK:
                if plan.extra_cover_days is None:
                    plan.extra_cover_days = np.zeros(len(model.points))
                days = (m.cover.magnitude / DAY) if m.cover else 14.0
                for i, p in enumerate(model.points):
                    if (
                        p.kind is not PointKind.SUPPLY
                        and (not m.at or p.node in m.at)
                        and (not m.items or p.item in m.items)
                    ):
                        plan.extra_cover_days[i] += days
            case MitigationKind.OVERTIME | MitigationKind.CAPACITY_SHIFT:
                # Capacity shift is overtime at the receiving sites for the items it names.
                if plan.overtime is None:
                    plan.overtime = np.zeros(len(model.lines))
                    plan.overtime_premium = np.zeros(len(model.lines))
                lines = _lines_at(model, m.at)
                if m.items:
                    lines = np.array(
                        [
                            li
                            for li in lines
                            if any(
                                model.points[row.point].item in m.items
                                for row in model.production
                                if any(x == li for x, _ in row.lines)
                            )
                        ],
                        dtype=np.intp,
                    )
                if not lines.size:
                    raise PlanError(
                        f"mitigation {m.id!r}: no line at {m.at} makes {m.items or 'anything'}"
                    )
                plan.overtime[lines] += m.extra
                assert plan.overtime_premium is not None
                plan.overtime_premium[lines] = m.cost_premium
            case MitigationKind.SUPPLIER_SCORE:
                _source_by_score(plan, model, m, shares)
    plan.shares = shares


def _source_by_score(plan: Plan, model: NetworkModel, m: Mitigation, shares: np.ndarray) -> None:
    """Orders go only to suppliers scoring at least ``m.min_score`` (own sites always qualify):
    a disqualified source's share moves to the best-scoring qualified one of the same target;
    with none, the target gets nothing (and a note says so)."""
    if not model.supplier_score:
        plan.notes.append(
            f"{m.id}: no supplier scores, so sourcing is unchanged; they live on the twin: score "
            f"the suppliers (twinverse trust score --apply) and simulate from the twin "
            f"(--from-state now)"
        )
        return
    floor = m.min_score or 0.0

    def score(edge: int) -> float:
        node = model.points[model.edges[edge].source].node
        if model.node_kind.get(node) != "supplier":
            return math.inf
        return model.supplier_score.get(node, 0.0)

    by_target: dict[int, list[int]] = {}
    for i, e in enumerate(model.edges):
        by_target.setdefault(e.target, []).append(i)
    for target, edges in by_target.items():
        point = model.points[target]
        if (m.at and point.node not in m.at) or (m.items and point.item not in m.items):
            continue
        out = [i for i in edges if score(i) < floor and shares[i] > 0]
        if not out:
            continue
        moved = float(shares[out].sum())
        shares[out] = 0.0
        ok = [i for i in edges if score(i) >= floor]
        names = ", ".join(f"{model.points[model.edges[i].source].node} ({score(i):g})" for i in out)
        if not ok:
            plan.notes.append(
                f"{m.id}: no source of {point.item} for {point.node} scores {floor:g} or more; "
                f"{names} dropped, so it gets none"
            )
            continue
        best = max(ok, key=lambda i: (score(i), -i))
        shares[best] += moved
        plan.notes.append(
            f"{m.id}: {point.node} buys {point.item} from "
            f"{model.points[model.edges[best].source].node} ({score(best):g}) instead of {names}"
        )
