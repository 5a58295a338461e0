"""W3C Data Integrity proofs with the ``eddsa-jcs-2022`` and ``eddsa-rdfc-2022`` cryptosuites.

Signing (vc-di-eddsa §3.3, §3.2): the proof configuration (the proof without
``proofValue``; it takes the document's ``@context`` when the document has one)
and the document without ``proof`` are each canonicalised — JCS (RFC 8785) for
jcs-2022, RDFC-1.0 N-Quads for rdfc-2022 (:mod:`twinverse.trust.rdfc`, shipped
contexts only) — and hashed with SHA-256; the Ed25519 signature over
``proofHash ‖ docHash``, multibase base58btc, is the ``proofValue``. twinverse
signs with jcs-2022 unless asked otherwise and verifies both.

Verification is offline: the verification method must be a did:key, whose
public key is in the identifier itself. Every function here is pure.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import rfc8785

from twinverse.trust.errors import SignatureError, TrustFormatError
from twinverse.trust.keys import KeyPair, public_from_did, verify_ed25519
from twinverse.trust.multibase import decode_z, encode_z

CRYPTOSUITE: Final = "eddsa-jcs-2022"
RDFC: Final = "eddsa-rdfc-2022"
CRYPTOSUITES: Final = (CRYPTOSUITE, RDFC)
PROOF_TYPE: Final = "DataIntegrityProof"

Document = dict[str, Any]


def canonical(value: object) -> bytes:
    """JCS (RFC 8785) bytes of a JSON value."""
    try:
        return rfc8785.dumps(value)  # type: ignore[arg-type]
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as err:
        raise TrustFormatError(f"not canonicalisable as JSON (RFC 8785): {err}") from err


@dataclass(frozen=True, slots=True)
class ProofInputs:
    """The intermediate values of a proof (the test vectors publish each)."""

    canonical_document: bytes
    canonical_proof_config: bytes
    document_hash: bytes
    proof_hash: bytes

    @property
    def hash_data(self) -> bytes:
        return self.proof_hash + self.document_hash


def proof_inputs(document: Mapping[str, Any], proof_config: Mapping[str, Any]) -> ProofInputs:
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    config = {k: v for k, v in proof_config.items() if k != "proofValue"}
    if "@context" in unsecured and "@context" not in config:
        config["@context"] = unsecured["@context"]
    if config.get("cryptosuite") == RDFC:
        from twinverse.trust.rdfc import canonical_nquads

        doc_c, proof_c = canonical_nquads(unsecured), canonical_nquads(config)
    else:
        doc_c, proof_c = canonical(unsecured), canonical(config)
    return ProofInputs(
        doc_c, proof_c, hashlib.sha256(doc_c).digest(), hashlib.sha256(proof_c).digest()
    )


def sign_document(
    document: Mapping[str, Any],
    key: KeyPair,
    *,
    created: str,
    purpose: str = "assertionMethod",
    extra: Mapping[str, Any] | None = None,
    cryptosuite: str = CRYPTOSUITE,
) -> Document:
    """A copy of ``document`` with a proof by ``key`` (its did:key method) in ``cryptosuite``."""
    if cryptosuite not in CRYPTOSUITES:
        raise TrustFormatError(f"cryptosuite must be one of {', '.join(CRYPTOSUITES)}")
    config: Document = {
        "type": PROOF_TYPE,
        "cryptosuite": cryptosuite,
        "created": created,
        "verificationMethod": key.verification_method,
        "proofPurpose": purpose,
        **(extra or {}),
    }
    if "@context" in document:
        config["@context"] = copy.deepcopy(document["@context"])
    inputs = proof_inputs(document, config)
    signed: Document = {k: copy.deepcopy(v) for k, v in document.items() if k != "proof"}
    signed["proof"] = {**config, "proofValue": encode_z(key.sign(inputs.hash_data))}
    return signed


@dataclass(frozen=True, slots=True)
class VerifiedProof:
    verification_method: str
    controller: str  # the did:key that signed
    purpose: str
    created: str | None


def verify_document(document: Mapping[str, Any], *, purpose: str | None = None) -> VerifiedProof:
    """Check the document's single eddsa-jcs-2022 or eddsa-rdfc-2022 proof; raise
    SignatureError or TrustFormatError."""
    proof = document.get("proof")
    if not isinstance(proof, dict):
        raise TrustFormatError("the document has no proof object")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") not in CRYPTOSUITES:
        raise TrustFormatError(
            f"expected a {PROOF_TYPE} with cryptosuite {' or '.join(CRYPTOSUITES)} "
            f"(got {proof.get('type')!r} / {proof.get('cryptosuite')!r})"
        )
    vm = proof.get("verificationMethod")
    value = proof.get("proofValue")
    if not isinstance(vm, str) or not isinstance(value, str):
        raise TrustFormatError("the proof needs a verificationMethod and a proofValue (strings)")
    if purpose is not None and proof.get("proofPurpose") != purpose:
        raise SignatureError(
            f"the proof's purpose is {proof.get('proofPurpose')!r}, expected {purpose!r}"
        )
    if "@context" in proof:
        doc_ctx = document.get("@context")
        ctx = proof["@context"]
        wanted = ctx if isinstance(ctx, list) else [ctx]
        have = doc_ctx if isinstance(doc_ctx, list) else [doc_ctx]
        if have[: len(wanted)] != wanted:
            raise SignatureError("the proof's @context does not match the document's")
    public = public_from_did(vm)
    signature = decode_z(value, what="proofValue")
    inputs = proof_inputs(document, proof)
    verify_ed25519(public, signature, inputs.hash_data, who=vm.split("#", 1)[0])
    created = proof.get("created")
    return VerifiedProof(
        vm,
        vm.split("#", 1)[0],
        str(proof.get("proofPurpose")),
        created if isinstance(created, str) else None,
    )
