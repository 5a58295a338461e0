"""RFC 9162 (RFC 6962) Merkle trees: hashing, proof construction and pure verification.

Hashing is domain-separated: a leaf hashes as SHA-256(0x00 ‖ data), an inner
node as SHA-256(0x01 ‖ left ‖ right), and the empty tree as SHA-256("").

Proofs are built from *perfect subtrees*: the node ``(level, index)`` is the
root of leaves ``[index·2^level, (index+1)·2^level)``. Every hash in an
inclusion or consistency proof is the root of a range that splits into at most
log2(n) perfect subtrees, so a store that keeps every perfect node (see
:mod:`twinverse.trust.log`) answers a proof with one batched lookup of O(log n)
nodes, and :class:`MemoryTree` does the same from a list of leaf hashes.

Verification (:func:`verify_inclusion`, :func:`verify_consistency`) is pure: it
needs only the hashes, sizes and roots, and raises :class:`ProofShapeError` for
impossible shapes and :class:`RootMismatchError` (size, computed, expected) when
the hashes do not chain to the expected root. It follows transparency-dev's
``proof/verify.go``, including its edge cases:

* consistency between equal sizes needs an empty proof and equal roots;
* consistency *from* size 0 is always rejected (it proves nothing: any tree
  extends the empty one), and so is a proof between two empty trees.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Final

from twinverse.trust.errors import ProofShapeError, RootMismatchError

HASH_SIZE: Final = 32
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256

NodeKey = tuple[int, int]
"""A perfect subtree: (level, index); it covers leaves [index·2^level, (index+1)·2^level)."""

NodeFetcher = Callable[[Sequence[NodeKey]], Sequence[bytes]]
"""Returns the hashes of the given perfect nodes, in order."""


def leaf_hash(data: bytes) -> bytes:
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


# ------------------------------------------------------------------ proof shapes
def _split(size: int) -> int:
    """The largest power of two strictly below ``size`` (size ≥ 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose roots make the audit path of ``index`` in a tree of ``size``, leaf first."""
    if not 0 <= index < size:
        raise ProofShapeError(f"leaf index {index} is not in a tree of size {size}")
    path: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo += k
    path.reverse()
    return path


def consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """Leaf ranges whose roots make the RFC 9162 consistency proof from ``size1`` to ``size2``."""
    if not 0 < size1 <= size2:
        raise ProofShapeError(
            f"a consistency proof needs 0 < size1 <= size2 (got size1={size1}, size2={size2})"
        )
    out: list[tuple[int, int]] = []
    lo, hi, m, whole = 0, size2, size1, True
    while True:
        if m == hi - lo:
            if not whole:
                out.append((lo, hi))
            break
        k = _split(hi - lo)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
            m -= k
            whole = False
    out.reverse()
    return out


def range_nodes(lo: int, hi: int) -> list[NodeKey]:
    """The perfect subtrees, left to right, that make up the range [lo, hi) of a proof."""
    keys: list[NodeKey] = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        # Proof ranges start at multiples of their largest part, so the part is aligned.
        while lo & ((1 << level) - 1):
            level -= 1
        keys.append((level, lo >> level))
        lo += 1 << level
    return keys


def fold_right(hashes: Sequence[bytes]) -> bytes:
    """The root of a range from its perfect subtrees (left to right): the RFC's right-leaning fold."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def build_proof(ranges: Sequence[tuple[int, int]], fetch: NodeFetcher) -> list[bytes]:
    """Resolve proof ranges to hashes with one batched fetch of perfect nodes."""
    parts = [range_nodes(lo, hi) for lo, hi in ranges]
    flat = [k for p in parts for k in p]
    hashes = fetch(flat) if flat else []
    out: list[bytes] = []
    i = 0
    for p in parts:
        out.append(fold_right(hashes[i : i + len(p)]))
        i += len(p)
    return out


def root_of(size: int, fetch: NodeFetcher) -> bytes:
    if size == 0:
        return EMPTY_ROOT
    return fold_right(fetch(range_nodes(0, size)))


# ------------------------------------------------------------------ in memory
class MemoryTree:
    """A Merkle tree held as levels of perfect nodes in memory (tests, offline tools)."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for h in leaf_hashes:
            self.append_hash(h)

    @classmethod
    def of_data(cls, entries: Iterable[bytes]) -> MemoryTree:
        return cls(leaf_hash(d) for d in entries)

    def __len__(self) -> int:
        return len(self._levels[0])

    def append_hash(self, h: bytes) -> None:
        level = 0
        self._levels[0].append(h)
        while len(self._levels[level]) % 2 == 0:
            row = self._levels[level]
            parent = node_hash(row[-2], row[-1])
            level += 1
            if len(self._levels) == level:
                self._levels.append([])
            self._levels[level].append(parent)
            h = parent

    def fetch(self, keys: Sequence[NodeKey]) -> list[bytes]:
        return [self._levels[level][index] for level, index in keys]

    def leaf(self, index: int) -> bytes:
        return self._levels[0][index]

    def root(self, size: int | None = None) -> bytes:
        return root_of(len(self) if size is None else size, self.fetch)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return build_proof(inclusion_ranges(index, len(self) if size is None else size), self.fetch)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        size2 = len(self) if size2 is None else size2
        if size1 == size2:
            return []
        return build_proof(consistency_ranges(size1, size2), self.fetch)


# ------------------------------------------------------------------ verification
def _check_hash(h: bytes, what: str) -> None:
    if len(h) != HASH_SIZE:
        raise ProofShapeError(f"{what} must be {HASH_SIZE} bytes (got {len(h)})")


def _decompose(index: int, size: int) -> tuple[int, int]:
    inner = (index ^ (size - 1)).bit_length()
    border = bin(index >> inner).count("1")
    return inner, border


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, h in enumerate(proof):
        seed = node_hash(seed, h) if (index >> i) & 1 == 0 else node_hash(h, seed)
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, h in enumerate(proof):
        if (index >> i) & 1 == 1:
            seed = node_hash(h, seed)
    return seed


def _chain_border_right(seed: bytes, proof: Sequence[bytes]) -> bytes:
    for h in proof:
        seed = node_hash(h, seed)
    return seed


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that ``proof`` implies for leaf hash ``leaf`` at ``index`` in a tree of ``size``."""
    if not 0 <= index < size:
        raise ProofShapeError(f"leaf index {index} is not in a tree of size {size}")
    _check_hash(leaf, "the leaf hash")
    inner, border = _decompose(index, size)
    if len(proof) != inner + border:
        raise ProofShapeError(
            f"an inclusion proof for leaf {index} of {size} has {inner + border} hashes "
            f"(got {len(proof)})"
        )
    for i, h in enumerate(proof):
        _check_hash(h, f"proof hash {i}")
    return _chain_border_right(_chain_inner(leaf, proof[:inner], index), proof[inner:])


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf`` (a leaf *hash*) is at ``index`` in the tree of ``size`` with ``root``."""
    computed = root_from_inclusion_proof(index, size, leaf, proof)
    if computed != root:
        raise RootMismatchError(size, computed, root)


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree (size2, root2) extends the tree (size1, root1): the log only grew."""
    if size1 < 0 or size2 < size1:
        raise ProofShapeError(f"size2 ({size2}) is smaller than size1 ({size1}): a rollback")
    if size1 == 0:
        raise ProofShapeError("a consistency proof from the empty tree proves nothing")
    if size1 == size2:
        if proof:
            raise ProofShapeError(
                f"sizes are equal ({size1}) so the proof must be empty (got {len(proof)} hashes)"
            )
        if root1 != root2:
            raise RootMismatchError(size1, root2, root1, what="root at equal size")
        return
    if not proof:
        raise ProofShapeError(f"the consistency proof from {size1} to {size2} is empty")
    for i, h in enumerate(proof):
        _check_hash(h, f"proof hash {i}")
    inner, border = _decompose(size1 - 1, size2)
    shift = ((size1 & -size1).bit_length()) - 1
    inner -= shift
    if size1 == 1 << shift:
        seed, start = root1, 0
    else:
        seed, start = proof[0], 1
    if len(proof) != start + inner + border:
        raise ProofShapeError(
            f"a consistency proof from {size1} to {size2} has {start + inner + border} hashes "
            f"(got {len(proof)})"
        )
    rest = proof[start:]
    mask = (size1 - 1) >> shift
    hash1 = _chain_border_right(_chain_inner_right(seed, rest[:inner], mask), rest[inner:])
    if hash1 != root1:
        raise RootMismatchError(size1, hash1, root1, what="old root")
    hash2 = _chain_border_right(_chain_inner(seed, rest[:inner], mask), rest[inner:])
    if hash2 != root2:
        raise RootMismatchError(size2, hash2, root2, what="new root")
