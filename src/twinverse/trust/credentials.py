"""Verifiable Credentials (W3C VC Data Model 2.0) secured with eddsa-jcs-2022.

Lifecycle of a credential: *issued* (signed by the issuer's did:key), *presented*
(wrapped in a Verifiable Presentation signed by the holder), *verified* (proof,
validity window, issuer = signer, status), and possibly *revoked* (its bit set
in the issuer's Bitstring Status List) or *expired* (past ``validUntil``).

:func:`verify_credential` is pure: the time and the status list credentials are
passed in. It raises :class:`CredentialError` (or the Expired/Revoked subclass)
with the reason; callers that score credentials keep that reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from twinverse.trust.errors import (
    CredentialError,
    CredentialExpiredError,
    CredentialRevokedError,
    TrustError,
)
from twinverse.trust.integrity import CRYPTOSUITE, Document, sign_document, verify_document
from twinverse.trust.keys import KeyPair
from twinverse.trust.status import ENTRY_TYPE, LIST_CREDENTIAL_TYPE, StatusBits

VC_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"
TWINVERSE_CONTEXT: Final = "https://twinverse.example/ns/supplier/v1"


def format_time(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: object, *, field: str) -> datetime:
    if not isinstance(text, str):
        raise CredentialError(f"{field} must be an XML Schema dateTime string (got {text!r})")
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as err:
        raise CredentialError(f"{field} is not a dateTime: {text!r}") from err
    if parsed.tzinfo is None:
        raise CredentialError(f"{field} needs a time zone (got {text!r})")
    return parsed


def issuer_id(credential: Mapping[str, Any]) -> str:
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    if not isinstance(issuer, str):
        raise CredentialError("the credential has no issuer id")
    return issuer


def issue(
    credential: Mapping[str, Any], key: KeyPair, *, now_ns: int, cryptosuite: str = CRYPTOSUITE
) -> Document:
    """Sign ``credential`` (its issuer must be ``key``'s did:key), eddsa-jcs-2022 by default."""
    if issuer_id(credential) != key.did:
        raise CredentialError(
            f"the issuer {issuer_id(credential)!r} is not the signing key's DID {key.did!r}"
        )
    return sign_document(credential, key, created=format_time(now_ns), cryptosuite=cryptosuite)


def present(
    credentials: list[Document], holder: KeyPair, *, now_ns: int, challenge: str, domain: str
) -> Document:
    """A Verifiable Presentation of ``credentials`` signed by the holder for one verifier."""
    vp = {
        "@context": [VC_CONTEXT],
        "type": ["VerifiablePresentation"],
        "holder": holder.did,
        "verifiableCredential": credentials,
    }
    return sign_document(
        vp,
        holder,
        created=format_time(now_ns),
        purpose="authentication",
        extra={"challenge": challenge, "domain": domain},
    )


@dataclass(frozen=True, slots=True)
class VerifiedCredential:
    credential: Mapping[str, Any]
    issuer: str
    types: tuple[str, ...]
    subject: Mapping[str, Any]


def verify_credential(
    credential: Mapping[str, Any],
    *,
    now_ns: int,
    status_lists: Mapping[str, Mapping[str, Any]] | None = None,
) -> VerifiedCredential:
    """Verify proof, issuer, validity window and revocation status; raise CredentialError.

    ``status_lists`` maps a status list URL to its (signed) status list
    credential; a credential with a status entry whose list is absent fails.
    """
    try:
        proof = verify_document(credential, purpose="assertionMethod")
    except TrustError as err:
        raise CredentialError(f"the proof does not verify: {err.message}") from err
    issuer = issuer_id(credential)
    if proof.controller != issuer:
        raise CredentialError(f"signed by {proof.controller}, but the issuer is {issuer}")
    now = datetime.fromtimestamp(now_ns / 1e9, UTC)
    if "validFrom" in credential and now < parse_time(credential["validFrom"], field="validFrom"):
        raise CredentialError(f"not valid before {credential['validFrom']}")
    if "validUntil" in credential and now > parse_time(
        credential["validUntil"], field="validUntil"
    ):
        raise CredentialExpiredError(f"expired at {credential['validUntil']}")
    status = credential.get("credentialStatus")
    if status is not None:
        _check_status(status, issuer, now_ns, status_lists or {})
    types = credential.get("type", [])
    subject = credential.get("credentialSubject", {})
    if not isinstance(subject, dict):
        raise CredentialError("credentialSubject must be an object")
    return VerifiedCredential(
        credential, issuer, tuple(types) if isinstance(types, list) else (str(types),), subject
    )


def _check_status(
    status: object, issuer: str, now_ns: int, lists: Mapping[str, Mapping[str, Any]]
) -> None:
    entries = status if isinstance(status, list) else [status]
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("type") != ENTRY_TYPE:
            raise CredentialError(f"unsupported credentialStatus {entry!r}")
        url = entry.get("statusListCredential")
        list_vc = lists.get(str(url))
        if list_vc is None:
            raise CredentialError(f"status list {url} is not available; the status is unknown")
        if LIST_CREDENTIAL_TYPE not in list_vc.get("type", []):
            raise CredentialError(f"{url} is not a {LIST_CREDENTIAL_TYPE}")
        verified = verify_credential(list_vc, now_ns=now_ns)
        if verified.issuer != issuer:
            raise CredentialError(f"status list {url} is issued by {verified.issuer}, not {issuer}")
        try:
            index = int(str(entry.get("statusListIndex")))
        except ValueError as err:
            raise CredentialError(f"statusListIndex {entry.get('statusListIndex')!r}") from err
        bits = StatusBits.decode(str(verified.subject.get("encodedList", "")))
        if bits.get(index) and entry.get("statusPurpose") == "revocation":
            raise CredentialRevokedError(f"revoked (bit {index} of {url} is set)")
