"""Private keys encrypted at rest: AES-256-GCM under a key derived from a passphrase (scrypt).

The key-encryption key is derived once per open (scrypt, n = 2^15, r = 8, p = 1,
a random 16-byte salt kept beside the keys); each private key is sealed with a
fresh 12-byte nonce and its did:key as associated data, so a sealed key moved
to another identity fails to open. A wrong passphrase fails with KeyStoreError
on the first key it tries, never with garbage keys.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from twinverse.trust.errors import KeyStoreError
from twinverse.trust.keys import KeyPair

SCRYPT_N: Final = 2**15
_NONCE: Final = 12


@dataclass(frozen=True, slots=True)
class Sealer:
    """Seals and opens private keys with one key-encryption key."""

    kek: bytes

    @classmethod
    def derive(cls, passphrase: bytes, salt: bytes, *, n: int = SCRYPT_N) -> Sealer:
        if not passphrase:
            raise KeyStoreError("the key store needs a non-empty passphrase")
        return cls(Scrypt(salt=salt, length=32, n=n, r=8, p=1).derive(passphrase))

    def seal(self, key: KeyPair) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + AESGCM(self.kek).encrypt(nonce, key.seed, key.did.encode())

    def open(self, sealed: bytes, did: str) -> KeyPair:
        try:
            seed = AESGCM(self.kek).decrypt(sealed[:_NONCE], sealed[_NONCE:], did.encode())
        except InvalidTag as err:
            raise KeyStoreError(
                f"cannot decrypt the key of {did}: wrong passphrase or a damaged key store"
            ) from err
        key = KeyPair.from_seed(seed)
        if key.did != did:
            raise KeyStoreError(f"the sealed key does not belong to {did}")
        return key
