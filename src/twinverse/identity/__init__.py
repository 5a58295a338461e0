"""Who acts in twinverse: principals of companies (tenants), their roles, and what they may do."""

from twinverse.identity.access import AccessDenied, Permission, Principal, Role
from twinverse.identity.accounts import Accounts, AuthenticationError, IssuedToken

__all__ = [
    "AccessDenied",
    "Accounts",
    "AuthenticationError",
    "IssuedToken",
    "Permission",
    "Principal",
    "Role",
]
