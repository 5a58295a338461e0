"""Orders CSV, lots, benchmark files: parsed, and bad input named by file, line and column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from twinverse.schedule import InputFileError, LotPolicy, parse_fjsp, parse_orders, read_fjsp
from twinverse.schedule.orders import make_lots

HEADER = "order,product,quantity,due,release,weight\n"


def test_orders_are_read_with_the_site_timezone() -> None:
    tz = dt.timezone(dt.timedelta(hours=8))
    (order,) = parse_orders(HEADER + "o1,p,10,2025-03-04T14:00,,2\n", tz=tz)
    assert order.quantity == 10 and order.weight == 2.0
    assert order.due == dt.datetime(2025, 3, 4, 14, 0, tzinfo=tz) and order.release is None


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        ("o1,p,ten,2025-03-04T14:00,,1", "quantity", "whole pieces"),
        ("o1,p,0,2025-03-04T14:00,,1", "quantity", "> 0"),
        ("o1,p,5,next tuesday,,1", "due", "ISO date-time"),
        ("o1,p,5,2025-03-04T14:00,,-1", "weight", ">= 0"),
    ],
)
def test_a_bad_cell_names_file_line_and_column(row: str, column: str, words: str) -> None:
    with pytest.raises(InputFileError) as caught:
        parse_orders(HEADER + row + "\n", file="orders.csv")
    assert caught.value.line == 2 and caught.value.column == column
    assert "orders.csv:2" in str(caught.value) and words in str(caught.value)


def test_a_missing_column_is_reported() -> None:
    with pytest.raises(InputFileError, match="missing column"):
        parse_orders("order,product,due\no1,p,2025-03-04T14:00\n")


def test_a_repeated_order_is_reported() -> None:
    with pytest.raises(InputFileError, match="twice"):
        parse_orders(HEADER + "o1,p,1,2025-03-04,,1\no1,p,1,2025-03-05,,1\n")


def test_large_orders_are_split_and_close_small_ones_merged() -> None:
    orders = parse_orders(
        HEADER
        + "big,p,250,2025-03-04T00:00,,1\n"
        + "s1,q,20,2025-03-04T00:00,,1\n"
        + "s2,q,30,2025-03-04T06:00,,1\n"
        + "s3,q,30,2025-03-09T00:00,,1\n"
    )
    lots = make_lots(orders, LotPolicy(max_lot=100, merge_window=dt.timedelta(hours=12)))
    big = [lot for lot in lots if lot.orders == ("big",)]
    assert sorted(lot.quantity for lot in big) == [83, 83, 84]
    merged = [lot for lot in lots if lot.orders == ("s1", "s2")]
    assert len(merged) == 1 and merged[0].quantity == 50
    assert sum(lot.quantity for lot in lots) == 330


def test_fjsp_text_is_read(fjsp_dir: Path) -> None:
    problem = read_fjsp(fjsp_dir / "brandimarte" / "mk01.txt")
    assert len(problem.jobs) == 10 and len(problem.machines) == 6
    assert problem.is_flexible


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("2 2\n1 1 0 5\n", "header says 2 jobs"),
        ("1 2\n2 1 0 5\n", "ends inside an operation"),
        ("1 2\n1 1 0 5 7\n", "left over"),
        ("1 2\n1 1 5 3\n", "outside"),
    ],
)
def test_a_broken_fjsp_file_is_reported_with_its_line(text: str, words: str) -> None:
    with pytest.raises(InputFileError, match=words):
        parse_fjsp(text, file="x.txt")
