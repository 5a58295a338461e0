"""C2SP signed notes: a text, a blank line, and signature lines ``— <name> base64(keyID ‖ sig)``.

Two signature types are implemented: ``0x01`` Ed25519 (signed-note) for the
log's own checkpoint signature, and ``0x04`` timestamped Ed25519 cosignatures
(tlog-cosignature) for witnesses. A verifier key is written
``<name>+<hex key ID>+base64(type ‖ public key)``.

Parsing follows the spec: UTF-8, no control characters but newline, the text
ends in a newline and is separated from the signatures by the *last* blank line;
verifiers ignore signatures from unknown keys and fail when no known key signed.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from twinverse.trust.errors import SignatureError, TrustFormatError
from twinverse.trust.keys import KeyPair, verify_ed25519
from twinverse.trust.multibase import b64decode_strict, b64encode

EM_DASH: Final = "\u2014"
MAX_SIGNATURES: Final = 64
COSIGNATURE_HEADER: Final = "cosignature/v1\n"


class SignatureType(IntEnum):
    ED25519 = 0x01
    COSIGNATURE_V1 = 0x04


def key_id(name: str, sig_type: SignatureType, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public).digest()[:4]


def _check_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise TrustFormatError(f"key name {name!r} must be non-empty, without spaces or '+'")


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A public key that may sign notes, with its name, type and key ID."""

    name: str
    sig_type: SignatureType
    public: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.sig_type, self.public)

    def encode(self) -> str:
        body = b64encode(bytes([self.sig_type]) + self.public)
        return f"{self.name}+{self.key_id.hex()}+{body}"

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        parts = text.strip().split("+", 2)  # base64 may contain "+"
        if len(parts) != 3:
            raise TrustFormatError(
                f"a verifier key is '<name>+<hex key ID>+<base64 key>' (got {text[:60]!r})"
            )
        name, hex_id, body = parts
        _check_name(name)
        raw = b64decode_strict(body, what=f"the key of verifier {name!r}")
        if len(raw) != 33 or raw[0] not in {t.value for t in SignatureType}:
            raise TrustFormatError(
                f"verifier key {name!r}: expected a type byte 0x01 or 0x04 and 32 key bytes"
            )
        key = cls(name, SignatureType(raw[0]), raw[1:])
        if key.key_id.hex() != hex_id.lower():
            raise TrustFormatError(
                f"verifier key {name!r}: key ID {hex_id} does not match the key "
                f"(expected {key.key_id.hex()})"
            )
        return key


@dataclass(frozen=True, slots=True)
class NoteSigner:
    """Signs notes as ``name`` with an Ed25519 key (type 0x01) or as a witness (type 0x04)."""

    name: str
    key: KeyPair
    sig_type: SignatureType = SignatureType.ED25519

    def __post_init__(self) -> None:
        _check_name(self.name)

    @property
    def verifier(self) -> VerifierKey:
        return VerifierKey(self.name, self.sig_type, self.key.public)


@dataclass(frozen=True, slots=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes  # what follows the key ID: for cosignatures, timestamp ‖ Ed25519 signature

    def line(self) -> str:
        return f"{EM_DASH} {self.name} {b64encode(self.key_id + self.signature)}\n"


@dataclass(frozen=True, slots=True)
class Note:
    """A parsed signed note: its text (ending in a newline) and its signature lines."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def encode(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)

    def with_signature(self, sig: NoteSignature) -> Note:
        kept = tuple(s for s in self.signatures if (s.name, s.key_id) != (sig.name, sig.key_id))
        return Note(self.text, (*kept, sig))


def parse_note(data: str | bytes, *, where: str = "note") -> Note:
    """Parse a signed note; raises TrustFormatError naming the line that is wrong."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise TrustFormatError(f"{where}: not valid UTF-8 at byte {err.start}") from err
    for i, c in enumerate(data):
        if c < " " and c != "\n":
            raise TrustFormatError(f"{where}: control character {ord(c):#04x} at offset {i}")
    if not data.endswith("\n"):
        raise TrustFormatError(f"{where}: a signed note ends with a newline")
    split = data.rfind("\n\n")
    if split < 0:
        raise TrustFormatError(f"{where}: no blank line between the text and the signatures")
    text, sig_block = data[: split + 1], data[split + 2 :]
    lines = sig_block.split("\n")[:-1]
    if not lines:
        raise TrustFormatError(f"{where}: no signature lines after the blank line")
    if len(lines) > MAX_SIGNATURES:
        raise TrustFormatError(f"{where}: {len(lines)} signatures (at most {MAX_SIGNATURES})")
    sigs = []
    for n, line in enumerate(lines, start=1):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != EM_DASH:
            raise TrustFormatError(
                f"{where}: signature line {n} must be '— <name> <base64>' (got {line[:60]!r})"
            )
        _check_name(parts[1])
        raw = b64decode_strict(parts[2], what=f"{where}: signature line {n}")
        if len(raw) < 5:
            raise TrustFormatError(f"{where}: signature line {n} is too short ({len(raw)} bytes)")
        sigs.append(NoteSignature(parts[1], raw[:4], raw[4:]))
    return Note(text, tuple(sigs))


def _cosigned_message(text: str, timestamp: int) -> bytes:
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{text}".encode()


def sign_note(text: str, signer: NoteSigner, *, timestamp: int | None = None) -> NoteSignature:
    """A signature of ``text`` by ``signer``; cosignatures need a ``timestamp`` (s since epoch)."""
    if not text.endswith("\n"):
        raise TrustFormatError("note text must end with a newline")
    kid = signer.verifier.key_id
    if signer.sig_type is SignatureType.COSIGNATURE_V1:
        if timestamp is None:
            raise TrustFormatError("a cosignature needs a timestamp")
        sig = signer.key.sign(_cosigned_message(text, timestamp))
        return NoteSignature(signer.name, kid, struct.pack(">Q", timestamp) + sig)
    return NoteSignature(signer.name, kid, signer.key.sign(text.encode()))


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    key: VerifierKey
    timestamp: int | None


def verify_note(note: Note, keys: Iterable[VerifierKey]) -> list[VerifiedSignature]:
    """Check every signature by a known key; raise SignatureError if one fails or none is known."""
    known = {(k.name, k.key_id): k for k in keys}
    verified: list[VerifiedSignature] = []
    for sig in note.signatures:
        key = known.get((sig.name, sig.key_id))
        if key is None:
            continue  # the spec: ignore signatures from unknown keys
        who = f"{key.name}+{key.key_id.hex()}"
        if key.sig_type is SignatureType.COSIGNATURE_V1:
            if len(sig.signature) != 8 + 64:
                raise SignatureError(f"the cosignature by {who} has the wrong length")
            (ts,) = struct.unpack(">Q", sig.signature[:8])
            verify_ed25519(key.public, sig.signature[8:], _cosigned_message(note.text, ts), who=who)
            verified.append(VerifiedSignature(key, ts))
        else:
            if len(sig.signature) != 64:
                raise SignatureError(f"the signature by {who} has the wrong length")
            verify_ed25519(key.public, sig.signature, note.text.encode(), who=who)
            verified.append(VerifiedSignature(key, None))
    if not verified:
        names = ", ".join(sorted({s.name for s in note.signatures})) or "nobody"
        raise SignatureError(f"no trusted key signed this note (signed by {names})")
    return verified


def require_signers(verified: Sequence[VerifiedSignature], names: Iterable[str]) -> None:
    have = {v.key.name for v in verified}
    missing = sorted(set(names) - have)
    if missing:
        raise SignatureError(f"missing signatures by {', '.join(missing)}")
