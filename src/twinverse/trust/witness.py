"""Witness cosigning: another company checks that a log only grew, then cosigns its checkpoint.

A witness remembers, per log origin, the last checkpoint it cosigned. Shown a
new checkpoint and a consistency proof from that size, it verifies the log's
signature and the proof and only then adds a timestamped cosignature (C2SP
tlog-cosignature, type 0x04). A log that forks or rolls back cannot collect
cosignatures for both histories from the same witness, so readers who require
witness cosignatures cannot be shown a split view.

:func:`check_growth` is the same check as a pure function, for auditors
holding any earlier checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from twinverse.trust.checkpoint import Checkpoint, parse_checkpoint
from twinverse.trust.errors import SplitViewError, VerificationError
from twinverse.trust.merkle import verify_consistency
from twinverse.trust.note import (
    Note,
    NoteSigner,
    SignatureType,
    VerifierKey,
    sign_note,
    verify_note,
)


def check_growth(seen: Checkpoint, new: Checkpoint, proof: Sequence[bytes]) -> None:
    """Raise SplitViewError unless ``new`` extends ``seen`` (same origin, consistent, not smaller)."""
    if seen.origin != new.origin:
        raise SplitViewError(f"checkpoints of different logs ({seen.origin} vs {new.origin})")
    if new.size < seen.size:
        raise SplitViewError(f"{new.origin}: rollback from size {seen.size} to {new.size}")
    try:
        if seen.size == 0:
            return  # every tree extends the empty tree
        verify_consistency(seen.size, new.size, proof, seen.root, new.root)
    except VerificationError as err:
        raise SplitViewError(
            f"{new.origin}: the checkpoint of size {new.size} is not consistent with the one "
            f"of size {seen.size} seen before ({err.message})"
        ) from err


class WitnessState(Protocol):
    def witness_state(self, origin: str) -> tuple[int, bytes] | None: ...

    def save_witness_state(self, origin: str, size: int, root: bytes) -> None: ...


@dataclass
class MemoryWitnessState:
    seen: dict[str, tuple[int, bytes]] = field(default_factory=dict)

    def witness_state(self, origin: str) -> tuple[int, bytes] | None:
        return self.seen.get(origin)

    def save_witness_state(self, origin: str, size: int, root: bytes) -> None:
        self.seen[origin] = (size, root)


class Witness:
    """A company's witness: cosigns checkpoints of the logs it follows, once each is checked."""

    def __init__(
        self,
        signer: NoteSigner,
        logs: Sequence[VerifierKey],
        state: WitnessState,
        *,
        clock_s: Callable[[], int],
    ) -> None:
        if signer.sig_type is not SignatureType.COSIGNATURE_V1:
            raise ValueError("a witness signs cosignatures (signature type 0x04)")
        self.signer = signer
        self._logs = {k.name: k for k in logs}
        self._state = state
        self._clock_s = clock_s

    def cosign(self, checkpoint_note: str, proof: Sequence[bytes]) -> Note:
        """Verify and cosign; returns the note with this witness's cosignature added."""
        cp, note = parse_checkpoint(checkpoint_note)
        key = self._logs.get(cp.origin)
        if key is None:
            raise VerificationError(f"this witness does not follow the log {cp.origin!r}")
        verify_note(note, [key])
        seen = self._state.witness_state(cp.origin)
        if seen is not None:
            check_growth(Checkpoint(cp.origin, seen[0], seen[1]), cp, proof)
        self._state.save_witness_state(cp.origin, cp.size, cp.root)
        return note.with_signature(sign_note(note.text, self.signer, timestamp=self._clock_s()))
