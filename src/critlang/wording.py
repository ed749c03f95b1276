"""How numbers and durations are written for people, in explanations and lint messages."""

from __future__ import annotations

from fractions import Fraction

# UCUM duration codes in words: `12 wk` reads "12 weeks".
UNIT_WORDS = {"a": "years", "mo": "months", "wk": "weeks", "d": "days", "h": "hours"}


def number_text(value: Fraction) -> str:
    """``18``, ``1.5``: exact when the value is a short decimal, else six significant digits."""
    if value.denominator == 1:
        return str(value.numerator)
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator == 1:
        text = f"{float(value):.15f}".rstrip("0").rstrip(".")
        if Fraction(text) == value:
            return text
    return f"{float(value):.6g}"
