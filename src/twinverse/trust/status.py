"""Bitstring Status Lists (W3C): revocation as one bit per credential in a signed list.

A status list is a bitstring of at least 131,072 bits (16 KiB, so one bit does
not single out a holder), GZIP-compressed and multibase base64url-encoded into
``encodedList`` of a ``BitstringStatusListCredential``. Bit 0 is the most
significant bit of the first byte. A credential points at its bit with a
``BitstringStatusListEntry`` (``statusListIndex``, ``statusListCredential``).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from typing import Any, Final

from twinverse.trust.errors import TrustFormatError
from twinverse.trust.multibase import decode_u, encode_u

MIN_BITS: Final = 131_072
ENTRY_TYPE: Final = "BitstringStatusListEntry"
LIST_TYPE: Final = "BitstringStatusList"
LIST_CREDENTIAL_TYPE: Final = "BitstringStatusListCredential"


@dataclass(slots=True)
class StatusBits:
    """A mutable bitstring of revocation flags."""

    size: int = MIN_BITS
    bits: bytearray = field(default_factory=bytearray)

    def __post_init__(self) -> None:
        if not self.bits:
            self.bits = bytearray((self.size + 7) // 8)

    def get(self, index: int) -> bool:
        self._check(index)
        return bool(self.bits[index // 8] & (0x80 >> (index % 8)))

    def set(self, index: int, value: bool = True) -> None:
        self._check(index)
        if value:
            self.bits[index // 8] |= 0x80 >> (index % 8)
        else:
            self.bits[index // 8] &= ~(0x80 >> (index % 8)) & 0xFF

    def _check(self, index: int) -> None:
        if not 0 <= index < len(self.bits) * 8:
            raise TrustFormatError(
                f"status index {index} is outside the list of {len(self.bits) * 8} bits"
            )

    def encode(self) -> str:
        # mtime=0: the same bits always encode to the same text (and the same signature input)
        return encode_u(gzip.compress(bytes(self.bits), mtime=0))

    @classmethod
    def decode(cls, text: str) -> StatusBits:
        raw = decode_u(text, what="encodedList")
        try:
            bits = gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise TrustFormatError(f"encodedList is not GZIP data: {err}") from err
        return cls(len(bits) * 8, bytearray(bits))


def status_entry(list_url: str, index: int, purpose: str = "revocation") -> dict[str, Any]:
    return {
        "id": f"{list_url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def status_list_credential(
    list_url: str, issuer: str, bits: StatusBits, *, valid_from: str, purpose: str = "revocation"
) -> dict[str, Any]:
    """The unsigned status list credential; sign it with the issuer's key."""
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": list_url,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": LIST_TYPE,
            "statusPurpose": purpose,
            "encodedList": bits.encode(),
        },
    }
