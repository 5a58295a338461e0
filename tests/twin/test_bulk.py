"""Bulk builders and the garbage collector: pausing it, and marking what they made as long-lived."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from twinverse.twin.bulk import mark_long_lived, paused_gc


@pytest.fixture
def collector() -> Iterator[None]:
    """Leave the collector enabled or disabled as the test found it."""
    was_enabled = gc.isenabled()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        else:  # pragma: no cover - pytest runs with the collector on
            gc.disable()


def _generation_of(obj: object) -> int | None:
    for generation in range(3):
        if any(o is obj for o in gc.get_objects(generation)):
            return generation
    return None


@pytest.mark.usefixtures("collector")
def test_a_pause_disables_the_collector_and_restores_it() -> None:
    gc.enable()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


@pytest.mark.usefixtures("collector")
def test_a_pause_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    with paused_gc():
        pass
    assert not gc.isenabled()


@pytest.mark.usefixtures("collector")
def test_a_pause_restores_the_collector_when_the_build_fails() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError("build failed")
    assert gc.isenabled()


@pytest.mark.usefixtures("collector")
def test_marking_long_lived_moves_new_objects_to_the_oldest_generation() -> None:
    with paused_gc():
        made = [[index] for index in range(1000)]
        assert _generation_of(made) == 0
        mark_long_lived()
        assert _generation_of(made) == 2
        assert gc.get_freeze_count() == 0


@pytest.mark.usefixtures("collector")
def test_marking_long_lived_leaves_objects_someone_froze_frozen() -> None:
    frozen = [object()]
    gc.freeze()
    try:
        frozen_count = gc.get_freeze_count()
        made = [[index] for index in range(10)]
        mark_long_lived()
        assert gc.get_freeze_count() == frozen_count
        assert _generation_of(frozen) is None  # still in the permanent generation
        assert _generation_of(made) == 0
    finally:
        gc.unfreeze()
