"""Fixtures of the trust tests: the shared conformance vectors, a fake clock, a service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA, FakeClock
from twinverse.trust.service import TrustService

VECTORS = SHARED_DATA / "vectors"


def vectors(sub: str) -> Path:
    path = VECTORS / sub
    if not path.exists():
        pytest.skip(f"conformance vectors {path} are absent (see ../shared/data/README.md)")
    return path


@pytest.fixture
def service(tmp_path: Path, clock: FakeClock) -> Iterator[TrustService]:
    # a cheap scrypt: the key-sealing cost is not what these tests are about
    with TrustService(
        tmp_path / "trust",
        passphrase=b"test",
        origin="twinverse.test/log",
        clock=clock,
        scrypt_n=2**10,
    ).open() as svc:
        yield svc
