"""The line model: stations in flow order, the buffers between them, arrivals, operators, shifts.

This is the model of ``docs/simulation-line.md`` as frozen value objects. Times
are seconds, power is kW. :meth:`LineModel.from_dict` reads the JSON-able
dictionary of that page and raises :class:`~twinverse.sim.line.errors.LineModelError`
naming the field (``stations[2].mtbf.mean``) and the station; :meth:`LineModel.to_dict`
writes the full form back, so ``LineModel.from_dict(m.to_dict()) == m``.
Constructing the objects directly checks the same invariants.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

import numpy as np

from twinverse.sim.line.errors import LineModelError, Problem
from twinverse.twin.distribution import DistKind

# The parameters each kind takes, in order. Same names as the scenario format's.
DIST_PARAMS: Final[MappingProxyType[DistKind, tuple[str, ...]]] = MappingProxyType(
    {
        DistKind.CONSTANT: ("value",),
        DistKind.EXPONENTIAL: ("mean",),
        DistKind.NORMAL: ("mean", "sd"),
        DistKind.LOGNORMAL: ("mean", "cv"),
        DistKind.GAMMA: ("mean", "cv"),
        DistKind.UNIFORM: ("low", "high"),
        DistKind.TRIANGULAR: ("low", "mode", "high"),
        DistKind.WEIBULL: ("scale", "shape"),
    }
)
# Kinds whose `mean`/`scale` must be above zero for the draw to be defined.
_POSITIVE: Final = {
    DistKind.EXPONENTIAL: "mean",
    DistKind.LOGNORMAL: "mean",
    DistKind.GAMMA: "mean",
    DistKind.WEIBULL: "scale",
}


@dataclass(frozen=True, slots=True)
class Dist:
    """A distribution of a non-negative duration, with plain float parameters (seconds).

    ``params`` follows :data:`DIST_PARAMS` for the kind. :meth:`sample` draws with a
    ``numpy.random.Generator``; the compiled kernels draw the same law from
    :func:`twinverse.sim.line.sampling.encode`.
    """

    kind: DistKind
    params: tuple[float, ...]

    def __post_init__(self) -> None:
        names = DIST_PARAMS[self.kind]
        if len(self.params) != len(names):
            raise LineModelError(
                "",
                f"{len(names)} parameters ({', '.join(names)})",
                self.params,
                problem=Problem.INCONSISTENT,
            )
        p = dict(zip(names, self.params, strict=True))
        for name, value in p.items():
            if not math.isfinite(value) or value < 0:
                raise LineModelError(name, "a finite number >= 0", value)
        if self.kind in _POSITIVE and p[_POSITIVE[self.kind]] == 0:
            name = _POSITIVE[self.kind]
            raise LineModelError(name, f"a {self.kind.value} {name} above 0", 0.0)
        if self.kind is DistKind.UNIFORM and p["low"] > p["high"]:
            raise LineModelError("high", f"high >= low ({p['low']})", p["high"])
        if self.kind is DistKind.TRIANGULAR and not p["low"] <= p["mode"] <= p["high"]:
            raise LineModelError("mode", "low <= mode <= high", (p["low"], p["mode"], p["high"]))
        if self.kind is DistKind.WEIBULL and p["shape"] == 0:
            raise LineModelError("shape", "a weibull shape above 0", 0.0)

    def param(self, name: str) -> float:
        return self.params[DIST_PARAMS[self.kind].index(name)]

    @property
    def mean(self) -> float:
        p = dict(zip(DIST_PARAMS[self.kind], self.params, strict=True))
        match self.kind:
            case DistKind.CONSTANT:
                return p["value"]
            case DistKind.EXPONENTIAL | DistKind.LOGNORMAL | DistKind.GAMMA:
                return p["mean"]
            case DistKind.NORMAL:
                # Negative draws become 0: the mean of max(0, X), X ~ N(m, sd).
                m, sd = p["mean"], p["sd"]
                if sd == 0:
                    return m
                z = m / sd
                return m * 0.5 * math.erfc(-z / math.sqrt(2)) + sd * math.exp(
                    -z * z / 2
                ) / math.sqrt(2 * math.pi)
            case DistKind.UNIFORM:
                return (p["low"] + p["high"]) / 2
            case DistKind.TRIANGULAR:
                return (p["low"] + p["mode"] + p["high"]) / 3
            case DistKind.WEIBULL:
                return p["scale"] * math.gamma(1 + 1 / p["shape"])
        raise AssertionError(self.kind)  # pragma: no cover

    def sample(self, rng: np.random.Generator, size: int | None = None) -> Any:
        """Draw one value (``size=None``) or an array of ``size`` values."""
        p = dict(zip(DIST_PARAMS[self.kind], self.params, strict=True))
        shape = () if size is None else (size,)
        match self.kind:
            case DistKind.CONSTANT:
                out = np.full(shape, p["value"])
            case DistKind.EXPONENTIAL:
                out = rng.exponential(p["mean"], shape)
            case DistKind.NORMAL:
                out = np.maximum(rng.normal(p["mean"], p["sd"], shape), 0.0)
            case DistKind.LOGNORMAL:
                s2 = math.log1p(p["cv"] ** 2)
                out = rng.lognormal(math.log(p["mean"]) - s2 / 2, math.sqrt(s2), shape)
            case DistKind.GAMMA:
                cv2 = p["cv"] ** 2
                out = (
                    np.full(shape, p["mean"])
                    if cv2 == 0
                    else rng.gamma(1 / cv2, p["mean"] * cv2, shape)
                )
            case DistKind.UNIFORM:
                out = rng.uniform(p["low"], p["high"], shape)
            case DistKind.TRIANGULAR:
                out = (
                    np.full(shape, p["low"])
                    if p["low"] == p["high"]
                    else rng.triangular(p["low"], p["mode"], p["high"], shape)
                )
            case DistKind.WEIBULL:
                out = p["scale"] * rng.weibull(p["shape"], shape)
        return float(out) if size is None else out

    @classmethod
    def of(cls, kind: DistKind | str, **params: float) -> Dist:
        """``Dist.of("lognormal", mean=45.0, cv=0.1)``."""
        return cls.from_dict({"dist": str(kind), **params})

    @classmethod
    def constant(cls, value: float) -> Dist:
        return cls(DistKind.CONSTANT, (float(value),))

    @classmethod
    def from_dict(cls, data: object) -> Dist:
        raw = _mapping(data, "", "a distribution such as {'dist': 'exponential', 'mean': 60.0}")
        kind_text = raw.get("dist")
        try:
            kind = DistKind(str(kind_text))
        except ValueError:
            kinds = ", ".join(k.value for k in DistKind)
            raise LineModelError(
                "dist", f"one of {kinds}", kind_text, problem=Problem.UNKNOWN_DISTRIBUTION
            ) from None
        names = DIST_PARAMS[kind]
        _known_keys(raw, ("dist", *names), f"a {kind.value} distribution")
        values = tuple(_number(raw, name) for name in names)
        return cls(kind, values)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dist": self.kind.value,
            **dict(zip(DIST_PARAMS[self.kind], self.params, strict=True)),
        }


@dataclass(frozen=True, slots=True)
class PowerKw:
    """Electrical power of one server by state, in kW. Starved, waiting and off-shift servers draw ``idle``."""

    busy: float = 0.0
    idle: float = 0.0
    blocked: float = 0.0
    down: float = 0.0

    def __post_init__(self) -> None:
        for name in ("busy", "idle", "blocked", "down"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise LineModelError(name, "a power in kW >= 0", value)

    @classmethod
    def from_dict(cls, data: object) -> PowerKw:
        raw = _mapping(data, "", "power by state in kW, e.g. {'busy': 12.0, 'idle': 3.0}")
        _known_keys(raw, ("busy", "idle", "blocked", "down"), "power_kw")
        return cls(**{k: _number(raw, k) for k in raw})

    def to_dict(self) -> dict[str, float]:
        return {"busy": self.busy, "idle": self.idle, "blocked": self.blocked, "down": self.down}


@dataclass(frozen=True, slots=True)
class Station:
    """One station: ``servers`` identical servers that each process one part at a time.

    Failures are operation-dependent (``mtbf`` counts processing time only) and
    ``mtbf``/``mttr`` come together or not at all. ``scrap`` is the chance that a
    processed part is scrap; ``skill`` (or ``None``) is what an operator needs to run it.
    """

    id: str
    process: Dist
    servers: int = 1
    mtbf: Dist | None = None
    mttr: Dist | None = None
    scrap: float = 0.0
    skill: str | None = None
    power_kw: PowerKw = field(default_factory=PowerKw)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise LineModelError("id", "a non-empty text", self.id, problem=Problem.WRONG_TYPE)
        if isinstance(self.servers, bool) or not isinstance(self.servers, int):
            raise LineModelError(
                "servers",
                "a whole number >= 1",
                self.servers,
                station=self.id,
                problem=Problem.WRONG_TYPE,
            )
        if self.servers < 1:
            raise LineModelError("servers", "a whole number >= 1", self.servers, station=self.id)
        if (self.mtbf is None) != (self.mttr is None):
            given, missing = ("mtbf", "mttr") if self.mttr is None else ("mttr", "mtbf")
            raise LineModelError(
                missing,
                f"a distribution, since {given} is given (both or neither)",
                None,
                problem=Problem.INCONSISTENT,
                station=self.id,
            )
        if not (math.isfinite(self.scrap) and 0 <= self.scrap < 1):
            raise LineModelError(
                "scrap", "a probability from 0 up to (not including) 1", self.scrap, station=self.id
            )
        if self.skill is not None and (not isinstance(self.skill, str) or not self.skill):
            raise LineModelError(
                "skill",
                "a skill name or null",
                self.skill,
                station=self.id,
                problem=Problem.WRONG_TYPE,
            )

    @property
    def fails(self) -> bool:
        return self.mtbf is not None

    @classmethod
    def from_dict(cls, data: object) -> Station:
        raw = _mapping(data, "", "a station such as {'id': 'press', 'process': {...}}")
        _known_keys(
            raw,
            ("id", "process", "servers", "mtbf", "mttr", "scrap", "skill", "power_kw"),
            "a station",
        )
        station_id = raw.get("id")
        if not isinstance(station_id, str) or not station_id:
            raise LineModelError(
                "id",
                "a non-empty text",
                station_id,
                problem=(Problem.MISSING if station_id is None else Problem.WRONG_TYPE),
            )
        try:
            if "process" not in raw:
                raise LineModelError(
                    "process",
                    "a distribution of the processing time",
                    None,
                    problem=Problem.MISSING,
                )
            servers = raw.get("servers", 1)
            if isinstance(servers, float) and servers.is_integer():
                servers = int(servers)
            return cls(
                id=station_id,
                process=_nested(Dist.from_dict, raw["process"], "process"),
                servers=servers,
                mtbf=_optional(Dist.from_dict, raw.get("mtbf"), "mtbf"),
                mttr=_optional(Dist.from_dict, raw.get("mttr"), "mttr"),
                scrap=_number(raw, "scrap") if raw.get("scrap") is not None else 0.0,
                skill=raw.get("skill"),
                power_kw=_optional(PowerKw.from_dict, raw.get("power_kw"), "power_kw") or PowerKw(),
            )
        except LineModelError as err:
            raise err.within("", station_id) from err

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "process": self.process.to_dict(),
            "servers": self.servers,
            "mtbf": self.mtbf.to_dict() if self.mtbf else None,
            "mttr": self.mttr.to_dict() if self.mttr else None,
            "scrap": self.scrap,
            "skill": self.skill,
            "power_kw": self.power_kw.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Operator:
    """A person who can run stations needing any of ``skills``.

    The processing time drawn is multiplied by ``time_factor`` and the station's
    scrap chance by ``scrap_factor``.
    """

    id: str
    skills: tuple[str, ...]
    time_factor: float = 1.0
    scrap_factor: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise LineModelError("id", "a non-empty text", self.id, problem=Problem.WRONG_TYPE)
        if not all(isinstance(s, str) and s for s in self.skills):
            raise LineModelError(
                "skills", "a list of skill names", self.skills, problem=Problem.WRONG_TYPE
            )
        if not (math.isfinite(self.time_factor) and self.time_factor > 0):
            raise LineModelError("time_factor", "a number above 0", self.time_factor)
        if not (math.isfinite(self.scrap_factor) and self.scrap_factor >= 0):
            raise LineModelError("scrap_factor", "a number >= 0", self.scrap_factor)

    @classmethod
    def from_dict(cls, data: object) -> Operator:
        raw = _mapping(data, "", "an operator such as {'id': 'li-wei', 'skills': ['welding']}")
        _known_keys(raw, ("id", "skills", "time_factor", "scrap_factor"), "an operator")
        skills = raw.get("skills", [])
        if not isinstance(skills, list | tuple):
            raise LineModelError(
                "skills", "a list of skill names", skills, problem=Problem.WRONG_TYPE
            )
        return cls(
            id=raw.get("id"),  # type: ignore[arg-type]  # checked in __post_init__
            skills=tuple(skills),
            time_factor=_number(raw, "time_factor") if "time_factor" in raw else 1.0,
            scrap_factor=_number(raw, "scrap_factor") if "scrap_factor" in raw else 1.0,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "skills": list(self.skills),
            "time_factor": self.time_factor,
            "scrap_factor": self.scrap_factor,
        }


@dataclass(frozen=True, slots=True)
class Shifts:
    """Working windows ``[start, end)`` repeating every ``period`` seconds; sorted and disjoint."""

    period: float
    windows: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        if not (math.isfinite(self.period) and self.period > 0):
            raise LineModelError("period", "a period in seconds above 0", self.period)
        if not self.windows:
            raise LineModelError(
                "windows",
                "at least one working window",
                [],
                hint="use shifts: null for a line that works around the clock",
            )
        previous_end = 0.0
        for n, (start, end) in enumerate(self.windows):
            if not (0 <= start < end <= self.period):
                raise LineModelError(
                    f"windows[{n}]", f"0 <= start < end <= period ({self.period:g})", [start, end]
                )
            if start < previous_end:
                raise LineModelError(
                    f"windows[{n}]",
                    "windows sorted and disjoint",
                    [start, end],
                    problem=Problem.INCONSISTENT,
                )
            previous_end = end

    @property
    def working_share(self) -> float:
        """The share of each period that is inside a window."""
        return sum(end - start for start, end in self.windows) / self.period

    @classmethod
    def from_dict(cls, data: object) -> Shifts:
        raw = _mapping(data, "", "{'period': 604800.0, 'windows': [[21600, 50400], ...]}")
        _known_keys(raw, ("period", "windows"), "shifts")
        windows = raw.get("windows")
        if not isinstance(windows, list | tuple):
            raise LineModelError(
                "windows",
                "a list of [start, end] pairs",
                windows,
                problem=Problem.WRONG_TYPE if windows is not None else Problem.MISSING,
            )
        pairs: list[tuple[float, float]] = []
        for n, window in enumerate(windows):
            if not (isinstance(window, list | tuple) and len(window) == 2):
                raise LineModelError(
                    f"windows[{n}]",
                    "a pair [start, end] in seconds",
                    window,
                    problem=Problem.WRONG_TYPE,
                )
            pairs.append(
                (_as_float(window[0], f"windows[{n}][0]"), _as_float(window[1], f"windows[{n}][1]"))
            )
        return cls(period=_number(raw, "period"), windows=tuple(pairs))

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, "windows": [[s, e] for s, e in self.windows]}


@dataclass(frozen=True, slots=True)
class LineModel:
    """A serial line: every part visits every station in order.

    ``buffers[i]`` holds parts between station ``i`` and ``i + 1`` (not counting the
    parts inside station ``i + 1``): ``0`` is direct hand-over, ``None`` unlimited.
    ``arrival`` ``None`` means a saturated source. With operators, every station
    skill must be held by at least one of them (otherwise the station could never start).
    """

    name: str
    stations: tuple[Station, ...]
    buffers: tuple[int | None, ...]
    arrival: Dist | None = None
    operators: tuple[Operator, ...] = ()
    shifts: Shifts | None = None

    def __post_init__(self) -> None:
        if not self.stations:
            raise LineModelError("stations", "at least one station", [], problem=Problem.MISSING)
        seen: set[str] = set()
        for n, station in enumerate(self.stations):
            if station.id in seen:
                raise LineModelError(
                    f"stations[{n}].id",
                    "station ids unique in the line",
                    station.id,
                    problem=Problem.DUPLICATE,
                    station=station.id,
                )
            seen.add(station.id)
        if len(self.buffers) != len(self.stations) - 1:
            raise LineModelError(
                "buffers",
                f"{len(self.stations) - 1} capacities (one between each pair of "
                f"consecutive stations)",
                len(self.buffers),
                problem=Problem.INCONSISTENT,
            )
        for n, capacity in enumerate(self.buffers):
            if capacity is not None and (
                isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0
            ):
                raise LineModelError(
                    f"buffers[{n}]", "a whole number >= 0, or null for unlimited", capacity
                )
        ids: set[str] = set()
        for n, operator in enumerate(self.operators):
            if operator.id in ids:
                raise LineModelError(
                    f"operators[{n}].id",
                    "operator ids unique",
                    operator.id,
                    problem=Problem.DUPLICATE,
                )
            ids.add(operator.id)
        if self.operators:
            held = {skill for operator in self.operators for skill in operator.skills}
            for n, station in enumerate(self.stations):
                if station.skill is not None and station.skill not in held:
                    raise LineModelError(
                        f"stations[{n}].skill",
                        "a skill held by at least one operator",
                        station.skill,
                        problem=Problem.UNKNOWN_REFERENCE,
                        station=station.id,
                        hint="add an operator with it, or set skill to null",
                    )

    @property
    def operators_needed(self) -> bool:
        """True when some station must wait for an operator to start a part."""
        return bool(self.operators) and any(s.skill is not None for s in self.stations)

    def station_index(self, station_id: str) -> int:
        for n, station in enumerate(self.stations):
            if station.id == station_id:
                return n
        raise KeyError(station_id)

    @classmethod
    def from_dict(cls, data: object) -> LineModel:
        """Read the line-model dictionary of ``docs/simulation-line.md``; raises LineModelError."""
        raw = _mapping(data, "", "a line model with 'stations' and 'buffers'")
        _known_keys(
            raw, ("name", "stations", "buffers", "arrival", "operators", "shifts"), "a line model"
        )
        name = raw.get("name", "line")
        if not isinstance(name, str):
            raise LineModelError("name", "a text", name, problem=Problem.WRONG_TYPE)
        stations_raw = raw.get("stations")
        if not isinstance(stations_raw, list | tuple) or not stations_raw:
            raise LineModelError(
                "stations",
                "a non-empty list of stations",
                stations_raw,
                problem=Problem.MISSING if stations_raw is None else Problem.WRONG_TYPE,
            )
        stations = []
        for n, item in enumerate(stations_raw):
            station_id = item.get("id") if isinstance(item, Mapping) else None
            stations.append(
                _nested(
                    Station.from_dict,
                    item,
                    f"stations[{n}]",
                    station_id if isinstance(station_id, str) else None,
                )
            )
        buffers_raw = raw.get("buffers", [] if len(stations) == 1 else None)
        if not isinstance(buffers_raw, list | tuple):
            raise LineModelError(
                "buffers",
                f"a list of {len(stations) - 1} capacities (null for unlimited)",
                buffers_raw,
                problem=Problem.MISSING if buffers_raw is None else Problem.WRONG_TYPE,
            )
        buffers = tuple(_capacity(b, f"buffers[{n}]") for n, b in enumerate(buffers_raw))
        operators_raw = raw.get("operators") or []
        if not isinstance(operators_raw, list | tuple):
            raise LineModelError(
                "operators", "a list of operators", operators_raw, problem=Problem.WRONG_TYPE
            )
        return cls(
            name=name,
            stations=tuple(stations),
            buffers=buffers,
            arrival=_optional(Dist.from_dict, raw.get("arrival"), "arrival"),
            operators=tuple(
                _nested(Operator.from_dict, o, f"operators[{n}]")
                for n, o in enumerate(operators_raw)
            ),
            shifts=_optional(Shifts.from_dict, raw.get("shifts"), "shifts"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "stations": [s.to_dict() for s in self.stations],
            "buffers": list(self.buffers),
            "arrival": self.arrival.to_dict() if self.arrival else None,
            "operators": [o.to_dict() for o in self.operators],
            "shifts": self.shifts.to_dict() if self.shifts else None,
        }


# --- reading helpers: each raises LineModelError with a path relative to the object read ---


def _mapping(data: object, path: str, expected: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise LineModelError(path, expected, data, problem=Problem.WRONG_TYPE)
    return data


def _known_keys(raw: Mapping[str, Any], allowed: tuple[str, ...], what: str) -> None:
    for key in raw:
        if key not in allowed:
            raise LineModelError(
                str(key),
                f"one of the fields of {what}: {', '.join(allowed)}",
                key,
                problem=Problem.UNKNOWN_FIELD,
            )


def _as_float(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LineModelError(path, "a number", value, problem=Problem.WRONG_TYPE)
    result = float(value)
    if not math.isfinite(result):
        raise LineModelError(path, "a finite number", value)
    return result


def _number(raw: Mapping[str, Any], key: str) -> float:
    if key not in raw:
        raise LineModelError(key, "a number", None, problem=Problem.MISSING)
    return _as_float(raw[key], key)


def _capacity(value: object, path: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise LineModelError(
            path, "a whole number >= 0, or null for unlimited", value, problem=Problem.WRONG_TYPE
        )
    return value


def _nested(read: Any, data: object, path: str, station: str | None = None) -> Any:
    try:
        result = read(data)
    except LineModelError as err:
        raise err.within(path, station) from err
    return result


def _optional(read: Any, data: object, path: str) -> Any:
    return None if data is None else _nested(read, data, path)
