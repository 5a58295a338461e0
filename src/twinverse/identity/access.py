"""Roles, permissions and the rule that decides whether a principal may touch a twin path.

A principal belongs to one company (tenant). It may act on a twin only if its
company owns that twin, only within its scopes (subtrees of entity ids; no
scopes means the whole of its company's twins), and only with a permission one
of its roles grants.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from twinverse.errors import TwinverseError
from twinverse.twin.ids import is_within


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ENGINEER = "engineer"
    ADMIN = "admin"


class Permission(StrEnum):
    READ = "read"  # see entities, relations, history, time series
    CONTROL = "control"  # send commands to the plant
    WRITE = "write"  # change the twin (properties, layout, relations)
    ADMIN = "admin"  # import twins, manage principals


ROLE_PERMISSIONS: Final = MappingProxyType(
    {
        Role.VIEWER: frozenset({Permission.READ}),
        Role.OPERATOR: frozenset({Permission.READ, Permission.CONTROL}),
        Role.ENGINEER: frozenset({Permission.READ, Permission.CONTROL, Permission.WRITE}),
        Role.ADMIN: frozenset(Permission),
    }
)


class AccessDenied(TwinverseError):
    """The principal may not do this. ``hidden`` asks the edge to answer 'not found'."""

    code = "forbidden"

    def __init__(self, message: str, *, hidden: bool = False) -> None:
        super().__init__(message)
        self.hidden = hidden


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated person or service acting for a company."""

    id: str
    tenant: str
    roles: frozenset[Role]
    scopes: tuple[str, ...] = ()
    display_name: str = ""
    is_service: bool = False

    @property
    def permissions(self) -> frozenset[Permission]:
        out: frozenset[Permission] = frozenset()
        for role in self.roles:
            out |= ROLE_PERMISSIONS[role]
        return out

    def sees(self, entity_id: str) -> bool:
        """True when the entity lies in one of the principal's scopes (tenancy checked apart)."""
        return not self.scopes or any(is_within(entity_id, s) for s in self.scopes)

    def check(self, permission: Permission, *, tenant: str, entity_id: str | None = None) -> None:
        """Raise AccessDenied unless the principal may use ``permission`` on the entity.

        Another company's twin is reported as hidden: the caller must not learn it exists.
        """
        if tenant != self.tenant:
            raise AccessDenied("no such twin", hidden=True)
        if entity_id is not None and not self.sees(entity_id):
            raise AccessDenied(f"{entity_id!r} is outside the scopes of {self.id!r}", hidden=True)
        if permission not in self.permissions:
            roles = ", ".join(sorted(r.value for r in self.roles)) or "no role"
            raise AccessDenied(
                f"{self.id!r} ({roles}) may not {permission.value}; "
                f"a role that grants it: {_granting(permission)}"
            )


def _granting(permission: Permission) -> str:
    return next(r.value for r, perms in ROLE_PERMISSIONS.items() if permission in perms)
