"""The ingest report: what came in, what was stored, what was refused and why.

Every dropped point or message is counted under a :class:`Cause` and its last
example kept with the source and the time, so ``/health`` can say why data is
missing. Counters are thread-safe; :meth:`IngestReport.as_dict` is a copy.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

_log = logging.getLogger(__name__)


class Cause(StrEnum):
    """Why a message or a point was not stored (or stored late)."""

    MALFORMED = "malformed-payload"
    UNKNOWN_TAG = "unknown-tag"
    UNKNOWN_TOPIC = "unknown-topic"
    NON_FINITE = "non-finite-value"
    WRONG_TYPE = "wrong-type"
    DUPLICATE = "duplicate"
    OUT_OF_ORDER = "out-of-order"
    STORE_FAILED = "store-failed"
    SOURCE_LOST = "source-lost"
    GAP = "gap"


@dataclass(frozen=True, slots=True)
class Incident:
    source: str
    cause: Cause
    detail: str
    at_ns: int


class IngestReport:
    """Counters and the last incident per cause, shared by every source of an ingest."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.received = 0
        self.stored = 0
        self.messages = 0
        self.counts: Counter[Cause] = Counter()
        self.last: dict[Cause, Incident] = {}
        self.connected: dict[str, bool] = {}
        self.last_stored_ns: int | None = None

    def count(self, source: str, cause: Cause, detail: str, n: int = 1) -> None:
        """Count ``n`` points or messages refused (or noted) for ``cause``, and log it once."""
        with self._lock:
            self.counts[cause] += n
            first = cause not in self.last
            self.last[cause] = Incident(source, cause, detail[:300], time.time_ns())
        level = logging.WARNING if first else logging.DEBUG
        _log.log(level, "ingest %s: %s ×%d: %s", source, cause.value, n, detail[:300])

    def received_points(self, n: int, messages: int = 1) -> None:
        with self._lock:
            self.received += n
            self.messages += messages

    def stored_points(self, n: int) -> None:
        with self._lock:
            self.stored += n
            self.last_stored_ns = time.time_ns()

    def set_connected(self, source: str, up: bool) -> None:
        with self._lock:
            self.connected[source] = up

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "received": self.received,
                "stored": self.stored,
                "messages": self.messages,
                "refused": {c.value: n for c, n in sorted(self.counts.items())},
                "last_incidents": [
                    {
                        "source": i.source,
                        "cause": i.cause.value,
                        "detail": i.detail,
                        "at_ns": i.at_ns,
                    }
                    for i in sorted(self.last.values(), key=lambda i: i.at_ns)
                ],
                "sources": dict(self.connected),
                "last_stored_ns": self.last_stored_ns,
            }
