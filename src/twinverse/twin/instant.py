"""Instants: nanoseconds since the Unix epoch, UTC — the one time type of the twin.

``parse_instant`` reads what people type (``2026-11-01T08:00Z``, ``2026-11-01``,
``2026-11-01 08:00+08:00``) and rejects times without a zone only when asked.
"""

from __future__ import annotations

import datetime as dt

from twinverse.twin.errors import TwinError

NS_PER_S = 1_000_000_000


class InstantError(TwinError):
    code = "invalid-time"


def parse_instant(text: str) -> int:
    """ISO 8601 text to ns since the epoch; a time without a zone is taken as UTC."""
    cleaned = text.strip().replace(" ", "T")
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        value = dt.datetime.fromisoformat(cleaned)
    except ValueError:
        raise InstantError(
            f"expected a time such as '2026-11-01T08:00Z' or '2026-11-01', got {text!r}"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return to_instant(value)


def to_instant(value: dt.datetime) -> int:
    delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1_000


def format_instant(ns: int) -> str:
    """ns since the epoch to ISO 8601 in UTC with millisecond precision."""
    value = dt.datetime.fromtimestamp(ns // NS_PER_S, tz=dt.UTC) + dt.timedelta(
        microseconds=(ns % NS_PER_S) // 1_000
    )
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
