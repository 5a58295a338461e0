"""Customer orders from CSV, and the lots (batches) they become.

The CSV has a header row; columns (any order, case-insensitive):

=========  ========  =========================================================
column     required  meaning
=========  ========  =========================================================
order      yes       the order's id
product    yes       a product id of the scenario
quantity   yes       whole pieces, > 0
due        yes       ISO date-time (``2025-03-05T14:00``; no zone = the site's)
release    no        earliest start, ISO date-time (default: the plan start)
weight     no        tardiness weight per time unit (default 1); ``priority`` is an alias
=========  ========  =========================================================

Bad rows raise :class:`~twinverse.schedule.errors.InputFileError` naming the
file, line and column.

:func:`make_lots` applies a :class:`LotPolicy`: an order larger than
``max_lot`` is split into near-equal lots; orders of the same product whose due
dates lie within ``merge_window`` are merged while the lot stays within
``max_lot`` (variable batch sizes).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from dataclasses import dataclass
from pathlib import Path

from twinverse.schedule.errors import InputFileError

REQUIRED = ("order", "product", "quantity", "due")
OPTIONAL = ("release", "weight", "priority")


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    product: str
    quantity: int
    due: dt.datetime
    release: dt.datetime | None = None
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class LotPolicy:
    """Lot sizing: split above ``max_lot``; merge same-product orders due within ``merge_window``."""

    max_lot: int = 100
    min_lot: int = 1
    merge_window: dt.timedelta = dt.timedelta(0)


@dataclass(frozen=True, slots=True)
class Lot:
    id: str
    product: str
    quantity: int
    due: dt.datetime
    release: dt.datetime | None
    weight: float
    orders: tuple[str, ...]


def _time(text: str, tz: dt.tzinfo, file: str, line: int, column: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputFileError(
            file,
            line,
            f"expected an ISO date-time such as 2025-03-05T14:00, got {text!r}",
            column=column,
        ) from None
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def parse_orders(text: str, *, file: str = "<orders>", tz: dt.tzinfo = dt.UTC) -> list[Order]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None:
        raise InputFileError(file, 1, f"empty file; expected a header: {','.join(REQUIRED)}")
    names = {name.strip().lower(): name for name in reader.fieldnames}
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise InputFileError(
            file, 1, f"missing column(s) {', '.join(missing)}; header has {', '.join(names)}"
        )
    unknown = [n for n in names if n not in REQUIRED + OPTIONAL]
    if unknown:
        raise InputFileError(
            file,
            1,
            f"unknown column(s) {', '.join(unknown)}; known: {', '.join(REQUIRED + OPTIONAL)}",
        )
    orders: list[Order] = []
    seen: set[str] = set()
    for row in reader:
        line = reader.line_num

        def cell(column: str, row: dict[str, str | None] = row) -> str:
            raw = row.get(names[column]) if column in names else None
            return (raw or "").strip()

        oid = cell("order")
        if not oid:
            raise InputFileError(file, line, "empty order id", column="order")
        if oid in seen:
            raise InputFileError(file, line, f"order {oid!r} appears twice", column="order")
        seen.add(oid)
        try:
            quantity = int(cell("quantity"))
        except ValueError:
            raise InputFileError(
                file, line, f"expected whole pieces, got {cell('quantity')!r}", column="quantity"
            ) from None
        if quantity <= 0:
            raise InputFileError(file, line, f"expected > 0, got {quantity}", column="quantity")
        weight_text = cell("weight") or (cell("priority") if "priority" in names else "")
        try:
            weight = float(weight_text) if weight_text else 1.0
        except ValueError:
            raise InputFileError(
                file, line, f"expected a number, got {weight_text!r}", column="weight"
            ) from None
        if not math.isfinite(weight) or weight < 0:
            raise InputFileError(
                file, line, f"expected a weight >= 0, got {weight}", column="weight"
            )
        release = cell("release") if "release" in names else ""
        orders.append(
            Order(
                id=oid,
                product=cell("product"),
                quantity=quantity,
                due=_time(cell("due"), tz, file, line, "due"),
                release=_time(release, tz, file, line, "release") if release else None,
                weight=weight,
            )
        )
    return orders


def read_orders(path: str | Path, *, tz: dt.tzinfo = dt.UTC) -> list[Order]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise InputFileError(str(path), None, f"cannot read: {err.strerror}") from err
    except UnicodeDecodeError as err:
        raise InputFileError(str(path), None, f"not UTF-8 text ({err.reason})") from err
    return parse_orders(text, file=str(path), tz=tz)


def make_lots(orders: list[Order], policy: LotPolicy) -> list[Lot]:
    """Orders as lots: merged within the window and size limit, split above ``max_lot``."""
    lots: list[Lot] = []
    by_product: dict[str, list[Order]] = {}
    for order in orders:
        by_product.setdefault(order.product, []).append(order)
    for product, group in by_product.items():
        group.sort(key=lambda o: (o.due, o.id))
        pending: list[Order] = []

        def flush(pending: list[Order], product: str = product) -> None:
            if not pending:
                return
            quantity = sum(o.quantity for o in pending)
            releases = [o.release for o in pending if o.release is not None]
            pieces = max(1, math.ceil(quantity / policy.max_lot))
            pieces = max(1, min(pieces, quantity // max(1, policy.min_lot)))
            base, extra = divmod(quantity, pieces)
            name = pending[0].id if len(pending) == 1 else f"{pending[0].id}+{len(pending) - 1}"
            for n in range(pieces):
                lots.append(
                    Lot(
                        id=name if pieces == 1 else f"{name}/{n + 1}",
                        product=product,
                        quantity=base + (1 if n < extra else 0),
                        due=min(o.due for o in pending),
                        release=max(releases) if releases else None,
                        weight=sum(o.weight * o.quantity for o in pending) / quantity,
                        orders=tuple(o.id for o in pending),
                    )
                )

        for order in group:
            fits = pending and (
                order.due - pending[0].due <= policy.merge_window
                and sum(o.quantity for o in pending) + order.quantity <= policy.max_lot
                and order.quantity < policy.max_lot
            )
            if pending and not fits:
                flush(pending)
                pending = []
            pending.append(order)
        flush(pending)
    return lots
