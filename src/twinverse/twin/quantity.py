"""Physical quantities with explicit, checked units.

A small typed-quantity module rather than pint: scenario files hold hundreds of
thousands of quantities and pint's parser costs tens of microseconds each. A
quantity keeps its magnitude in base units (s, m, kg, W = kg·m²/s³ …) and its
dimension as a vector of exponents over named bases; the unit the author wrote
is kept for display. Currencies are bases of their own, so EUR and USD never
mix silently.

    >>> q = parse_quantity("2.5 min")
    >>> q.magnitude, q.to("s")
    (150.0, 150.0)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Final

from twinverse.twin.errors import UnitError

# A dimension: sorted ((base, exponent), ...) with non-zero exponents only.
Dimension = tuple[tuple[str, int], ...]

DIMENSIONLESS: Final[Dimension] = ()


def _dim(**exponents: int) -> Dimension:
    return tuple(sorted((k, v) for k, v in exponents.items() if v))


TIME: Final = _dim(s=1)
LENGTH: Final = _dim(m=1)
MASS: Final = _dim(kg=1)
COUNT: Final = _dim(item=1)
POWER: Final = _dim(kg=1, m=2, s=-3)
ENERGY: Final = _dim(kg=1, m=2, s=-2)
AREA: Final = _dim(m=2)
VOLUME: Final = _dim(m=3)
SPEED: Final = _dim(m=1, s=-1)
TEMPERATURE: Final = _dim(K=1)
FREQUENCY: Final = _dim(s=-1)
COUNT_RATE: Final = _dim(item=1, s=-1)
MASS_RATE: Final = _dim(kg=1, s=-1)

CURRENCIES: Final = ("EUR", "USD", "CNY", "BRL", "ZAR", "MXN", "INR", "GBP", "JPY", "CHF")

DIMENSION_NAMES: Final[MappingProxyType[Dimension, str]] = MappingProxyType(
    {
        DIMENSIONLESS: "dimensionless",
        TIME: "duration",
        LENGTH: "length",
        MASS: "mass",
        COUNT: "count",
        POWER: "power",
        ENERGY: "energy",
        AREA: "area",
        VOLUME: "volume",
        SPEED: "speed",
        TEMPERATURE: "temperature",
        FREQUENCY: "frequency",
        COUNT_RATE: "rate (count per time)",
        MASS_RATE: "mass flow",
        **{_dim(**{c: 1}): f"money ({c})" for c in CURRENCIES},
    }
)

EXAMPLES: Final[MappingProxyType[Dimension, str]] = MappingProxyType(
    {
        TIME: "2.5 min",
        LENGTH: "1200 km",
        MASS: "40 t",
        COUNT: "500 pcs",
        POWER: "15 kW",
        ENERGY: "3.2 MWh",
        SPEED: "60 km/h",
        COUNT_RATE: "120 pcs/h",
        MASS_RATE: "2 t/h",
        DIMENSIONLESS: "0.95",
    }
)


def dimension_name(dim: Dimension) -> str:
    known = DIMENSION_NAMES.get(dim)
    if known:
        return known
    return "·".join(f"{b}^{e}" if e != 1 else b for b, e in dim) or "dimensionless"


@dataclass(frozen=True, slots=True)
class UnitDef:
    """One row of the unit table: the factor to base units and the dimension."""

    factor: float
    dimension: Dimension


_U = UnitDef
# The unit table. Symbols are case-sensitive, as in SI.
UNITS: Final[MappingProxyType[str, UnitDef]] = MappingProxyType(
    {
        # time
        "us": _U(1e-6, TIME),
        "ms": _U(1e-3, TIME),
        "s": _U(1.0, TIME),
        "sec": _U(1.0, TIME),
        "min": _U(60.0, TIME),
        "h": _U(3600.0, TIME),
        "hr": _U(3600.0, TIME),
        "d": _U(86400.0, TIME),
        "day": _U(86400.0, TIME),
        "days": _U(86400.0, TIME),
        "wk": _U(604800.0, TIME),
        "week": _U(604800.0, TIME),
        "weeks": _U(604800.0, TIME),
        "yr": _U(31536000.0, TIME),
        "year": _U(31536000.0, TIME),
        # length
        "mm": _U(1e-3, LENGTH),
        "cm": _U(1e-2, LENGTH),
        "m": _U(1.0, LENGTH),
        "km": _U(1e3, LENGTH),
        "nmi": _U(1852.0, LENGTH),
        # mass (CO2e masses use the same dimension)
        "g": _U(1e-3, MASS),
        "kg": _U(1.0, MASS),
        "t": _U(1e3, MASS),
        "kt": _U(1e6, MASS),
        "kgCO2e": _U(1.0, MASS),
        "gCO2e": _U(1e-3, MASS),
        "tCO2e": _U(1e3, MASS),
        # count
        "pcs": _U(1.0, COUNT),
        "pc": _U(1.0, COUNT),
        "item": _U(1.0, COUNT),
        "items": _U(1.0, COUNT),
        "unit": _U(1.0, COUNT),
        "units": _U(1.0, COUNT),
        "part": _U(1.0, COUNT),
        "parts": _U(1.0, COUNT),
        "TEU": _U(1.0, COUNT),
        # power and energy
        "mW": _U(1e-3, POWER),
        "W": _U(1.0, POWER),
        "kW": _U(1e3, POWER),
        "MW": _U(1e6, POWER),
        "J": _U(1.0, ENERGY),
        "kJ": _U(1e3, ENERGY),
        "MJ": _U(1e6, ENERGY),
        "GJ": _U(1e9, ENERGY),
        "Wh": _U(3600.0, ENERGY),
        "kWh": _U(3.6e6, ENERGY),
        "MWh": _U(3.6e9, ENERGY),
        "GWh": _U(3.6e12, ENERGY),
        # other
        "K": _U(1.0, TEMPERATURE),
        "Hz": _U(1.0, FREQUENCY),
        "rpm": _U(1 / 60, FREQUENCY),
        "%": _U(0.01, DIMENSIONLESS),
        "1": _U(1.0, DIMENSIONLESS),
        "deg": _U(math.pi / 180, DIMENSIONLESS),
        "rad": _U(1.0, DIMENSIONLESS),
        "tkm": _U(1e6, _dim(kg=1, m=1)),
        **{c: _U(1.0, _dim(**{c: 1})) for c in CURRENCIES},
    }
)

MAX_EXPONENT = 12
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_QUANTITY = re.compile(rf"\s*({_NUMBER})\s*(.*?)\s*")
_FACTOR = re.compile(r"([A-Za-z%][A-Za-z0-9%]*|1)(?:\^([-+]?\d+))?")


def _combine(a: Dimension, b: Dimension, sign: int) -> Dimension:
    exps = dict(a)
    for base, e in b:
        exps[base] = exps.get(base, 0) + sign * e
    return tuple(sorted((k, v) for k, v in exps.items() if v))


@lru_cache(maxsize=8192)
def parse_unit(text: str) -> UnitDef:
    """Parse a unit expression such as ``kg``, ``pcs/h``, ``kgCO2e/tkm`` or ``m^2``.

    Products use ``*`` or ``·``; every factor after a ``/`` divides.
    Raises UnitError naming the unknown symbol.
    """
    expr = text.strip()
    if not expr:
        return UnitDef(1.0, DIMENSIONLESS)
    factor, dim = 1.0, DIMENSIONLESS
    sign = 1
    for token in re.split(r"\s*([*/·])\s*", expr):
        if token in ("*", "·"):
            continue
        if token == "/":
            sign = -1
            continue
        match = _FACTOR.fullmatch(token)
        if match is None:
            raise UnitError(f"cannot read unit {text!r}: {token!r} is not a unit symbol")
        symbol, power = match.group(1), int(match.group(2) or 1)
        if abs(power) > MAX_EXPONENT:
            raise UnitError(f"unit exponents go up to {MAX_EXPONENT}, got {symbol}^{power}")
        unit = UNITS.get(symbol)
        if unit is None:
            hint = _closest_unit(symbol)
            shown = symbol if len(symbol) <= 40 else symbol[:37] + "..."
            raise UnitError(
                f"unknown unit {shown!r}" + (f"; did you mean {hint!r}?" if hint else "")
            )
        factor *= unit.factor ** (sign * power)
        dim = _combine(dim, tuple((b, e * power) for b, e in unit.dimension), sign)
    if not math.isfinite(factor) or factor == 0:
        raise UnitError(f"the unit {text[:40]!r} is out of range")
    return UnitDef(factor, dim)


def _closest_unit(symbol: str) -> str | None:
    import difflib

    if len(symbol) > 40:
        return None
    lowered = {u.lower(): u for u in UNITS}
    if symbol.lower() in lowered:
        return lowered[symbol.lower()]
    close = difflib.get_close_matches(symbol, list(UNITS), n=1, cutoff=0.6)
    return close[0] if close else None


@dataclass(frozen=True, slots=True)
class Quantity:
    """A magnitude in base units with its dimension and the unit it was written in."""

    magnitude: float
    dimension: Dimension
    unit: str = ""

    def to(self, unit: str) -> float:
        """The magnitude expressed in ``unit``; raises UnitError on a dimension mismatch."""
        target = parse_unit(unit)
        if target.dimension != self.dimension:
            raise UnitError(
                f"cannot express {self} ({dimension_name(self.dimension)}) in {unit!r} "
                f"({dimension_name(target.dimension)})"
            )
        return self.magnitude / target.factor

    @property
    def value(self) -> float:
        """The magnitude in the unit the author wrote."""
        return self.to(self.unit) if self.unit else self.magnitude

    def __str__(self) -> str:
        if not self.unit:
            return f"{self.magnitude:g}"
        return f"{self.value:g} {self.unit}"

    @classmethod
    def of(cls, value: float, unit: str) -> Quantity:
        u = parse_unit(unit)
        return cls(value * u.factor, u.dimension, unit)


def parse_quantity(text: str | float | int, expected: Dimension | None = None) -> Quantity:
    """Read ``"2.5 min"`` (or a bare number for a dimensionless quantity).

    When ``expected`` is given the dimension must match; the error then shows an
    example of a right value. Raises UnitError.
    """
    if isinstance(text, bool):
        raise UnitError(f"expected a quantity, got the boolean {text!r}")
    try:
        if isinstance(text, int | float):
            quantity = Quantity(float(text), DIMENSIONLESS, "")
        else:
            match = _QUANTITY.fullmatch(text)
            if match is None:
                example = EXAMPLES.get(expected, "2.5 min") if expected is not None else "2.5 min"
                shown = text if len(text) <= 60 else text[:57] + "..."
                raise UnitError(f"expected a number with a unit such as {example!r}, got {shown!r}")
            number, unit_text = float(match.group(1)), match.group(2)
            unit = parse_unit(unit_text)
            quantity = Quantity(number * unit.factor, unit.dimension, unit_text)
    except OverflowError:
        raise UnitError("expected a finite quantity, got a number too large to represent") from None
    if not math.isfinite(quantity.magnitude):
        shown = repr(text) if len(str(text)) <= 60 else "a number too large to represent"
        raise UnitError(f"expected a finite quantity, got {shown}")
    if expected is not None and quantity.dimension != expected:
        wanted = EXAMPLES.get(expected)
        got = dimension_name(quantity.dimension)
        hint = f" such as {wanted!r}" if wanted else ""
        if quantity.dimension == DIMENSIONLESS and expected != DIMENSIONLESS:
            raise UnitError(
                f"expected a {dimension_name(expected)} with its unit{hint}, got the bare number "
                f"{text!r}; write the unit"
            )
        raise UnitError(
            f"expected a {dimension_name(expected)}{hint}, got {text!r} which is a {got}"
        )
    return quantity
