"""Control write-back: authorised, range-checked, audited before dispatch, idempotent.

A command sets one writable tag of the tag map — the line speed, a machine's
``enabled`` (start/stop), ``reset``, ``alarm_acknowledged``. :meth:`Commander.send`

1. checks the principal's CONTROL permission on the entity (role and scope);
2. finds the writable row feeding ``entity.property`` and checks the range;
3. answers a repeated idempotency key with the recorded outcome (no second write);
4. appends the command to the **audit log** (fsync) *before* dispatching it;
5. writes it to the PLC and appends the outcome (done or failed, with the cause).

The audit log is a JSON-lines file: one record per line, never rewritten.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import orjson

from twinverse.errors import TwinverseError
from twinverse.identity import Permission, Principal
from twinverse.live.tagmap import TagMap

MAX_KEY: Final = 200


class CommandError(TwinverseError):
    """A command that is not sent: names the entity, the property and the reason."""

    code = "command-refused"


class CommandOutOfRangeError(CommandError):
    code = "command-out-of-range"


class CommandConflictError(CommandError):
    code = "command-key-reused"


class Verb(StrEnum):
    """Named commands and the (property, value) each writes."""

    START = "start"
    STOP = "stop"
    RESET = "reset"
    ACK_ALARM = "ack-alarm"
    SET_SPEED = "set-speed"


VERBS: Final = {
    Verb.START: ("enabled", 1.0),
    Verb.STOP: ("enabled", 0.0),
    Verb.RESET: ("reset", 1.0),
    Verb.ACK_ALARM: ("alarm_acknowledged", 1.0),
    Verb.SET_SPEED: ("speed", None),
}


class Status(StrEnum):
    ACCEPTED = "accepted"  # recorded, being dispatched
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Command:
    entity: str
    prop: str
    value: float
    key: str

    @classmethod
    def of(cls, entity: str, verb: Verb, value: float | None, key: str) -> Command:
        prop, fixed = VERBS[verb]
        chosen = fixed if fixed is not None else value
        if chosen is None:
            raise CommandError(f"{verb.value} needs a value (e.g. --value 80)")
        return cls(entity, prop, float(chosen), key)


@dataclass(frozen=True, slots=True)
class Outcome:
    key: str
    status: Status
    entity: str
    prop: str
    value: float
    actor: str
    at_ns: int
    detail: str = ""
    repeated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "status": self.status.value,
            "entity": self.entity,
            "property": self.prop,
            "value": self.value,
            "actor": self.actor,
            "at_ns": self.at_ns,
            "detail": self.detail,
            "repeated": self.repeated,
        }


class AuditLog:
    """An append-only, fsynced JSON-lines file of commands and their outcomes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._last: dict[str, dict[str, Any]] = {}
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if not self.path.exists():
            return
        for line in self.path.read_bytes().splitlines():
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue  # a torn last line after a crash: the command was never dispatched
            self._last[record["key"]] = record

    def last(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            self._load()
            return self._last.get(key)

    def append(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._load()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "ab") as f:
                f.write(orjson.dumps(record) + b"\n")
                f.flush()
                os.fsync(f.fileno())
            self._last[record["key"]] = record

    def records(self) -> list[dict[str, Any]]:
        with self._lock:
            if not self.path.exists():
                return []
            return [orjson.loads(x) for x in self.path.read_bytes().splitlines() if x.strip()]


Writer = Callable[[int, float], None]
"""Writes a value to the node of tag-map row ``row``; raises TwinverseError on failure."""


class Commander:
    """Sends commands to the plant through the tag map (see the module docstring)."""

    def __init__(
        self,
        tag_map: TagMap,
        writer: Writer,
        audit: AuditLog,
        *,
        tenant_of: Callable[[str], str],
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.tag_map = tag_map
        self.writer = writer
        self.audit = audit
        self.tenant_of = tenant_of
        self.clock = clock

    def send(self, command: Command, principal: Principal | None) -> Outcome:
        """Authorise, check, record, dispatch, record. Raises CommandError (and AccessDenied)."""
        if principal is not None:
            principal.check(
                Permission.CONTROL,
                tenant=self.tenant_of(self.tag_map.twin),
                entity_id=command.entity,
            )
        row = self.tag_map.target(command.entity, command.prop)
        if row is None or row.writable is None:
            writable = sorted(
                {r.prop for r in self.tag_map.rows if r.entity == command.entity and r.writable}
            )
            raise CommandError(
                f"{command.entity!r} has no writable property {command.prop!r}; "
                f"writable: {', '.join(writable) or 'none'}"
            )
        if not row.writable.admits(command.value):
            raise CommandOutOfRangeError(
                f"{command.prop} of {command.entity!r} must be within "
                f"[{row.writable.low:g}, {row.writable.high:g}], got {command.value:g}"
            )
        if not command.key or len(command.key) > MAX_KEY:
            raise CommandError(f"the idempotency key must be 1–{MAX_KEY} characters")
        actor = principal.id if principal is not None else "local"
        earlier = self.audit.last(command.key)
        if earlier is not None:
            same = (earlier["entity"], earlier["property"], earlier["value"]) == (
                command.entity,
                command.prop,
                command.value,
            )
            if not same:
                raise CommandConflictError(
                    f"idempotency key {command.key!r} was used for another command "
                    f"({earlier['property']}={earlier['value']} on {earlier['entity']})"
                )
            if earlier["status"] != Status.ACCEPTED:
                return _outcome(earlier, repeated=True)
        record = {
            "key": command.key,
            "status": Status.ACCEPTED.value,
            "entity": command.entity,
            "property": command.prop,
            "value": command.value,
            "tag": row.tag,
            "actor": actor,
            "at_ns": self.clock(),
            "detail": "",
        }
        self.audit.append(record)  # before dispatch: a crash leaves a trace of what was meant
        try:
            self.writer(self.tag_map.index[row.tag], command.value)
            final = {**record, "status": Status.DONE.value, "at_ns": self.clock()}
        except TwinverseError as err:
            final = {
                **record,
                "status": Status.FAILED.value,
                "at_ns": self.clock(),
                "detail": err.message,
            }
        self.audit.append(final)
        return _outcome(final)


def _outcome(record: dict[str, Any], *, repeated: bool = False) -> Outcome:
    return Outcome(
        key=record["key"],
        status=Status(record["status"]),
        entity=record["entity"],
        prop=record["property"],
        value=float(record["value"]),
        actor=record["actor"],
        at_ns=int(record["at_ns"]),
        detail=record.get("detail", ""),
        repeated=repeated,
    )
