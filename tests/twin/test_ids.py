"""Entity identifiers: prefix/containment-path, built, parsed and compared."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twinverse.twin.errors import InvalidIdError
from twinverse.twin.ids import (
    is_local_id,
    is_prefix,
    is_within,
    local_id,
    make_id,
    parse_id,
    prefix_of,
)

PREFIX = "86.1000.globex"

local_ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.\-]{0,20}\Z")
prefixes = st.from_regex(r"\A[0-9A-Za-z][0-9A-Za-z.\-]{0,20}\Z")


def test_make_id_joins_prefix_and_path() -> None:
    assert make_id(PREFIX, ("shanghai", "l1", "press-2")) == f"{PREFIX}/shanghai/l1/press-2"


def test_enterprise_id_is_the_bare_prefix() -> None:
    assert make_id(PREFIX) == PREFIX


@pytest.mark.parametrize("prefix", ["", ".globex", "-globex", "86/1000", "glo bex", "g" * 65, "ü"])
def test_make_id_rejects_a_malformed_prefix(prefix: str) -> None:
    with pytest.raises(InvalidIdError, match="enterprise prefix must match") as err:
        make_id(prefix, ("a",))
    assert err.value.code == "invalid-id"
    assert repr(prefix) in str(err.value)


@pytest.mark.parametrize("part", ["", "_a", "-a", ".a", "a/b", "a b", "x" * 129, "é"])
def test_make_id_rejects_a_malformed_local_id(part: str) -> None:
    with pytest.raises(InvalidIdError, match="local id must match"):
        make_id(PREFIX, ("shanghai", part))


def test_longest_local_id_is_accepted() -> None:
    assert is_local_id("a" * 128)
    assert not is_local_id("a" * 129)


def test_prefix_allows_dots_and_dashes_after_the_first_character() -> None:
    assert is_prefix("86.1000.globex-eu")


def test_parse_id_accepts_a_well_formed_id() -> None:
    assert parse_id(f"{PREFIX}/shanghai/l1") == f"{PREFIX}/shanghai/l1"


@pytest.mark.parametrize(
    "text", [f"{PREFIX}//l1", f"{PREFIX}/shanghai/", "/shanghai", "", f"{PREFIX}/a b"]
)
def test_parse_id_rejects_a_malformed_id(text: str) -> None:
    with pytest.raises(InvalidIdError):
        parse_id(text)


def test_parse_id_rejects_a_trailing_slash_after_the_prefix() -> None:
    with pytest.raises(InvalidIdError):
        parse_id(f"{PREFIX}/")


@given(prefixes, st.lists(local_ids, max_size=5))
def test_parse_id_of_make_id_is_the_same_id(prefix: str, path: list[str]) -> None:
    entity_id = make_id(prefix, path)
    assert parse_id(entity_id) == entity_id
    assert prefix_of(entity_id) == prefix
    assert local_id(entity_id) == (path[-1] if path else prefix)


def test_is_within_holds_for_the_id_itself() -> None:
    assert is_within(f"{PREFIX}/shanghai", f"{PREFIX}/shanghai")


def test_is_within_holds_for_descendants() -> None:
    assert is_within(f"{PREFIX}/shanghai/l1/press-2", f"{PREFIX}/shanghai")
    assert is_within(f"{PREFIX}/shanghai/l1/press-2", PREFIX)


def test_is_within_does_not_hold_for_a_sibling_sharing_a_name_prefix() -> None:
    assert not is_within(f"{PREFIX}/shanghai-2/l1", f"{PREFIX}/shanghai")


def test_is_within_does_not_hold_upwards() -> None:
    assert not is_within(f"{PREFIX}/shanghai", f"{PREFIX}/shanghai/l1")


@given(prefixes, st.lists(local_ids, min_size=1, max_size=5), st.integers(0, 5))
def test_every_path_prefix_of_an_id_contains_it(prefix: str, path: list[str], cut: int) -> None:
    entity_id = make_id(prefix, path)
    assert is_within(entity_id, make_id(prefix, path[: min(cut, len(path))]))
