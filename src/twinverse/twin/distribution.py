"""Probability distributions of durations and other quantities, as data.

A scenario writes ``cycle_time: 45 s`` (a constant) or
``cycle_time: {dist: lognormal, mean: 45 s, cv: 0.1}``. Each kind is a row of
:data:`DISTRIBUTIONS` saying which parameters it takes and whether each one has
the dimension of the quantity itself (``mean``) or none (``cv``, ``shape``).
The simulator samples from these; this module only describes and checks them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from twinverse.twin.errors import UnitError
from twinverse.twin.quantity import DIMENSIONLESS, Dimension, Quantity

# Below this shape the Weibull mean overflows a float; such a model is not a duration anyway.
MIN_WEIBULL_SHAPE = 0.05
MAX_CV = 100.0


class DistKind(StrEnum):
    CONSTANT = "constant"
    EXPONENTIAL = "exponential"
    NORMAL = "normal"
    LOGNORMAL = "lognormal"
    UNIFORM = "uniform"
    TRIANGULAR = "triangular"
    GAMMA = "gamma"
    WEIBULL = "weibull"


@dataclass(frozen=True, slots=True)
class DistSpec:
    """Which parameters a kind takes: those that carry the quantity's unit and those that are plain."""

    dimensioned: tuple[str, ...]
    plain: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()


DISTRIBUTIONS: Final[MappingProxyType[DistKind, DistSpec]] = MappingProxyType(
    {
        DistKind.CONSTANT: DistSpec(("value",)),
        DistKind.EXPONENTIAL: DistSpec(("mean",)),
        DistKind.NORMAL: DistSpec(("mean", "sd")),
        DistKind.LOGNORMAL: DistSpec(("mean",), plain=("cv",)),
        DistKind.UNIFORM: DistSpec(("low", "high")),
        DistKind.TRIANGULAR: DistSpec(("low", "mode", "high")),
        DistKind.GAMMA: DistSpec(("mean",), plain=("cv",)),
        DistKind.WEIBULL: DistSpec(("scale",), plain=("shape",)),
    }
)


@dataclass(frozen=True, slots=True)
class Distribution:
    """A distribution of a quantity of one dimension."""

    kind: DistKind
    params: tuple[tuple[str, Quantity | float], ...]

    def param(self, name: str) -> Quantity | float:
        return dict(self.params)[name]

    @property
    def mean(self) -> float:
        """The mean in base units."""
        p = {k: (v.magnitude if isinstance(v, Quantity) else v) for k, v in self.params}
        match self.kind:
            case DistKind.CONSTANT:
                return p["value"]
            case DistKind.EXPONENTIAL | DistKind.NORMAL | DistKind.LOGNORMAL | DistKind.GAMMA:
                return p["mean"]
            case DistKind.UNIFORM:
                return (p["low"] + p["high"]) / 2
            case DistKind.TRIANGULAR:
                return (p["low"] + p["mode"] + p["high"]) / 3
            case DistKind.WEIBULL:
                return p["scale"] * math.gamma(1 + 1 / p["shape"])
        raise AssertionError(self.kind)  # pragma: no cover

    def to_value(self) -> dict[str, Quantity | float | str]:
        """The form stored as an entity property."""
        return {"dist": self.kind.value, **dict(self.params)}

    @classmethod
    def constant(cls, value: Quantity) -> Distribution:
        return cls(DistKind.CONSTANT, (("value", value),))


def check_distribution(kind: DistKind, params: dict[str, Quantity | float], dim: Dimension) -> None:
    """Raise UnitError when the parameters do not fit the kind or are impossible."""
    spec = DISTRIBUTIONS[kind]
    allowed = {*spec.dimensioned, *spec.plain, *spec.optional}
    for name in params:
        if name not in allowed:
            raise UnitError(
                f"{kind.value} takes {', '.join(sorted(allowed))}; {name!r} is not one of them"
            )
    for name in (*spec.dimensioned, *spec.plain):
        if name not in params:
            raise UnitError(f"{kind.value} needs {name!r}")
    for name in spec.plain:
        value = params[name]
        if isinstance(value, Quantity) and value.dimension != DIMENSIONLESS:
            raise UnitError(
                f"{name!r} of a {kind.value} distribution is a plain number, got {value}"
            )
    mags = {k: (v.magnitude if isinstance(v, Quantity) else float(v)) for k, v in params.items()}
    for name, m in mags.items():
        if not math.isfinite(m):
            raise UnitError(f"{name!r} of a {kind.value} distribution must be a finite number")
    if any(m < 0 for m in mags.values()):
        negative = next(k for k, m in mags.items() if m < 0)
        raise UnitError(f"{negative!r} of a {kind.value} distribution must not be negative")
    if kind is DistKind.UNIFORM and mags["low"] > mags["high"]:
        raise UnitError("uniform needs low <= high")
    if kind is DistKind.TRIANGULAR and not mags["low"] <= mags["mode"] <= mags["high"]:
        raise UnitError("triangular needs low <= mode <= high")
    if kind in (DistKind.EXPONENTIAL, DistKind.GAMMA, DistKind.LOGNORMAL) and mags["mean"] == 0:
        raise UnitError(f"{kind.value} needs a mean above zero")
    if kind is DistKind.WEIBULL and mags["shape"] < MIN_WEIBULL_SHAPE:
        raise UnitError(f"weibull needs a shape of at least {MIN_WEIBULL_SHAPE}")
    if (kind is DistKind.LOGNORMAL and mags["cv"] > MAX_CV) or (
        kind is DistKind.GAMMA and mags["cv"] > MAX_CV
    ):
        raise UnitError(f"a coefficient of variation above {MAX_CV} is not a useful model")
