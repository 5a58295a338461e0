"""C2SP tlog-checkpoints: the signed head of a log — origin, tree size and root hash.

A checkpoint's note text is exactly ``origin\\nsize\\nbase64(root)\\n`` plus
optional extension lines. The log signs it (signature type 0x01); witnesses that
checked it is consistent with the last checkpoint they saw add cosignatures
(type 0x04). :func:`parse_checkpoint` is written from the spec: three or more
non-empty lines, the size in decimal without leading zeros, a 32-byte root.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Final

from twinverse.trust.errors import TrustFormatError
from twinverse.trust.merkle import HASH_SIZE
from twinverse.trust.multibase import b64decode_strict
from twinverse.trust.note import Note, parse_note

_SIZE: Final = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [
            self.origin,
            str(self.size),
            base64.b64encode(self.root).decode(),
            *self.extensions,
        ]
        return "\n".join(lines) + "\n"


def parse_checkpoint_text(text: str, *, where: str = "checkpoint") -> Checkpoint:
    if not text.endswith("\n"):
        raise TrustFormatError(f"{where}: the note text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise TrustFormatError(
            f"{where}: a checkpoint has at least 3 lines (origin, size, root); got {len(lines)}"
        )
    for n, line in enumerate(lines, start=1):
        if not line:
            raise TrustFormatError(f"{where}: line {n} is empty")
    origin, size_text, root_text = lines[:3]
    if not _SIZE.fullmatch(size_text):
        raise TrustFormatError(
            f"{where}: line 2 must be the tree size in decimal without leading zeros "
            f"(got {size_text[:30]!r})"
        )
    root = b64decode_strict(root_text, what=f"{where}: line 3 (root hash)")
    if len(root) != HASH_SIZE:
        raise TrustFormatError(f"{where}: the root hash has {HASH_SIZE} bytes (got {len(root)})")
    return Checkpoint(origin, int(size_text), root, tuple(lines[3:]))


def parse_checkpoint(data: str | bytes, *, where: str = "checkpoint") -> tuple[Checkpoint, Note]:
    note = parse_note(data, where=where)
    return parse_checkpoint_text(note.text, where=where), note
