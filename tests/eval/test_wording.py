"""How numbers are written in explanations (``critlang.wording.number_text``)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from critlang.wording import _decimal_text, number_text


def test_numbers_are_written_exactly_when_short_else_to_six_digits() -> None:
    assert number_text(Fraction(18)) == "18"
    assert number_text(Fraction(3, 2)) == "1.5"
    assert number_text(Fraction(-1, 8)) == "-0.125"
    assert number_text(Fraction(1, 3)) == "0.333333"
    assert number_text(Fraction(2, 3)) == "0.666667"


@given(st.integers(-(10**9), 10**9), st.integers(0, 12), st.integers(1, 10**6))
def test_a_number_reads_the_same_every_time(digits: int, places: int, other: int) -> None:
    # Texts are remembered: asked again, in any order, each number gives the text it gave the
    # first time, which is the text worked out afresh; a decimal of up to six significant
    # digits and places is written exactly.
    decimal = Fraction(digits, 10**places)
    other_value = Fraction(digits, other)
    first = [number_text(decimal), number_text(other_value)]
    assert [number_text(other_value), number_text(decimal)] == first[::-1]
    for value, text in zip((decimal, other_value), first, strict=True):
        if value.denominator != 1:
            assert text == _decimal_text(value, value.denominator)
    if abs(digits) < 10**6 and places <= 6:
        assert Fraction(first[0]) == decimal
