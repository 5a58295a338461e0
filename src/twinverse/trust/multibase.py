"""Multibase and multicodec encodings used by did:key and Data Integrity proofs.

``z`` + base58btc (Bitcoin alphabet) carries public keys and proof values;
``u`` + base64url without padding carries Bitstring Status Lists. Multicodec
prefixes are unsigned varints naming the key type in front of the raw key.
"""

from __future__ import annotations

import base64
import binascii
from typing import Final

from twinverse.trust.errors import TrustFormatError

_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX: Final = {c: i for i, c in enumerate(_ALPHABET)}

# multicodec table: https://github.com/multiformats/multicodec (varint-encoded codes)
ED25519_PUB: Final = b"\xed\x01"
ED25519_PRIV: Final = b"\x80\x26"  # 0x1300
X25519_PUB: Final = b"\xec\x01"


def b58encode(data: bytes) -> str:
    zeros = len(data) - len(data.lstrip(b"\x00"))
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(_ALPHABET[r])
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    n = 0
    for c in text:
        try:
            n = n * 58 + _INDEX[c]
        except KeyError:
            raise TrustFormatError(f"{c!r} is not a base58btc character (in {text!r})") from None
    zeros = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\x00" * zeros + body


def encode_z(data: bytes) -> str:
    return "z" + b58encode(data)


def decode_z(text: str, *, what: str = "value") -> bytes:
    if not text.startswith("z"):
        raise TrustFormatError(
            f"{what} must be multibase base58btc starting with 'z' (got {text[:12]!r}…)"
        )
    return b58decode(text[1:])


def encode_u(data: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode_u(text: str, *, what: str = "value") -> bytes:
    if not text.startswith("u"):
        raise TrustFormatError(f"{what} must be multibase base64url starting with 'u'")
    body = text[1:]
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as err:
        raise TrustFormatError(f"{what} is not valid base64url: {err}") from err


def b64decode_strict(text: str, *, what: str) -> bytes:
    """Standard base64 with padding, rejecting anything else (notes and checkpoints use it).

    Non-canonical encodings (stray bits in the last character) are refused too,
    so that no two texts decode to the same bytes.
    """
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as err:
        raise TrustFormatError(f"{what} is not valid base64: {text[:40]!r}") from err
    if base64.b64encode(raw).decode("ascii") != text:
        raise TrustFormatError(f"{what} is not canonical base64: {text[:40]!r}")
    return raw


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
