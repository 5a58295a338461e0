"""One subscriber's view of the live twin: snapshot, then batched deltas, with resync.

A :class:`LiveFeed` speaks the protocol of ``docs/live-protocol.md`` over two
callables — ``send(text)`` and ``receive() -> text`` — so it knows nothing of
the web framework. Its lifecycle is :meth:`LiveFeed.serve`: subscribe, send a
snapshot, then one delta message per batch interval while changes arrive; a
client that lets its bounded buffer overflow gets ``resync`` and a fresh
snapshot, and one that overflows ``max_resyncs`` times within
``resync_window_s`` is dropped with :class:`ClientTooSlowError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from twinverse.errors import TwinverseError
from twinverse.live.hub import REMOVED, LiveChange, LiveHub, Subscription, wire_property
from twinverse.twin.codec import encode_value
from twinverse.twin.graph import TwinGraph
from twinverse.twin.model import Entity, EntityKind

_log = logging.getLogger(__name__)

CLOSE_TOO_SLOW: Final = 1013
"""WebSocket close code for a client dropped because it stays too slow ("try again later")."""


class ClientTooSlowError(TwinverseError):
    code = "client-too-slow"


class BadClientMessageError(TwinverseError):
    code = "bad-client-message"


@dataclass(frozen=True, slots=True)
class LiveFilter:
    """Which entities a subscriber follows: a subtree (by containment) and some kinds."""

    under: str | None = None
    kinds: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, under: str | None, kinds: str | list[str] | None) -> LiveFilter:
        """From query text (``kinds=machine,buffer``) or a JSON list; raises BadClientMessageError."""
        if isinstance(kinds, str):
            names = [k.strip() for k in kinds.split(",") if k.strip()]
        elif kinds is None:
            names = []
        elif isinstance(kinds, list) and all(isinstance(k, str) for k in kinds):
            names = list(kinds)
        else:
            raise BadClientMessageError(f"'kinds' must be a list of entity kinds, got {kinds!r}")
        known = {k.value for k in EntityKind}
        unknown = [k for k in names if k not in known]
        if unknown:
            raise BadClientMessageError(
                f"unknown entity kind(s) {', '.join(map(repr, unknown))}; "
                f"expected some of {', '.join(sorted(known))}"
            )
        if under is not None and not isinstance(under, str):
            raise BadClientMessageError(f"'under' must be an entity id, got {under!r}")
        return cls(under=under or None, kinds=frozenset(names))


@dataclass(frozen=True, slots=True)
class FeedSettings:
    """How a feed batches and when it gives up on a slow client."""

    interval_s: float = 0.02
    queue_limit: int = 20_000
    max_resyncs: int = 3
    resync_window_s: float = 10.0


@dataclass(slots=True)
class _State:
    filter: LiveFilter
    admitted: dict[str, bool] = field(default_factory=dict)
    seq: int = 0
    resyncs: list[float] = field(default_factory=list)
    needs_snapshot: bool = False
    error: str | None = None


class LiveFeed:
    """The live protocol for one client (see the module docstring)."""

    def __init__(
        self,
        hub: LiveHub,
        twin: str,
        graph: Callable[[], TwinGraph],
        *,
        visible: Callable[[str], bool] = lambda _id: True,
        live_filter: LiveFilter = LiveFilter(),
        settings: FeedSettings = FeedSettings(),
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.hub = hub
        self.twin = twin
        self._graph = graph
        self._visible = visible
        self._settings = settings
        self._clock = clock
        self._state = _State(live_filter)

    # ------------------------------------------------------------ messages
    def _admits(self, graph: TwinGraph, entity: Entity) -> bool:
        f = self._state.filter
        if f.kinds and entity.kind.value not in f.kinds:
            return False
        if f.under is not None and not graph.is_within(entity.id, f.under):
            return False
        return self._visible(entity.id)

    def _chosen(self, graph: TwinGraph) -> Iterator[Entity]:
        under = self._state.filter.under
        if under is None:
            yield from graph.entities()
            return
        top = graph.get(under)
        if top is None:
            return
        yield top
        yield from graph.descendants(under)

    def _next_seq(self) -> int:
        self._state.seq += 1
        return self._state.seq

    def snapshot(self) -> dict[str, Any]:
        """The snapshot message: every admitted entity with its properties and live values."""
        graph = self._graph()
        admitted: dict[str, bool] = {}
        entities: dict[str, dict[str, Any]] = {}
        for entity in self._chosen(graph):
            if not self._admits(graph, entity):
                continue
            admitted[entity.id] = True
            body: dict[str, Any] = {
                wire_property(k): encode_value(v) for k, v in entity.properties.items()
            }
            body["kind"] = entity.kind.value
            body["name"] = entity.name
            entities[entity.id] = body
        for entity_id, props in self.hub.latest(self.twin, entities).items():
            entities[entity_id].update((p, c.value) for p, c in props.items())
        self._state.admitted = admitted
        return {
            "type": "snapshot",
            "seq": self._next_seq(),
            "at": _iso_ms(self._clock()),
            "entities": entities,
        }

    def _admitted(self, entity_id: str) -> bool:
        known = self._state.admitted.get(entity_id)
        if known is not None:
            return known
        graph = self._graph()
        entity = graph.get(entity_id)
        ok = entity is not None and self._admits(graph, entity)
        if entity is not None:
            self._state.admitted[entity_id] = ok
        return ok

    def delta(self, changes: list[LiveChange]) -> dict[str, Any] | None:
        """The delta message for the admitted changes, or None when none is admitted."""
        out = [
            {
                "entity": c.entity,
                "property": c.prop,
                "value": c.value,
                "at": _iso_ms(c.at),
                "source": c.source,
            }
            for c in changes
            if self._admitted(c.entity)
        ]
        for c in changes:
            if c.prop == REMOVED:
                self._state.admitted.pop(c.entity, None)
        if not out:
            return None
        return {
            "type": "delta",
            "seq": self._next_seq(),
            "at": _iso_ms(self._clock()),
            "changes": out,
        }

    def resync(self, reason: str) -> dict[str, Any]:
        return {"type": "resync", "seq": self._next_seq(), "reason": reason}

    def set_filter(self, message: Any) -> None:
        """Apply a client ``filter`` message; raises BadClientMessageError for anything else."""
        if not isinstance(message, dict) or message.get("type") != "filter":
            raise BadClientMessageError(
                'expected {"type": "filter", "under": …, "kinds": […]}, '
                f"got {str(message)[:200]!r}"
            )
        self._state.filter = LiveFilter.parse(message.get("under"), message.get("kinds"))
        self._state.admitted = {}
        self._state.needs_snapshot = True

    # ------------------------------------------------------------ lifecycle
    async def serve(
        self, send: Callable[[str], Awaitable[None]], receive: Callable[[], Awaitable[str]]
    ) -> None:
        """Run the protocol until the client leaves (``receive`` raises) or is too slow.

        Raises ClientTooSlowError when the client is dropped for being slow.
        """
        sub = self.hub.subscribe(self.twin, limit=self._settings.queue_limit)
        reader = asyncio.create_task(self._read(receive, sub))
        try:
            await send(_dumps(await asyncio.to_thread(self.snapshot)))
            sender = asyncio.create_task(self._send_loop(send, sub))
            done, _ = await asyncio.wait({reader, sender}, return_when=asyncio.FIRST_COMPLETED)
            for task in (reader, sender):
                if task not in done:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
            for task in done:
                task.result()  # re-raise ClientTooSlowError or a disconnect
        finally:
            reader.cancel()
            sub.close()

    async def _read(self, receive: Callable[[], Awaitable[str]], sub: Subscription) -> None:
        while True:
            text = await receive()
            try:
                message = orjson.loads(text)
                self.set_filter(message)
            except (orjson.JSONDecodeError, BadClientMessageError) as err:
                _log.info("live client of %s sent a bad message: %s", self.twin, err)
                self._state.error = (
                    str(err)
                    if isinstance(err, BadClientMessageError)
                    else f"a message must be JSON: {err}"
                )
            sub.wake()

    async def _send_loop(self, send: Callable[[str], Awaitable[None]], sub: Subscription) -> None:
        interval = self._settings.interval_s
        while True:
            await sub.wait()
            changes, overflowed = sub.take()
            error, self._state.error = self._state.error, None
            if error is not None:
                await send(_dumps({"type": "error", "seq": self._next_seq(), "detail": error}))
            if overflowed:
                self._count_resync()
                await send(_dumps(self.resync("client too slow")))
                await send(_dumps(await asyncio.to_thread(self.snapshot)))
            elif self._state.needs_snapshot:
                self._state.needs_snapshot = False
                await send(_dumps(await asyncio.to_thread(self.snapshot)))
            elif changes:
                message = self.delta(changes)
                if message is not None:
                    await send(_dumps(message))
            # At most one message per interval: what arrives meanwhile waits in the buffer.
            await asyncio.sleep(interval)

    def _count_resync(self) -> None:
        now = time.monotonic()
        window = self._settings.resync_window_s
        recent = [t for t in self._state.resyncs if now - t < window]
        recent.append(now)
        self._state.resyncs = recent
        if len(recent) > self._settings.max_resyncs:
            raise ClientTooSlowError(
                f"client fell behind {len(recent)} times within {window:g} s; closing"
            )


def _iso_ms(ns: int) -> str:
    """ISO 8601 UTC to the millisecond, as the protocol writes times."""
    ms = ns // 1_000_000
    day = dt.datetime.fromtimestamp(ms // 1000, tz=dt.UTC)
    return f"{day:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def _dumps(message: dict[str, Any]) -> str:
    return orjson.dumps(message, option=orjson.OPT_SERIALIZE_NUMPY).decode()
