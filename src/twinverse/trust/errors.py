"""Errors of the trust layer: each says what was expected, what was got, and of which object.

Verification failures subclass :class:`VerificationError`; a verifier that
catches it knows the input was well-formed enough to check and did not check
out. Malformed input (a truncated note, a non-base64 hash) raises
:class:`TrustFormatError` naming where the problem is.
"""

from __future__ import annotations

from twinverse.errors import TwinverseError


class TrustError(TwinverseError):
    code = "trust-error"


class TrustFormatError(TrustError):
    """Input that cannot be parsed: a note, a proof bundle, a DID, a credential's shape."""

    code = "trust-format"


class VerificationError(TrustError):
    """Well-formed input that does not verify."""

    code = "verification-failed"


class ProofShapeError(VerificationError):
    """A proof has the wrong number or size of hashes, or impossible indices/sizes."""

    code = "proof-shape"


class RootMismatchError(VerificationError):
    """The root computed from a proof is not the expected root of a tree of ``size`` leaves."""

    code = "root-mismatch"

    def __init__(self, size: int, computed: bytes, expected: bytes, *, what: str = "root") -> None:
        super().__init__(
            f"{what} of the tree of size {size} does not match: computed {computed.hex()}, "
            f"expected {expected.hex()}"
        )
        self.size = size
        self.computed = computed
        self.expected = expected


class SignatureError(VerificationError):
    """A signature does not verify with the named key, or no trusted key signed."""

    code = "bad-signature"


class SplitViewError(VerificationError):
    """A log presented a checkpoint that is not consistent with one seen before (fork or rollback)."""

    code = "split-view"


class CredentialError(VerificationError):
    """A credential does not verify, has expired, is not yet valid, or is revoked."""

    code = "credential-invalid"


class CredentialExpiredError(CredentialError):
    code = "credential-expired"


class CredentialRevokedError(CredentialError):
    code = "credential-revoked"


class KeyStoreError(TrustError):
    """A key is unknown, retired, or cannot be decrypted with the given passphrase."""

    code = "key-store"


class EntryNotFoundError(TrustError):
    code = "entry-not-found"


class TradeError(TrustError):
    """A trade step broke a rule: who may offer, what may be accepted, in which state."""

    code = "trade-rejected"


class TradeNotFoundError(TradeError):
    code = "trade-not-found"
