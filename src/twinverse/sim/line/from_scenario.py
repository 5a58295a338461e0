"""Building a line model from a line of a scenario file.

How each part of the scenario maps onto the model:

- **Stations** are the line's ``machines`` in file order (the flow order), one
  server each. ``cycle_time``, ``mtbf`` and ``mttr`` become distributions in
  seconds; ``scrap_rate`` the scrap chance; the *first* of ``skills`` the
  station's skill. ``setup_time`` is not modelled (one product flows).
- **Power** in kW: ``busy``, ``idle`` and ``down`` as written (missing: 0);
  a blocked machine draws its ``idle`` power unless ``blocked`` is written.
- **Buffers**: each ``buffer`` is placed by its ``between`` (its upstream
  machine, else its downstream machine, may be another buffer or conveyor that
  is itself placed). A conveyor with a ``capacity`` adds that capacity to the
  place it feeds; its transport time is not modelled. Two consecutive machines
  with nothing declared between them hand parts over directly (capacity 0).
- **Operators** are the people of the line's site (any role) holding one of the
  station skills, in file order, each with the skills the line uses. Their
  speed and scrap factors come from the level of the first such skill they list
  (:data:`SKILL_LEVEL_FACTORS`). People's own shifts are not modelled: every
  operator is available whenever the line works.
- **Shifts**: the site calendar's shifts on their days, minus their breaks,
  merged into windows of a week starting Monday 00:00 site time
  (period 604,800 s). Holidays are dated and cannot repeat weekly; they are
  left out. A site without shifts works around the clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from twinverse.scenario.schema import (
    Buffer,
    Calendar,
    Conveyor,
    Line,
    Machine,
    Person,
    Scenario,
    Site,
    SkillLevel,
    Weekday,
)
from twinverse.sim.line.errors import LineModelError, LineNotFoundError, Problem
from twinverse.sim.line.model import Dist, LineModel, Operator, PowerKw, Shifts, Station
from twinverse.twin.distribution import Distribution
from twinverse.twin.quantity import Quantity

WEEK: Final = 7 * 86_400.0
DAY: Final = 86_400.0


@dataclass(frozen=True, slots=True)
class LevelFactors:
    """How a skill level changes an operator's processing time and scrap chance."""

    time_factor: float
    scrap_factor: float


SKILL_LEVEL_FACTORS: Final[MappingProxyType[SkillLevel, LevelFactors]] = MappingProxyType(
    {
        SkillLevel.TRAINEE: LevelFactors(1.5, 3.0),
        SkillLevel.QUALIFIED: LevelFactors(1.1, 1.5),
        SkillLevel.EXPERT: LevelFactors(1.0, 1.0),
        SkillLevel.MASTER: LevelFactors(0.95, 0.8),
    }
)

_WEEKDAY_INDEX: Final = {day: n for n, day in enumerate(Weekday)}


def line_model_from_scenario(scenario: Scenario, line_id: str) -> LineModel:
    """The line model of line ``line_id`` of ``scenario`` (see the module doc for the mapping).

    Raises LineNotFoundError when the scenario has no such line and LineModelError
    (with the path in the file) when the line cannot make a model.
    """
    found = [(site, line, path) for site, line, path in _lines(scenario) if line.id == line_id]
    if not found:
        raise LineNotFoundError(line_id, [line.id for _, line, _ in _lines(scenario)])
    site, line, path = found[0]
    if not line.machines:
        raise LineModelError(
            f"{path}.machines", "at least one machine", [], problem=Problem.MISSING
        )
    stations = tuple(
        _station(machine, f"{path}.machines[{n}]") for n, machine in enumerate(line.machines)
    )
    skills = {s.skill for s in stations if s.skill is not None}
    return LineModel(
        name=line.name or line.id,
        stations=stations,
        buffers=_buffer_capacities(line, path),
        arrival=None,
        operators=_operators(scenario.people, site.id, skills),
        shifts=_shifts(site.calendar),
    )


def _lines(scenario: Scenario) -> Iterator[tuple[Site, Line, str]]:
    for si, site in enumerate(scenario.sites):
        for li, line in enumerate(site.lines):
            yield site, line, f"sites[{si}].lines[{li}]"
        for ai, area in enumerate(site.areas):
            for li, line in enumerate(area.lines):
                yield site, line, f"sites[{si}].areas[{ai}].lines[{li}]"


def _dist(dist: Distribution) -> Dist:
    """A twin distribution with its quantities in base units (seconds) as plain floats."""
    return Dist.from_dict(
        {
            "dist": dist.kind.value,
            **{k: v.magnitude if isinstance(v, Quantity) else float(v) for k, v in dist.params},
        }
    )


def _station(machine: Machine, path: str) -> Station:
    try:
        power = machine.power
        kw = PowerKw()
        if power is not None:
            idle = power.idle.magnitude / 1000 if power.idle else 0.0
            kw = PowerKw(
                busy=power.busy.magnitude / 1000,
                idle=idle,
                blocked=power.blocked.magnitude / 1000 if power.blocked else idle,
                down=power.down.magnitude / 1000 if power.down else 0.0,
            )
        return Station(
            id=machine.id,
            process=_dist(machine.cycle_time),
            mtbf=_dist(machine.mtbf) if machine.mtbf else None,
            mttr=_dist(machine.mttr) if machine.mttr else None,
            scrap=machine.scrap_rate.magnitude if machine.scrap_rate else 0.0,
            skill=machine.skills[0] if machine.skills else None,
            power_kw=kw,
        )
    except LineModelError as err:
        raise err.within(path, machine.id) from err


def _buffer_capacities(line: Line, path: str) -> tuple[int | None, ...]:
    """Capacity of each gap between consecutive machines: buffers plus conveyor capacity."""
    machine_at = {m.id: n for n, m in enumerate(line.machines)}
    buffers = {b.id: (n, b) for n, b in enumerate(line.buffers)}
    conveyors = {c.id: (n, c) for n, c in enumerate(line.conveyors)}
    gaps = [0] * (len(line.machines) - 1)

    def gap_of(element: str, upstream: bool, seen: frozenset[str]) -> int | None:
        """The gap an element sits in, seen from the side given (``upstream``: it feeds the gap)."""
        if element in machine_at:
            return machine_at[element] if upstream else machine_at[element] - 1
        if element in seen:
            return None
        if element in buffers:
            return place(buffers[element][1], seen | {element})
        if element in conveyors:
            return place(conveyors[element][1], seen | {element})
        return None

    def place(item: Buffer | Conveyor, seen: frozenset[str]) -> int | None:
        ends = item.between if isinstance(item, Buffer) else (item.source, item.target)
        if ends is None:
            return None
        a, b = gap_of(ends[0], True, seen), gap_of(ends[1], False, seen)
        if a is not None and b is not None and a != b:
            return -1  # not between consecutive machines
        return a if a is not None else b

    for bid, (n, buffer) in buffers.items():
        where = place(buffer, frozenset({bid}))
        bpath = f"{path}.buffers[{n}]"
        if buffer.between is None:
            raise LineModelError(
                f"{bpath}.between",
                "[upstream, downstream] to place the buffer in the line",
                None,
                problem=Problem.MISSING,
                hint=f"e.g. between: [{line.machines[0].id}, …]",
            )
        if where is None or not 0 <= where < len(gaps):
            raise LineModelError(
                f"{bpath}.between",
                "two consecutive machines of the line (in flow order)",
                list(buffer.between),
                problem=Problem.INCONSISTENT,
            )
        gaps[where] += _count(buffer.capacity, f"{bpath}.capacity")
    for cid, (n, conveyor) in conveyors.items():
        where = place(conveyor, frozenset({cid}))
        if conveyor.capacity is None or where is None or not 0 <= where < len(gaps):
            continue  # transport only, or it does not sit between two stations of the flow
        gaps[where] += _count(conveyor.capacity, f"{path}.conveyors[{n}].capacity")
    return tuple(gaps)


def _count(quantity: Quantity, path: str) -> int:
    value = quantity.magnitude
    if value < 0 or value != int(value):
        raise LineModelError(path, "a whole number of parts >= 0", str(quantity))
    return int(value)


def _operators(people: list[Person], site_id: str, skills: set[str]) -> tuple[Operator, ...]:
    operators = []
    for person in people:
        if person.site != site_id:
            continue
        held = [s for s in person.skills if s.skill in skills]
        if not held:
            continue
        factors = SKILL_LEVEL_FACTORS[held[0].level]
        operators.append(
            Operator(
                id=person.id,
                skills=tuple(s.skill for s in held),
                time_factor=factors.time_factor,
                scrap_factor=factors.scrap_factor,
            )
        )
    return tuple(operators)


def _clock(text: str) -> float:
    hours, minutes = text.split(":")
    return int(hours) * 3600.0 + int(minutes) * 60.0


def _shifts(calendar: Calendar | None) -> Shifts | None:
    if calendar is None or not calendar.shifts:
        return None
    spans: list[tuple[float, float]] = []
    for shift in calendar.shifts:
        start = _clock(shift.start)
        length = (_clock(shift.end) - start) % DAY or DAY  # an end before the start: past midnight
        cuts = []
        for pause in shift.breaks:
            offset = (_clock(pause.start) - start) % DAY
            if offset < length:
                cuts.append((offset, min(length, offset + pause.duration.magnitude)))
        pieces = _subtract([(0.0, length)], sorted(cuts))
        for day in shift.days:
            base = _WEEKDAY_INDEX[day] * DAY + start
            for a, b in pieces:
                spans += _wrapped(base + a, base + b)
    windows = _union(spans)
    return Shifts(period=WEEK, windows=tuple(windows)) if windows else None


def _wrapped(a: float, b: float) -> list[tuple[float, float]]:
    """``[a, b)`` folded into one week (a Sunday night shift ends on Monday morning)."""
    a, b = a % WEEK, a % WEEK + (b - a)
    return [(a, b)] if b <= WEEK else [(a, WEEK), (0.0, b - WEEK)]


def _subtract(
    spans: list[tuple[float, float]], cuts: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    out = spans
    for c0, c1 in cuts:
        out = [
            piece
            for a, b in out
            for piece in ((a, min(b, c0)), (max(a, c1), b))
            if piece[1] > piece[0]
        ]
    return out


def _union(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted, disjoint windows; touching or overlapping spans are merged."""
    merged: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged
