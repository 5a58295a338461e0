"""Pydantic field types for scenario files: quantities with a checked dimension, distributions.

These turn ``"2.5 min"`` into a :class:`~twinverse.twin.quantity.Quantity` of
the right dimension, or fail with a message that shows a right value.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator
from pydantic_core import PydanticCustomError

from twinverse.twin.distribution import DistKind, Distribution, check_distribution
from twinverse.twin.errors import UnitError
from twinverse.twin.quantity import (
    COUNT,
    COUNT_RATE,
    DIMENSIONLESS,
    ENERGY,
    LENGTH,
    MASS,
    MASS_RATE,
    POWER,
    SPEED,
    TIME,
    Dimension,
    Quantity,
    dimension_name,
    parse_quantity,
)


@lru_cache(maxsize=65_536)
def _parse_text(text: str, dim: Dimension | None) -> Quantity:
    # Scenario files repeat values ('2 kW', '10 pcs') thousands of times; a Quantity is immutable.
    return parse_quantity(text, dim)


def _quantity_validator(dim: Dimension | None) -> Any:
    def validate(value: Any) -> Quantity:
        if isinstance(value, Quantity):
            return value
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise PydanticCustomError(
                "wrong-type",
                "expected a {what} written as text such as '2.5 min', got {got}",
                {"what": dimension_name(dim) if dim else "quantity", "got": type(value).__name__},
            )
        try:
            if isinstance(value, str) and len(value) <= 64:
                return _parse_text(value, dim)
            return parse_quantity(value, dim)
        except UnitError as err:
            raise PydanticCustomError("wrong-unit", "{msg}", {"msg": err.message}) from None

    return validate


def _quantity(dim: Dimension | None) -> Any:
    return Annotated[Quantity, PlainValidator(_quantity_validator(dim)), PlainSerializer(str)]


Duration = _quantity(TIME)
Length = _quantity(LENGTH)
Mass = _quantity(MASS)
Count = _quantity(COUNT)
Power = _quantity(POWER)
Energy = _quantity(ENERGY)
Speed = _quantity(SPEED)
CountRate = _quantity(COUNT_RATE)
MassRate = _quantity(MASS_RATE)
Ratio = _quantity(DIMENSIONLESS)
AnyQuantity = _quantity(None)


def _distribution_validator(dim: Dimension) -> Any:
    parse_one = _quantity_validator(dim)

    @lru_cache(maxsize=65_536)
    def parse_mapping(items: tuple[tuple[str, Any], ...]) -> Distribution:
        return parse(dict(items))

    def validate(value: Any) -> Distribution:
        if isinstance(value, Distribution):
            return value
        if not isinstance(value, dict):
            return Distribution.constant(parse_one(value))
        # Scenario files repeat distributions; a Distribution is immutable, so equal texts share one.
        items = tuple(value.items())
        if all(isinstance(v, str | int | float) and not isinstance(v, bool) for _, v in items):
            return parse_mapping(items)
        return parse(value)

    def parse(value: dict[str, Any]) -> Distribution:
        raw = dict(value)
        kind_text = raw.pop("dist", None)
        try:
            kind = DistKind(kind_text)
        except ValueError:
            raise PydanticCustomError(
                "unknown-distribution",
                "'dist' must be one of {kinds}, got {got}",
                {"kinds": ", ".join(k.value for k in DistKind), "got": repr(kind_text)},
            ) from None
        params: dict[str, Quantity | float] = {}
        for name, item in raw.items():
            if isinstance(item, int | float) and not isinstance(item, bool):
                try:
                    params[name] = float(item)
                except OverflowError:
                    raise PydanticCustomError(
                        "not-finite", "'{name}' is too large to be a number", {"name": name}
                    ) from None
            else:
                params[name] = (
                    parse_one(item) if name not in ("cv", "shape") else _plain(name, item)
                )
        try:
            check_distribution(kind, params, dim)
        except UnitError as err:
            raise PydanticCustomError(
                "invalid-distribution", "{msg}", {"msg": err.message}
            ) from None
        for name, item in params.items():
            if isinstance(item, float) and name not in ("cv", "shape") and dim != DIMENSIONLESS:
                raise PydanticCustomError(
                    "wrong-unit",
                    "'{name}' needs its unit, e.g. '{name}: 45 s'",
                    {"name": name},
                )
        return Distribution(kind, tuple(params.items()))

    return validate


def _plain(name: str, item: Any) -> float:
    try:
        return parse_quantity(item, DIMENSIONLESS).magnitude
    except UnitError as err:
        raise PydanticCustomError(
            "wrong-unit", "{msg}", {"msg": f"{name}: {err.message}"}
        ) from None


def _dist_text(d: Distribution) -> Any:
    return (
        str(d.param("value"))
        if d.kind is DistKind.CONSTANT
        else {k: (str(v) if isinstance(v, Quantity) else v) for k, v in d.to_value().items()}
    )


def _distribution(dim: Dimension) -> Any:
    return Annotated[
        Distribution, PlainValidator(_distribution_validator(dim)), PlainSerializer(_dist_text)
    ]


DurationDist = _distribution(TIME)
