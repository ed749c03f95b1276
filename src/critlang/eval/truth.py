"""Three-valued (Kleene) logic: TRUE, FALSE and UNKNOWN, where UNKNOWN always has reasons."""

from __future__ import annotations

import enum
from collections.abc import Iterable


class Truth(enum.Enum):
    TRUE = "true"
    FALSE = "false"
    UNKNOWN = "unknown"

    def __invert__(self) -> Truth:
        if self is Truth.UNKNOWN:
            return Truth.UNKNOWN
        return Truth.FALSE if self is Truth.TRUE else Truth.TRUE

    @staticmethod
    def of(value: bool) -> Truth:
        return Truth.TRUE if value else Truth.FALSE


Reasons = tuple[str, ...]
Judgement = tuple[Truth, Reasons]

TRUE: Judgement = (Truth.TRUE, ())
FALSE: Judgement = (Truth.FALSE, ())


def unknown(*reasons: str) -> Judgement:
    return (Truth.UNKNOWN, tuple(reasons) or ("unknown",))


def kleene(judgements: Iterable[Judgement], decisive: Truth) -> Judgement:
    """Kleene `and` (``decisive`` FALSE) or `or` (``decisive`` TRUE): the decisive truth ends it
    (later terms are not evaluated when ``judgements`` is lazy); otherwise UNKNOWN, with every
    term's reasons, wins over the other truth."""
    reasons: list[str] = []
    for truth, why in judgements:
        if truth is decisive:
            return (decisive, ())
        if truth is Truth.UNKNOWN:
            reasons.extend(why)
    return unknown(*_unique(reasons)) if reasons else (~decisive, ())


def kleene_and(judgements: Iterable[Judgement]) -> Judgement:
    """FALSE as soon as any term is FALSE; otherwise UNKNOWN (with every reason) wins over TRUE."""
    return kleene(judgements, Truth.FALSE)


def kleene_or(judgements: Iterable[Judgement]) -> Judgement:
    """TRUE as soon as any term is TRUE; otherwise UNKNOWN wins over FALSE."""
    return kleene(judgements, Truth.TRUE)


def kleene_not(judgement: Judgement) -> Judgement:
    truth, reasons = judgement
    return (~truth, reasons)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
