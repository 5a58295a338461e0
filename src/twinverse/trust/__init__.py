"""Trust across companies: a verifiable Merkle log, decentralised identities, credentials, trades.

* :mod:`.merkle` — RFC 9162 hashing, proofs and pure verification;
* :mod:`.note`, :mod:`.checkpoint`, :mod:`.witness` — C2SP signed notes,
  tlog checkpoints and witness cosignatures;
* :mod:`.log` — the durable SQLite Merkle log; :mod:`.bundle` — offline proofs;
* :mod:`.keys`, :mod:`.keystore` — did:key identities, keys sealed at rest;
* :mod:`.integrity`, :mod:`.credentials`, :mod:`.status` — Data Integrity
  eddsa-jcs-2022, Verifiable Credentials 2.0, Bitstring Status Lists;
* :mod:`.suppliers` — supplier credentials and scores; :mod:`.trades` — capacity trades;
* :mod:`.service` — one company's trust service over all of the above.
"""

from twinverse.trust.bundle import ProofBundle, verify_bundle
from twinverse.trust.checkpoint import Checkpoint, parse_checkpoint
from twinverse.trust.credentials import issue, present, verify_credential
from twinverse.trust.errors import (
    CredentialError,
    CredentialExpiredError,
    CredentialRevokedError,
    EntryNotFoundError,
    KeyStoreError,
    ProofShapeError,
    RootMismatchError,
    SignatureError,
    SplitViewError,
    TradeError,
    TrustError,
    TrustFormatError,
    VerificationError,
)
from twinverse.trust.keys import KeyPair, did_from_public, public_from_did
from twinverse.trust.log import Entry, EntryKind, Ledger, Record
from twinverse.trust.merkle import verify_consistency, verify_inclusion
from twinverse.trust.note import NoteSigner, SignatureType, VerifierKey
from twinverse.trust.service import TrustService
from twinverse.trust.suppliers import SupplierScore, evaluate_supplier
from twinverse.trust.witness import Witness, check_growth

__all__ = [
    "Checkpoint",
    "CredentialError",
    "CredentialExpiredError",
    "CredentialRevokedError",
    "Entry",
    "EntryKind",
    "EntryNotFoundError",
    "KeyPair",
    "KeyStoreError",
    "Ledger",
    "NoteSigner",
    "ProofBundle",
    "ProofShapeError",
    "Record",
    "RootMismatchError",
    "SignatureError",
    "SignatureType",
    "SplitViewError",
    "SupplierScore",
    "TradeError",
    "TrustError",
    "TrustFormatError",
    "TrustService",
    "VerificationError",
    "VerifierKey",
    "Witness",
    "check_growth",
    "did_from_public",
    "evaluate_supplier",
    "issue",
    "parse_checkpoint",
    "present",
    "public_from_did",
    "verify_bundle",
    "verify_consistency",
    "verify_credential",
    "verify_inclusion",
]
