"""Quantities: parsing, conversion, dimension checks and the messages they give."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twinverse.twin.errors import UnitError
from twinverse.twin.quantity import (
    AREA,
    COUNT_RATE,
    DIMENSIONLESS,
    MASS,
    POWER,
    SPEED,
    TIME,
    UNITS,
    Quantity,
    dimension_name,
    parse_quantity,
    parse_unit,
)

# ------------------------------------------------------------------ parsing


@pytest.mark.parametrize(
    ("text", "magnitude", "dimension"),
    [
        ("2.5 min", 150.0, TIME),
        ("45 s", 45.0, TIME),
        ("8 h", 28_800.0, TIME),
        ("120 pcs/h", 120 / 3600, COUNT_RATE),
        ("12 m^2", 12.0, AREA),
        ("2 m·m", 2.0, AREA),
        ("60 km/h", 60_000 / 3600, SPEED),
        ("15 kW", 15_000.0, POWER),
        ("7 %", 0.07, DIMENSIONLESS),
        ("0.95", 0.95, DIMENSIONLESS),
        (".5 h", 1800.0, TIME),
        ("1e3 m", 1000.0, (("m", 1),)),
        ("-3 kg", -3.0, MASS),
    ],
)
def test_parse_quantity_gives_base_magnitude_and_dimension(
    text: str, magnitude: float, dimension: tuple[tuple[str, int], ...]
) -> None:
    q = parse_quantity(text)
    assert q.magnitude == pytest.approx(magnitude)
    assert q.dimension == dimension


def test_parse_quantity_keeps_the_unit_as_written() -> None:
    assert parse_quantity("  2.5   min ").unit == "min"


def test_str_shows_the_value_in_the_written_unit() -> None:
    assert str(parse_quantity("2.5 min")) == "2.5 min"
    assert str(parse_quantity("7 %")) == "7 %"
    assert str(parse_quantity("3")) == "3"


def test_bare_number_is_dimensionless() -> None:
    assert parse_quantity(3) == Quantity(3.0, DIMENSIONLESS, "")


def test_emission_factor_per_tonne_km_is_mass_over_mass_times_length() -> None:
    q = parse_quantity("0.016 kgCO2e/tkm")
    assert q.dimension == (("m", -1),)
    assert q.magnitude == pytest.approx(0.016 / 1e6)


def test_price_per_tonne_carries_the_currency() -> None:
    q = parse_quantity("650 EUR/t")
    assert q.dimension == (("EUR", 1), ("kg", -1))
    assert q.to("EUR/kg") == pytest.approx(0.65)


def test_every_factor_after_a_slash_divides() -> None:
    assert parse_unit("kg/m/s").dimension == (("kg", 1), ("m", -1), ("s", -1))


def test_negative_power_divides() -> None:
    assert parse_unit("s^-1") == parse_unit("1/s")


def test_empty_unit_is_dimensionless() -> None:
    assert parse_unit("").dimension == DIMENSIONLESS


# --------------------------------------------------------------- conversion


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("2.5 min", "s", 150.0),
        ("90 s", "min", 1.5),
        ("120 pcs/h", "pcs/min", 2.0),
        ("1 kgCO2e/tkm", "gCO2e/tkm", 1000.0),
        ("650 EUR/t", "EUR/kg", 0.65),
        ("1 m^2", "cm^2", 10_000.0),
        ("7 %", "1", 0.07),
        ("1 wk", "d", 7.0),
    ],
)
def test_to_converts_between_units_of_one_dimension(text: str, unit: str, expected: float) -> None:
    assert parse_quantity(text).to(unit) == pytest.approx(expected)


def test_value_is_the_magnitude_in_the_written_unit() -> None:
    assert Quantity.of(2.5, "min").value == pytest.approx(2.5)


def test_of_builds_the_same_quantity_as_parsing() -> None:
    assert Quantity.of(2.5, "min") == parse_quantity("2.5 min")


@given(
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
    st.sampled_from(["s", "min", "h", "d", "km", "t", "kWh", "pcs/h", "EUR/t", "m^2", "%"]),
)
def test_parse_then_to_the_same_unit_gives_the_number_back(value: float, unit: str) -> None:
    assert parse_quantity(f"{value!r} {unit}").to(unit) == pytest.approx(value, rel=1e-9, abs=1e-9)


# -------------------------------------------------------- dimension errors


def test_mass_where_a_duration_is_expected_shows_an_example() -> None:
    with pytest.raises(UnitError) as err:
        parse_quantity("8 t", TIME)
    assert str(err.value) == "expected a duration such as '2.5 min', got '8 t' which is a mass"


def test_bare_number_where_a_unit_is_needed_asks_for_the_unit() -> None:
    with pytest.raises(UnitError, match=r"got the bare number 45; write the unit") as err:
        parse_quantity(45, TIME)
    assert "'2.5 min'" in str(err.value)


def test_to_a_unit_of_another_dimension_names_both() -> None:
    with pytest.raises(UnitError) as err:
        parse_quantity("2.5 min").to("kg")
    assert str(err.value) == "cannot express 2.5 min (duration) in 'kg' (mass)"


def test_unit_error_has_a_stable_code() -> None:
    with pytest.raises(UnitError) as err:
        parse_quantity("8 t", TIME)
    assert err.value.code == "invalid-quantity"


def test_currencies_do_not_convert_into_each_other() -> None:
    with pytest.raises(UnitError, match=r"money \(EUR\).*money \(USD\)"):
        parse_quantity("5 EUR").to("USD")


def test_prices_in_different_currencies_have_different_dimensions() -> None:
    assert parse_unit("EUR/t").dimension != parse_unit("USD/t").dimension
    assert parse_quantity("5 EUR") != parse_quantity("5 USD")


def test_price_in_another_currency_is_rejected_when_one_is_expected() -> None:
    with pytest.raises(UnitError, match="EUR"):
        parse_quantity("5 EUR/t", parse_unit("USD/t").dimension)


# ------------------------------------------------------------- unit typos


@pytest.mark.parametrize(
    ("text", "suggestion"), [("5 mins", "min"), ("5 KG", "kg"), ("5 kwh", "kWh"), ("5 secs", "sec")]
)
def test_unknown_unit_suggests_the_closest(text: str, suggestion: str) -> None:
    with pytest.raises(UnitError, match=f"did you mean '{suggestion}'"):
        parse_quantity(text)


def test_unknown_unit_without_a_close_match_gives_no_suggestion() -> None:
    with pytest.raises(UnitError) as err:
        parse_quantity("5 zzzzqq")
    assert "did you mean" not in str(err.value)


def test_milliwatt_is_not_megawatt() -> None:
    assert parse_quantity("5 mW").to("W") == pytest.approx(0.005)


def test_words_between_factors_are_not_a_unit() -> None:
    with pytest.raises(UnitError, match="'kg m' is not a unit symbol"):
        parse_unit("kg m")


def test_text_without_a_number_is_rejected() -> None:
    with pytest.raises(UnitError, match="got 'five s'"):
        parse_quantity("five s", TIME)


def test_unreadable_text_shows_an_example_with_a_unit() -> None:
    with pytest.raises(UnitError) as err:
        parse_quantity("five s")
    assert "such as '0.95'" not in str(err.value)


# -------------------------------------------------------- impossible values


def test_boolean_is_not_a_quantity() -> None:
    with pytest.raises(UnitError, match="boolean"):
        parse_quantity(True)


@pytest.mark.parametrize("value", ["1e400 s", float("nan"), float("inf"), -math.inf])
def test_non_finite_quantity_is_rejected(value: str | float) -> None:
    with pytest.raises(UnitError, match="finite"):
        parse_quantity(value)


def test_integer_too_large_for_a_float_is_a_unit_error() -> None:
    with pytest.raises(UnitError):
        parse_quantity(10**400)


def test_overflowing_unit_power_is_a_unit_error() -> None:
    with pytest.raises(UnitError):
        parse_unit("km^400")


def test_absurd_unit_power_is_rejected() -> None:
    with pytest.raises(UnitError):
        parse_unit("m^1000")


# ------------------------------------------------------------------- names


def test_known_dimensions_have_names() -> None:
    assert dimension_name(TIME) == "duration"
    assert dimension_name(COUNT_RATE) == "rate (count per time)"
    assert dimension_name((("EUR", 1),)) == "money (EUR)"


def test_unnamed_dimension_is_spelled_out() -> None:
    assert dimension_name((("kg", 1), ("m", 1), ("s", -2))) == "kg·m·s^-2"


def test_every_unit_symbol_parses_to_its_table_row() -> None:
    for symbol, row in UNITS.items():
        assert parse_unit(symbol) == row, symbol
