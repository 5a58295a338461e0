"""Supplier credentials and the supplier score built from verified credentials only.

Three credential kinds, one row each in :data:`KINDS` (type, points, how the
subject's claims map to a share of the points):

* ``EnvironmentalManagementCertificate`` — ISO 14001 or EMAS certification;
* ``SocialResponsibilityAudit`` — an audit rating 0–100 (e.g. SA8000, SMETA);
* ``ProductCarbonFootprint`` — kg CO2e per unit of a material, scored against
  a reference value (half the points at the reference, none at twice it).

A credential counts only if it verifies now (proof, issuer, validity, status)
and its issuer is trusted; otherwise it counts as absent and the report keeps
the reason. Per kind, the best verified credential counts.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from twinverse.trust.credentials import verify_credential
from twinverse.trust.errors import CredentialError, TrustError


def _clamp(x: float) -> float:
    return max(0.0, min(1.0, x))


def _number(subject: Mapping[str, Any], name: str) -> float:
    value = subject.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CredentialError(f"credentialSubject.{name} must be a number (got {value!r})")
    return float(value)


def _environmental(subject: Mapping[str, Any]) -> float:
    return 1.0 if subject.get("standard") in {"ISO 14001", "EMAS"} else 0.5


def _social(subject: Mapping[str, Any]) -> float:
    return _clamp(_number(subject, "rating") / 100.0)


def _carbon(subject: Mapping[str, Any]) -> float:
    value = _number(subject, "kgCO2ePerUnit")
    reference = _number(subject, "referenceKgCO2ePerUnit")
    if reference <= 0:
        raise CredentialError("referenceKgCO2ePerUnit must be positive")
    return _clamp(1.0 - value / (2.0 * reference))


@dataclass(frozen=True, slots=True)
class CredentialKind:
    type: str
    points: float
    share: Callable[[Mapping[str, Any]], float]
    claims: tuple[str, ...]


KINDS: Final = (
    CredentialKind("EnvironmentalManagementCertificate", 35.0, _environmental, ("standard",)),
    CredentialKind("SocialResponsibilityAudit", 35.0, _social, ("scheme", "rating")),
    CredentialKind(
        "ProductCarbonFootprint",
        30.0,
        _carbon,
        ("material", "kgCO2ePerUnit", "referenceKgCO2ePerUnit"),
    ),
)
KIND_BY_TYPE: Final = {k.type: k for k in KINDS}


class Verdict(StrEnum):
    COUNTED = "counted"
    REJECTED = "rejected"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class ScorePart:
    kind: str
    verdict: Verdict
    points: float
    credential: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class SupplierScore:
    supplier: str
    score: float
    parts: tuple[ScorePart, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "supplier": self.supplier,
            "score": round(self.score, 2),
            "parts": [
                {
                    "kind": p.kind,
                    "verdict": p.verdict.value,
                    "points": round(p.points, 2),
                    "credential": p.credential,
                    "reason": p.reason,
                }
                for p in self.parts
            ],
        }


def evaluate_supplier(
    supplier: str,
    credentials: Sequence[Mapping[str, Any]],
    *,
    now_ns: int,
    status_lists: Mapping[str, Mapping[str, Any]],
    trusted_issuers: Collection[str] | None = None,
) -> SupplierScore:
    """Score 0–100 for the supplier twin ``supplier`` from its verifiable credentials."""
    parts: list[ScorePart] = []
    best: dict[str, ScorePart] = {}
    for cred in credentials:
        cid = str(cred.get("id", "?"))
        types = cred.get("type", [])
        kind = next((KIND_BY_TYPE[t] for t in types if t in KIND_BY_TYPE), None)
        if kind is None:
            continue
        try:
            verified = verify_credential(cred, now_ns=now_ns, status_lists=status_lists)
            if trusted_issuers is not None and verified.issuer not in trusted_issuers:
                raise CredentialError(f"issuer {verified.issuer} is not trusted")
            if verified.subject.get("twin") != supplier:
                raise CredentialError(
                    f"about {verified.subject.get('twin')!r}, not supplier {supplier!r}"
                )
            points = kind.points * kind.share(verified.subject)
        except TrustError as err:
            parts.append(ScorePart(kind.type, Verdict.REJECTED, 0.0, cid, err.message))
            continue
        part = ScorePart(kind.type, Verdict.COUNTED, points, cid, "verified")
        if kind.type not in best or best[kind.type].points < points:
            best[kind.type] = part
    for kind in KINDS:
        if kind.type not in best and not any(p.kind == kind.type for p in parts):
            parts.append(ScorePart(kind.type, Verdict.MISSING, 0.0, None, "no credential"))
    parts.extend(best.values())
    order = {k.type: i for i, k in enumerate(KINDS)}
    parts.sort(key=lambda p: (order[p.kind], p.verdict != Verdict.COUNTED))
    return SupplierScore(supplier, sum(p.points for p in best.values()), tuple(parts))
