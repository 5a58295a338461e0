"""The SQLite Merkle log: proofs, checkpoints, witnesses, bundles, and tamper detection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import FakeClock
from twinverse.trust.bundle import ProofBundle, verify_bundle
from twinverse.trust.checkpoint import parse_checkpoint
from twinverse.trust.errors import (
    SplitViewError,
    TrustFormatError,
    VerificationError,
)
from twinverse.trust.keys import KeyPair
from twinverse.trust.log import EntryKind, Ledger, Record
from twinverse.trust.merkle import MemoryTree, leaf_hash, verify_consistency, verify_inclusion
from twinverse.trust.note import NoteSigner, SignatureType
from twinverse.trust.service import TrustService
from twinverse.trust.witness import MemoryWitnessState, Witness, check_growth

SIGNER = NoteSigner("twinverse.test/log", KeyPair.from_seed(bytes(32)))


def _ledger(tmp_path: Path, clock: FakeClock, name: str = "l.db") -> Ledger:
    return Ledger(tmp_path / name, SIGNER, clock=clock).open()


def test_log_matches_the_reference_tree_and_survives_reopen(
    tmp_path: Path, clock: FakeClock
) -> None:
    data = [f"entry {i}".encode() for i in range(300)]
    with _ledger(tmp_path, clock) as log:
        for i in range(0, 300, 37):
            log.append_data(EntryKind.NOTE, data[i : i + 37])
        root = log.root()
    ref = MemoryTree.of_data(data)
    assert root == ref.root()
    with _ledger(tmp_path, clock) as log:
        assert log.size == 300 and log.root() == root
        for size in (1, 2, 3, 64, 65, 299, 300):
            assert log.root(size) == ref.root(size)
            for i in (0, size // 2, size - 1):
                proof = log.inclusion_proof(i, size)
                assert proof == ref.inclusion_proof(i, size)
                verify_inclusion(i, size, leaf_hash(data[i]), proof, log.root(size))
            proof = log.consistency_proof(size, 300)
            verify_consistency(size, 300, proof, log.root(size), root)
        assert log.audit() == 300


def test_records_are_found_by_reference(tmp_path: Path, clock: FakeClock) -> None:
    with _ledger(tmp_path, clock) as log:
        [entry] = log.append(
            [Record(EntryKind.COMMAND, {"cmd": "start", "machine": "m1"}, "cmd:1")]
        )
        assert log.find("cmd:1") == entry
        assert entry.body == {"cmd": "start", "machine": "m1"}
        assert log.entry(0).kind is EntryKind.COMMAND


def test_checkpoint_is_signed_and_stored(tmp_path: Path, clock: FakeClock) -> None:
    with _ledger(tmp_path, clock) as log:
        log.append_data(EntryKind.NOTE, [b"a", b"b", b"c"])
        published = log.checkpoint()
        cp, _ = parse_checkpoint(published.note.encode())
        assert (cp.origin, cp.size, cp.root) == (SIGNER.name, 3, log.root())
        assert log.latest_checkpoint() == published


def test_every_one_byte_change_of_a_small_bundle_fails(tmp_path: Path, clock: FakeClock) -> None:
    """Exhaustive: entry data, every proof hash, and the checkpoint note, every byte, one bit."""
    with _ledger(tmp_path, clock) as log:
        log.append_data(EntryKind.NOTE, [bytes([i]) * 3 for i in range(7)])
        log.checkpoint()
        size = log.size
        note = log.latest_checkpoint().note.encode()  # type: ignore[union-attr]
        for index in range(size):
            bundle = ProofBundle(
                index, log.entry(index).data, note, tuple(log.inclusion_proof(index))
            )
            verify_bundle(bundle, [SIGNER.verifier])
            for i in range(len(bundle.data)):
                bad = bytearray(bundle.data)
                bad[i] ^= 1
                with pytest.raises(VerificationError):
                    verify_bundle(_with(bundle, data=bytes(bad)), [SIGNER.verifier])
            for j, h in enumerate(bundle.inclusion):
                for i in range(len(h)):
                    bad_h = bytearray(h)
                    bad_h[i] ^= 0x80
                    proof = list(bundle.inclusion)
                    proof[j] = bytes(bad_h)
                    with pytest.raises(VerificationError):
                        verify_bundle(_with(bundle, inclusion=tuple(proof)), [SIGNER.verifier])
        raw = note.encode()
        for i in range(len(raw)):
            bad_note = bytearray(raw)
            bad_note[i] ^= 1
            with pytest.raises((VerificationError, TrustFormatError)):
                text = bytes(bad_note).decode("utf-8", errors="replace")
                verify_bundle(_with(bundle, checkpoint=text), [SIGNER.verifier])


def _with(bundle: ProofBundle, **changes: object) -> ProofBundle:
    fields = {
        "index": bundle.index,
        "data": bundle.data,
        "checkpoint": bundle.checkpoint,
        "inclusion": bundle.inclusion,
        "consistency_from": bundle.consistency_from,
        "consistency": bundle.consistency,
    }
    fields.update(changes)
    return ProofBundle(**fields)  # type: ignore[arg-type]


_BIG = MemoryTree.of_data(i.to_bytes(4, "big") for i in range(5000))


@settings(max_examples=200, deadline=None)
@given(
    index=st.integers(0, 4999),
    size=st.integers(1, 5000),
    target=st.integers(0, 40),
    byte=st.integers(0, 31),
    bit=st.integers(0, 7),
)
def test_any_flipped_bit_of_a_large_proof_fails(
    index: int, size: int, target: int, byte: int, bit: int
) -> None:
    index %= size
    proof = _BIG.inclusion_proof(index, size)
    root = _BIG.root(size)
    leaf = _BIG.leaf(index)
    verify_inclusion(index, size, leaf, proof, root)
    parts = [leaf, root, *proof]
    which = target % len(parts)
    flipped = bytearray(parts[which])
    flipped[byte] ^= 1 << bit
    parts[which] = bytes(flipped)
    with pytest.raises(VerificationError):
        verify_inclusion(index, size, parts[0], parts[2:], parts[1])


@settings(max_examples=100, deadline=None)
@given(size1=st.integers(1, 5000), size2=st.integers(1, 5000), byte=st.integers(0, 31))
def test_any_flipped_bit_of_a_large_consistency_proof_fails(
    size1: int, size2: int, byte: int
) -> None:
    size1, size2 = sorted((size1, size2))
    proof = _BIG.consistency_proof(size1, size2)
    verify_consistency(size1, size2, proof, _BIG.root(size1), _BIG.root(size2))
    if not proof:
        return
    bad = list(proof)
    h = bytearray(bad[byte % len(bad)])
    h[byte] ^= 1
    bad[byte % len(bad)] = bytes(h)
    with pytest.raises(VerificationError):
        verify_consistency(size1, size2, bad, _BIG.root(size1), _BIG.root(size2))


def test_fork_and_rollback_are_detected_against_any_earlier_checkpoint(
    tmp_path: Path, clock: FakeClock
) -> None:
    with (
        _ledger(tmp_path, clock, "honest.db") as honest,
        _ledger(tmp_path, clock, "fork.db") as fork,
    ):
        for log in (honest, fork):
            log.append_data(EntryKind.NOTE, [b"a", b"b", b"c", b"d", b"e"])
        seen = [parse_checkpoint(honest.checkpoint().note.encode())[0]]
        honest.append_data(EntryKind.NOTE, [b"f", b"g"])
        fork.append_data(EntryKind.NOTE, [b"F", b"g", b"h"])  # rewrites history after 5
        seen.append(parse_checkpoint(honest.checkpoint().note.encode())[0])
        fork.append_data(EntryKind.NOTE, [b"i"])
        forked = parse_checkpoint(fork.checkpoint().note.encode())[0]
        # consistent with the first checkpoint (shared prefix) but not with the second
        check_growth(seen[0], forked, fork.consistency_proof(seen[0].size))
        with pytest.raises(SplitViewError):
            check_growth(seen[1], forked, fork.consistency_proof(seen[1].size))
        # rollback: a smaller tree after a larger one
        with pytest.raises(SplitViewError, match="rollback"):
            check_growth(seen[1], seen[0], [])


def test_witness_cosigns_growth_and_refuses_a_split_view(tmp_path: Path, clock: FakeClock) -> None:
    w_signer = NoteSigner("acme.example/witness", KeyPair.generate(), SignatureType.COSIGNATURE_V1)
    witness = Witness(
        w_signer, [SIGNER.verifier], MemoryWitnessState(), clock_s=lambda: 1_790_000_000
    )
    with _ledger(tmp_path, clock, "a.db") as log, _ledger(tmp_path, clock, "b.db") as fork:
        log.append_data(EntryKind.NOTE, [b"1", b"2", b"3"])
        fork.append_data(EntryKind.NOTE, [b"1", b"2", b"3"])
        first = log.checkpoint()
        cosigned = witness.cosign(first.note.encode(), [])
        stored = log.add_cosignatures(3, cosigned.encode())
        assert len(stored.note.signatures) == 2
        log.append_data(EntryKind.NOTE, [b"4"])
        witness.cosign(log.checkpoint().note.encode(), log.consistency_proof(3))
        fork.append_data(EntryKind.NOTE, [b"X", b"5"])
        with pytest.raises(SplitViewError):
            witness.cosign(fork.checkpoint().note.encode(), fork.consistency_proof(4))
        # a bundle can demand the witness's cosignature
        bundle = ProofBundle(0, b"1", stored.note.encode(), tuple(log.inclusion_proof(0, 3)))
        verify_bundle(bundle, [SIGNER.verifier, w_signer.verifier], witnesses=[w_signer.name])
        unsigned = ProofBundle(0, b"1", first.note.encode(), bundle.inclusion)
        with pytest.raises(VerificationError, match="missing signatures"):
            verify_bundle(unsigned, [SIGNER.verifier, w_signer.verifier], witnesses=[w_signer.name])


def test_bundle_round_trips_through_json_and_checks_growth(service: TrustService) -> None:
    service.ledger.append([Record(EntryKind.NOTE, {"n": i}) for i in range(10)])
    first = parse_checkpoint(service.ledger.checkpoint().note.encode())[0]
    [entry] = service.ledger.append([Record(EntryKind.COMMAND, {"cmd": "stop"}, "cmd:stop")])
    bundle = service.bundle(service.find("cmd:stop"), since=first.size)
    again = ProofBundle.from_json(json.loads(json.dumps(bundle.to_json())))
    report = verify_bundle(again, [service.log_key], earlier=first)
    assert report.index == entry.index and report.grew_from == 10


def test_malformed_bundle_names_the_field() -> None:
    with pytest.raises(TrustFormatError, match="format"):
        ProofBundle.from_json({"format": "other"})
    with pytest.raises(TrustFormatError, match="inclusion"):
        ProofBundle.from_json(
            {
                "format": "twinverse-proof/v1",
                "index": 0,
                "data": "",
                "checkpoint": "",
                "inclusion": 3,
            }
        )
