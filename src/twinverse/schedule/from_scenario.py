"""A scheduling problem from a scenario and its orders.

* **Jobs**: each lot (see :func:`~twinverse.schedule.orders.make_lots`) follows its
  product's routing; an operation may run on any machine its routing step lists,
  for ``quantity × mean unit time`` (rounded up to whole time units).
* **Setups**: on each machine, changing from one product family to another takes
  the machine's ``setups`` matrix entry for that pair where it has one, else the
  longest routing ``setup`` among the steps that use the machine (or the
  machine's mean ``setup_time``); the same family needs none. A product
  without a family is its own family.
* **Maintenance**: a machine's planned ``maintenance`` windows are closed.
* **Calendars**: the site calendar's shifts, breaks and holidays, in the site's
  timezone, become each machine's closed windows from the plan start over the
  horizon; afterwards the machines count as open.
* **Sold capacity**: a capacity trade the site settled (``capacity_commitments``
  on its twin, read by :func:`twinverse.twin.commitments.read_commitments`)
  is time the machines work for the buyer. Machine-hours are shared equally by
  all the site's machines; units of product take, on each machine, the time a
  unit of the site's product mix needs there. Each machine's share is reserved
  evenly over its working time in the sale's period, as the last part of every
  working window, so the plan cannot use it.
* **Operators**: when the site has people holding a machine's skills, an
  operation on it needs one person holding *all* of them, within that person's
  shift (or the site's working time when they have none).

Times are minutes from ``start`` (``time_unit = 60``). Raises
:class:`~twinverse.schedule.errors.ProblemError` when an order names an unknown
product or one without a routing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType
from zoneinfo import ZoneInfo

from twinverse.scenario.schema import Calendar, Scenario, Site
from twinverse.scenario.schema import Machine as MachineSpec
from twinverse.schedule.errors import ProblemError
from twinverse.schedule.orders import LotPolicy, Order, make_lots
from twinverse.schedule.problem import (
    Job,
    Machine,
    Operation,
    Operator,
    Option,
    Problem,
    Setups,
    Window,
)
from twinverse.twin.commitments import MACHINE_HOURS, Commitment
from twinverse.twin.ids import prefix_of
from twinverse.twin.instant import NS_PER_S
from twinverse.twin.quantity import Quantity

UNIT_SECONDS = 60.0
_DAY = 24 * 60
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class PlanSite:
    """Where the plan runs: the site (its calendar and timezone) and the machines by id."""

    site: Site
    machines: dict[str, MachineSpec]


def _mean_seconds(value: object) -> float:
    if isinstance(value, Quantity):
        return value.magnitude
    mean = getattr(value, "mean", None)
    if callable(mean):
        return float(mean())
    if isinstance(mean, int | float):
        return float(mean)
    raise ProblemError("time", "a duration or a distribution of one", value)


def _site_of(scenario: Scenario, machine_ids: set[str]) -> PlanSite:
    best: PlanSite | None = None
    for site in scenario.sites:
        machines: dict[str, MachineSpec] = {}
        lines = list(site.lines) + [line for area in site.areas for line in area.lines]
        for line in lines:
            for machine in line.machines:
                machines.setdefault(machine.id, machine)
        if machine_ids <= set(machines):
            return PlanSite(site, machines)
        if best is None or len(machine_ids & set(machines)) > len(machine_ids & set(best.machines)):
            best = PlanSite(site, machines)
    missing = sorted(machine_ids - set(best.machines)) if best else sorted(machine_ids)
    raise ProblemError("routing", "machines of one site", missing)


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _open_windows(
    calendar: Calendar | None,
    shift_name: str | None,
    start: dt.datetime,
    tz: ZoneInfo,
    days: int,
) -> tuple[Window, ...] | None:
    """Working windows in minutes from ``start``; None when the calendar says nothing (always open)."""
    if calendar is None or not calendar.shifts:
        return None
    shifts = [s for s in calendar.shifts if shift_name is None or s.name == shift_name]
    local0 = start.astimezone(tz)
    midnight = local0.replace(hour=0, minute=0, second=0, microsecond=0)
    spans: list[tuple[int, int]] = []
    holidays = set(calendar.holidays)
    for d in range(-1, days + 1):
        day = (midnight + dt.timedelta(days=d)).date()
        if day in holidays:
            continue
        weekday = _WEEKDAYS[day.weekday()]
        base = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
        offset = round((base - start).total_seconds() / 60)
        for shift in shifts:
            if weekday not in {w.value for w in shift.days}:
                continue
            a = _minutes(shift.start)
            length = (_minutes(shift.end) - a) % _DAY or _DAY
            pieces = [(a, a + length)]
            for pause in shift.breaks:
                p0 = a + (_minutes(pause.start) - a) % _DAY
                p1 = p0 + math.ceil(pause.duration.magnitude / 60)
                pieces = [
                    piece
                    for x, y in pieces
                    for piece in ((x, min(y, p0)), (max(x, p1), y))
                    if piece[1] > piece[0]
                ]
            spans += [(offset + x, offset + y) for x, y in pieces]
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        a, b = max(a, 0), max(b, 0)
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return tuple(merged)


def _closed(open_windows: tuple[Window, ...] | None) -> tuple[Window, ...]:
    if open_windows is None:
        return ()
    out, t = [], 0
    for a, b in open_windows:
        if a > t:
            out.append((t, a))
        t = b
    return tuple(out)


def _sold_minutes(scenario: Scenario, plan: PlanSite, sale: Commitment) -> dict[str, float]:
    """Machine minutes ``sale`` takes from each machine of the plan's site."""
    if sale.resource == MACHINE_HOURS:
        return {m: sale.amount * 60 / len(plan.machines) for m in plan.machines}
    lines = list(plan.site.lines) + [line for area in plan.site.areas for line in area.lines]
    made = {p for line in lines for p in line.products}
    routings = [p.routing for p in scenario.products if p.id in made]
    per_unit = dict.fromkeys(plan.machines, 0.0)
    for routing in routings:
        for step in routing:
            for m in step.machines:
                if m in per_unit:
                    per_unit[m] += _mean_seconds(step.time) / 60 / len(step.machines)
    return {m: sale.amount * v / max(len(routings), 1) for m, v in per_unit.items()}


def _reserve(
    open_windows: tuple[Window, ...] | None, horizon: int, cuts: Sequence[tuple[int, int, float]]
) -> tuple[Window, ...]:
    """Closed windows: the calendar's gaps and, within each cut's period ``[a, b)``, the last
    ``share`` of every working window."""
    windows = list(open_windows) if open_windows is not None else [(0, horizon)]
    end = max([horizon, *(b for _, b in windows)])
    for a, b, share in cuts:
        kept: list[Window] = []
        for x, y in windows:
            lo, hi = max(x, a), min(y, b)
            cut = round((hi - lo) * share) if hi > lo else 0
            kept += [w for w in ((x, hi - cut), (hi, y)) if w[1] > w[0]] if cut else [(x, y)]
        windows = kept
    if not cuts:
        return _closed(open_windows)
    return _closed((*windows, (end, end)))  # the sentinel closes a cut that reaches the end


def problem_from_scenario(
    scenario: Scenario,
    orders: list[Order],
    *,
    start: dt.datetime | None = None,
    lots: LotPolicy | None = None,
    operators: bool = True,
    horizon_days: int | None = None,
    sold: Sequence[Commitment] = (),
) -> Problem:
    """The problem of making ``orders`` on the scenario's machines; see the module docstring."""
    products = {p.id: p for p in scenario.products}
    for order in orders:
        product = products.get(order.product)
        if product is None:
            raise ProblemError(
                f"orders[{order.id}].product",
                f"one of {', '.join(sorted(products))}",
                order.product,
            )
        if not product.routing:
            raise ProblemError(f"products[{product.id}].routing", "a routing", [])
    used = {m for o in orders for step in products[o.product].routing for m in step.machines}
    plan = _site_of(scenario, used)
    tz = ZoneInfo(plan.site.timezone)
    if start is None:
        releases = [o.release for o in orders if o.release is not None]
        start = min(releases) if releases else min(o.due for o in orders) - dt.timedelta(days=7)
    if start.tzinfo is None:
        start = start.replace(tzinfo=tz)
    lot_list = make_lots(orders, lots or LotPolicy())
    work = sum(
        lot.quantity * _mean_seconds(step.time) / 60
        for lot in lot_list
        for step in products[lot.product].routing
    )
    latest_due = max(((o.due - start).total_seconds() / 86400 for o in orders), default=0)
    days = horizon_days or int(max(latest_due, 0) + 14 + 4 * work / _DAY)
    site_open = _open_windows(plan.site.calendar, None, start, tz, days)

    change: dict[str, int] = {}
    for product in products.values():
        for step in product.routing:
            if step.setup is None:
                continue
            for m in step.machines:
                change[m] = max(change.get(m, 0), math.ceil(step.setup.magnitude / 60))
    cuts: dict[str, list[tuple[int, int, float]]] = {m: [] for m in used}
    for sale in sold:
        if sale.site.removeprefix(prefix_of(sale.site) + "/") != plan.site.id:
            continue
        begin = dt.datetime.fromtimestamp(sale.start / NS_PER_S, tz=tz)
        span = math.ceil((sale.end - sale.start) / (60 * NS_PER_S))
        period = _open_windows(plan.site.calendar, None, begin, tz, math.ceil(span / _DAY))
        working = span if period is None else sum(min(b, span) - a for a, b in period if a < span)
        a = _offset(begin, start, clamp=False)
        for mid, minutes in _sold_minutes(scenario, plan, sale).items():
            if mid in cuts and minutes > 0:
                cuts[mid].append((a, a + span, min(1.0, minutes / max(working, 1))))
    machines = []
    for mid in sorted(used):
        spec = plan.machines[mid]
        setup = change.get(mid)
        if setup is None and spec.setup_time is not None:
            setup = math.ceil(_mean_seconds(spec.setup_time) / 60)
        for window in spec.maintenance:  # closed outright: a cut of the whole window
            begin = window.start if window.start.tzinfo else window.start.replace(tzinfo=tz)
            a = _offset(begin, start, clamp=False)
            cuts[mid].append((a, a + math.ceil(window.duration.magnitude / 60), 1.0))
        pairs = {(c.source, c.target): math.ceil(c.time.magnitude / 60) for c in spec.setups}
        machines.append(
            Machine(
                mid,
                closed=_reserve(site_open, days * _DAY, cuts[mid]),
                setups=Setups(change=setup or 0, pairs=MappingProxyType(pairs)),
                name=spec.name or "",
            )
        )
    skills = {mid: frozenset(plan.machines[mid].skills) for mid in used}
    crew: list[Operator] = []
    if operators:
        for person in scenario.people:
            if person.site != plan.site.id:
                continue
            held = frozenset(s.skill for s in person.skills)
            if not any(need and need <= held for need in skills.values()):
                continue
            available = _open_windows(plan.site.calendar, person.shift, start, tz, days)
            crew.append(Operator(person.id, held, available))
    crew_skills = [o.skills for o in crew]

    def skill_of(mids: list[str]) -> frozenset[str]:
        needs = {skills[m] for m in mids}
        need = next(iter(needs)) if len(needs) == 1 else frozenset()
        if not crew or not need or not any(need <= held for held in crew_skills):
            return frozenset()  # nobody on the roster holds it: not constrained by people
        return need

    jobs = []
    for lot in lot_list:
        product = products[lot.product]
        operations = []
        for step in product.routing:
            minutes = max(1, math.ceil(lot.quantity * _mean_seconds(step.time) / 60))
            operations.append(
                Operation(
                    tuple(Option(m, minutes) for m in step.machines),
                    skill=skill_of(step.machines),
                    name=step.op,
                )
            )
        jobs.append(
            Job(
                id=lot.id,
                operations=tuple(operations),
                release=_offset(lot.release, start),
                due=_offset(lot.due, start),
                weight=lot.weight,
                family=product.family or product.id,
                product=product.id,
                quantity=lot.quantity,
                orders=lot.orders,
            )
        )
    return Problem(
        tuple(jobs),
        tuple(machines),
        tuple(crew),
        time_unit=UNIT_SECONDS,
        origin=start.isoformat(),
        name=scenario.enterprise.id,
    )


def _offset(when: dt.datetime | None, start: dt.datetime, *, clamp: bool = True) -> int:
    if when is None:
        return 0
    minutes = math.floor((when - start).total_seconds() / 60)
    return max(0, minutes) if clamp else minutes
