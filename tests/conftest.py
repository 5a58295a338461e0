"""Fixtures shared across the suite."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


class FakeClock:
    """A clock that moves only when told to: ns since the epoch."""

    def __init__(self, start: int = 1_790_000_000 * 10**9) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> int:
        self.now += int(seconds * 1e9)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
