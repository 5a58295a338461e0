"""transparency-dev/merkle: all inclusion and consistency probes, and the RFC 6962 test tree."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.trust.conftest import VECTORS, vectors
from twinverse.trust.errors import VerificationError
from twinverse.trust.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

TESTDATA = VECTORS / "merkle" / "testdata"


def _files(kind: str) -> list[Path]:
    return sorted((TESTDATA / kind).rglob("*.json")) if TESTDATA.exists() else []


def _b(values: list[str] | None) -> list[bytes]:
    return [base64.b64decode(v) for v in values or []]


def test_all_probes_are_present() -> None:
    vectors("merkle")
    assert len(_files("inclusion")) == 98
    assert len(_files("consistency")) == 98


@pytest.mark.parametrize("path", _files("inclusion"), ids=lambda p: str(p.relative_to(TESTDATA)))
def test_inclusion_probe(path: Path) -> None:
    d = json.loads(path.read_text())
    call = lambda: verify_inclusion(  # noqa: E731
        d["leafIdx"],
        d["treeSize"],
        base64.b64decode(d["leafHash"]),
        _b(d["proof"]),
        base64.b64decode(d["root"]),
    )
    if d["wantErr"]:
        with pytest.raises(VerificationError):
            call()
    else:
        call()


@pytest.mark.parametrize("path", _files("consistency"), ids=lambda p: str(p.relative_to(TESTDATA)))
def test_consistency_probe(path: Path) -> None:
    d = json.loads(path.read_text())
    call = lambda: verify_consistency(  # noqa: E731
        d["size1"],
        d["size2"],
        _b(d["proof"]),
        base64.b64decode(d["root1"]),
        base64.b64decode(d["root2"]),
    )
    if d["wantErr"]:
        with pytest.raises(VerificationError):
            call()
    else:
        call()


def test_rfc6962_test_tree_hashes_and_roots() -> None:
    c = json.loads((vectors("merkle") / "constants.json").read_text())
    leaves = [bytes.fromhex(x) for x in c["leaf_inputs"]]
    assert [leaf_hash(x).hex() for x in leaves] == c["leaf_hashes"]
    assert EMPTY_ROOT.hex() == c["empty_root"]
    tree = MemoryTree.of_data(leaves)
    for size, root in c["roots_by_tree_size"].items():
        assert tree.root(int(size)).hex() == root, size
    # every listed inner node is a perfect subtree of the 8-leaf tree
    levels = c["node_hashes_by_level"]
    flat = [h for level in (levels.values() if isinstance(levels, dict) else levels) for h in level]
    ours = set()
    row = [leaf_hash(x) for x in leaves]
    while len(row) > 1:
        ours.update(h.hex() for h in row)
        row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row) - 1, 2)]
    ours.add(row[0].hex())
    assert set(flat) <= ours


def test_proofs_we_build_verify_for_every_small_tree() -> None:
    for size in range(1, 40):
        tree = MemoryTree.of_data(i.to_bytes(2, "big") for i in range(size))
        root = tree.root()
        for i in range(size):
            verify_inclusion(i, size, tree.leaf(i), tree.inclusion_proof(i), root)
        for s1 in range(1, size + 1):
            verify_consistency(s1, size, tree.consistency_proof(s1), tree.root(s1), root)
