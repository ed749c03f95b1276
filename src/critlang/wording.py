"""How numbers and durations are written for people, in explanations and lint messages."""

from __future__ import annotations

from fractions import Fraction

from critlang.memo import Memo

# UCUM duration codes in words: `12 wk` reads "12 weeks".
UNIT_WORDS = {"a": "years", "mo": "months", "wk": "weeks", "d": "days", "h": "hours"}


# The texts of the numbers written so far: a screen's explanations write the same values (the
# results' and thresholds') again and again. Keyed by numerator and denominator (a Fraction's own
# hash is computed in Python, each time); bounded.
def _written(key: tuple[int, int]) -> str:
    numerator, denominator = key
    return _decimal_text(Fraction(numerator, denominator), denominator)


_WRITTEN: Memo[tuple[int, int], str] = Memo(_written, 65536)


def number_text(value: Fraction) -> str:
    """``18``, ``1.5``: exact when the value is a short decimal, else six significant digits."""
    numerator, denominator = value.numerator, value.denominator
    if denominator == 1:
        return str(numerator)
    return _WRITTEN[numerator, denominator]


def _decimal_text(value: Fraction, denominator: int) -> str:
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator == 1:
        text = f"{float(value):.15f}".rstrip("0").rstrip(".")
        if Fraction(text) == value:
            return text
    return f"{float(value):.6g}"
