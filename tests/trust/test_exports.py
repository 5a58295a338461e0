"""The trust package's curated public API is pinned."""

from __future__ import annotations

import twinverse.trust


def test_trust_exports() -> None:
    assert sorted(twinverse.trust.__all__) == twinverse.trust.__all__
    assert len(twinverse.trust.__all__) == 37
    for name in twinverse.trust.__all__:
        assert getattr(twinverse.trust, name) is not None
