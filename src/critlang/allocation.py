"""Pausing Python's cycle collector while building large acyclic structures."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Run the body with the cycle collector off (as it was after).

    Parsing a file or a JSON document allocates many objects and no reference cycles, so the
    collector's passes over them find nothing; with 10,000 lines they take a quarter of the time
    (every pass of the oldest generation walks everything built so far). Memory is unaffected:
    objects are still freed by reference counting, and any cycle made meanwhile is collected
    after.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def collected_in_batches(items: Iterable[T], every: int = 1000) -> Iterator[T]:
    """The items, produced and used with the cycle collector off, its young generation
    collected once every ``every`` items.

    A screen makes and drops thousands of objects per patient and keeps a few (the row): the
    collector's automatic passes, one every 700 allocations, walk the patient's objects while
    they are still in use, for nothing. Collecting between patients, when those are freed,
    walks little; a cycle made meanwhile (none is expected) is still collected, at the next
    batch's pass or after the loop. If the collector is off to begin with, it stays off.

    What a batch leaves (the rows kept) is then frozen (:func:`gc.freeze`): no later pass
    walks it again while the items last, where each row would otherwise be walked once more
    per older generation; after the loop it is unfrozen, into the oldest generation, where it
    would have gone. Only when nothing was frozen before (an application's own freeze is
    left alone: the batches are then collected as they come, the middle generation every
    ten).
    """
    if not gc.isenabled():
        yield from items
        return
    freezing = gc.get_freeze_count() == 0
    gc.disable()
    try:
        for count, item in enumerate(items, 1):
            yield item
            if count % every == 0:
                if freezing:
                    gc.collect(0)
                    gc.freeze()
                else:
                    gc.collect(1 if count % (every * 10) == 0 else 0)
    finally:
        if freezing:
            gc.unfreeze()
        gc.enable()
