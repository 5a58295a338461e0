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
    """ns since the epoch to ISO 8601 in UTC, to the microsecond.

    Event times have microsecond resolution (see ``now_us``), so a printed time
    parses back to exactly the instant of its event.
    """
    value = dt.datetime.fromtimestamp(ns // NS_PER_S, tz=dt.UTC) + dt.timedelta(
        microseconds=(ns % NS_PER_S) // 1_000
    )
    spec = "seconds" if ns % NS_PER_S == 0 else "microseconds"
    return value.isoformat(timespec=spec).replace("+00:00", "Z")


def now_us() -> int:
    """The wall clock in ns since the epoch, at microsecond resolution (what ISO 8601 text can hold)."""
    import time

    return time.time_ns() // 1_000 * 1_000
