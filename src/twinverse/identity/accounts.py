"""Accounts: creating principals, password login, API tokens, and authenticating a token.

Passwords are hashed with Argon2id (argon2-cffi). Tokens are random opaque
strings; the store keeps only their SHA-256, so a copy of the database does not
leak usable tokens. Login tokens expire after the configured lifetime; API
tokens for services live until revoked or their given expiry.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from twinverse.errors import TwinverseError
from twinverse.identity.access import Principal, Role
from twinverse.store import AccountRecord, AccountStore, TokenRecord
from twinverse.twin.ids import is_local_id

_NS = 1_000_000_000
API_TOKEN_TTL_S = 365 * 24 * 3600


class AuthenticationError(TwinverseError):
    """Who the caller is could not be established (bad password, unknown or expired token)."""

    code = "unauthenticated"


class AccountError(TwinverseError):
    code = "invalid-account"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    principal: str
    expires_ts: int
    kind: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """Account operations over an AccountStore; the clock (ns since epoch) is injected."""

    def __init__(
        self, store: AccountStore, clock: Callable[[], int], *, session_ttl_s: int = 3600
    ) -> None:
        self._store = store
        self._clock = clock
        self._ttl_ns = session_ttl_s * _NS
        # Light parameters: interactive logins stay fast on a 2-core machine while
        # remaining memory-hard (RFC 9106's second recommended option uses 64 MiB).
        self._hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)

    def create(
        self,
        principal: str,
        *,
        tenant: str,
        roles: list[Role],
        password: str | None = None,
        display_name: str = "",
        scopes: tuple[str, ...] = (),
        is_service: bool = False,
    ) -> Principal:
        """Create or replace a principal. Raises AccountError for a malformed name or weak password."""
        if not is_local_id(principal):
            raise AccountError(
                f"a principal name uses letters, digits, '_', '.', '-'; got {principal!r}"
            )
        if not is_local_id(tenant):
            raise AccountError(f"a company id uses letters, digits, '_', '.', '-'; got {tenant!r}")
        if password is not None and len(password) < 8:
            raise AccountError("a password needs at least 8 characters")
        if not roles:
            raise AccountError(
                "a principal needs at least one role (viewer, operator, engineer, admin)"
            )
        record = AccountRecord(
            principal=principal,
            tenant=tenant,
            display_name=display_name or principal,
            roles=tuple(r.value for r in roles),
            scopes=scopes,
            password_hash=self._hasher.hash(password) if password is not None else None,
            is_service=is_service,
        )
        self._store.put_account(record)
        return _principal(record)

    def login(self, principal: str, password: str) -> IssuedToken:
        """Check the password and issue a short-lived session token. Raises AuthenticationError."""
        record = self._store.account(principal)
        failure = AuthenticationError("unknown principal or wrong password")
        if record is None or record.password_hash is None:
            # Hash anyway so timing does not tell which principals exist.
            self._hasher.hash(password)
            raise failure
        try:
            self._hasher.verify(record.password_hash, password)
        except (VerificationError, InvalidHashError):
            raise failure from None
        return self._issue(principal, "session", self._clock() + self._ttl_ns)

    def issue_api_token(self, principal: str, *, ttl_s: int = API_TOKEN_TTL_S) -> IssuedToken:
        if self._store.account(principal) is None:
            raise AccountError(f"no principal {principal!r}")
        return self._issue(principal, "api", self._clock() + ttl_s * _NS)

    def _issue(self, principal: str, kind: str, expires_ts: int) -> IssuedToken:
        token = f"tv_{secrets.token_urlsafe(32)}"
        self._store.put_token(TokenRecord(_digest(token), principal, expires_ts, kind))
        return IssuedToken(token, principal, expires_ts, kind)

    def authenticate(self, token: str) -> Principal:
        """The principal a token stands for. Raises AuthenticationError."""
        record = self._store.token(_digest(token))
        if record is None:
            raise AuthenticationError("unknown token; log in again")
        if record.expires_ts <= self._clock():
            self._store.delete_token(record.token_hash)
            raise AuthenticationError("the token has expired; log in again")
        account = self._store.account(record.principal)
        if account is None:
            raise AuthenticationError("the token's principal no longer exists")
        return _principal(account)

    def revoke(self, token: str) -> None:
        self._store.delete_token(_digest(token))

    def principal(self, principal: str) -> Principal | None:
        record = self._store.account(principal)
        return _principal(record) if record else None


def _principal(record: AccountRecord) -> Principal:
    return Principal(
        id=record.principal,
        tenant=record.tenant,
        roles=frozenset(Role(r) for r in record.roles),
        scopes=record.scopes,
        display_name=record.display_name,
        is_service=record.is_service,
    )
