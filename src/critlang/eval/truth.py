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


def kleene_and(judgements: Iterable[Judgement]) -> Judgement:
    """FALSE as soon as any term is FALSE; otherwise UNKNOWN (with every reason) wins over TRUE."""
    reasons: list[str] = []
    for truth, why in judgements:
        if truth is Truth.FALSE:
            return FALSE
        if truth is Truth.UNKNOWN:
            reasons.extend(why)
    return unknown(*_unique(reasons)) if reasons else TRUE


def kleene_or(judgements: Iterable[Judgement]) -> Judgement:
    """TRUE as soon as any term is TRUE; otherwise UNKNOWN wins over FALSE."""
    reasons: list[str] = []
    for truth, why in judgements:
        if truth is Truth.TRUE:
            return TRUE
        if truth is Truth.UNKNOWN:
            reasons.extend(why)
    return unknown(*_unique(reasons)) if reasons else FALSE


def kleene_not(judgement: Judgement) -> Judgement:
    truth, reasons = judgement
    return (~truth, reasons)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
