"""Proof bundles: everything an auditor needs to check a record offline.

A bundle (JSON, ``format: twinverse-proof/v1``) holds one entry's exact data,
its index, the signed checkpoint (with cosignatures), the inclusion proof up to
that checkpoint, and optionally a consistency proof from an earlier checkpoint
size. :func:`verify_bundle` needs only the bundle and the trusted keys: it
checks the log's signature (and the witnesses required), the inclusion of the
entry, and — given an earlier checkpoint — that the log only grew.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from twinverse.trust.checkpoint import Checkpoint, parse_checkpoint
from twinverse.trust.errors import TrustFormatError
from twinverse.trust.merkle import leaf_hash, verify_inclusion
from twinverse.trust.multibase import b64decode_strict, b64encode
from twinverse.trust.note import VerifiedSignature, VerifierKey, require_signers, verify_note
from twinverse.trust.witness import check_growth

FORMAT: Final = "twinverse-proof/v1"


@dataclass(frozen=True, slots=True)
class ProofBundle:
    index: int
    data: bytes
    checkpoint: str  # the signed note text
    inclusion: tuple[bytes, ...]
    consistency_from: int | None = None
    consistency: tuple[bytes, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": FORMAT,
            "index": self.index,
            "data": b64encode(self.data),
            "checkpoint": self.checkpoint,
            "inclusion": [b64encode(h) for h in self.inclusion],
        }
        if self.consistency_from is not None:
            out["consistency"] = {
                "from": self.consistency_from,
                "proof": [b64encode(h) for h in self.consistency],
            }
        return out

    @classmethod
    def from_json(cls, doc: object, *, where: str = "bundle") -> ProofBundle:
        if not isinstance(doc, Mapping):
            raise TrustFormatError(f"{where}: expected a JSON object")
        if doc.get("format") != FORMAT:
            raise TrustFormatError(
                f"{where}: format must be {FORMAT!r} (got {doc.get('format')!r})"
            )

        def field(name: str, kind: type) -> Any:
            value = doc.get(name)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise TrustFormatError(f"{where}: {name} must be a {kind.__name__}")
            return value

        def hashes(values: object, name: str) -> tuple[bytes, ...]:
            if not isinstance(values, list):
                raise TrustFormatError(f"{where}: {name} must be a list of base64 hashes")
            return tuple(
                b64decode_strict(str(v), what=f"{where}: {name}[{i}]") for i, v in enumerate(values)
            )

        cons = doc.get("consistency")
        cons_from: int | None = None
        cons_proof: tuple[bytes, ...] = ()
        if cons is not None:
            if not isinstance(cons, Mapping) or not isinstance(cons.get("from"), int):
                raise TrustFormatError(f"{where}: consistency must be {{from: int, proof: [...]}}")
            cons_from = int(cons["from"])
            cons_proof = hashes(cons.get("proof"), "consistency.proof")
        return cls(
            index=field("index", int),
            data=b64decode_strict(field("data", str), what=f"{where}: data"),
            checkpoint=field("checkpoint", str),
            inclusion=hashes(doc.get("inclusion"), "inclusion"),
            consistency_from=cons_from,
            consistency=cons_proof,
        )


@dataclass(frozen=True, slots=True)
class BundleReport:
    checkpoint: Checkpoint
    signatures: tuple[VerifiedSignature, ...]
    index: int
    grew_from: int | None


def verify_bundle(
    bundle: ProofBundle,
    keys: Iterable[VerifierKey],
    *,
    witnesses: Sequence[str] = (),
    earlier: Checkpoint | None = None,
) -> BundleReport:
    """Check the bundle; raise VerificationError (or TrustFormatError) saying what failed."""
    cp, note = parse_checkpoint(bundle.checkpoint, where="bundle checkpoint")
    keys = list(keys)
    log_keys = [k for k in keys if k.name == cp.origin]
    if not log_keys:
        raise TrustFormatError(f"no trusted key for the log {cp.origin!r}")
    verified = verify_note(note, keys)
    require_signers(verified, [cp.origin, *witnesses])
    verify_inclusion(bundle.index, cp.size, leaf_hash(bundle.data), bundle.inclusion, cp.root)
    if earlier is not None:
        if bundle.consistency_from not in (None, earlier.size):
            raise TrustFormatError(
                f"the bundle's consistency proof starts at {bundle.consistency_from}, "
                f"the earlier checkpoint has size {earlier.size}"
            )
        check_growth(earlier, cp, bundle.consistency)
    return BundleReport(
        cp, tuple(verified), bundle.index, None if earlier is None else earlier.size
    )
