"""The live hub: latest values of every twin and the fan-out of changes to subscribers.

Producers — the ingest, commands, committed twin events — call
:meth:`LiveHub.publish` from any thread; it never blocks and never waits on a
subscriber. Each :class:`Subscription` has a bounded buffer of pending changes:
when a subscriber does not drain it in time, the buffer is dropped and the
subscription is marked for *resync* (the consumer then sends a fresh snapshot).

Lifecycle: build a hub (no side effects), ``subscribe`` within a running event
loop, ``close()`` the subscription when the client leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from twinverse.twin.codec import encode_value
from twinverse.twin.events import EntityAdded, EntityRemoved, Event, PropertySet

DEFAULT_QUEUE_LIMIT: Final = 20_000

REMOVED: Final = "$removed"
"""The property name of the change that says an entity was removed."""

RESERVED: Final = frozenset({"kind", "name"})
"""Keys a live entity carries for itself; a property of that name travels as ``kind_``/``name_``."""


def wire_property(name: str) -> str:
    """The name under which a twin property travels on the live feed."""
    return f"{name}_" if name in RESERVED else name


@dataclass(frozen=True, slots=True)
class LiveChange:
    """One property of one entity took a value at ``at`` (ns since the epoch), from ``source``."""

    entity: str
    prop: str
    value: Any  # plain JSON
    at: int
    source: str


@dataclass(slots=True)
class _Pending:
    changes: list[LiveChange] = field(default_factory=list)
    overflowed: bool = False


class Subscription:
    """A subscriber's bounded buffer of pending changes for one twin.

    :meth:`take` hands the consumer what accumulated since the last call, or
    reports that the buffer overflowed (the consumer must resync from a
    snapshot). :meth:`wait` returns when something is pending.
    """

    def __init__(
        self,
        hub: LiveHub,
        twin: str,
        loop: asyncio.AbstractEventLoop,
        limit: int,
    ) -> None:
        self.hub = hub
        self.twin = twin
        self._loop = loop
        self._limit = limit
        self._pending = _Pending()
        self._lock = threading.Lock()
        self._ready = asyncio.Event()
        self._signalled = False
        self.dropped = 0

    def _offer(self, changes: Sequence[LiveChange]) -> None:
        with self._lock:
            pending = self._pending
            if pending.overflowed:
                self.dropped += len(changes)
                return
            if len(pending.changes) + len(changes) > self._limit:
                self.dropped += len(pending.changes) + len(changes)
                pending.changes = []
                pending.overflowed = True
            else:
                pending.changes.extend(changes)
            if self._signalled:
                return
            self._signalled = True
        # A closed loop means the subscriber is gone; nothing to wake.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._ready.set)

    def take(self) -> tuple[list[LiveChange], bool]:
        """The pending changes and whether the buffer overflowed since the last take."""
        with self._lock:
            taken, self._pending = self._pending, _Pending()
            self._signalled = False
            self._ready.clear()
        return taken.changes, taken.overflowed

    async def wait(self) -> None:
        await self._ready.wait()

    def wake(self) -> None:
        """Wake the consumer without a change (e.g. its filter changed)."""
        with self._lock:
            self._signalled = True
        self._ready.set()

    def close(self) -> None:
        self.hub._remove(self)


class LiveHub:
    """Latest values per twin, and subscribers that receive every change as it happens."""

    def __init__(self, *, queue_limit: int = DEFAULT_QUEUE_LIMIT) -> None:
        self.queue_limit = queue_limit
        self._lock = threading.Lock()
        self._latest: dict[str, dict[str, dict[str, LiveChange]]] = {}
        self._subscribers: dict[str, list[Subscription]] = {}
        self._listeners: list[Callable[[str, Sequence[LiveChange]], None]] = []
        self.published = 0

    def subscribe(self, twin: str, *, limit: int | None = None) -> Subscription:
        """A new subscription to ``twin``'s changes; call from the event loop that consumes it."""
        sub = Subscription(self, twin, asyncio.get_running_loop(), limit or self.queue_limit)
        with self._lock:
            self._subscribers.setdefault(twin, []).append(sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subscribers.get(sub.twin, [])
            if sub in subs:
                subs.remove(sub)

    def subscribers(self, twin: str) -> int:
        with self._lock:
            return len(self._subscribers.get(twin, []))

    def add_listener(self, listener: Callable[[str, Sequence[LiveChange]], None]) -> None:
        """Also call ``listener(twin, changes)`` on every publish (it must not block)."""
        with self._lock:
            self._listeners.append(listener)

    def publish(self, twin: str, changes: Sequence[LiveChange]) -> None:
        """Record the changes as the latest values and offer them to every subscriber."""
        if not changes:
            return
        with self._lock:
            latest = self._latest.setdefault(twin, {})
            for change in changes:
                if change.prop == REMOVED:
                    latest.pop(change.entity, None)
                    continue
                props = latest.setdefault(change.entity, {})
                known = props.get(change.prop)
                if known is None or known.at <= change.at:
                    props[change.prop] = change
            subs = list(self._subscribers.get(twin, ()))
            listeners = list(self._listeners)
            self.published += len(changes)
        for sub in subs:
            sub._offer(changes)
        for listener in listeners:
            listener(twin, changes)

    def latest(
        self, twin: str, entities: Iterable[str] | None = None
    ) -> dict[str, dict[str, LiveChange]]:
        """A copy of the latest live values of a twin (of some entities only, if given)."""
        with self._lock:
            every = self._latest.get(twin, {})
            chosen = every.keys() if entities is None else (e for e in entities if e in every)
            return {e: dict(every[e]) for e in chosen}

    def publish_events(self, events: Sequence[Event]) -> None:
        """Committed twin events as live changes (a workspace listener)."""
        by_twin: dict[str, list[LiveChange]] = {}
        for event in events:
            out = by_twin.setdefault(event.twin, [])
            out.extend(changes_of_event(event))
        for twin, changes in by_twin.items():
            self.publish(twin, changes)


def changes_of_event(event: Event) -> list[LiveChange]:
    """What a committed event means for live subscribers: property values (plain JSON)."""
    change = event.change
    if isinstance(change, PropertySet):
        name = wire_property(change.name)
        return [
            LiveChange(change.entity_id, name, encode_value(change.value), event.ts, event.actor)
        ]
    if isinstance(change, EntityAdded):
        entity = change.entity
        added = [
            LiveChange(entity.id, "kind", entity.kind.value, event.ts, event.actor),
            LiveChange(entity.id, "name", entity.name, event.ts, event.actor),
        ]
        added.extend(
            LiveChange(entity.id, wire_property(name), encode_value(value), event.ts, event.actor)
            for name, value in entity.properties.items()
        )
        return added
    if isinstance(change, EntityRemoved):
        return [LiveChange(change.entity_id, REMOVED, True, event.ts, event.actor)]
    return []  # relation changes and property removals are not streamed (yet)
