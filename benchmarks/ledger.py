"""Ledger speed: durable batched appends, inclusion proofs on a large log, proof and credential
verification.

    python benchmarks/ledger.py [--quick]

Goals (issue 7): append >= 50k entries/s (batched, durable), inclusion proof on a 10M-entry log
<= 1 ms, >= 10k proof verifications/s, credential verification >= 1k/s. Reference measured in the
same run: one bare SHA-256 of a 32-byte entry (the floor of any RFC 6962 log) and one bare
Ed25519 verification (the floor of any credential check). The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

from twinverse.trust.credentials import TWINVERSE_CONTEXT, issue, verify_credential
from twinverse.trust.integrity import RDFC
from twinverse.trust.keys import KeyPair, verify_ed25519
from twinverse.trust.log import EntryKind, Ledger, Record
from twinverse.trust.merkle import leaf_hash, verify_inclusion
from twinverse.trust.note import NoteSigner

_parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
_parser.add_argument("--quick", action="store_true", help="a 1M-entry log instead of 10M")
QUICK = _parser.parse_args().quick
LOG_SIZE = 1_000_000 if QUICK else 10_000_000
BATCH = 20_000


def main() -> None:
    rng = random.Random(1)
    signer = NoteSigner("bench.example/log", KeyPair.from_seed(bytes(32)))
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
        log = Ledger(Path(tmp) / "ledger.db", signer, clock=time.time_ns).open()
        payload = [rng.randbytes(32) for _ in range(BATCH)]
        t0 = time.perf_counter()
        for _ in range(LOG_SIZE // BATCH):
            log.append_data(EntryKind.TELEMETRY_BATCH, payload)
        append_s = time.perf_counter() - t0
        figures["append_per_s"] = LOG_SIZE / append_s
        print(
            f"append (durable, batches of {BATCH:,}): {LOG_SIZE:,} entries in {append_s:.1f} s "
            f"= {figures['append_per_s']:,.0f}/s"
        )

        recs = [
            Record(EntryKind.TWIN_EVENT, {"twin": "x", "seq": i, "digest": "ab" * 32}, f"e:{i}")
            for i in range(50_000)
        ]
        t0 = time.perf_counter()
        for i in range(0, len(recs), 10_000):
            log.append(recs[i : i + 10_000])
        figures["append_records_per_s"] = len(recs) / (time.perf_counter() - t0)
        print(f"append of JSON records with references: {figures['append_records_per_s']:,.0f}/s")

        size = log.size
        root = log.root()
        idx = [rng.randrange(size) for _ in range(2000)]
        t0 = time.perf_counter()
        proofs = [log.inclusion_proof(i, size) for i in idx]
        figures["proof_ms"] = (time.perf_counter() - t0) / len(idx) * 1e3
        print(f"inclusion proof on a {size:,}-entry log: {figures['proof_ms']:.3f} ms each")

        leaves = [log.entry(i).leaf_hash for i in idx]
        t0 = time.perf_counter()
        for _ in range(5):
            for i, leaf, proof in zip(idx, leaves, proofs, strict=True):
                verify_inclusion(i, size, leaf, proof, root)
        figures["verify_per_s"] = 5 * len(idx) / (time.perf_counter() - t0)
        print(
            f"inclusion proof verification ({len(proofs[0])} hashes): "
            f"{figures['verify_per_s']:,.0f}/s"
        )
        log.close()

    t0 = time.perf_counter()
    for d in payload[:10_000] * 10:
        leaf_hash(d)
    sha_per_s = 100_000 / (time.perf_counter() - t0)
    figures["append_vs_bare_sha256"] = figures["append_per_s"] / sha_per_s
    print(
        f"reference: bare leaf hash {sha_per_s:,.0f}/s; append reaches "
        f"{figures['append_vs_bare_sha256']:.1%} of it"
    )

    issuer = KeyPair.from_seed(bytes(range(32)))
    cred = issue(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": "urn:uuid:0",
            "type": ["VerifiableCredential", "EnvironmentalManagementCertificate"],
            "issuer": issuer.did,
            "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": {"id": issuer.did, "twin": "86.1000.x/s", "standard": "ISO 14001"},
        },
        issuer,
        now_ns=time.time_ns(),
    )
    n = 500 if QUICK else 3000
    now = time.time_ns()
    t0 = time.perf_counter()
    for _ in range(n):
        verify_credential(cred, now_ns=now)
    figures["credential_verify_per_s"] = n / (time.perf_counter() - t0)
    msg = b"x" * 64
    sig = issuer.sign(msg)
    t0 = time.perf_counter()
    for _ in range(n):
        verify_ed25519(issuer.public, sig, msg, who="bench")
    ed_per_s = n / (time.perf_counter() - t0)
    figures["credential_vs_bare_ed25519"] = figures["credential_verify_per_s"] / ed_per_s
    print(
        f"credential verification (eddsa-jcs-2022): {figures['credential_verify_per_s']:,.0f}/s; "
        f"bare Ed25519 {ed_per_s:,.0f}/s ({figures['credential_vs_bare_ed25519']:.0%} of it)"
    )
    # The same claims under eddsa-rdfc-2022 (RDF canonicalisation by PyLD; no goal set).
    unsigned = {k: v for k, v in cred.items() if k != "proof"}
    unsigned["@context"] = [*unsigned["@context"], TWINVERSE_CONTEXT]
    rdf = issue(unsigned, issuer, now_ns=now, cryptosuite=RDFC)
    m = max(n // 20, 20)
    t0 = time.perf_counter()
    for _ in range(m):
        verify_credential(rdf, now_ns=now)
    figures["credential_rdfc_verify_per_s"] = m / (time.perf_counter() - t0)
    print(
        f"credential verification (eddsa-rdfc-2022): "
        f"{figures['credential_rdfc_verify_per_s']:,.0f}/s"
    )
    print(
        json.dumps(
            {
                "benchmark": "ledger",
                "quick": QUICK,
                "log_size": size,
                **{k: round(v, 4) for k, v in figures.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
