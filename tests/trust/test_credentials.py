"""Credentials: issue, present, verify, revoke, expire; keys at rest; supplier scores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FakeClock
from twinverse.trust.credentials import issue, present, verify_credential
from twinverse.trust.errors import (
    CredentialError,
    CredentialExpiredError,
    CredentialRevokedError,
    KeyStoreError,
)
from twinverse.trust.integrity import verify_document
from twinverse.trust.keys import KeyPair
from twinverse.trust.log import EntryKind
from twinverse.trust.service import TrustService
from twinverse.trust.status import MIN_BITS, StatusBits
from twinverse.trust.suppliers import Verdict

SUPPLIER = "86.1000.huaxin/suppliers/baosteel"
AUDITOR = "tuv.example"


def _env_cert(service: TrustService, **kw: object) -> dict[str, object]:
    return service.issue_supplier_credential(
        AUDITOR,
        SUPPLIER,
        "EnvironmentalManagementCertificate",
        {"standard": "ISO 14001"},
        **kw,  # type: ignore[arg-type]
    )


def test_issued_credential_verifies_and_is_logged(service: TrustService, clock: FakeClock) -> None:
    cred = _env_cert(service)
    verified = verify_credential(cred, now_ns=clock.now, status_lists=service.status_lists())
    assert verified.subject["twin"] == SUPPLIER
    assert service.find(f"credential:{cred['id']}").kind is EntryKind.CREDENTIAL_ISSUED


def test_any_changed_byte_of_a_credential_fails(service: TrustService, clock: FakeClock) -> None:
    cred = _env_cert(service)
    text = json.dumps(cred)
    lists = service.status_lists()
    failures = 0
    for i, ch in enumerate(text):
        if not ch.isalnum():
            continue  # keep it parseable JSON; every letter and digit is changed once
        bad_text = text[:i] + ("1" if ch != "1" else "2") + text[i + 1 :]
        try:
            verify_credential(json.loads(bad_text), now_ns=clock.now, status_lists=lists)
        except CredentialError:
            failures += 1
        else:
            pytest.fail(
                f"a change at offset {i} ({text[max(0, i - 20) : i + 20]!r}) still verifies"
            )
    assert failures > 500


def test_an_rdfc_credential_verifies_scores_and_revokes(
    service: TrustService, clock: FakeClock
) -> None:
    cred = _env_cert(service, cryptosuite="eddsa-rdfc-2022")
    assert cred["proof"]["cryptosuite"] == "eddsa-rdfc-2022"  # type: ignore[index]
    lists = service.status_lists()
    assert verify_credential(cred, now_ns=clock.now, status_lists=lists).subject["twin"] == SUPPLIER
    assert service.evaluate(SUPPLIER).score == 35
    changed = json.loads(json.dumps(cred))
    changed["credentialSubject"]["standard"] = "ISO 9001"
    with pytest.raises(CredentialError):
        verify_credential(changed, now_ns=clock.now, status_lists=lists)
    service.revoke(str(cred["id"]))
    with pytest.raises(CredentialRevokedError):
        verify_credential(cred, now_ns=clock.now, status_lists=service.status_lists())


def test_revoked_credential_fails_and_the_score_says_why(
    service: TrustService, clock: FakeClock
) -> None:
    cred = _env_cert(service)
    service.revoke(str(cred["id"]))
    with pytest.raises(CredentialRevokedError):
        verify_credential(cred, now_ns=clock.now, status_lists=service.status_lists())
    score = service.evaluate(SUPPLIER)
    [env] = [p for p in score.parts if p.kind == "EnvironmentalManagementCertificate"]
    assert env.verdict is Verdict.REJECTED and "revoked" in env.reason
    assert score.score == 0


def test_expired_credential_fails(service: TrustService, clock: FakeClock) -> None:
    cred = _env_cert(service, valid_until_ns=clock.now + 3600 * 10**9)
    clock.advance(7200)
    with pytest.raises(CredentialExpiredError):
        verify_credential(cred, now_ns=clock.now, status_lists=service.status_lists())


def test_missing_status_list_means_unknown_status(service: TrustService, clock: FakeClock) -> None:
    cred = _env_cert(service)
    with pytest.raises(CredentialError, match="status"):
        verify_credential(cred, now_ns=clock.now, status_lists={})


def test_supplier_score_from_verified_credentials(service: TrustService) -> None:
    _env_cert(service)
    service.issue_supplier_credential(
        AUDITOR, SUPPLIER, "SocialResponsibilityAudit", {"scheme": "SA8000", "rating": 80}
    )
    service.issue_supplier_credential(
        AUDITOR,
        SUPPLIER,
        "ProductCarbonFootprint",
        {"material": "steel", "kgCO2ePerUnit": 1.0, "referenceKgCO2ePerUnit": 2.0},
    )
    score = service.evaluate(SUPPLIER)
    assert score.score == pytest.approx(35 + 28 + 22.5)
    auditor = service.identity(AUDITOR).did
    assert service.evaluate(SUPPLIER, trusted_issuers={auditor}).score == score.score
    untrusted = service.evaluate(SUPPLIER, trusted_issuers={"did:key:zOther"})
    assert untrusted.score == 0 and all(
        "not trusted" in p.reason for p in untrusted.parts if p.verdict is Verdict.REJECTED
    )


def test_presentation_is_signed_by_the_holder(clock: FakeClock) -> None:
    issuer, holder = KeyPair.generate(), KeyPair.generate()
    cred = issue(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "issuer": issuer.did,
            "credentialSubject": {"id": holder.did},
        },
        issuer,
        now_ns=clock.now,
    )
    vp = present([cred], holder, now_ns=clock.now, challenge="n-1", domain="buyer.example")
    assert verify_document(vp, purpose="authentication").controller == holder.did
    verify_credential(vp["verifiableCredential"][0], now_ns=clock.now)


def test_issuer_must_be_the_signer(clock: FakeClock) -> None:
    with pytest.raises(CredentialError, match="issuer"):
        issue(
            {"issuer": "did:key:zSomeoneElse", "credentialSubject": {}},
            KeyPair.generate(),
            now_ns=clock.now,
        )


def test_status_bits_are_msb_first_and_at_least_16_kib() -> None:
    bits = StatusBits()
    bits.set(0)
    bits.set(9)
    assert len(bits.bits) * 8 == MIN_BITS
    assert bits.bits[:2] == bytes([0x80, 0x40])
    again = StatusBits.decode(bits.encode())
    assert again.get(0) and again.get(9) and not again.get(1)


def test_keys_are_sealed_at_rest_and_rotate(tmp_path: Path, clock: FakeClock) -> None:
    with TrustService(
        tmp_path, passphrase=b"right", origin="t/log", clock=clock, scrypt_n=2**10
    ).open() as svc:
        old = svc.identity("86.1000.acme")
        new = svc.rotate("86.1000.acme")
        assert svc.identity("86.1000.acme") == new != old
        assert svc.owner_dids("86.1000.acme") == {new.did}
        rotation = svc.find(f"key:{new.did}")
        assert verify_document(rotation.body).controller == old.did
    raw = (tmp_path / "registry.db").read_bytes()
    assert old.seed not in raw and new.seed not in raw
    with pytest.raises(KeyStoreError, match="passphrase"):
        TrustService(
            tmp_path, passphrase=b"wrong", origin="t/log", clock=clock, scrypt_n=2**10
        ).open()
