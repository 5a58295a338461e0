"""Fixtures of the store tests: each conformance test runs once per backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from store_backends import BACKENDS

from twinverse.store import Store

HERE = Path(__file__).parent


@pytest.fixture(params=sorted(BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = BACKENDS[request.param](tmp_path)
    try:
        yield opened
    finally:
        opened.close()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    # conformance.py is the suite every backend must pass; it keeps that name
    # (rather than test_*.py) so that it reads as the contract, and is collected
    # here — unless named on the command line, which pytest collects by itself.
    if (
        file_path.parent == HERE
        and file_path.name == "conformance.py"
        and not parent.session.isinitpath(file_path)
    ):
        module: pytest.Module = pytest.Module.from_parent(parent, path=file_path)
        return module
    return None
