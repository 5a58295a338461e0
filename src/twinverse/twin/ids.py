"""Resolvable identifiers for twin entities.

An identifier has the shape ``prefix/suffix``, in the spirit of the
industrial-internet identifier resolution system: the *prefix* names the
enterprise (unique across enterprises, e.g. ``86.1000.globex``) and the
*suffix* is the entity's containment path of local ids
(``shanghai/final-assembly/l1/press-2``). The enterprise itself is named by its
bare prefix. Local ids are unique within an enterprise, so an id stays short and
a scenario file can refer to any entity by its local id.
"""

from __future__ import annotations

import re
from typing import NewType

from twinverse.twin.errors import InvalidIdError

EntityId = NewType("EntityId", str)

PREFIX_PATTERN = r"[0-9A-Za-z][0-9A-Za-z.\-]{0,63}"
LOCAL_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}"
_PREFIX = re.compile(PREFIX_PATTERN)
_LOCAL = re.compile(LOCAL_ID_PATTERN)


def is_prefix(text: str) -> bool:
    return _PREFIX.fullmatch(text) is not None


def is_local_id(text: str) -> bool:
    return _LOCAL.fullmatch(text) is not None


def make_id(prefix: str, path: tuple[str, ...] | list[str] = ()) -> EntityId:
    """Build the identifier of the entity at ``path`` below the enterprise ``prefix``.

    Raises InvalidIdError when the prefix or a path element is not well formed.
    """
    if not is_prefix(prefix):
        raise InvalidIdError(
            f"enterprise prefix must match {PREFIX_PATTERN!r} (e.g. '86.1000.globex'), got {prefix!r}"
        )
    for part in path:
        if not is_local_id(part):
            raise InvalidIdError(
                f"local id must match {LOCAL_ID_PATTERN!r} (letters, digits, '_', '.', '-'), "
                f"got {part!r}"
            )
    return EntityId("/".join((prefix, *path)))


def prefix_of(entity_id: str) -> str:
    """The enterprise prefix of an identifier (the part before the first '/')."""
    return entity_id.split("/", 1)[0]


def local_id(entity_id: str) -> str:
    """The last path element: the id the entity has in its scenario file."""
    return entity_id.rsplit("/", 1)[-1]


def parse_id(text: str) -> EntityId:
    """Check that ``text`` is a well-formed identifier and return it typed."""
    prefix, slash, suffix = text.partition("/")
    if slash and not suffix:
        raise InvalidIdError(f"an identifier does not end with '/': {text!r}")
    return make_id(prefix, suffix.split("/") if suffix else ())


def is_within(entity_id: str, ancestor_id: str) -> bool:
    """True when ``entity_id`` is ``ancestor_id`` or lies below it in the id tree."""
    return entity_id == ancestor_id or entity_id.startswith(ancestor_id + "/")
