"""A bounded memo: values made once per key, for the look-ups a screen repeats per record."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Memo(dict[K, V]):
    """``memo[key]`` is ``make(key)``, made when first asked for and kept, up to ``limit`` keys
    (then made each time it is asked for, so memory stays bounded). A look-up of a kept key is a
    plain dictionary look-up, in C: hot paths read ``memo[key]`` rather than call a function.
    Nothing is ever removed, so a kept value stays the same object for good."""

    __slots__ = ("limit", "make")

    def __init__(self, make: Callable[[K], V], limit: int) -> None:
        super().__init__()
        self.make = make
        self.limit = limit

    def __missing__(self, key: K) -> V:
        value = self.make(key)
        if len(self) < self.limit:
            self[key] = value
        return value
