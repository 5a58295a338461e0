"""How an append becomes part of the log: the rules every EventLog backend applies.

Appending assigns each event the next ``seq`` (one counter for the whole store,
so seqs are strictly increasing within a twin but may skip the numbers other
twins took) and makes times non-decreasing within a twin: an event stamped
earlier than the twin's last event gets the last event's time. That is what
makes "the twin as of T" a prefix of its log. An append may name the seq it
expects the twin to be at (optimistic concurrency) and then fails with
ConflictError if another writer got there first.
"""

from __future__ import annotations

from collections.abc import Sequence

from twinverse.store import ConflictError, StoreError
from twinverse.twin.events import Change, Event, RelationAdded, RelationRemoved


def twins_of(events: Sequence[Event], expect_seq: int | None) -> list[str]:
    """The twins an append touches, in first-seen order.

    Raises StoreError when ``expect_seq`` is given for events of several twins,
    where it would be ambiguous.
    """
    twins = list(dict.fromkeys(e.twin for e in events))
    if expect_seq is not None and len(twins) > 1:
        raise StoreError(
            f"expect_seq applies to one twin, but the events belong to {twins}",
            code="invalid-append",
        )
    return twins


def check_expected(twin: str, last_seq: int, expect_seq: int | None) -> None:
    """Raise ConflictError when the twin is not at ``expect_seq`` (None: no check)."""
    if expect_seq is not None and last_seq != expect_seq:
        raise ConflictError(
            f"twin {twin!r} is at seq {last_seq}, but the append expected seq {expect_seq}: "
            "another writer appended first; reload the twin and retry"
        )


def sequence(events: Sequence[Event], next_seq: int, last_ts: dict[str, int | None]) -> list[Event]:
    """The events as stored: seqs from ``next_seq``, times non-decreasing per twin.

    ``last_ts`` maps each twin to the time of its last stored event (None when it
    has none) and is advanced in place.
    """
    stored: list[Event] = []
    for offset, event in enumerate(events):
        floor = last_ts[event.twin]
        ts = event.ts if floor is None or event.ts >= floor else floor
        last_ts[event.twin] = ts
        stored.append(
            Event(
                twin=event.twin,
                ts=ts,
                actor=event.actor,
                change=event.change,
                reason=event.reason,
                seq=next_seq + offset,
            )
        )
    return stored


def relation_target(change: Change) -> str | None:
    """The other end of a relation change, so that filtering by entity finds both ends."""
    if isinstance(change, RelationAdded):
        return change.relation.target
    if isinstance(change, RelationRemoved):
        return change.key[2]
    return None


def unknown_twin(twin: str) -> StoreError:
    return StoreError(
        f"no twin with prefix {twin!r} is registered; call register_twin first",
        code="unknown-twin",
    )
