from __future__ import annotations

import pytest

from twinverse.identity import Accounts, AuthenticationError, Role
from twinverse.identity.accounts import AccountError
from twinverse.store.memory import MemoryStore


@pytest.fixture
def accounts(clock) -> Accounts:
    return Accounts(MemoryStore(), clock, session_ttl_s=600)


def test_login_issues_a_token_that_authenticates(accounts: Accounts) -> None:
    accounts.create("ann", tenant="globex", roles=[Role.ENGINEER], password="correct horse")
    issued = accounts.login("ann", "correct horse")
    who = accounts.authenticate(issued.token)
    assert (who.id, who.tenant, who.roles) == ("ann", "globex", frozenset({Role.ENGINEER}))


def test_wrong_password_and_unknown_user_fail_alike(accounts: Accounts) -> None:
    accounts.create("ann", tenant="globex", roles=[Role.VIEWER], password="correct horse")
    with pytest.raises(AuthenticationError) as wrong:
        accounts.login("ann", "wrong horse")
    with pytest.raises(AuthenticationError) as unknown:
        accounts.login("bob", "correct horse")
    assert wrong.value.message == unknown.value.message


def test_session_token_expires(accounts: Accounts, clock) -> None:
    accounts.create("ann", tenant="globex", roles=[Role.VIEWER], password="correct horse")
    token = accounts.login("ann", "correct horse").token
    clock.advance(601)
    with pytest.raises(AuthenticationError, match="expired"):
        accounts.authenticate(token)


def test_password_is_stored_hashed(accounts: Accounts) -> None:
    accounts.create("ann", tenant="globex", roles=[Role.VIEWER], password="correct horse")
    record = accounts._store.account("ann")
    assert record is not None and record.password_hash is not None
    assert "correct horse" not in record.password_hash
    assert record.password_hash.startswith("$argon2id$")


def test_revoked_api_token_no_longer_authenticates(accounts: Accounts) -> None:
    accounts.create("svc", tenant="globex", roles=[Role.OPERATOR], is_service=True)
    token = accounts.issue_api_token("svc").token
    assert accounts.authenticate(token).is_service
    accounts.revoke(token)
    with pytest.raises(AuthenticationError):
        accounts.authenticate(token)


def test_short_password_is_refused(accounts: Accounts) -> None:
    with pytest.raises(AccountError, match="8 characters"):
        accounts.create("ann", tenant="globex", roles=[Role.VIEWER], password="short")
