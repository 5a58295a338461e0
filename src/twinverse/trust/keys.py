"""Ed25519 keys and ``did:key`` identifiers for companies, people and machines.

A did:key is the public key itself: ``did:key:z`` + base58btc(0xed01 ‖ key). It
resolves offline, so a verifier needs no registry. The X25519 key-agreement key
of a did:key is derived from the Ed25519 key (Edwards y → Montgomery u), as in
the W3C CCG did:key method.

:class:`KeyPair` holds a private key in memory; :mod:`twinverse.trust.keystore`
keeps them encrypted at rest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from twinverse.trust.errors import SignatureError, TrustFormatError
from twinverse.trust.multibase import ED25519_PRIV, ED25519_PUB, X25519_PUB, decode_z, encode_z

DID_KEY_PREFIX: Final = "did:key:"
_P: Final = 2**255 - 19


def public_multibase(public: bytes) -> str:
    return encode_z(ED25519_PUB + public)


def did_from_public(public: bytes) -> str:
    """``did:key:z6Mk…`` for a 32-byte Ed25519 public key."""
    if len(public) != 32:
        raise TrustFormatError(f"an Ed25519 public key has 32 bytes (got {len(public)})")
    return DID_KEY_PREFIX + public_multibase(public)


def public_from_multibase(text: str) -> bytes:
    raw = decode_z(text, what="an Ed25519 multikey")
    if raw[:2] != ED25519_PUB or len(raw) != 34:
        raise TrustFormatError(
            f"{text!r} is not an Ed25519 multikey (expected multicodec 0xed01 and 32 bytes, "
            f"got prefix {raw[:2].hex()} and {len(raw) - 2} bytes)"
        )
    return raw[2:]


def public_from_did(did: str) -> bytes:
    """The Ed25519 public key a did:key (or one of its verification-method URLs) names."""
    bare = did.split("#", 1)[0]
    if not bare.startswith(DID_KEY_PREFIX):
        raise TrustFormatError(f"{did!r} is not a did:key")
    return public_from_multibase(bare[len(DID_KEY_PREFIX) :])


def verification_method(did: str) -> str:
    """The did:key's own verification method: ``did:key:z…#z…``."""
    bare = did.split("#", 1)[0]
    return f"{bare}#{bare[len(DID_KEY_PREFIX) :]}"


def private_from_multibase(text: str) -> bytes:
    raw = decode_z(text, what="an Ed25519 private multikey")
    if raw[:2] != ED25519_PRIV or len(raw) != 34:
        raise TrustFormatError(f"{text[:6]}… is not an Ed25519 private multikey (0x1300)")
    return raw[2:]


def x25519_public_from_ed25519(public: bytes) -> bytes:
    """The Montgomery u-coordinate (1 + y) / (1 − y) of an Edwards25519 public key."""
    y = int.from_bytes(public, "little") & ((1 << 255) - 1)
    u = (1 + y) * pow(1 - y, _P - 2, _P) % _P
    return u.to_bytes(32, "little")


def x25519_private_from_ed25519(seed: bytes) -> bytes:
    """The X25519 private scalar of an Ed25519 seed: the clamped first half of SHA-512(seed)."""
    h = bytearray(hashlib.sha512(seed).digest()[:32])
    h[0] &= 248
    h[31] &= 127
    h[31] |= 64
    return bytes(h)


def x25519_did_fragment(public_x25519: bytes) -> str:
    return encode_z(X25519_PUB + public_x25519)


def verify_ed25519(public: bytes, signature: bytes, message: bytes, *, who: str) -> None:
    """Raise SignatureError unless ``signature`` is ``who``'s Ed25519 signature of ``message``."""
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError) as err:
        raise SignatureError(f"the Ed25519 signature by {who} does not verify") from err


@dataclass(frozen=True, slots=True)
class KeyPair:
    """An Ed25519 key pair; ``seed`` is the 32-byte private key (RFC 8032)."""

    seed: bytes
    public: bytes

    @classmethod
    def generate(cls) -> KeyPair:
        return cls.from_seed(Ed25519PrivateKey.generate().private_bytes_raw())

    @classmethod
    def from_seed(cls, seed: bytes) -> KeyPair:
        if len(seed) != 32:
            raise TrustFormatError(f"an Ed25519 seed has 32 bytes (got {len(seed)})")
        key = Ed25519PrivateKey.from_private_bytes(seed)
        return cls(seed, key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    @property
    def did(self) -> str:
        return did_from_public(self.public)

    @property
    def verification_method(self) -> str:
        return verification_method(self.did)

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)

    def __repr__(self) -> str:  # never show the seed
        return f"KeyPair({self.did})"


def did_document(did: str) -> dict[str, object]:
    """The did:key document in the Multikey shape of the current did:key draft."""
    public = public_from_did(did)
    vm = verification_method(did)
    x_fragment = x25519_did_fragment(x25519_public_from_ed25519(public))
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [
            {
                "id": vm,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": public_multibase(public),
            },
            {
                "id": f"{did}#{x_fragment}",
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": x_fragment,
            },
        ],
        "authentication": [vm],
        "assertionMethod": [vm],
        "capabilityInvocation": [vm],
        "capabilityDelegation": [vm],
        "keyAgreement": [f"{did}#{x_fragment}"],
    }
