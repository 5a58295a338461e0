"""Building large object graphs without the cyclic garbage collector re-scanning them.

Loading a 100k-entity enterprise allocates millions of objects and no cycles
that need collecting while it runs; every automatic collection would walk all
of them again, which makes a bulk load quadratic. Bulk builders pause the
collector for their duration (nesting is fine) and leave it as they found it.

When the pause ends, the collector's first, young collection would still walk
every object the load made (about 0.5 s for a 100k-entity scenario) only to
find them all in use. A builder that knows what it made is long-lived calls
:func:`mark_long_lived` first, which moves it to the oldest generation
unscanned. That is for rare, large builds only (loading a scenario file): it
moves every object the process has, so cyclic garbage among them waits for
the next full collection, and it resets the collector's counts, so doing it
often (per request, per commit) would hold full collections off.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def mark_long_lived() -> None:
    """Move every object the collector tracks to its oldest generation, without scanning them.

    Does nothing in a process that froze objects itself (``gc.freeze``), whose
    frozen objects must stay out of collections.
    """
    if gc.get_freeze_count() == 0:
        # Documented: freeze moves every tracked object to a permanent
        # generation, unfreeze puts them back in the oldest one.
        gc.freeze()
        gc.unfreeze()
