"""The curated public API of each package is pinned: a change here is a deliberate decision."""

from __future__ import annotations

import twinverse
import twinverse.identity
import twinverse.scenario
import twinverse.store


def test_package_exports() -> None:
    assert twinverse.__all__ == ["__version__"]


def test_scenario_exports() -> None:
    assert sorted(twinverse.scenario.__all__) == [
        "Issue",
        "LoadedScenario",
        "Scenario",
        "ScenarioError",
        "build_graph",
        "load_scenario",
        "parse_text",
        "scenario_changes",
        "validate_document",
        "validate_file",
    ]


def test_identity_exports() -> None:
    assert sorted(twinverse.identity.__all__) == [
        "AccessDenied",
        "Accounts",
        "AuthenticationError",
        "IssuedToken",
        "Permission",
        "Principal",
        "Role",
    ]


def test_store_exports_resolve() -> None:
    for name in twinverse.store.__all__:
        assert hasattr(twinverse.store, name), name
