from __future__ import annotations

import pytest

from twinverse.identity import AccessDenied, Permission, Principal, Role


def principal(*roles: Role, scopes: tuple[str, ...] = ()) -> Principal:
    return Principal("ann", "globex", frozenset(roles), scopes)


def test_viewer_may_read_but_not_write() -> None:
    p = principal(Role.VIEWER)
    p.check(Permission.READ, tenant="globex")
    with pytest.raises(AccessDenied) as err:
        p.check(Permission.WRITE, tenant="globex")
    assert not err.value.hidden
    assert "engineer" in err.value.message


def test_another_company_is_hidden() -> None:
    with pytest.raises(AccessDenied) as err:
        principal(Role.ADMIN).check(Permission.READ, tenant="initech")
    assert err.value.hidden


def test_scope_limits_to_a_subtree() -> None:
    p = principal(Role.ENGINEER, scopes=("86.1000.globex/shanghai",))
    p.check(Permission.WRITE, tenant="globex", entity_id="86.1000.globex/shanghai/l1/press-1")
    with pytest.raises(AccessDenied):
        p.check(Permission.READ, tenant="globex", entity_id="86.1000.globex/stuttgart")
    # A sibling whose id merely starts with the same letters is outside the scope.
    assert not p.sees("86.1000.globex/shanghai-2")


def test_operator_may_control() -> None:
    assert Permission.CONTROL in principal(Role.OPERATOR).permissions
    assert Permission.WRITE not in principal(Role.OPERATOR).permissions
