"""The trust service of one company: its ledger, registry, keys, credentials and trades.

It holds ``ledger.db`` (the Merkle log) and ``registry.db`` (sealed keys,
credentials, status lists, trades, witness state) under a directory, usually
``<data dir>/trust``. Every consequential step is logged: key bindings and
rotations, credential issuance and revocation, trade offers, acceptances and
settlements, and twin events fed in by the edges.

Lifecycle: the constructor does no I/O; ``open()`` opens both files (deriving
the key-encryption key from the passphrase) and creates the log's signing key
on first use; ``close()`` (or ``with``) releases them.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

from twinverse.store import ChunkDigest
from twinverse.trust.bundle import ProofBundle
from twinverse.trust.credentials import TWINVERSE_CONTEXT, VC_CONTEXT, format_time, issue
from twinverse.trust.errors import (
    CredentialError,
    EntryNotFoundError,
    TradeError,
    TradeNotFoundError,
)
from twinverse.trust.integrity import CRYPTOSUITE, sign_document
from twinverse.trust.keys import KeyPair
from twinverse.trust.keystore import SCRYPT_N
from twinverse.trust.log import Entry, EntryKind, Ledger, Record
from twinverse.trust.note import NoteSigner, SignatureType, VerifierKey
from twinverse.trust.registry import Registry, StatusListRow
from twinverse.trust.status import StatusBits, status_entry, status_list_credential
from twinverse.trust.suppliers import KIND_BY_TYPE, SupplierScore, evaluate_supplier
from twinverse.trust.trades import (
    CapacityChange,
    TradeState,
    capacity_change,
    check_acceptance,
    check_offer,
    digest,
)
from twinverse.trust.witness import Witness
from twinverse.twin import codec
from twinverse.twin.events import Event

LOG_SUBJECT: Final = "ledger"


class TrustService:
    def __init__(
        self,
        directory: Path | str,
        *,
        passphrase: bytes,
        origin: str,
        clock: Callable[[], int],
        scrypt_n: int = SCRYPT_N,
    ) -> None:
        self.directory = Path(directory)
        self.origin = origin
        self.clock = clock
        self._passphrase = passphrase
        self.registry = Registry(self.directory / "registry.db", scrypt_n=scrypt_n)
        self._ledger: Ledger | None = None

    def open(self) -> Self:
        self.registry.open(self._passphrase)
        key = self.registry.current_key(LOG_SUBJECT)
        if key is None:
            key = KeyPair.generate()
            self.registry.add_key(LOG_SUBJECT, key, self.clock())
        self._ledger = Ledger(
            self.directory / "ledger.db", NoteSigner(self.origin, key), clock=self.clock
        ).open()
        return self

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None
        self.registry.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            raise EntryNotFoundError("the trust service is not open")
        return self._ledger

    @property
    def log_key(self) -> VerifierKey:
        return self.ledger.signer.verifier

    # ---------------------------------------------------------------- identities
    def identity(self, subject: str) -> KeyPair:
        """The current key of ``subject`` (a twin identifier); created, bound and logged if new."""
        key = self.registry.current_key(subject)
        if key is None:
            key = KeyPair.generate()
            self.registry.add_key(subject, key, self.clock())
            self.ledger.append(
                [
                    Record(
                        EntryKind.KEY_BOUND, {"subject": subject, "did": key.did}, f"key:{key.did}"
                    )
                ]
            )
        return key

    def rotate(self, subject: str) -> KeyPair:
        """A new key for ``subject``; the old one signs the hand-over and is retired."""
        old = self.registry.current_key(subject)
        if old is None:
            return self.identity(subject)
        new = KeyPair.generate()
        now = self.clock()
        statement = sign_document(
            {"type": "KeyRotation", "subject": subject, "from": old.did, "to": new.did},
            old,
            created=format_time(now),
        )
        self.registry.add_key(subject, new, now)
        self.registry.retire_key(old.did, now)
        self.ledger.append([Record(EntryKind.KEY_ROTATED, statement, f"key:{new.did}")])
        return new

    def owner_dids(self, prefix: str) -> set[str]:
        return {k.did for k in self.registry.keys(prefix) if k.retired is None}

    def witness(self, subject: str, logs: Sequence[VerifierKey]) -> Witness:
        """A witness that cosigns as ``subject`` with its current key, state kept in the registry."""
        key = self.identity(subject)
        signer = NoteSigner(_note_name(subject), key, SignatureType.COSIGNATURE_V1)
        return Witness(signer, logs, self.registry, clock_s=lambda: self.clock() // 10**9)

    # ---------------------------------------------------------------- the log
    def record_twin_events(self, prefix: str, events: Sequence[Event]) -> int:
        """Log the digests of twin events not yet logged; returns how many were added."""
        last = self.ledger.last_ref(f"event:{prefix}:")
        done = int(last.rsplit(":", 1)[1]) if last else 0
        records = [
            Record(
                EntryKind.TWIN_EVENT,
                {
                    "twin": prefix,
                    "seq": e.seq,
                    "ts": e.ts,
                    "actor": e.actor,
                    "digest": hashlib.sha256(codec.encode_change(e.change)).hexdigest(),
                },
                f"event:{prefix}:{e.seq:012d}",
            )
            for e in events
            if e.seq > done
        ]
        if records:
            self.ledger.append(records)
        return len(records)

    def logged_telemetry(self) -> int:
        """The last sample chunk whose digest is in the log (0 if none)."""
        last = self.ledger.last_ref("telemetry:")
        return int(last.rsplit(":", 1)[1]) if last else 0

    def record_telemetry(self, chunks: Sequence[ChunkDigest]) -> int:
        """Log one entry per stored sample chunk not yet logged (its series, span and digest)."""
        done = self.logged_telemetry()
        records = [
            Record(
                EntryKind.TELEMETRY_BATCH,
                {
                    "chunk": c.id,
                    "entity": c.key.entity,
                    "property": c.key.prop,
                    "t_min": c.t_min,
                    "t_max": c.t_max,
                    "n": c.n,
                    "digest": c.sha256,
                },
                f"telemetry:{c.id:012d}",
            )
            for c in chunks
            if c.id > done
        ]
        if records:
            self.ledger.append(records)
        return len(records)

    def record_commands(self, lines: Sequence[Mapping[str, Any]]) -> int:
        """Log the control-command audit records not yet logged, in the audit file's order.

        ``lines`` are the audit file's records from its start; the first record
        of a command key is the command, later ones (done, failed) its outcome.
        """
        last = self.ledger.last_ref("command:")
        done = int(last.rsplit(":", 1)[1]) if last else 0
        seen: set[str] = set()
        records = []
        for number, record in enumerate(lines, start=1):
            key = str(record.get("key"))
            kind = EntryKind.COMMAND_OUTCOME if key in seen else EntryKind.COMMAND
            seen.add(key)
            if number > done:
                records.append(Record(kind, dict(record), f"command:{number:09d}"))
        if records:
            self.ledger.append(records)
        return len(records)

    def find(self, ident: str) -> Entry:
        """An entry by index or by reference (``trade:…``, ``credential:…``, ``event:…``)."""
        if ident.isdigit():
            return self.ledger.entry(int(ident))
        return self.ledger.find(ident)

    def bundle(self, entry: Entry, *, since: int | None = None) -> ProofBundle:
        """A proof bundle for ``entry`` at the latest checkpoint (signed now if needed)."""
        published = self.ledger.latest_checkpoint()
        if published is None or published.checkpoint.size <= entry.index:
            published = self.ledger.checkpoint()
        size = published.checkpoint.size
        consistency: tuple[bytes, ...] = ()
        if since is not None and 0 < since <= size:
            consistency = tuple(self.ledger.consistency_proof(since, size))
        return ProofBundle(
            entry.index,
            entry.data,
            published.note.encode(),
            tuple(self.ledger.inclusion_proof(entry.index, size)),
            since,
            consistency,
        )

    # ---------------------------------------------------------------- credentials
    def _status_list(self, issuer: KeyPair) -> StatusListRow:
        url = f"urn:twinverse:status:{issuer.did.rsplit(':', 1)[1][:16]}"
        row = self.registry.status_list(url)
        if row is None:
            row = StatusListRow(url, issuer.did, 0, bytes(StatusBits().bits), None)
        return row

    def _publish_status(self, row: StatusListRow, issuer: KeyPair) -> StatusListRow:
        bits = StatusBits(len(row.bits) * 8, bytearray(row.bits))
        unsigned = status_list_credential(
            row.url, issuer.did, bits, valid_from=format_time(self.clock())
        )
        signed = issue(unsigned, issuer, now_ns=self.clock())
        out = StatusListRow(row.url, row.issuer, row.next, bytes(bits.bits), signed)
        self.registry.save_status_list(out)
        return out

    def issue_supplier_credential(
        self,
        issuer_subject: str,
        supplier: str,
        kind: str,
        claims: Mapping[str, Any],
        *,
        valid_until_ns: int | None = None,
        cryptosuite: str = CRYPTOSUITE,
    ) -> dict[str, Any]:
        """Issue a supplier credential (a type of :data:`KINDS`) about the supplier twin."""
        if kind not in KIND_BY_TYPE:
            raise CredentialError(
                f"unknown credential kind {kind!r}; one of {sorted(KIND_BY_TYPE)}"
            )
        issuer = self.identity(issuer_subject)
        holder = self.identity(supplier)
        row = self._status_list(issuer)
        cid = f"urn:uuid:{uuid.uuid4()}"
        now = self.clock()
        context = [VC_CONTEXT] if cryptosuite == CRYPTOSUITE else [VC_CONTEXT, TWINVERSE_CONTEXT]
        credential: dict[str, Any] = {
            "@context": context,
            "id": cid,
            "type": ["VerifiableCredential", kind],
            "issuer": issuer.did,
            "validFrom": format_time(now),
            "credentialSubject": {"id": holder.did, "twin": supplier, **claims},
            "credentialStatus": status_entry(row.url, row.next),
        }
        if valid_until_ns is not None:
            credential["validUntil"] = format_time(valid_until_ns)
        signed = issue(credential, issuer, now_ns=now, cryptosuite=cryptosuite)
        self._publish_status(
            StatusListRow(row.url, row.issuer, row.next + 1, row.bits, None), issuer
        )
        self.registry.put_credential(cid, supplier, issuer.did, signed, row.url, row.next)
        self.ledger.append(
            [
                Record(
                    EntryKind.CREDENTIAL_ISSUED,
                    {
                        "id": cid,
                        "type": kind,
                        "issuer": issuer.did,
                        "twin": supplier,
                        "digest": digest(signed),
                    },
                    f"credential:{cid}",
                )
            ]
        )
        return signed

    def revoke(self, cid: str) -> None:
        found = self.registry.credential(cid)
        if found is None or found[1] is None or found[2] is None:
            raise EntryNotFoundError(f"no credential {cid!r} with a status entry was issued here")
        row = self.registry.status_list(found[1])
        assert row is not None
        issuer = self.registry.current_key(self._subject_of(row.issuer))
        if issuer is None or issuer.did != row.issuer:
            raise CredentialError(f"the issuer key {row.issuer} is not held here (or was rotated)")
        bits = StatusBits(len(row.bits) * 8, bytearray(row.bits))
        bits.set(found[2])
        self._publish_status(
            StatusListRow(row.url, row.issuer, row.next, bytes(bits.bits), None), issuer
        )
        self.ledger.append(
            [
                Record(
                    EntryKind.CREDENTIAL_REVOKED,
                    {"id": cid, "issuer": row.issuer},
                    f"revoked:{cid}",
                )
            ]
        )

    def _subject_of(self, did: str) -> str:
        record = self.registry.key_record(did)
        if record is None:
            raise CredentialError(f"{did} is not a key of this registry")
        return record.subject

    def status_lists(self) -> dict[str, dict[str, Any]]:
        return {r.url: r.doc for r in self.registry.status_lists() if r.doc is not None}

    def evaluate(self, supplier: str, *, trusted_issuers: set[str] | None = None) -> SupplierScore:
        return evaluate_supplier(
            supplier,
            self.registry.credentials(supplier),
            now_ns=self.clock(),
            status_lists=self.status_lists(),
            trusted_issuers=trusted_issuers,
        )

    # ---------------------------------------------------------------- trades
    def offer(
        self,
        seller_prefix: str,
        site: str,
        resource: str,
        quantity: float,
        unit: str,
        *,
        start: str,
        end: str,
        price_per_unit: float,
        currency: str,
        valid_until_ns: int,
    ) -> dict[str, Any]:
        seller = self.identity(seller_prefix)
        tid = f"trade-{uuid.uuid4().hex[:12]}"
        unsigned = {
            "type": "CapacityOffer",
            "id": tid,
            "seller": seller.did,
            "site": site,
            "resource": resource,
            "quantity": quantity,
            "unit": unit,
            "period": {"start": start, "end": end},
            "price": {"perUnit": price_per_unit, "currency": currency},
            "validUntil": format_time(valid_until_ns),
        }
        offer = sign_document(unsigned, seller, created=format_time(self.clock()))
        check_offer(offer, self.owner_dids)
        self.registry.save_trade(
            tid, TradeState.OFFERED, {"offer": offer, "acceptances": [], "remaining": quantity}
        )
        self.ledger.append([Record(EntryKind.TRADE_OFFER, offer, f"trade:{tid}")])
        return offer

    def accept(
        self, tid: str, buyer_prefix: str, quantity: float, *, budget: float
    ) -> CapacityChange:
        doc = self.registry.trade(tid)
        if doc is None:
            raise TradeNotFoundError(f"no trade {tid!r}")
        offer = doc["offer"]
        buyer = self.identity(buyer_prefix)
        acceptance = sign_document(
            {
                "type": "CapacityAcceptance",
                "offer": tid,
                "offerDigest": digest(offer),
                "buyer": buyer.did,
                "quantity": quantity,
                "budget": {"amount": budget, "currency": offer["price"]["currency"]},
            },
            buyer,
            created=format_time(self.clock()),
        )
        total = check_acceptance(offer, acceptance, remaining=doc["remaining"], now_ns=self.clock())
        change = capacity_change(offer, acceptance)
        seller = self.registry.current_key(self._subject_of(offer["seller"]))
        if seller is None:
            raise TradeError(f"the seller's key {offer['seller']} is not held here")
        settlement = sign_document(
            {
                "type": "TradeSettlement",
                "trade": tid,
                "acceptanceDigest": digest(acceptance),
                "quantity": quantity,
                "total": total,
                "currency": offer["price"]["currency"],
                "site": change.site,
                "buyer": change.buyer,
            },
            seller,
            created=format_time(self.clock()),
        )
        remaining = doc["remaining"] - quantity
        state = TradeState.SETTLED if remaining <= 0 else TradeState.PARTLY_SETTLED
        doc["acceptances"].append({"acceptance": acceptance, "settlement": settlement})
        doc["remaining"] = remaining
        self.ledger.append(
            [
                Record(
                    EntryKind.TRADE_ACCEPT,
                    acceptance,
                    f"trade:{tid}:accept:{len(doc['acceptances'])}",
                ),
                Record(
                    EntryKind.TRADE_SETTLE,
                    settlement,
                    f"trade:{tid}:settle:{len(doc['acceptances'])}",
                ),
            ]
        )
        self.registry.save_trade(tid, state, doc)
        return change

    def trades(self) -> list[dict[str, Any]]:
        return self.registry.trades()


def _note_name(subject: str) -> str:
    return "".join(c if not (c.isspace() or c == "+") else "-" for c in subject) or "witness"
