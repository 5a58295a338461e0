"""Distributions as data: which parameters each kind takes, what is impossible, the mean."""

from __future__ import annotations

import math

import pytest

from twinverse.twin.distribution import (
    DISTRIBUTIONS,
    MIN_WEIBULL_SHAPE,
    DistKind,
    Distribution,
    check_distribution,
)
from twinverse.twin.errors import UnitError
from twinverse.twin.quantity import DIMENSIONLESS, TIME, Quantity


def s(value: float) -> Quantity:
    return Quantity.of(value, "s")


VALID: dict[DistKind, dict[str, Quantity | float]] = {
    DistKind.CONSTANT: {"value": s(45)},
    DistKind.EXPONENTIAL: {"mean": s(45)},
    DistKind.NORMAL: {"mean": s(45), "sd": s(5)},
    DistKind.LOGNORMAL: {"mean": s(45), "cv": 0.1},
    DistKind.UNIFORM: {"low": s(30), "high": s(60)},
    DistKind.TRIANGULAR: {"low": s(30), "mode": s(45), "high": s(60)},
    DistKind.GAMMA: {"mean": s(45), "cv": 0.3},
    DistKind.WEIBULL: {"scale": s(45), "shape": 1.5},
}


def test_every_kind_has_a_spec_and_a_valid_example() -> None:
    assert set(DISTRIBUTIONS) == set(DistKind) == set(VALID)


@pytest.mark.parametrize("kind", list(DistKind))
def test_valid_parameters_pass(kind: DistKind) -> None:
    check_distribution(kind, VALID[kind], TIME)


@pytest.mark.parametrize("kind", list(DistKind))
def test_each_required_parameter_is_needed(kind: DistKind) -> None:
    for name in VALID[kind]:
        params = {k: v for k, v in VALID[kind].items() if k != name}
        with pytest.raises(UnitError, match=f"{kind.value} needs {name!r}"):
            check_distribution(kind, params, TIME)


def test_unknown_parameter_is_named_with_the_allowed_ones() -> None:
    with pytest.raises(UnitError) as err:
        check_distribution(DistKind.NORMAL, {"mean": s(45), "sd": s(5), "cv": 0.1}, TIME)
    assert str(err.value) == "normal takes mean, sd; 'cv' is not one of them"


def test_triangular_with_low_above_high_is_rejected() -> None:
    with pytest.raises(UnitError, match="triangular needs low <= mode <= high"):
        check_distribution(DistKind.TRIANGULAR, {"low": s(60), "mode": s(45), "high": s(30)}, TIME)


def test_triangular_with_mode_outside_the_range_is_rejected() -> None:
    with pytest.raises(UnitError, match="triangular"):
        check_distribution(DistKind.TRIANGULAR, {"low": s(30), "mode": s(90), "high": s(60)}, TIME)


def test_uniform_with_low_above_high_is_rejected() -> None:
    with pytest.raises(UnitError, match="uniform needs low <= high"):
        check_distribution(DistKind.UNIFORM, {"low": s(60), "high": s(30)}, TIME)


def test_degenerate_uniform_is_allowed() -> None:
    check_distribution(DistKind.UNIFORM, {"low": s(30), "high": s(30)}, TIME)


def test_negative_parameter_is_named() -> None:
    with pytest.raises(UnitError, match="'sd' of a normal distribution must not be negative"):
        check_distribution(DistKind.NORMAL, {"mean": s(45), "sd": s(-1)}, TIME)


@pytest.mark.parametrize("kind", [DistKind.EXPONENTIAL, DistKind.GAMMA, DistKind.LOGNORMAL])
def test_zero_mean_is_rejected(kind: DistKind) -> None:
    params = {**VALID[kind], "mean": s(0)}
    with pytest.raises(UnitError, match="mean above zero"):
        check_distribution(kind, params, TIME)


def test_weibull_with_zero_shape_is_rejected() -> None:
    with pytest.raises(UnitError, match="shape of at least"):
        check_distribution(DistKind.WEIBULL, {"scale": s(45), "shape": 0.0}, TIME)


def test_plain_parameter_with_a_unit_is_rejected() -> None:
    with pytest.raises(UnitError, match="'cv' of a lognormal distribution is a plain number"):
        check_distribution(DistKind.LOGNORMAL, {"mean": s(45), "cv": s(1)}, TIME)


def test_plain_parameter_given_as_dimensionless_quantity_passes() -> None:
    cv = Quantity(0.1, DIMENSIONLESS, "")
    check_distribution(DistKind.LOGNORMAL, {"mean": s(45), "cv": cv}, TIME)


@pytest.mark.parametrize(
    ("kind", "name", "value"),
    [
        (DistKind.LOGNORMAL, "cv", math.nan),
        (DistKind.LOGNORMAL, "cv", math.inf),
        (DistKind.WEIBULL, "shape", math.nan),
    ],
)
def test_non_finite_plain_parameter_is_rejected(kind: DistKind, name: str, value: float) -> None:
    with pytest.raises(UnitError):
        check_distribution(kind, {**VALID[kind], name: value}, TIME)


def test_weibull_shape_too_small_for_a_finite_mean_is_rejected() -> None:
    with pytest.raises(UnitError):
        check_distribution(DistKind.WEIBULL, {"scale": s(45), "shape": 0.001}, TIME)


def test_weibull_smallest_accepted_shape_has_a_finite_mean() -> None:
    params: dict[str, Quantity | float] = {"scale": s(45), "shape": MIN_WEIBULL_SHAPE}
    check_distribution(DistKind.WEIBULL, params, TIME)
    assert math.isfinite(Distribution(DistKind.WEIBULL, tuple(params.items())).mean)


# -------------------------------------------------------------------- mean


@pytest.mark.parametrize(
    ("kind", "mean"),
    [
        (DistKind.CONSTANT, 45.0),
        (DistKind.EXPONENTIAL, 45.0),
        (DistKind.NORMAL, 45.0),
        (DistKind.LOGNORMAL, 45.0),
        (DistKind.UNIFORM, 45.0),
        (DistKind.TRIANGULAR, 45.0),
        (DistKind.GAMMA, 45.0),
        (DistKind.WEIBULL, 45 * math.gamma(1 + 1 / 1.5)),
    ],
)
def test_mean_is_in_base_units(kind: DistKind, mean: float) -> None:
    assert Distribution(kind, tuple(VALID[kind].items())).mean == pytest.approx(mean)


def test_mean_of_minutes_is_in_seconds() -> None:
    assert Distribution.constant(Quantity.of(2, "min")).mean == pytest.approx(120.0)


def test_constant_holds_its_value() -> None:
    d = Distribution.constant(s(45))
    assert d.kind is DistKind.CONSTANT
    assert d.param("value") == s(45)


def test_to_value_names_the_kind_and_keeps_the_parameters() -> None:
    d = Distribution(DistKind.LOGNORMAL, (("mean", s(45)), ("cv", 0.1)))
    assert d.to_value() == {"dist": "lognormal", "mean": s(45), "cv": 0.1}
